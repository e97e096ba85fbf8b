//! `Idempotency-Key` on POSTs: a retry with the same key, caller and request gets the first answer,
//! byte for byte, without writing again, for 24 hours; the same key with another request is 409.
//! Concurrent first attempts race on the record's condition (`store::idempotency`): one commits,
//! the others read its record and replay it.

use crate::http::body::Body;
use crate::http::caller::Caller;
use crate::http::error::ApiError;
use crate::store::error::{StoreResult, internal};
pub use crate::store::idempotency::Answer;
use crate::store::idempotency::{Idempotency, Record, Respond};
use crate::store::{Store, StoreError};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const HEADER: &str = "idempotency-key";

impl Answer {
    /// A JSON answer with extra headers (`Location`, `ETag`...).
    pub fn json(status: StatusCode, headers: &[(HeaderName, String)], body: &impl Serialize) -> StoreResult<Self> {
        Ok(Self {
            status: status.as_u16(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.clone()))
                .collect(),
            body: serde_json::to_string(body).map_err(internal)?,
        })
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = (status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (name.parse::<HeaderName>(), HeaderValue::from_str(&value)) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// What every create reads from its request: the caller, the body and the `Idempotency-Key`.
pub struct Create {
    pub caller: Caller,
    pub body: Body,
    pub idem: Option<Idempotency>,
}

impl<S: Send + Sync> FromRequest<S> for Create {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state).await?;
        let (headers, uri) = (parts.headers.clone(), parts.uri.clone());
        let body = Body::from_request(Request::from_parts(parts, body), state).await?;
        let idem = idempotency(&caller, &headers, &uri, &body)?;
        Ok(Self { caller, body, idem })
    }
}

/// From the `Idempotency-Key` header (1 to 255 printable ASCII characters), if any.
fn idempotency(caller: &Caller, headers: &HeaderMap, uri: &Uri, body: &Body) -> Result<Option<Idempotency>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value.as_bytes();
    if key.is_empty() || key.len() > 255 || !key.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(ApiError::field(
            "Idempotency-Key",
            "must be 1 to 255 printable ASCII characters",
        ));
    }
    let request: [&[u8]; 3] = [b"POST", uri.path().as_bytes(), body.bytes()];
    Ok(Some(Idempotency::new(&caller.user_id, key, &request)))
}

/// The recorded answer of an earlier request with this key, if any. For a write whose checks read
/// what its first attempt changed (a decision finds its order decided), the replay comes first.
pub async fn replayed(store: &Store, idem: Option<&Idempotency>) -> Result<Option<Response>, ApiError> {
    let Some(idem) = idem else { return Ok(None) };
    Ok(store.replay(idem).await?.map(IntoResponse::into_response))
}

/// Runs a create at most once per `Idempotency-Key`: creates and answers with `respond`, recording
/// the answer in the create's transaction; when that transaction finds the key recorded, replays
/// the recorded answer. A first attempt, the common case, costs no read.
pub async fn once<'a, T, F, Fut>(
    store: &Store,
    idem: Option<&'a Idempotency>,
    respond: Respond<'a, T>,
    create: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Record<'a, T>) -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    match create(idem.map(|i| (i, respond))).await {
        Ok(created) => Ok(respond(&created)?.into_response()),
        // An earlier or concurrent request with the same key committed: answer as it did.
        Err(StoreError::KeyInUse) => match idem {
            Some(idem) => match store.replay(idem).await? {
                Some(answer) => Ok(answer.into_response()),
                None => Err(ApiError::Conflict("the Idempotency-Key is in use, retry".into())),
            },
            None => Err(ApiError::KeyInUse),
        },
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_replay_status_headers_and_body() {
        let answer = Answer::json(
            StatusCode::CREATED,
            &[(header::LOCATION, "/x".into())],
            &serde_json::json!({"a": 1}),
        )
        .unwrap();
        let response = answer.into_response();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[header::LOCATION], "/x");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}

//! `Idempotency-Key` on POSTs: a retry with the same key, caller and request gets the first answer,
//! byte for byte, without writing again, for 24 hours; the same key with another request is 409.
//!
//! The record holding the answer is one more item of the create's own transaction, conditional on
//! the key being new, so a resource never exists without its record or the reverse. Concurrent
//! first attempts race on that condition: one commits, the others read its record and replay it.

use crate::body::Body;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::keys::{self, EXPIRES_AT, ItemKey, PK};
use crate::store::{Store, internal, sdk_error};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use ring::digest;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

pub const HEADER: &str = "idempotency-key";
/// How long an answer is kept for replays.
pub const TTL_SECONDS: u64 = 24 * 60 * 60;

/// A create's answer, as sent and as replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// A JSON answer with extra headers (`Location`, `ETag`...).
    pub fn json(status: StatusCode, headers: &[(HeaderName, String)], body: &impl Serialize) -> Result<Self, ApiError> {
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

/// How a create's answer is made from what it created.
pub type Respond<'a, T> = &'a (dyn Fn(&T) -> Result<Answer, ApiError> + Send + Sync);

/// What a store create needs to record its answer in its own transaction.
pub type Record<'a, T> = Option<(&'a Idempotency, Respond<'a, T>)>;

/// An `Idempotency-Key` request: the caller's key and a digest of the request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    key: ItemKey,
    request_hash: String,
}

#[derive(Serialize, Deserialize)]
struct RecordItem {
    pk: String,
    sk: String,
    request_hash: String,
    expires_at: u64,
    answer: Answer,
}

fn hex_digest(parts: &[&[u8]]) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in parts {
        // Length-prefixed, so that no two different requests hash alike.
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
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
        let idem = Idempotency::from_request(&caller, &headers, &uri, &body)?;
        Ok(Self { caller, body, idem })
    }
}

impl Idempotency {
    /// From the `Idempotency-Key` header (1 to 255 printable ASCII characters), if any.
    fn from_request(caller: &Caller, headers: &HeaderMap, uri: &Uri, body: &Body) -> Result<Option<Self>, ApiError> {
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
        Ok(Some(Self {
            key: keys::idempotency(&caller.user_id, &hex_digest(&[key])),
            request_hash: hex_digest(&[b"POST", uri.path().as_bytes(), body.bytes()]),
        }))
    }

    /// The record's Put, for the create's transaction: it fails if the key is in use.
    fn record(&self, table: &str, answer: &Answer) -> Result<TransactWriteItem, ApiError> {
        let item = RecordItem {
            pk: self.key.pk.clone(),
            sk: self.key.sk.clone(),
            request_hash: self.request_hash.clone(),
            expires_at: now() + TTL_SECONDS,
            answer: answer.clone(),
        };
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(serde_dynamo::to_item(&item).map_err(internal)?))
            // DynamoDB deletes expired items late: an expired record counts as absent.
            .condition_expression(format!("attribute_not_exists({PK}) OR {EXPIRES_AT} < :now"))
            .expression_attribute_values(":now", AttributeValue::N(now().to_string()))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

impl Store {
    /// The stored answer for this key: `None` when the key is new, 409 when it was used for
    /// another request.
    pub async fn replay(&self, idem: &Idempotency) -> Result<Option<Answer>, ApiError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(idem.key.to_map()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        let Some(item) = out.item else { return Ok(None) };
        let record: RecordItem = serde_dynamo::from_item(item).map_err(internal)?;
        if record.expires_at < now() {
            return Ok(None);
        }
        if record.request_hash != idem.request_hash {
            return Err(ApiError::Conflict(
                "this Idempotency-Key was used for another request".into(),
            ));
        }
        Ok(Some(record.answer))
    }

    /// The transaction item that records `created`'s answer, when the request has a key.
    pub(crate) fn record_item<T>(
        &self,
        record: Record<'_, T>,
        created: &T,
    ) -> Result<Option<TransactWriteItem>, ApiError> {
        let Some((idem, respond)) = record else { return Ok(None) };
        idem.record(self.table(), &respond(created)?).map(Some)
    }
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
    Fut: Future<Output = Result<T, ApiError>>,
{
    match create(idem.map(|i| (i, respond))).await {
        Ok(created) => Ok(respond(&created)?.into_response()),
        // An earlier or concurrent request with the same key committed: answer as it did.
        Err(ApiError::KeyInUse) => match idem {
            Some(idem) => match store.replay(idem).await? {
                Some(answer) => Ok(answer.into_response()),
                None => Err(ApiError::Conflict("the Idempotency-Key is in use, retry".into())),
            },
            None => Err(ApiError::KeyInUse),
        },
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_separate_parts() {
        assert_ne!(hex_digest(&[b"ab", b"c"]), hex_digest(&[b"a", b"bc"]));
        assert_eq!(hex_digest(&[b"x"]).len(), 64);
    }

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

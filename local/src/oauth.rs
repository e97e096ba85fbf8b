//! The identity provider's token endpoint, locally: OAuth 2.0 client credentials (RFC 6749, 4.4),
//! so that the smoke test a deploy runs (`scripts/smoke-deployed.sh`) can be run against `make run`
//! exactly as against a deployed stack. `POST /local/oauth2/token` with HTTP Basic client
//! authentication (any client id, the secret `LOCAL_CLIENT_SECRET`) and a form body
//! `grant_type=client_credentials[&scope=...]` answers a dev-signed access token whose `sub` is
//! the client id.

use crate::keys::{DevKeys, TokenRequest};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::json;

pub const TOKEN_PATH: &str = "/local/oauth2/token";
/// The one client secret the local endpoint accepts.
pub const LOCAL_CLIENT_SECRET: &str = "local-client-secret";
const TOKEN_SECONDS: u64 = 3600;

pub fn router(keys: DevKeys) -> Router {
    Router::new().route(TOKEN_PATH, post(token)).with_state(keys)
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    let mut response = (status, axum::Json(json!({ "error": error }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        let value = header::HeaderValue::from_static("Basic realm=\"local\"");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The client id of a valid `Authorization: Basic` header.
fn client(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    (!id.is_empty() && secret == LOCAL_CLIENT_SECRET).then(|| id.to_owned())
}

async fn token(State(keys): State<DevKeys>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(client_id) = client(&headers) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let mut request = TokenRequest::new(&client_id);
    request.scope = field("scope").unwrap_or_default().to_owned();
    request.ttl_seconds = TOKEN_SECONDS;
    match keys.mint(&request) {
        Ok(access_token) => axum::Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": request.scope,
        }))
        .into_response(),
        Err(_) => oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    }
}

//! What every group's router shares: problem+json fallbacks, the request id header, one access log
//! line per request (route template, status, latency: never ids, bodies or tokens), and ETags.

use crate::error::ApiError;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::request::RequestContext;
use std::time::Instant;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Adds the fallbacks and the access log to a group's routes.
pub fn finish(router: Router) -> Router {
    router
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::Invalid(vec![crate::error::FieldError::new(
                "method",
                "is not allowed on this route",
            )])
        })
        .layer(middleware::from_fn(access_log))
}

async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let request_id = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .or_else(|| {
        request
            .extensions()
            .get::<lambda_http::Context>()
            .map(|c| c.request_id.clone())
    })
    .unwrap_or_default();
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    tracing::info!(
        request_id,
        method = %method,
        route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// `"<version>"`: a strong validator of a versioned item.
pub fn etag_text(version: u64) -> String {
    format!("\"{version}\"")
}

pub fn etag(version: u64) -> (HeaderName, HeaderValue) {
    // Digits and quotes are always a valid header value.
    let value = HeaderValue::try_from(etag_text(version)).unwrap_or(HeaderValue::from_static("\"0\""));
    (header::ETAG, value)
}

/// The version an `If-Match` header asks for; `*` or no header is `None`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default().trim();
    if value == "*" {
        return Ok(None);
    }
    value
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| ApiError::field("If-Match", "must be an ETag returned by this API"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        let (_, value) = etag(7);
        assert_eq!(value, "\"7\"");
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, value);
        assert_eq!(if_match(&headers).unwrap(), Some(7));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(if_match(&headers).unwrap(), None);
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"x\""));
        assert!(if_match(&headers).is_err());
    }
}

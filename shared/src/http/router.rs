//! What every group's router shares: problem+json fallbacks, CORS, the request id header, and one
//! access log line per request that is also its latency metric (`metrics::request`: route template,
//! status, latency, request id; never ids, bodies or tokens).

use crate::http::error::ApiError;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::request::RequestContext;
use std::time::Instant;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Adds the fallbacks, CORS (when configured) and the access log to a group's routes.
pub fn finish(router: Router) -> Router {
    let router = router
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::Invalid(vec![crate::domain::validate::FieldError::new(
                "method",
                "is not allowed on this route",
            )])
        });
    let origins = allowed_origins(&std::env::var("CORS_ALLOWED_ORIGINS").unwrap_or_default());
    let router = if origins.is_empty() {
        router
    } else {
        router.layer(middleware::from_fn(move |request: Request, next: Next| {
            let origins = origins.clone();
            cors(origins, request, next)
        }))
    };
    router.layer(middleware::from_fn(access_log))
}

/// `CORS_ALLOWED_ORIGINS`: comma-separated origins, or `*`; empty turns CORS off.
fn allowed_origins(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect()
}

/// API Gateway answers the preflight; the functions add the allow header to the real responses.
async fn cors(origins: Vec<String>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(request).await;
    let allowed = origin.filter(|o| {
        let o = o.to_str().unwrap_or_default();
        origins.iter().any(|a| a == "*" || a == o)
    });
    if let Some(origin) = allowed {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag, Location, X-Request-Id"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let route = format!("{} {template}", request.method());
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
    crate::metrics::request(
        &route,
        &request_id,
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins() {
        assert!(allowed_origins("").is_empty());
        assert_eq!(
            allowed_origins(" https://a.example , https://b.example,"),
            ["https://a.example", "https://b.example"]
        );
    }
}

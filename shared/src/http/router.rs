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
    let router = router.layer(middleware::from_fn(access_log));
    // Outside the routes, so that the path it rewrites is the one they match.
    Router::new()
        .fallback_service(router)
        .layer(middleware::from_fn(public_path))
}

/// Where the API is mounted for its callers, as `Location` headers must say it: `/<stage>` on the
/// execute-api endpoint, the base path mapping's `/<base path>` (or nothing) on a custom domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicPrefix(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PublicPrefix {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<PublicPrefix>().cloned().unwrap_or_default())
    }
}

/// On a custom domain with a base path mapping, API Gateway hands the function the path with the
/// base path in front (`/customers/v1/customers` for the route `/v1/customers`): the segments the
/// route's template (`resourcePath`) does not account for are the base path. It is taken off before
/// routing, and the public prefix for `Location` is recorded.
async fn public_path(mut request: Request, next: Next) -> Response {
    let (prefix, route_path) = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(ctx)) => split_base_path(
            request.uri().path(),
            ctx.resource_path.as_deref(),
            ctx.domain_name.as_deref(),
            ctx.stage.as_deref(),
        ),
        _ => (String::new(), None),
    };
    if let Some(route_path) = route_path {
        let query = request.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
        if let Ok(uri) = format!("{route_path}{query}").parse() {
            *request.uri_mut() = uri;
        }
    }
    request.extensions_mut().insert(PublicPrefix(prefix));
    next.run(request).await
}

/// The public prefix, and the path without the base path when there is one.
fn split_base_path(
    path: &str,
    resource: Option<&str>,
    domain: Option<&str>,
    stage: Option<&str>,
) -> (String, Option<String>) {
    let segments = |p: &str| p.split('/').filter(|s| !s.is_empty()).count();
    let (base, rest) = match resource {
        Some(resource) if segments(path) > segments(resource) => {
            let extra = segments(path) - segments(resource);
            let mut parts = path.split('/').filter(|s| !s.is_empty());
            let base: Vec<&str> = parts.by_ref().take(extra).collect();
            let rest: Vec<&str> = parts.collect();
            (format!("/{}", base.join("/")), Some(format!("/{}", rest.join("/"))))
        }
        _ => (String::new(), None),
    };
    let execute_api = domain.is_some_and(|d| {
        d.contains(".execute-api.") && (d.ends_with(".amazonaws.com") || d.ends_with(".amazonaws.com.cn"))
    });
    let prefix = match (execute_api, stage) {
        (true, Some(stage)) => format!("/{stage}"),
        _ => base,
    };
    (prefix, rest)
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

    // contract: C-OUT-4
    #[test]
    fn base_paths_and_public_prefixes() {
        let api = Some("a1b2c3.execute-api.eu-central-1.amazonaws.com");
        let custom = Some("api.bank.example");
        let route = Some("/v1/banks/{BankID}/customers/{CustomerID}");
        // The execute-api endpoint: the stage is the public prefix, the path is the route's.
        assert_eq!(
            split_base_path("/v1/banks/b1/customers/c1", route, api, Some("prod")),
            ("/prod".into(), None)
        );
        let china = Some("a1b2c3.execute-api.cn-north-1.amazonaws.com.cn");
        assert_eq!(
            split_base_path("/v1/banks/b1/customers/c1", route, china, Some("prod")),
            ("/prod".into(), None)
        );
        // A custom domain without a base path: nothing in front.
        assert_eq!(
            split_base_path("/v1/banks/b1/customers/c1", route, custom, Some("prod")),
            (String::new(), None)
        );
        // With a base path mapping, one or several segments, taken off before routing.
        assert_eq!(
            split_base_path("/customers/v1/banks/b1/customers/c1", route, custom, Some("prod")),
            ("/customers".into(), Some("/v1/banks/b1/customers/c1".into()))
        );
        assert_eq!(
            split_base_path(
                "/retail/customers/v1/customers",
                Some("/v1/customers"),
                custom,
                Some("prod")
            ),
            ("/retail/customers".into(), Some("/v1/customers".into()))
        );
        // No route template (a request outside API Gateway): nothing changes.
        assert_eq!(
            split_base_path("/v1/customers", None, None, None),
            (String::new(), None)
        );
    }

    #[test]
    fn cors_origins() {
        assert!(allowed_origins("").is_empty());
        assert_eq!(
            allowed_origins(" https://a.example , https://b.example,"),
            ["https://a.example", "https://b.example"]
        );
    }
}

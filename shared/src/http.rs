//! What every group's router shares: problem+json fallbacks, the request id header, one access log
//! line per request that is also its latency metric (`metrics::request`: route template, status,
//! latency, request id; never ids, bodies or tokens), and ETags.

use crate::error::ApiError;
use crate::store::Versions;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
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
            ApiError::Invalid(vec![crate::error::FieldError::new(
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

/// `"<version>"`: a strong validator of a versioned item.
pub fn etag_text(version: u64) -> String {
    format!("\"{version}\"")
}

pub fn etag(version: u64) -> (HeaderName, HeaderValue) {
    // Digits and quotes are always a valid header value.
    let value = HeaderValue::try_from(etag_text(version)).unwrap_or(HeaderValue::from_static("\"0\""));
    (header::ETAG, value)
}

/// Most entity tags one `If-Match` may list.
const MAX_IF_MATCH_TAGS: usize = 20;

/// The versions an `If-Match` header accepts (RFC 9110, 13.1.1): `None` without the header or for
/// `*` (every write needs an existing item anyway). Comparison is strong: a weak tag (`W/"3"`) or
/// one this API never issued matches nothing, so the write is refused with 412. Several header
/// lines are one list; a value that is not an entity-tag list is 400.
pub fn if_match(headers: &HeaderMap) -> Result<Option<Versions>, ApiError> {
    let invalid = |why: &str| ApiError::field("If-Match", format!("{why}: send \"*\" or ETags such as \"3\""));
    let mut lines = headers.get_all(header::IF_MATCH).iter().peekable();
    if lines.peek().is_none() {
        return Ok(None);
    }
    let mut list = String::new();
    for line in lines {
        let line = line.to_str().map_err(|_| invalid("must be visible ASCII"))?;
        list.push_str(line);
        list.push(',');
    }
    let members: Vec<&str> = list
        .split(',')
        .map(|m| m.trim_matches([' ', '\t']))
        .filter(|m| !m.is_empty())
        .collect();
    if members == ["*"] {
        return Ok(None);
    }
    if members.is_empty() {
        return Err(invalid("is empty"));
    }
    if members.len() > MAX_IF_MATCH_TAGS {
        return Err(invalid(&format!("lists more than {MAX_IF_MATCH_TAGS} entity tags")));
    }
    let mut versions = Vec::new();
    for member in members {
        let (weak, tag) = match member.strip_prefix("W/") {
            Some(tag) => (true, tag),
            None => (false, member),
        };
        let opaque = tag
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| t.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)))
            .ok_or_else(|| invalid("must be \"*\" or a list of quoted entity tags"))?;
        // A tag with a comma inside its quotes was split above and fails the quote check: this
        // API's tags never contain one.
        if !weak && let Ok(version) = opaque.parse::<u64>() {
            versions.push(version);
        }
    }
    Ok(Some(Versions::new(versions)))
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

    fn parse(lines: &[&'static str]) -> Result<Option<Versions>, ApiError> {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(header::IF_MATCH, HeaderValue::from_static(line));
        }
        if_match(&headers)
    }

    fn versions(v: &[u64]) -> Option<Option<Versions>> {
        Some(Some(Versions::new(v.to_vec())))
    }

    // contract: C-LOCK-3, C-LOCK-4
    #[test]
    fn if_match_follows_rfc_9110() {
        let (_, value) = etag(7);
        assert_eq!(value, "\"7\"");
        assert_eq!(parse(&[]).ok(), Some(None));
        assert_eq!(parse(&["\"7\""]).ok(), versions(&[7]));
        assert_eq!(parse(&["*"]).ok(), Some(None));
        assert_eq!(parse(&[" * "]).ok(), Some(None));
        // Lists, across lines too, with empty members and optional white space.
        assert_eq!(parse(&["\"3\", \"7\""]).ok(), versions(&[3, 7]));
        assert_eq!(parse(&["\"3\"", "\"7\""]).ok(), versions(&[3, 7]));
        assert_eq!(parse(&[" , \"3\" ,\t,\"7\""]).ok(), versions(&[3, 7]));
        // Strong comparison: weak and foreign tags are valid but match nothing.
        assert_eq!(parse(&["W/\"3\""]).ok(), versions(&[]));
        assert_eq!(parse(&["W/\"3\", \"4\""]).ok(), versions(&[4]));
        assert_eq!(parse(&["\"x\""]).ok(), versions(&[]));
        assert_eq!(parse(&["\"\""]).ok(), versions(&[]));
        for bad in [
            &["3"][..],
            &["\"3"],
            &["'3'"],
            &["*, \"3\""],
            &["w/\"3\""],
            &["\"a b\""],
            &[""],
            &[","],
        ] {
            assert!(matches!(parse(bad), Err(ApiError::Invalid(_))), "{bad:?}");
        }
        let many = ["\"1\""; 21].join(",");
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, HeaderValue::try_from(many).unwrap());
        assert!(if_match(&headers).is_err());
    }
}

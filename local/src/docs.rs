//! The API docs page, outside the API: `GET /openapi.yaml` is `docs/openapi.yaml` as it is on disk
//! (read at each request, so edits show on reload), and `GET /docs` is Swagger UI rendering it. The
//! renderer is the npm package `swagger-ui-dist`, pinned in `package.json` and installed into
//! `node_modules/` by `make docs` (`npm ci`); its files are served under `/docs/assets/`. Nothing is
//! fetched from anywhere else: the page's Content-Security-Policy allows scripts, styles and images
//! from this server only. No token is needed, and a path the template routes is never taken.

use crate::template::Template;
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the spec and the renderer's files are read from.
#[derive(Debug, Clone)]
pub struct DocsFiles {
    /// `docs/openapi.yaml`.
    pub spec: PathBuf,
    /// The `swagger-ui-dist` package folder.
    pub assets: PathBuf,
}

impl DocsFiles {
    /// The checkout's `docs/openapi.yaml` and `node_modules/swagger-ui-dist` (`LOCAL_OPENAPI` and
    /// `LOCAL_DOCS_ASSETS` override them): the checkout local-api runs in, as for its template.
    /// Outside one, paths relative to the current directory, which the docs page then reports missing.
    pub fn from_env() -> Self {
        let repo = crate::checkout().unwrap_or_default();
        let var = |name: &str, default: PathBuf| std::env::var_os(name).map(PathBuf::from).unwrap_or(default);
        Self {
            spec: var("LOCAL_OPENAPI", repo.join("docs/openapi.yaml")),
            assets: var("LOCAL_DOCS_ASSETS", repo.join("node_modules/swagger-ui-dist")),
        }
    }
}

/// The paths the docs take, with an example path for each (to test against the template's routes).
const ROUTES: &[(&str, &str)] = &[
    ("/openapi.yaml", "/openapi.yaml"),
    ("/docs", "/docs"),
    ("/docs/", "/docs/"),
    ("/docs/init.js", "/docs/init.js"),
    ("/docs/assets/{file}", "/docs/assets/swagger-ui.css"),
];

/// The renderer's file that the page cannot do without.
const BUNDLE: &str = "swagger-ui-bundle.js";

/// The docs routes, minus any path that the template routes (an API route always wins).
pub fn router<S: Clone + Send + Sync + 'static>(template: &Template, files: DocsFiles) -> Router<S> {
    let files = Arc::new(files);
    let mut router = Router::new();
    for (route, example) in ROUTES {
        if let Some(api) = template.routes.iter().find(|r| r.matches_path(example)) {
            tracing::warn!(path = route, api_route = %api.path, "docs route not mounted: the API routes this path");
            continue;
        }
        router = match *route {
            "/openapi.yaml" => router.route(route, get(spec)),
            "/docs" | "/docs/" => router.route(route, get(page)),
            "/docs/init.js" => router.route(route, get(init_js)),
            _ => router.route(route, get(asset)),
        };
    }
    router.with_state(files)
}

fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

fn file_response(content_type: &'static str, bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Local development: always revalidate, so a new spec or renderer shows on reload.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

async fn spec(State(files): State<Arc<DocsFiles>>) -> Response {
    match tokio::fs::read(&files.spec).await {
        Ok(bytes) => file_response("application/yaml", bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problem(StatusCode::NOT_FOUND, "docs/openapi.yaml does not exist")
        }
        Err(e) => {
            tracing::error!(error = %e, path = %files.spec.display(), "cannot read the OpenAPI document");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "docs/openapi.yaml cannot be read")
        }
    }
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self' http://127.0.0.1:* \
                   http://localhost:* https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Customer API reference</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"#;

/// Swagger UI on `/openapi.yaml`. "Try it out" on the spec's local server goes to whichever port
/// this page came from (`PORT` may differ from the spec's 3000); deployed servers are left alone.
const INIT_JS: &str = r##""use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayOperationId: true,
  displayRequestDuration: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  filter: true,
  persistAuthorization: false,
  queryConfigEnabled: false,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  requestInterceptor: function (request) {
    var url = new URL(request.url, window.location.href);
    var local = url.hostname === "127.0.0.1" || url.hostname === "localhost";
    if (local && url.protocol === "http:" && url.origin !== window.location.origin) {
      request.url = window.location.origin + url.pathname + url.search;
    }
    return request;
  }
});
"##;

async fn page(State(files): State<Arc<DocsFiles>>) -> Response {
    if tokio::fs::metadata(files.assets.join(BUNDLE)).await.is_err() {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the docs renderer (npm package swagger-ui-dist) is not installed: run `make docs`",
        );
    }
    let mut response = file_response("text/html; charset=utf-8", PAGE.as_bytes().to_vec());
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}

async fn init_js() -> Response {
    file_response("text/javascript; charset=utf-8", INIT_JS.as_bytes().to_vec())
}

/// The content type of a renderer file this page may load, by extension; anything else is 404.
fn asset_type(name: &str) -> Option<&'static str> {
    let safe = name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !safe {
        return None;
    }
    match name.rsplit_once('.')?.1 {
        "js" => Some("text/javascript; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        "map" => Some("application/json"),
        "png" => Some("image/png"),
        _ => None,
    }
}

async fn asset(State(files): State<Arc<DocsFiles>>, UrlPath(name): UrlPath<String>) -> Response {
    let Some(content_type) = asset_type(&name) else {
        return problem(StatusCode::NOT_FOUND, "no such docs asset");
    };
    match tokio::fs::read(files.assets.join(&name)).await {
        Ok(bytes) => file_response(content_type, bytes),
        Err(_) => problem(
            StatusCode::NOT_FOUND,
            "no such docs asset (is the renderer installed? run `make docs`)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::asset_type;

    #[test]
    fn only_plain_file_names_of_known_types_are_assets() {
        assert_eq!(
            asset_type("swagger-ui-bundle.js"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(asset_type("swagger-ui.css"), Some("text/css; charset=utf-8"));
        assert_eq!(asset_type("favicon-32x32.png"), Some("image/png"));
        for bad in [
            "",
            ".js",
            "..",
            "../package.json",
            "a/b.js",
            "package.json",
            "index.html",
            "x.js\0",
            "%2e%2e",
        ] {
            assert_eq!(asset_type(bad), None, "{bad:?}");
        }
    }
}

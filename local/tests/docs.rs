//! The docs routes on their own (no DynamoDB needed): the spec as on disk, the page, the renderer's
//! files, what happens when either is missing, and that a path the template routes stays the API's.

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode};
use local_api::docs::{self, DocsFiles};
use local_api::template::{Route, Template};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    content_type: String,
    csp: Option<String>,
    body: String,
}

async fn get(app: &Router, path: &str) -> Reply {
    let request = Request::get(path).body(Body::empty()).expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (content_type, csp) = (
        header("content-type").unwrap_or_default(),
        header("content-security-policy"),
    );
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Reply {
        status,
        content_type,
        csp,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn template() -> Template {
    Template::load(&local_api::template_path().expect("the checkout")).expect("template")
}

/// A docs folder with a spec and a fake renderer package.
fn files(name: &str) -> DocsFiles {
    let dir = std::env::temp_dir().join(format!("docs-test-{name}-{}", std::process::id()));
    let assets = dir.join("swagger-ui-dist");
    std::fs::create_dir_all(&assets).expect("dirs");
    std::fs::write(
        dir.join("openapi.yaml"),
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths: {}\n",
    )
    .expect("spec");
    std::fs::write(assets.join("swagger-ui-bundle.js"), "window.SwaggerUIBundle = 1;").expect("bundle");
    std::fs::write(assets.join("swagger-ui.css"), "body {}").expect("css");
    std::fs::write(dir.join("secret.js"), "no").expect("secret");
    DocsFiles {
        spec: dir.join("openapi.yaml"),
        assets,
    }
}

#[tokio::test]
async fn serves_the_spec_the_page_and_the_renderer() {
    let files = files("ok");
    let app = docs::router(&template(), files.clone());
    let dir = files.spec.parent().expect("dir").to_owned();

    let spec = get(&app, "/openapi.yaml").await;
    assert_eq!(
        (spec.status, spec.content_type.as_str()),
        (StatusCode::OK, "application/yaml")
    );
    assert_eq!(spec.body, std::fs::read_to_string(&files.spec).expect("spec"));
    // Read at each request: an edit shows without a restart.
    std::fs::write(&files.spec, "openapi: 3.1.0\n").expect("edit");
    assert_eq!(get(&app, "/openapi.yaml").await.body, "openapi: 3.1.0\n");

    for path in ["/docs", "/docs/"] {
        let page = get(&app, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert!(page.body.contains(r#"src="/docs/assets/swagger-ui-bundle.js""#));
        assert!(page.body.contains(r#"src="/docs/init.js""#));
        let csp = page.csp.expect("a Content-Security-Policy");
        assert!(csp.contains("script-src 'self'"), "{csp}");
    }
    let init = get(&app, "/docs/init.js").await;
    assert_eq!(init.status, StatusCode::OK);
    assert!(init.body.contains(r#"url: "/openapi.yaml""#));
    assert!(
        init.body.contains("validatorUrl: null"),
        "no call to an online validator"
    );

    let bundle = get(&app, "/docs/assets/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert_eq!(bundle.content_type, "text/javascript; charset=utf-8");
    assert_eq!(
        get(&app, "/docs/assets/swagger-ui.css").await.content_type,
        "text/css; charset=utf-8"
    );

    // Only plain names of known types from the package folder.
    for path in [
        "/docs/assets/..%2Fsecret.js",
        "/docs/assets/%2E%2E%2Fsecret.js",
        "/docs/assets/missing.js",
        "/docs/assets/package.json",
    ] {
        let reply = get(&app, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.content_type, "application/problem+json", "{path}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn missing_spec_or_renderer_is_explained() {
    let files = files("missing");
    let dir = files.spec.parent().expect("dir").to_owned();
    std::fs::remove_dir_all(&dir).expect("rm docs dir");
    let app = docs::router(&template(), files);

    let spec = get(&app, "/openapi.yaml").await;
    assert_eq!(spec.status, StatusCode::NOT_FOUND);
    assert_eq!(spec.content_type, "application/problem+json");
    let problem: serde_json::Value = serde_json::from_str(&spec.body).expect("problem JSON");
    assert_eq!(problem["status"], 404);
    assert_eq!(problem["detail"], "docs/openapi.yaml does not exist");

    let page = get(&app, "/docs").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("make docs"), "{}", page.body);
}

#[tokio::test]
async fn a_path_the_api_routes_is_left_to_the_api() {
    let mut template = template();
    template.routes.push(Route {
        method: "GET".into(),
        path: "/docs".into(),
        group: "customers".into(),
    });
    let files = files("shadow");
    let dir = files.spec.parent().expect("dir").to_owned();
    let app = docs::router(&template, files);
    assert_eq!(get(&app, "/docs").await.status, StatusCode::NOT_FOUND, "not mounted");
    assert_eq!(get(&app, "/openapi.yaml").await.status, StatusCode::OK);
    let _ = std::fs::remove_dir_all(dir);
}

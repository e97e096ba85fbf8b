//! The local Lambda service and the gateway in front of it, with a function that misbehaves on
//! request (`src/bin/misbehaving-function.rs`) standing in for every function of the template:
//! crashes, timeouts, oversized and malformed answers get API Gateway's answers, and the process
//! is replaced; concurrent requests start more processes, sequential ones reuse one.

use crate::common::{Api, PAGE_SECRET};
use local_api::lambda::runtime::{Failure, Launch};
use local_api::lambda::{Answer, Function};
use local_api::scratch::Scratch;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MISBEHAVING: &str = env!("CARGO_BIN_EXE_misbehaving-function");

/// A build directory where every function of the template is the misbehaving function.
fn misbehaving_build(template: &local_api::template::Template) -> Scratch {
    let scratch = Scratch::new("misbehaving").expect("scratch");
    let dir = scratch.path();
    for f in &template.functions {
        let function_dir = dir.join(&f.logical_id);
        std::fs::create_dir_all(&function_dir).expect("build dir");
        std::os::unix::fs::symlink(MISBEHAVING, function_dir.join("bootstrap")).expect("symlink");
    }
    scratch
}

/// The project's template with a 2 s function timeout (10 s in the template), so a timeout is quick.
async fn api() -> Api {
    api_with_timeout(2).await
}

async fn api_with_timeout(seconds: u64) -> Api {
    let text = std::fs::read_to_string(local_api::template_path().expect("the checkout")).expect("template");
    let text = text.replacen("\n    Timeout: 10\n", &format!("\n    Timeout: {seconds}\n"), 1);
    let template = local_api::template::Template::parse(&text).expect("template");
    let build = misbehaving_build(&template);
    let mode = local_api::Mode::Lambda(local_api::LambdaOptions {
        build_dir: build.path().to_owned(),
        log_dir: build.path().join("logs"),
        page_secret: PAGE_SECRET.into(),
    });
    let mut api = Api::start_in(template, mode).await;
    api.keep(build);
    api
}

async fn call(api: &Api, what: &str, token: &str) -> (u16, Value) {
    let res = api
        .http
        .get(format!("{}/v1/banks/b/customers/{what}", api.base))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn pid(api: &Api) -> u64 {
    let (status, body) = call(api, "ok", "t").await;
    assert_eq!(status, 200, "{body}");
    body["pid"].as_u64().expect("pid")
}

#[tokio::test]
async fn the_function_gets_the_rest_proxy_event_and_its_answer_reaches_the_client() {
    let api = api().await;
    let res = api
        .http
        .get(format!("{}/v1/banks/b/customers/ok?x=1&x=2&y=%20z", api.base))
        .header("Authorization", "Bearer t")
        .header("X-Twice", "one")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let multi: Vec<_> = res.headers().get_all("x-multi").iter().cloned().collect();
    assert_eq!(multi, ["a", "b"], "multiValueHeaders reach the client");
    let body: Value = res.json().await.expect("json");
    let event = &body["event"];
    assert_eq!(event["resource"], "/v1/banks/{BankID}/customers/{CustomerID}");
    assert_eq!(event["path"], "/v1/banks/b/customers/ok");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["pathParameters"], json!({"BankID": "b", "CustomerID": "ok"}));
    assert_eq!(event["queryStringParameters"], json!({"x": "2", "y": " z"}));
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"x": ["1", "2"], "y": [" z"]})
    );
    assert_eq!(event["headers"]["x-twice"], "one");
    assert_eq!(event["body"], Value::Null);
    assert_eq!(event["isBase64Encoded"], false);
    let context = &event["requestContext"];
    assert_eq!(context["stage"], "api");
    assert_eq!(context["path"], "/api/v1/banks/b/customers/ok");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    // API Gateway passes the authorizer's context values as strings.
    assert_eq!(
        context["authorizer"],
        json!({"principalId": "u", "user_id": "u", "scope": "customer.read", "bank_ids": "b", "n": "7", "flag": "true"})
    );
}

#[tokio::test]
async fn the_event_names_the_api_as_its_host_whatever_the_client_sent() {
    let api = api().await;
    for (sent, want) in [("bad host^", "localhost"), ("api.example.com", "api.example.com")] {
        let res = api
            .http
            .get(format!("{}/v1/banks/b/customers/ok", api.base))
            .header("Authorization", "Bearer t")
            .header("host", sent)
            .header("x-forwarded-for", "10.0.0.1")
            .header("x-forwarded-proto", "gopher")
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["event"]["headers"]["Host"], want, "sent {sent}");
        assert_eq!(body["event"]["multiValueHeaders"]["Host"], json!([want]));
        assert_eq!(body["event"]["requestContext"]["domainName"], want);
        let headers = &body["event"]["multiValueHeaders"];
        assert_eq!(
            headers["X-Forwarded-For"],
            json!(["10.0.0.1, 127.0.0.1"]),
            "the source appended"
        );
        assert_eq!(headers["X-Forwarded-Proto"], json!(["http"]), "the client's replaced");
        assert_eq!(headers["X-Forwarded-Port"], json!(["80"]));
    }
}

#[tokio::test]
async fn sequential_requests_reuse_a_process_and_concurrent_ones_start_more() {
    let api = api().await;
    let first = pid(&api).await;
    assert_eq!(pid(&api).await, first, "a warm process serves the next request");
    let slow = || async {
        let (status, body) = call(&api, "slow", "t").await;
        assert_eq!(status, 200);
        body["pid"].as_u64().expect("pid")
    };
    let (a, b, c) = tokio::join!(slow(), slow(), slow());
    let distinct: std::collections::BTreeSet<u64> = [a, b, c].into();
    assert_eq!(distinct.len(), 3, "one process per concurrent invocation: {a} {b} {c}");
}

#[tokio::test]
async fn a_crash_is_a_502_and_the_next_request_gets_a_fresh_process() {
    let api = api().await;
    let before = pid(&api).await;
    let (status, body) = call(&api, "crash", "t").await;
    assert_eq!(status, 502, "{body}");
    let after = pid(&api).await;
    assert_ne!(after, before, "the crashed process was replaced");
}

#[tokio::test]
async fn a_timeout_is_a_502_after_the_function_timeout_and_the_process_is_replaced() {
    let api = api().await;
    let before = pid(&api).await;
    let started = Instant::now();
    let (status, _) = call(&api, "sleep", "t").await;
    let took = started.elapsed();
    assert_eq!(status, 502);
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "answered after {took:?}, the function's Timeout is 2 s"
    );
    assert_ne!(pid(&api).await, before, "the timed-out process was replaced");
}

// contract: C-ERR-8
#[tokio::test]
async fn a_function_slower_than_the_29_s_integration_timeout_is_a_504() {
    let api = api_with_timeout(40).await;
    let started = Instant::now();
    let (status, body) = call(&api, "sleep", "t").await;
    let took = started.elapsed();
    assert_eq!(status, 504, "{body}");
    assert_eq!(
        body["status"], 504,
        "the template's INTEGRATION_TIMEOUT says its own status"
    );
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(35),
        "answered after {took:?}"
    );
}

// contract: C-ERR-8
#[tokio::test]
async fn oversized_malformed_and_failed_answers_are_502() {
    let api = api().await;
    for what in ["huge", "malformed", "error"] {
        let (status, body) = call(&api, what, "t").await;
        assert_eq!(status, 502, "{what}: {body}");
        assert_eq!(
            body["detail"], "an unexpected error occurred",
            "{what}: the template's DEFAULT_5XX"
        );
        // API Gateway keeps the 502: the body must not claim another status.
        assert!(body.get("status").is_none(), "{what}: {body}");
    }
    pid(&api).await;
}

#[tokio::test]
async fn a_nested_authorizer_context_value_fails_the_request_with_500() {
    let api = api().await;
    let (status, body) = call(&api, "ok", "nested").await;
    assert_eq!(status, 500, "{body}");
}

// contract: C-BODY-3
#[tokio::test]
async fn a_request_body_over_10_mb_is_413_at_the_gateway() {
    let api = api().await;
    let res = api
        .http
        .post(format!("{}/v1/customers", api.base))
        .header("Authorization", "Bearer t")
        .body(vec![b'x'; 10 * 1024 * 1024 + 1])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 413);
}

fn launch(init: &str) -> Launch {
    Launch {
        label: "misbehaving".into(),
        function_name: "MisbehavingFunction".into(),
        bootstrap: MISBEHAVING.into(),
        env: vec![("MISBEHAVE_INIT".into(), init.into())],
        log: None,
        timeout: Duration::from_secs(2),
        memory_mb: 128,
        access_key_id: "MisbehavingFunction".into(),
    }
}

#[tokio::test]
async fn a_failed_init_is_reported_as_lambda_reports_it() {
    let reported = Function::new(launch("report")).invoke("{}".into()).await;
    match reported {
        Err(Failure::Init(detail)) => assert!(detail.contains("MISBEHAVE_INIT asked"), "{detail}"),
        other => panic!("expected an init error, got {other:?}"),
    }
    let exited = Function::new(launch("exit")).invoke("{}".into()).await;
    assert!(matches!(exited, Err(Failure::Init(_))), "{exited:?}");
    let error = Failure::Init("x".into()).lambda_error("id");
    assert_eq!(error["errorType"], "Runtime.InitError");
    let ok = Function::new(launch(""))
        .invoke(r#"{"pathParameters":{"CustomerID":"ok"}}"#.into())
        .await;
    assert!(matches!(ok, Ok(Answer::Response(_))), "{ok:?}");
}

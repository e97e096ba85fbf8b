//! The events the local gateway sends have exactly the fields AWS documents for a REST API's Lambda
//! proxy integration (input format 1.0) and for a TOKEN authorizer. The fixtures in `fixtures/` are
//! the documented examples, written down from API Gateway's developer guide; a field added, dropped
//! or renamed on either side fails here, so local events cannot drift from AWS's.

use axum::body::Bytes;
use local_api::proxy_event::{self, Origin};
use local_api::template::Route;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::Path;

/// Fields whose members are the request's own (headers, parameters, the authorizer's context).
const MAPS: [&str; 7] = [
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext.authorizer",
];

fn fields(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    let Value::Object(map) = value else { return };
    for (k, v) in map {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        out.insert(path.clone());
        if !MAPS.contains(&path.as_str()) {
            fields(v, &path, out);
        }
    }
}

fn field_set(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    fields(value, "", &mut out);
    out
}

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

#[test]
fn the_proxy_event_has_exactly_the_documented_fields() {
    let route = Route {
        method: "POST".into(),
        path: "/v1/banks/{BankID}/customers".into(),
        group: "customers".into(),
    };
    let request = axum::http::Request::post("/v1/banks/b%201/customers?limit=2&limit=3")
        .header("user-agent", "test")
        .header("x-two", "a")
        .header("x-two", "b")
        .body(())
        .expect("request");
    let (parts, ()) = request.into_parts();
    let mut authorizer = Map::new();
    authorizer.insert("principalId".into(), "user".into());
    let origin = Origin {
        stage: "api",
        request_id: "c0ffee00-0000-4000-8000-000000000001",
        domain_name: "127.0.0.1:3000",
        source: Some("127.0.0.1:4000".parse().expect("addr")),
    };
    let event = proxy_event::request_event(&route, &parts, &Bytes::from_static(b"{}"), &authorizer, &origin);
    assert_eq!(field_set(&event), field_set(&fixture("rest-api-proxy-event.json")));

    // And the values are the documented kinds.
    assert_eq!(event["pathParameters"]["BankID"], "b 1", "path parameters are decoded");
    assert_eq!(event["path"], "/v1/banks/b%201/customers");
    assert_eq!(
        event["queryStringParameters"]["limit"], "3",
        "the last value of a repeated parameter"
    );
    assert_eq!(
        event["multiValueQueryStringParameters"]["limit"],
        serde_json::json!(["2", "3"])
    );
    assert_eq!(event["multiValueHeaders"]["x-two"], serde_json::json!(["a", "b"]));
    assert_eq!(event["headers"]["x-two"], "b");
    assert!(event["requestContext"]["requestTimeEpoch"].is_u64());
    assert_eq!(event["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(event["requestContext"]["resourcePath"], "/v1/banks/{BankID}/customers");
    assert_eq!(event["body"], "{}");
    assert_eq!(event["isBase64Encoded"], false);
}

#[test]
fn the_token_event_has_exactly_the_documented_fields() {
    let event = proxy_event::token_event("Bearer x", "arn:aws:execute-api:us-east-1:0:api/stage/GET/v1");
    assert_eq!(field_set(&event), field_set(&fixture("token-authorizer-event.json")));
}

#[test]
fn a_body_that_is_not_utf8_reaches_the_function_base64_encoded() {
    let route = Route {
        method: "POST".into(),
        path: "/v1/customers".into(),
        group: "customers".into(),
    };
    let (parts, ()) = axum::http::Request::post("/v1/customers")
        .body(())
        .expect("request")
        .into_parts();
    let origin = Origin {
        stage: "api",
        request_id: "r",
        domain_name: "localhost",
        source: None,
    };
    let event = proxy_event::request_event(&route, &parts, &Bytes::from_static(&[0xff, 0xfe]), &Map::new(), &origin);
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "//4=");
    assert_eq!(event["queryStringParameters"], Value::Null);
}

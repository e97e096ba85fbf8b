//! A Lambda function that misbehaves on request, for the tests of the local Lambda service and
//! gateway: what it does depends on the route's `{CustomerID}` (`ok`, `crash`, `sleep`, `huge`,
//! `malformed`, `error`) and, at init, on `MISBEHAVE_INIT` (`exit`, `report`). As a TOKEN
//! authorizer it allows everything, with a nested context value for the token `Bearer nested`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    match std::env::var("MISBEHAVE_INIT").as_deref() {
        Ok("exit") => std::process::exit(3),
        Ok("report") => return Err(shared::config::init_failed("MISBEHAVE_INIT asked for a failed init").into()),
        _ => {}
    }
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let event = event.payload;
    if event["type"] == "TOKEN" {
        let context = if event["authorizationToken"] == "Bearer nested" {
            json!({"user_id": "u", "nested": {"a": 1}})
        } else {
            json!({"user_id": "u", "scope": "customer.read", "bank_ids": "b", "n": 7, "flag": true})
        };
        return Ok(json!({
            "principalId": "u",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}
            ]},
            "context": context
        }));
    }
    let pid = std::process::id();
    match event["pathParameters"]["CustomerID"].as_str().unwrap_or_default() {
        "crash" => std::process::abort(),
        "sleep" => {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            Ok(json!({"statusCode": 200}))
        }
        "huge" => Ok(json!({"statusCode": 200, "body": "x".repeat(7 * 1024 * 1024)})),
        "malformed" => Ok(json!({"status": "fine"})),
        "error" => Err("the handler failed".into()),
        "slow" => {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            Ok(json!({"statusCode": 200, "body": json!({"pid": pid}).to_string()}))
        }
        _ => Ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "multiValueHeaders": {"x-multi": ["a", "b"]},
            "body": json!({"pid": pid, "event": event}).to_string()
        })),
    }
}

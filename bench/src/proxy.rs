//! A DynamoDB proxy on loopback that records every call a function makes: its operation, when it
//! started and ended (so overlapping calls count as one sequential round trip), whether it asked
//! for a strongly consistent read, and the capacity it consumed. The functions do not ask for
//! `ReturnConsumedCapacity`, so the proxy adds `"ReturnConsumedCapacity":"TOTAL"` to every request
//! that takes it and reads `ConsumedCapacity` from the answer, which it passes on unchanged.
//! DynamoDB Local does not check request signatures, so changing the body is harmless.
//!
//! Every call is held for a fixed delay before it is forwarded, as a slower (real) DynamoDB would
//! hold it. Without it, calls that the code makes together could look sequential: DynamoDB Local
//! answers the first one faster than the SDK opens a second connection for the other, which then
//! goes out on the first connection once it is free. With it, calls issued together overlap
//! however fast DynamoDB Local is, and only calls that wait for another's answer follow it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Operations that consume read capacity.
pub const READS: [&str; 5] = ["GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"];
/// Operations that consume write capacity.
pub const WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// One DynamoDB call.
#[derive(Debug, Clone)]
pub struct Call {
    pub operation: String,
    pub start: Instant,
    pub end: Instant,
    pub status: u16,
    /// `ConsumedCapacity.CapacityUnits`, summed over tables (0 for failed calls: DynamoDB Local
    /// reports no capacity with an error).
    pub capacity: f64,
    pub consistent_read: bool,
}

impl Call {
    pub fn is_read(&self) -> bool {
        READS.contains(&self.operation.as_str())
    }

    pub fn is_write(&self) -> bool {
        WRITES.contains(&self.operation.as_str())
    }
}

struct Shared {
    upstream: String,
    delay: Duration,
    client: reqwest::Client,
    calls: Mutex<Vec<Call>>,
}

pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
    _server: local_api::Background,
}

impl Proxy {
    /// Listens on `127.0.0.1:port` and forwards to `upstream` (`http://127.0.0.1:8000`), each call
    /// after `delay`.
    pub async fn start(port: u16, upstream: &str, delay: Duration) -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("proxy: cannot listen on 127.0.0.1:{port}: {e}"))?
            .tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
        let client = local_api::iam::loopback_client()?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            delay,
            client,
            calls: Mutex::new(Vec::new()),
        });
        let router = Router::new().fallback(forward).with_state(shared.clone());
        Ok(Self {
            port,
            shared,
            _server: local_api::Background::spawn(async move {
                let _ = axum::serve(listener, router).await;
            }),
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The calls recorded since the last `take`.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.shared.calls.lock().expect("calls"))
    }
}

async fn forward(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let start = Instant::now();
    let operation = headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("?")
        .to_owned();
    let (body, consistent_read) = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut request)) => {
            let consistent = consistent(&operation, &request);
            if READS.contains(&operation.as_str()) || WRITES.contains(&operation.as_str()) {
                request.insert("ReturnConsumedCapacity".into(), "TOTAL".into());
            }
            (
                Bytes::from(serde_json::to_vec(&request).unwrap_or_default()),
                consistent,
            )
        }
        _ => (body, false),
    };
    tokio::time::sleep(shared.delay).await;
    let answer = match local_api::iam::pass_on(&shared.client, &shared.upstream, &headers, body).await {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let end = Instant::now();
    let capacity = serde_json::from_slice::<Value>(&answer.body)
        .map(|v| capacity_units(&v["ConsumedCapacity"]))
        .unwrap_or_default();
    shared.calls.lock().expect("calls").push(Call {
        operation,
        start,
        end,
        status: answer.status.as_u16(),
        capacity,
        consistent_read,
    });
    answer.into_response()
}

/// Whether a request reads with strong consistency (transactions always do).
fn consistent(operation: &str, request: &serde_json::Map<String, Value>) -> bool {
    match operation {
        "TransactGetItems" => true,
        "BatchGetItem" => request
            .get("RequestItems")
            .and_then(Value::as_object)
            .is_some_and(|tables| tables.values().any(|t| t["ConsistentRead"] == Value::Bool(true))),
        _ => request.get("ConsistentRead") == Some(&Value::Bool(true)),
    }
}

/// `ConsumedCapacity` is one object for single-table operations and a list for batches and
/// transactions.
fn capacity_units(consumed: &Value) -> f64 {
    match consumed {
        Value::Array(list) => list.iter().map(capacity_units).sum(),
        Value::Object(one) => one.get("CapacityUnits").and_then(Value::as_f64).unwrap_or_default(),
        _ => 0.0,
    }
}

/// `calls` grouped into sequential round trips: calls that overlap in time (run in parallel) share
/// one. `calls` need not be sorted.
pub fn round_trips(calls: &[Call]) -> Vec<Vec<&Call>> {
    let mut sorted: Vec<&Call> = calls.iter().collect();
    sorted.sort_by_key(|c| (c.start, c.end));
    let mut trips: Vec<Vec<&Call>> = Vec::new();
    let mut busy_until: Option<Instant> = None;
    for call in sorted {
        match (busy_until, trips.last_mut()) {
            (Some(until), Some(trip)) if call.start < until => {
                trip.push(call);
                busy_until = Some(until.max(call.end));
            }
            _ => {
                trips.push(vec![call]);
                busy_until = Some(call.end);
            }
        }
    }
    trips
}

/// How many sequential round trips `calls` took.
pub fn sequential_round_trips(calls: &[Call]) -> usize {
    round_trips(calls).len()
}

/// `GetItem → Query ∥ GetItem`: round trips in order, parallel calls joined by `∥`.
pub fn describe(calls: &[Call]) -> String {
    let trips = round_trips(calls);
    if trips.is_empty() {
        return "none".into();
    }
    trips
        .iter()
        .map(|trip| {
            trip.iter()
                .map(|c| match c.status {
                    200 => c.operation.clone(),
                    status => format!("{} ({status})", c.operation),
                })
                .collect::<Vec<_>>()
                .join(" ∥ ")
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(start_ms: u64, end_ms: u64, t0: Instant) -> Call {
        Call {
            operation: "GetItem".into(),
            start: t0 + Duration::from_millis(start_ms),
            end: t0 + Duration::from_millis(end_ms),
            status: 200,
            capacity: 0.5,
            consistent_read: false,
        }
    }

    #[test]
    fn overlapping_calls_are_one_round_trip() {
        let t0 = Instant::now();
        assert_eq!(sequential_round_trips(&[]), 0);
        assert_eq!(sequential_round_trips(&[call(0, 5, t0)]), 1);
        // Two in parallel, then one after both.
        let calls = [call(0, 5, t0), call(1, 4, t0), call(6, 9, t0)];
        assert_eq!(sequential_round_trips(&calls), 2);
        assert_eq!(sequential_round_trips(&[call(6, 9, t0), call(0, 5, t0)]), 2);
        assert_eq!(describe(&calls), "GetItem ∥ GetItem → GetItem");
        assert_eq!(describe(&[]), "none");
    }

    #[test]
    fn capacity_of_objects_and_lists() {
        let one: Value = serde_json::json!({"TableName": "t", "CapacityUnits": 0.5});
        let list: Value = serde_json::json!([{"CapacityUnits": 2.0}, {"CapacityUnits": 1.0}]);
        assert_eq!(capacity_units(&one), 0.5);
        assert_eq!(capacity_units(&list), 3.0);
        assert_eq!(capacity_units(&Value::Null), 0.0);
    }
}

//! CloudWatch metrics in Embedded Metric Format: one JSON object per line on stdout, which Lambda
//! ships to CloudWatch Logs unchanged and CloudWatch turns into metrics. No API call, no extra IAM.
//! Dimensions are route templates and fixed names only: never ids or personal data.
//!
//! A request's access log and its `Latency` metric are one line: one log event per request rather
//! than two, which halves what CloudWatch Logs ingests (and bills) for the requests, and costs the
//! function one write instead of two.

use serde::Serialize;
use serde_json::{Map, Value};
use std::io::Write;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The metrics' namespace (`METRICS_NAMESPACE`, default `CustomerApi`), read once: it is on every
/// request's path.
fn namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "CustomerApi".into()))
}

/// An EMF document: the `_aws` metadata naming one metric, and the fields that carry its value,
/// its dimensions and anything else the line logs.
#[derive(Serialize)]
struct Document<'a, F> {
    #[serde(rename = "_aws")]
    aws: Metadata<'a>,
    #[serde(flatten)]
    fields: F,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata<'a> {
    timestamp: u64,
    cloud_watch_metrics: [Directive<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive<'a> {
    namespace: &'a str,
    dimensions: [&'a [&'a str]; 1],
    metrics: [Metric<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metric<'a> {
    name: &'a str,
    unit: &'a str,
}

/// A request's line: its `Latency` by `Route` (method and route template), and its access log.
#[derive(Serialize)]
struct RequestFields<'a> {
    #[serde(rename = "Route")]
    route: &'a str,
    #[serde(rename = "Latency")]
    latency: f64,
    level: &'static str,
    message: &'static str,
    request_id: &'a str,
    status: u16,
}

fn line<F: Serialize>(name: &str, unit: &str, dimensions: &[&str], fields: F) -> String {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let document = Document {
        aws: Metadata {
            timestamp,
            cloud_watch_metrics: [Directive {
                namespace: namespace(),
                dimensions: [dimensions],
                metrics: [Metric { name, unit }],
            }],
        },
        fields,
    };
    // Plain data with string keys: serializing it cannot fail.
    serde_json::to_string(&document).unwrap_or_default()
}

fn print(line: &str) {
    // A closed stdout must not take the request down with it (println! would panic).
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The line of one `count`: the event's name is the metric, each dimension a field.
fn count_line(name: &str, dimensions: &[(&str, &str)]) -> String {
    let mut fields: Map<String, Value> = dimensions
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    fields.insert(name.to_owned(), Value::from(1.0));
    let keys: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    line(name, "Count", &keys, fields)
}

/// A business event: `CustomersCreated`, `LinksCreated`, `AuthorizerDenials`...
pub fn count(name: &str, dimensions: &[(&str, &str)]) {
    print(&count_line(name, dimensions));
}

fn request_line(route: &str, request_id: &str, status: u16, millis: f64) -> String {
    let fields = RequestFields {
        route,
        latency: millis,
        level: "INFO",
        message: "request",
        request_id,
        status,
    };
    line("Latency", "Milliseconds", &["Route"], fields)
}

/// A request's access log and latency: `route` is the method and route template
/// (`GET /v1/banks/{BankID}/customers`), never the path with its ids.
pub fn request(route: &str, request_id: &str, status: u16, millis: f64) {
    print(&request_line(route, request_id, status, millis));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(line: &str) -> Value {
        serde_json::from_str(line).expect("one JSON object")
    }

    #[test]
    fn a_request_is_one_line_with_its_latency_metric_and_access_log() {
        let doc = parse(&request_line("GET /v1/x/{Id}", "req-1", 404, 12.5));
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Dimensions"], json!([["Route"]]));
        assert_eq!(spec["Metrics"][0], json!({"Name": "Latency", "Unit": "Milliseconds"}));
        assert_eq!(spec["Namespace"], "CustomerApi");
        assert!(doc["_aws"]["Timestamp"].as_u64().is_some_and(|t| t > 1_700_000_000_000));
        assert_eq!(doc["Route"], "GET /v1/x/{Id}");
        assert_eq!(doc["Latency"], 12.5);
        assert_eq!(doc["request_id"], "req-1");
        assert_eq!(doc["status"], 404);
        assert_eq!(doc["level"], "INFO");
    }

    #[test]
    fn a_count_names_its_dimensions() {
        let doc = parse(&count_line("CustomersCreated", &[("Bank", "b1")]));
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Dimensions"], json!([["Bank"]]));
        assert_eq!(spec["Metrics"][0], json!({"Name": "CustomersCreated", "Unit": "Count"}));
        assert_eq!(doc["CustomersCreated"], 1.0);
        assert_eq!(doc["Bank"], "b1");

        let doc = parse(&count_line("LinksCreated", &[]));
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]));
        assert_eq!(doc["LinksCreated"], 1.0);
    }

    #[test]
    fn strings_are_escaped() {
        let doc = parse(&request_line("GET /v1/\"quoted\"\n", "id\\", 200, 0.1));
        assert_eq!(doc["Route"], "GET /v1/\"quoted\"\n");
        assert_eq!(doc["request_id"], "id\\");
    }
}

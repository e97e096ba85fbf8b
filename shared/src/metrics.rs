//! CloudWatch metrics in Embedded Metric Format: one JSON object per line on stdout, which Lambda
//! ships to CloudWatch Logs unchanged and CloudWatch turns into metrics. No API call, no extra IAM.
//! Dimensions are route templates and fixed names only: never ids or personal data.

use serde_json::{Map, Value, json};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The metrics' namespace (`METRICS_NAMESPACE`, default `CustomerApi`), read once: it is on every
/// request's path.
fn namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "CustomerApi".into()))
}

/// The EMF document for one value.
pub fn document(name: &str, unit: &str, value: f64, dimensions: &[(&str, &str)]) -> Value {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let keys: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": namespace(),
                "Dimensions": [keys],
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        }),
    );
    for (k, v) in dimensions {
        doc.insert((*k).into(), Value::from(*v));
    }
    doc.insert(name.into(), json!(value));
    Value::Object(doc)
}

fn emit(name: &str, unit: &str, value: f64, dimensions: &[(&str, &str)]) {
    println!("{}", document(name, unit, value, dimensions));
}

/// A business event: `CustomersCreated`, `LinksCreated`, `AuthorizerDenials`...
pub fn count(name: &str, dimensions: &[(&str, &str)]) {
    emit(name, "Count", 1.0, dimensions);
}

/// A request's latency, by route template.
pub fn latency(route: &str, millis: f64) {
    emit("Latency", "Milliseconds", millis, &[("Route", route)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_follow_the_embedded_metric_format() {
        let doc = document("Latency", "Milliseconds", 12.5, &[("Route", "GET /v1/x/{Id}")]);
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Dimensions"], json!([["Route"]]));
        assert_eq!(spec["Metrics"][0], json!({"Name": "Latency", "Unit": "Milliseconds"}));
        assert!(spec["Namespace"].is_string());
        assert!(doc["_aws"]["Timestamp"].as_u64().is_some_and(|t| t > 1_700_000_000_000));
        assert_eq!(doc["Route"], "GET /v1/x/{Id}");
        assert_eq!(doc["Latency"], 12.5);
    }
}

//! EventBridge, locally: the one call the changes function makes (`PutEvents`, AWS JSON 1.1
//! protocol), so that it publishes through the real SDK client as on AWS. Each accepted entry is
//! appended to a JSON Lines file (`.local/events.jsonl` for `make run`): `tail -f` shows a bank's
//! events as other systems would receive them.

use crate::aws_json as answer;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The bus the events go to, and the file that receives them.
#[derive(Debug, Clone)]
pub struct Bus {
    pub name: String,
    pub file: PathBuf,
}

/// Serves `bus` on an ephemeral port; the URL is `EVENTBRIDGE_ENDPOINT` for the changes function.
pub async fn serve(bus: Bus) -> Result<(String, crate::Background), crate::LocalError> {
    let app = Router::new()
        .route("/", axum::routing::post(put_events))
        .with_state(Arc::new((bus, Mutex::new(()))));
    crate::serve_local("EventBridge", app).await
}

fn error(kind: &str, message: &str) -> Response {
    crate::aws_json_error(StatusCode::BAD_REQUEST, kind, message)
}

/// Every entry is checked as EventBridge checks it (source, detail type, a JSON object as detail,
/// a known bus); the accepted ones are written, the others answered as failed entries.
async fn put_events(State(state): State<Arc<(Bus, Mutex<()>)>>, headers: HeaderMap, body: Bytes) -> Response {
    let (bus, lock) = &*state;
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target != "AWSEvents.PutEvents" {
        return error("UnknownOperationException", &format!("{target} is not served locally"));
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error("ValidationException", "the body is not JSON");
    };
    let Some(entries) = request["Entries"].as_array().filter(|e| (1..=10).contains(&e.len())) else {
        return error("ValidationException", "Entries must hold 1 to 10 entries");
    };
    let mut lines = String::new();
    let mut results = Vec::new();
    let mut failed = 0;
    for entry in entries {
        let text = |name: &str| entry[name].as_str().filter(|s| !s.is_empty());
        let detail = text("Detail").and_then(|d| serde_json::from_str::<Value>(d).ok());
        let bus_name = text("EventBusName").unwrap_or("default");
        let refused = match (text("Source"), text("DetailType"), &detail) {
            (None, _, _) => Some("Source is required"),
            (_, None, _) => Some("DetailType is required"),
            (_, _, Some(d)) if !d.is_object() => Some("Detail must be a JSON object"),
            (_, _, None) => Some("Detail is not valid JSON"),
            _ if bus_name != bus.name && !bus_name.ends_with(&format!("/{}", bus.name)) => {
                Some("the event bus does not exist")
            }
            _ => None,
        };
        if let Some(message) = refused {
            failed += 1;
            results.push(json!({"ErrorCode": "MalformedDetail", "ErrorMessage": message}));
            continue;
        }
        let line = json!({
            "Source": text("Source"),
            "DetailType": text("DetailType"),
            "Detail": detail,
            "Time": entry["Time"],
            "EventBusName": bus_name,
        });
        lines.push_str(&line.to_string());
        lines.push('\n');
        results.push(json!({"EventId": uuid_like(&line)}));
    }
    let written = {
        let _guard = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&bus.file)
            .and_then(|mut f| f.write_all(lines.as_bytes()))
    };
    if let Err(e) = written {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"__type": "InternalException", "message": format!("{}: {e}", bus.file.display())}),
        );
    }
    answer(StatusCode::OK, json!({"FailedEntryCount": failed, "Entries": results}))
}

/// An event id: EventBridge's are UUIDs; this one is a digest of the entry, in the same shape.
fn uuid_like(entry: &Value) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, entry.to_string().as_bytes());
    let h: String = digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

//! The changes function, locally as on AWS: the table's stream read by the local event source
//! mapping (`streams`), the function invoked in-process or as its built bootstrap, its DynamoDB
//! calls through the IAM check of its policy, and its events through the real EventBridge client
//! to the local receiver (`eventbridge`), which appends them to `<dir>/events.jsonl`. Records it
//! gives up on are written to `<dir>/changes-dead-letters.jsonl`.

use crate::streams::{Invoke, Mapping};
use crate::template::Template;
use crate::{Background, LocalError};
use aws_lambda_events::event::dynamodb::Event;
use bytes::Bytes;
pub use changes::Changes;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The changes function's logical id in the template.
pub const FUNCTION: &str = "ChangesFunction";
/// The bus locally (on AWS: `<stack>-changes`).
pub const BUS: &str = "customer-api-local-changes";

/// The running pipeline; everything stops when it is dropped.
pub struct Pipeline {
    pub events_file: PathBuf,
    pub dead_letters: PathBuf,
    _mapping: Background,
}

/// Where the receiver listens, for the functions' `EVENTBRIDGE_ENDPOINT`.
pub struct Receiver {
    pub url: String,
    pub events_file: PathBuf,
    _server: Background,
}

/// Starts the EventBridge receiver writing to `<dir>/events.jsonl`.
pub async fn receiver(dir: &Path) -> Result<Receiver, LocalError> {
    std::fs::create_dir_all(dir).map_err(|e| LocalError::Lambda(format!("{}: {e}", dir.display())))?;
    let events_file = dir.join("events.jsonl");
    let bus = crate::eventbridge::Bus {
        name: BUS.into(),
        file: events_file.clone(),
    };
    let (url, server) = crate::eventbridge::serve(bus).await?;
    Ok(Receiver {
        url,
        events_file,
        _server: server,
    })
}

/// The changes function in this process for `state`'s table: its DynamoDB calls through the IAM
/// check of its policy, its events to `receiver`.
pub fn in_process(
    enforcer: &crate::iam::Enforcer,
    state: &shared::AppState,
    receiver: &Receiver,
) -> Result<Changes, LocalError> {
    Ok(Changes {
        store: enforcer.state_for(state, FUNCTION).store,
        events: changes::eventbridge_client(&crate::region(), Some(&receiver.url))
            .map_err(|e| LocalError::Lambda(e.to_string()))?,
        bus: BUS.into(),
    })
}

/// How the mapping invokes the function.
pub enum Target {
    /// `functions/changes` in this process, its DynamoDB calls through the IAM check.
    InProcess(Changes),
    /// The built bootstrap through the local Lambda service.
    Built(Arc<crate::lambda::Function>),
}

/// Starts reading `table`'s stream into `target`, with the template's mapping settings.
pub fn start(
    template: &Template,
    symbols: &crate::template::Symbols,
    dynamodb: aws_sdk_dynamodb::Client,
    dynamodb_endpoint: &str,
    table: &str,
    receiver: &Receiver,
    target: Target,
) -> Result<Pipeline, LocalError> {
    let dir = receiver.events_file.parent().unwrap_or(Path::new(".")).to_owned();
    let setting = |name: &str, default: u64| {
        template
            .stream_mapping(FUNCTION)
            .and_then(|m| m.get(name))
            .and_then(|v| crate::template::resolve(v, symbols))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mapping = Mapping {
        table: table.to_owned(),
        batch_size: setting("BatchSize", 100) as usize,
        max_retries: setting("MaximumRetryAttempts", 10) as u32,
        bisect: template
            .stream_mapping(FUNCTION)
            .and_then(|m| m.get("BisectBatchOnFunctionError"))
            .and_then(serde_norway::Value::as_bool)
            .unwrap_or(false),
        dead_letters: dir.join("changes-dead-letters.jsonl"),
        idle: Duration::from_millis(200),
    };
    let invoke: Invoke = match target {
        Target::InProcess(changes) => Box::new(move |event: Value| {
            let changes = changes.clone();
            Box::pin(async move {
                let event: Event = serde_json::from_value(event).map_err(|e| format!("the stream event: {e}"))?;
                serde_json::to_value(changes.handle(event).await).map_err(|e| e.to_string())
            })
        }),
        Target::Built(function) => Box::new(move |event: Value| {
            let function = function.clone();
            Box::pin(async move {
                let payload = Bytes::from(event.to_string());
                match function.invoke(payload).await {
                    Ok(crate::lambda::Answer::Response(body)) => {
                        serde_json::from_slice(&body).map_err(|e| format!("the function's answer: {e}"))
                    }
                    Ok(crate::lambda::Answer::Error(body)) => Err(String::from_utf8_lossy(&body).into_owned()),
                    Err(failure) => Err(format!("{failure:?}")),
                }
            })
        }),
    };
    let streams = crate::streams::client(dynamodb_endpoint).map_err(|e| LocalError::Lambda(e.to_string()))?;
    let dead_letters = mapping.dead_letters.clone();
    Ok(Pipeline {
        events_file: receiver.events_file.clone(),
        dead_letters,
        _mapping: Background::spawn(crate::streams::run(dynamodb, streams, mapping, invoke)),
    })
}

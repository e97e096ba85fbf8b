//! The table's stream, record by record in order: each change of a customer, its records, links
//! and CRM events becomes an entry of the customer's history and an event on the bank's
//! EventBridge bus (field names only, never values). A record is done when its entry is written
//! and its event published; a redelivered record finds its entry and publishes nothing again.
//! The first record that fails is reported (`ReportBatchItemFailures`): Lambda resumes from it,
//! so the records after it come again, in order, and each customer's changes stay in order.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::{Map, Value};
use shared::config::{ConfigError, var};
use shared::domain::change::HistoryEntry;
use shared::store::Store;
use shared::store::history::{Recorded, entry_of};
use shared::store::keys::{self, ItemKey};

/// The `Source` of every event.
pub const SOURCE: &str = "customer-api";

#[derive(Clone)]
pub struct Changes {
    pub store: Store,
    pub events: aws_sdk_eventbridge::Client,
    pub bus: String,
}

impl Changes {
    /// From `TABLE_NAME`, `EVENT_BUS_NAME`, `EVENTBRIDGE_ENDPOINT` (empty on AWS; locally,
    /// local-api's receiver) and the SDK's variables.
    pub fn from_env() -> Result<Self, ConfigError> {
        let store = Store::new(shared::config::dynamodb_client()?, var("TABLE_NAME")?);
        let endpoint = std::env::var("EVENTBRIDGE_ENDPOINT").ok();
        let events = eventbridge_client(&var("AWS_REGION")?, endpoint.as_deref())?;
        Ok(Self {
            store,
            events,
            bus: var("EVENT_BUS_NAME")?,
        })
    }

    /// One batch of the stream: the first failed record, if any, is the answer's only failure.
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        for record in &event.records {
            let sequence = record.change.sequence_number.clone().unwrap_or_default();
            if let Err(error) = self.apply(record, &sequence).await {
                tracing::error!(%error, sequence_number = %sequence, "a change failed; the batch resumes from it");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence);
                response.batch_item_failures.push(failure);
                break;
            }
        }
        response
    }

    async fn apply(&self, record: &EventRecord, sequence: &str) -> Result<(), String> {
        let old = image(&record.change.old_image)?;
        let new = image(&record.change.new_image)?;
        let deletion = match (&old, &new) {
            (Some(old), None) => self.deletion_marker(old).await?,
            _ => None,
        };
        let Some(entry) = entry_of(sequence, old.as_ref(), new.as_ref(), deletion.as_ref())? else {
            return Ok(());
        };
        let recorded = self.store.record_history(&entry).await.map_err(|e| e.to_string())?;
        if recorded == Recorded::Published {
            return Ok(());
        }
        self.publish(&entry).await?;
        self.store.history_published(&entry).await.map_err(|e| e.to_string())?;
        tracing::info!(
            change_id = %entry.change.change_id,
            resource = entry.change.resource.name(),
            operation = ?entry.change.operation,
            replayed = recorded == Recorded::Unpublished,
            "change recorded"
        );
        Ok(())
    }

    /// The marker of a deleted object of the API (who deleted it), as JSON.
    async fn deletion_marker(&self, old: &Map<String, Value>) -> Result<Option<Map<String, Value>>, String> {
        let text = |name: &str| old.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(pk), Some(sk)) = (text(keys::PK), text(keys::SK)) else {
            return Ok(None);
        };
        // Only a customer's own items are deleted through the API (its records); anything else
        // removed (a CRM event moved by a migration, an expired item) has no marker to look for.
        if keys::subject_of(&pk, &sk).is_none() || keys::customer_id_of(&pk).is_none() {
            return Ok(None);
        }
        let marker = self
            .store
            .deletion_audit(&ItemKey { pk, sk })
            .await
            .map_err(|e| e.to_string())?;
        marker
            .map(|item| serde_dynamo::from_item(item).map_err(|e| e.to_string()))
            .transpose()
    }

    async fn publish(&self, entry: &HistoryEntry) -> Result<(), String> {
        let detail = serde_json::to_string(&entry.event()).map_err(|e| e.to_string())?;
        let change = &entry.change;
        let time = aws_sdk_eventbridge::primitives::DateTime::from_secs_and_nanos(
            change.changed_at.seconds,
            change.changed_at.nanos as u32,
        );
        let published = self
            .events
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(change.resource.event_name(change.operation))
                    .detail(detail)
                    .time(time)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| format!("PutEvents: {}", aws_sdk_eventbridge::error::DisplayErrorContext(e)))?;
        if published.failed_entry_count > 0 {
            let reason = published
                .entries()
                .iter()
                .find_map(|e| e.error_message())
                .unwrap_or("no reason given");
            return Err(format!("EventBridge refused the event: {reason}"));
        }
        Ok(())
    }
}

/// A stream image as JSON; an empty image (none in the record) is `None`.
fn image(item: &serde_dynamo::Item) -> Result<Option<Map<String, Value>>, String> {
    if item.is_empty() {
        return Ok(None);
    }
    serde_dynamo::from_item(item.clone())
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The EventBridge client, built as the DynamoDB one; `endpoint`, when set and not empty, points
/// it at a local endpoint that speaks the service's protocol.
pub fn eventbridge_client(region: &str, endpoint: Option<&str>) -> Result<aws_sdk_eventbridge::Client, ConfigError> {
    use aws_sdk_eventbridge::config::{BehaviorVersion, Region};
    let endpoint = endpoint.map(str::trim).filter(|e| !e.is_empty());
    let mut config = aws_sdk_eventbridge::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new())
        .timeout_config(shared::config::sdk_timeouts())
        .retry_config(shared::config::sdk_retries())
        .http_client(shared::config::https_client(region, endpoint)?);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    Ok(aws_sdk_eventbridge::Client::from_conf(config.build()))
}

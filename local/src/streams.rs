//! The table's stream, locally, read as Lambda's event source mapping reads it on AWS: DynamoDB
//! Local's stream through the real Streams API, shard by shard in order, in batches of up to
//! `batch_size` records in the event format Lambda sends (`Records[].dynamodb` with `Keys`,
//! `NewImage`, `OldImage`, `SequenceNumber`). A batch's answer may report failed records
//! (`ReportBatchItemFailures`): the mapping resumes from the first one. A failed invocation is
//! retried, halving the batch when `bisect` is on; a record still failing after `max_retries` goes
//! to the on-failure destination (a JSON Lines file) and the stream moves on past it.

use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

/// What the mapping invokes: the changes function, in-process or built.
pub type Invoke = Box<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<Value, String>> + Send>> + Send + Sync>;

#[derive(Debug, Clone)]
pub struct Mapping {
    pub table: String,
    pub batch_size: usize,
    pub max_retries: u32,
    pub bisect: bool,
    /// The on-failure destination: one JSON line per record given up on.
    pub dead_letters: PathBuf,
    pub idle: Duration,
}

/// The Streams client for DynamoDB Local at `endpoint`.
pub fn client(endpoint: &str) -> Result<aws_sdk_dynamodbstreams::Client, shared::config::ConfigError> {
    use aws_sdk_dynamodbstreams::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(crate::region()))
        .credentials_provider(Credentials::new("local", "local", None, None, "local-api"))
        .endpoint_url(endpoint)
        .timeout_config(shared::config::sdk_timeouts())
        .http_client(shared::config::https_client(&crate::region(), Some(endpoint))?)
        .build();
    Ok(aws_sdk_dynamodbstreams::Client::from_conf(config))
}

/// Reads the stream of `mapping.table` until dropped (run it with `Background::spawn`).
pub async fn run(
    dynamodb: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    mapping: Mapping,
    invoke: Invoke,
) {
    let mut reader = Reader {
        streams,
        batch_size: mapping.batch_size,
        mapping,
        invoke,
        positions: HashMap::new(),
        retries: HashMap::new(),
    };
    // The stream's ARN, looked up again only after a failed poll (the table may be new).
    let mut stream = None;
    loop {
        if stream.is_none() {
            stream = dynamodb
                .describe_table()
                .table_name(&reader.mapping.table)
                .send()
                .await
                .ok()
                .and_then(|t| t.table.and_then(|t| t.latest_stream_arn));
        }
        let worked = match &stream {
            Some(arn) => reader.poll(arn).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading the table's stream failed; retrying");
                stream = None;
                false
            }),
            None => false,
        };
        if !worked {
            tokio::time::sleep(reader.mapping.idle).await;
        }
    }
}

struct Reader {
    streams: aws_sdk_dynamodbstreams::Client,
    mapping: Mapping,
    invoke: Invoke,
    /// Per shard: the sequence number of the last record done.
    positions: HashMap<String, String>,
    /// Per record (sequence number): failed attempts so far.
    retries: HashMap<String, u32>,
    batch_size: usize,
}

impl Reader {
    /// One batch from the first shard that has records; whether there was one.
    async fn poll(&mut self, arn: &str) -> Result<bool, String> {
        let described = self
            .streams
            .describe_stream()
            .stream_arn(arn)
            .send()
            .await
            .map_err(|e| format!("DescribeStream: {e:?}"))?;
        let shards = described
            .stream_description
            .map(|d| d.shards.unwrap_or_default())
            .unwrap_or_default();
        // Parents before children: a shard's records come after its parent's.
        for shard in shards {
            let Some(id) = shard.shard_id else { continue };
            let mut iterator = self.streams.get_shard_iterator().stream_arn(arn).shard_id(&id);
            iterator = match self.positions.get(&id) {
                Some(done) => iterator
                    .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                    .sequence_number(done),
                None => iterator.shard_iterator_type(ShardIteratorType::TrimHorizon),
            };
            let iterator = iterator
                .send()
                .await
                .map_err(|e| format!("GetShardIterator: {e:?}"))?
                .shard_iterator;
            let Some(iterator) = iterator else { continue };
            let records = self
                .streams
                .get_records()
                .shard_iterator(iterator)
                .limit(self.batch_size as i32)
                .send()
                .await
                .map_err(|e| format!("GetRecords: {e:?}"))?
                .records
                .unwrap_or_default();
            if records.is_empty() {
                continue;
            }
            self.deliver(arn, &id, &records).await;
            return Ok(true);
        }
        Ok(false)
    }

    /// Invokes the function with `records` and moves the shard's position past what is done.
    async fn deliver(&mut self, arn: &str, shard: &str, records: &[Record]) {
        let sequence = |r: &Record| {
            r.dynamodb
                .as_ref()
                .and_then(|d| d.sequence_number.clone())
                .unwrap_or_default()
        };
        let event = json!({ "Records": records.iter().map(|r| lambda_record(arn, r)).collect::<Vec<_>>() });
        let failed_at = match (self.invoke)(event).await {
            Ok(answer) => {
                self.batch_size = self.mapping.batch_size;
                let failed = answer["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["itemIdentifier"].as_str())
                    .filter_map(|id| records.iter().position(|r| sequence(r) == id))
                    .min();
                match failed {
                    None => {
                        self.done(shard, &sequence(&records[records.len() - 1]));
                        return;
                    }
                    Some(i) => i,
                }
            }
            Err(error) => {
                tracing::warn!(%error, records = records.len(), "the changes function failed");
                if self.mapping.bisect && records.len() > 1 {
                    self.batch_size = records.len().div_ceil(2);
                    return;
                }
                0
            }
        };
        // Everything before the failed record is done; the failed one is retried or given up.
        if failed_at > 0 {
            self.done(shard, &sequence(&records[failed_at - 1]));
        }
        let record = &records[failed_at];
        let id = sequence(record);
        let attempts = self.retries.entry(id.clone()).or_insert(0);
        *attempts += 1;
        if *attempts > self.mapping.max_retries {
            self.dead_letter(arn, shard, record);
            self.retries.remove(&id);
            self.done(shard, &id);
        }
    }

    fn done(&mut self, shard: &str, sequence: &str) {
        self.positions.insert(shard.to_owned(), sequence.to_owned());
    }

    /// What Lambda sends an on-failure destination of a stream: where the record is, not its data.
    fn dead_letter(&self, arn: &str, shard: &str, record: &Record) {
        let sequence = record.dynamodb.as_ref().and_then(|d| d.sequence_number.clone());
        let line = json!({
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": self.mapping.max_retries + 1},
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "batchSize": 1,
                "streamArn": arn,
            }
        });
        tracing::error!(shard, sequence = ?sequence, "a stream record went to the on-failure destination");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.mapping.dead_letters)
            .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{line}\n").as_bytes()));
        if let Err(e) = written {
            tracing::error!(error = %e, "the on-failure destination cannot be written");
        }
    }
}

/// One record as Lambda's DynamoDB event has it.
fn lambda_record(arn: &str, record: &Record) -> Value {
    let image = |item: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        item.map(|i| serde_json::to_value(serde_dynamo::Item::from(i.clone())).unwrap_or(Value::Null))
    };
    let stream = record.dynamodb.as_ref();
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": stream.and_then(|s| s.approximate_creation_date_time).map(|t| t.secs()),
        "Keys": image(stream.and_then(|s| s.keys.as_ref())),
        "SequenceNumber": stream.and_then(|s| s.sequence_number.clone()),
        "SizeBytes": stream.and_then(|s| s.size_bytes),
        "StreamViewType": stream.and_then(|s| s.stream_view_type.as_ref()).map(|v| v.as_str()),
    });
    if let Some(new) = image(stream.and_then(|s| s.new_image.as_ref())) {
        dynamodb["NewImage"] = new;
    }
    if let Some(old) = image(stream.and_then(|s| s.old_image.as_ref())) {
        dynamodb["OldImage"] = old;
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": record.event_version.clone().unwrap_or_else(|| "1.1".into()),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region.clone().unwrap_or_else(crate::region),
        "dynamodb": dynamodb,
        "eventSourceARN": arn,
    })
}

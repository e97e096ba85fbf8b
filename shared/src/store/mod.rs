//! The DynamoDB store: items through `serde_dynamo`, keys from `keys`, conditions and transactions
//! for existence and uniqueness, failures as `StoreError`. Every method is at most one sequential
//! round trip unless noted. Split by what it stores: customers, links, a customer's records, CRM
//! events and idempotency records; this file holds what they share.

pub mod crm_events;
pub mod customers;
pub mod decisions;
pub mod erasure;
pub mod error;
pub mod export;
pub mod history;
pub mod idempotency;
pub mod keys;
pub mod links;
pub mod merge;
pub mod migrate;
pub mod page;
pub mod records;

pub use error::{StoreError, StoreResult, sdk_error};

use crate::domain::audit::Audit;
use crate::domain::ids::BankId;
use crate::domain::patch::Patch;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem,
};
use error::internal;
use keys::{PK, SK};
use page::Key;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::time::Duration;

/// A raw DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// Attributes every versioned item of a bank has.
pub(crate) const BANK_ID: &str = "bank_id";
pub(crate) const VERSION: &str = "version";
/// The attributes of an [`Audit`] on every item a change writes.
pub(crate) const CHANGED_BY: &str = "changed_by";
pub(crate) const REQUEST_ID: &str = "request_id";
pub(crate) const CHANGED_AT: &str = "changed_at";
/// On an erased customer's tombstone: no read answers it, no write changes it or adds to it.
pub(crate) const ERASED_AT: &str = "erased_at";

/// The versions a conditional write accepts: the strong entity tags of an `If-Match` list. Empty
/// when none of them can match (weak or foreign tags), so the write is refused (412) if the item
/// exists. `None` where a write takes one means any version (no `If-Match`, or `*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions(Vec<u64>);

impl Versions {
    pub fn new(versions: Vec<u64>) -> Self {
        Self(versions)
    }

    pub fn contains(&self, version: u64) -> bool {
        self.0.contains(&version)
    }

    /// The condition on the version attribute named `name`, its values added to `values`.
    pub(crate) fn condition(&self, name: &str, values: &mut HashMap<String, AttributeValue>) -> String {
        if self.0.is_empty() {
            // No version is 0 (items start at 1): the condition fails on an existing item.
            values.insert(":expected0".into(), AttributeValue::N("0".into()));
            return format!("{name} = :expected0");
        }
        let placeholders: Vec<String> = (0..self.0.len()).map(|i| format!(":expected{i}")).collect();
        for (placeholder, version) in placeholders.iter().zip(&self.0) {
            values.insert(placeholder.clone(), AttributeValue::N(version.to_string()));
        }
        format!("{name} IN ({})", placeholders.join(", "))
    }
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
    shards: keys::Shards,
}

/// An item with the version that `ETag`/`If-Match` compare.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub item: T,
    pub version: u64,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            shards: keys::Shards::DEFAULT,
        }
    }

    /// The store with a bank's customers and CRM events spread over `shards` partitions.
    pub fn with_shards(self, shards: keys::Shards) -> Self {
        Self { shards, ..self }
    }

    pub fn shards(&self) -> keys::Shards {
        self.shards
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Opens connections to DynamoDB (TCP, TLS, credentials, endpoint) with parallel GetItems of a
    /// key that no item has, as many as a request makes at once (a linked user's list: the link,
    /// the customer and the page), so that the first request finds them open. A failure is only
    /// logged: the function still starts, and its requests answer 503 until DynamoDB is back.
    ///
    /// It takes one try within `config::CONNECT_AT_INIT`: a cold start under an outage must leave
    /// its request the rest of the 503 bound (C-ERR-7).
    pub async fn connect(&self) {
        let (timeouts, retries) = crate::config::connect_at_init_timeouts();
        let read = || {
            self.client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(keys::connect().to_map()))
                .projection_expression(PK)
                .customize()
                .config_override(
                    aws_sdk_dynamodb::Config::builder()
                        .timeout_config(timeouts.clone())
                        .retry_config(retries.clone()),
                )
                .send()
        };
        let (a, b, c) = tokio::join!(read(), read(), read());
        if let Some(Err(err)) = [a, b, c].into_iter().find(Result::is_err) {
            let err = sdk_error(err);
            tracing::warn!(error = %err, "could not connect to DynamoDB during init");
        }
    }

    /// A transaction's check that the customer exists at `bank`: a record or link never creates or
    /// resurrects a customer, nor attaches to another bank's.
    pub(crate) fn customer_exists(
        &self,
        bank: &BankId,
        customer: &crate::domain::ids::CustomerId,
    ) -> StoreResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(self.table())
            .set_key(Some(keys::customer(customer).to_map()))
            .condition_expression(format!(
                "attribute_exists({PK}) AND {BANK_ID} = :bank AND attribute_not_exists({ERASED_AT})"
            ))
            .expression_attribute_values(":bank", AttributeValue::S(bank.to_string()))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// One UpdateItem of an item of `bank` that must exist: sets the patch's attributes and the
    /// audit, bumps the version (checked against `if_match`) and returns the new item. 404 when the
    /// item is missing or belongs to another bank, 412 when only the version differs.
    pub(crate) async fn update_versioned(
        &self,
        key: keys::ItemKey,
        bank: &BankId,
        patch: &Patch,
        audit: &Audit,
        if_match: Option<&Versions>,
        what: &'static str,
    ) -> StoreResult<Item> {
        let mut update = VersionedUpdate::new(key, bank, patch, audit)?;
        if let Some(versions) = if_match {
            update.if_match(versions);
        }
        let VersionedUpdate {
            key,
            expression,
            condition,
            names,
            values,
        } = update;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.to_map()))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.attributes.unwrap_or_default()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(e)) => {
                    Err(condition_failure(e.item.as_ref(), bank, what))
                }
                _ => Err(sdk_error(err)),
            },
        }
    }
}

/// The parts of a write that changes an existing item of a bank: the patch's attributes and the
/// audit set, the version bumped, on the condition that the item exists at the bank (and whatever
/// else the caller adds). One UpdateItem, or one part of a transaction.
pub(crate) struct VersionedUpdate {
    pub key: keys::ItemKey,
    pub expression: String,
    pub condition: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl VersionedUpdate {
    pub fn new(key: keys::ItemKey, bank: &BankId, patch: &Patch, audit: &Audit) -> StoreResult<Self> {
        let mut names = HashMap::from([
            ("#bank".to_owned(), BANK_ID.to_owned()),
            ("#v".to_owned(), VERSION.to_owned()),
        ]);
        let mut values = HashMap::from([
            (":bank".to_owned(), AttributeValue::S(bank.to_string())),
            (":one".to_owned(), AttributeValue::N("1".into())),
        ]);
        let mut sets = vec!["#v = #v + :one".to_owned()];
        audit_sets(audit, &mut sets, &mut names, &mut values)?;
        for (i, (path, value)) in patch.sets.iter().enumerate() {
            let mut parts = Vec::new();
            for (j, name) in path.iter().enumerate() {
                let placeholder = format!("#f{i}_{j}");
                names.insert(placeholder.clone(), (*name).to_owned());
                parts.push(placeholder);
            }
            values.insert(
                format!(":v{i}"),
                serde_dynamo::to_attribute_value(value).map_err(internal)?,
            );
            sets.push(format!("{} = :v{i}", parts.join(".")));
        }
        Ok(Self {
            key,
            expression: format!("SET {}", sets.join(", ")),
            condition: format!("attribute_exists({PK}) AND #bank = :bank AND attribute_not_exists({ERASED_AT})"),
            names,
            values,
        })
    }

    /// Only at one of these versions.
    pub fn if_match(&mut self, versions: &Versions) {
        let condition = versions.condition("#v", &mut self.values);
        self.condition.push_str(&format!(" AND {condition}"));
    }

    /// As one part of a transaction.
    pub fn transact_item(self, table: &str) -> StoreResult<TransactWriteItem> {
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(table)
            .set_key(Some(self.key.to_map()))
            .update_expression(self.expression)
            .condition_expression(self.condition)
            .set_expression_attribute_names(Some(self.names))
            .set_expression_attribute_values(Some(self.values))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

impl Store {
    /// One page of a Query: up to `limit` items, and the key to continue from when there are more.
    /// It asks for one item more than the page holds, so the last page never carries a token that
    /// leads to an empty one, and keeps reading when DynamoDB stops a response short at 1 MB.
    /// `key_attributes` are the table's and the queried index's key attributes.
    pub(crate) async fn query_page(
        &self,
        query: QueryFluentBuilder,
        limit: i32,
        mut start: Option<Key>,
        key_attributes: &[&str],
    ) -> StoreResult<(Vec<Item>, Option<Key>)> {
        let want = limit as usize + 1;
        let mut items = Vec::new();
        loop {
            let out = query
                .clone()
                .limit((want - items.len()) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() || items.len() >= want {
                break;
            }
        }
        Ok(split_page(items, limit as usize, key_attributes))
    }
}

impl Store {
    /// The items at `keys` (those that exist), in one BatchGetItem of at most 100 keys. Keys left
    /// unprocessed (under throttling) are asked again after a short, growing pause.
    pub(crate) async fn batch_get(&self, keys: impl IntoIterator<Item = keys::ItemKey>) -> StoreResult<Vec<Item>> {
        let keys: Vec<Item> = keys.into_iter().map(|k| k.to_map()).collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .build()
                .map_err(internal)?,
        );
        let mut found = Vec::new();
        let mut backoff = Duration::from_millis(20);
        while let Some(request) = pending.take() {
            let out = self
                .client
                .batch_get_item()
                .request_items(self.table(), request)
                .send()
                .await
                .map_err(sdk_error)?;
            found.extend(
                out.responses
                    .unwrap_or_default()
                    .remove(self.table())
                    .unwrap_or_default(),
            );
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(self.table()))
                .filter(|k| !k.keys.is_empty());
            if pending.is_some() {
                if backoff > Duration::from_secs(1) {
                    return Err(StoreError::Unavailable);
                }
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        Ok(found)
    }
}

/// Adds `SET`s of the audit's attributes (as `#audit_*` names and `:audit_*` values).
pub(crate) fn audit_sets(
    audit: &Audit,
    sets: &mut Vec<String>,
    names: &mut HashMap<String, String>,
    values: &mut HashMap<String, AttributeValue>,
) -> StoreResult<()> {
    let by = AttributeValue::S(audit.changed_by.to_string());
    let request = AttributeValue::S(audit.request_id.clone());
    let at = serde_dynamo::to_attribute_value(audit.changed_at).map_err(internal)?;
    for (attribute, value) in [(CHANGED_BY, by), (REQUEST_ID, request), (CHANGED_AT, at)] {
        names.insert(format!("#audit_{attribute}"), attribute.to_owned());
        values.insert(format!(":audit_{attribute}"), value);
        sets.push(format!("#audit_{attribute} = :audit_{attribute}"));
    }
    Ok(())
}

/// How long a deletion's marker is kept: longer than a stream keeps its records (24 hours), so
/// the changes function always finds it.
const DELETION_MARKER_SECONDS: u64 = 7 * 24 * 3600;

#[derive(Serialize)]
struct DeletionMarker<'a> {
    pk: String,
    sk: String,
    expires_at: u64,
    #[serde(flatten)]
    audit: &'a Audit,
}

impl Store {
    /// The put of the marker of the item at `key`'s deletion, for the deletion's transaction.
    pub(crate) fn deletion_marker(&self, key: &keys::ItemKey, audit: &Audit) -> StoreResult<TransactWriteItem> {
        let marker = keys::deletion(key);
        let item = DeletionMarker {
            pk: marker.pk,
            sk: marker.sk,
            expires_at: idempotency::now() + DELETION_MARKER_SECONDS,
            audit,
        };
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The audit of the item at `key`'s deletion, from its marker (`None` once it has expired).
    pub async fn deletion_audit(&self, key: &keys::ItemKey) -> StoreResult<Option<Item>> {
        self.item_at(&keys::deletion(key)).await
    }

    /// The item at `key` as it is now (a strongly consistent read).
    pub(crate) async fn item_at(&self, key: &keys::ItemKey) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_map()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out.item)
    }
}

/// Why a write's condition failed: the item is there, at this bank, so only the version can have
/// differed (412); otherwise it is missing, erased or another bank's (404).
pub(crate) fn condition_failure(old: Option<&Item>, bank: &BankId, what: &'static str) -> StoreError {
    if old.is_some_and(|item| item.contains_key(ERASED_AT)) {
        return StoreError::NotFound(what);
    }
    match old.and_then(|item| item.get(BANK_ID)) {
        Some(AttributeValue::S(b)) if b == bank.as_str() => StoreError::VersionMismatch,
        _ => StoreError::NotFound(what),
    }
}

/// Keeps the first `limit` items; when there were more, the next page starts after the last kept
/// one, whose key (the table's and the index's attributes in `key_attributes`) is the token.
fn split_page(mut items: Vec<Key>, limit: usize, key_attributes: &[&str]) -> (Vec<Key>, Option<Key>) {
    if items.len() <= limit {
        return (items, None);
    }
    items.truncate(limit);
    let next = items.last().map(|last| {
        key_attributes
            .iter()
            .filter_map(|a| last.get(*a).map(|v| ((*a).to_owned(), v.clone())))
            .collect()
    });
    (items, next)
}

/// A stored object and its version. The object's type ignores the key and bookkeeping attributes,
/// so it is read straight from the item: a `flatten` wrapper would buffer every attribute first,
/// which `perf` showed as the largest cost of a GET after the SDK's own.
pub(crate) fn versioned<T: DeserializeOwned>(item: Item) -> StoreResult<Versioned<T>> {
    let version = version_of(&item)?;
    Ok(Versioned {
        item: serde_dynamo::from_item(item).map_err(internal)?,
        version,
    })
}

/// The version attribute of a stored item.
pub(crate) fn version_of(item: &Item) -> StoreResult<u64> {
    item.get(VERSION)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| internal("a stored item has no version"))
}

pub(crate) fn to_item<T: Serialize>(value: &T) -> StoreResult<HashMap<String, AttributeValue>> {
    serde_dynamo::to_item(value).map_err(internal)
}

/// A put that fails if the key is taken.
pub(crate) fn put_new<T: Serialize>(table: &str, value: &T) -> StoreResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(to_item(value)?))
        .condition_expression(format!("attribute_not_exists({PK}) AND attribute_not_exists({SK})"))
        .build()
        .map_err(internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// How fresh a single-item read must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Strongly consistent, at twice the RCU: where a client must see its own writes (a resource it
    /// just created or changed, with its ETag) and where a write depends on what is read.
    Latest,
    /// Eventually consistent: beside a Query, whose answer is eventually consistent anyway.
    Eventual,
}

/// The parts of a transaction, named: which one's condition failed says what went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// The customer itself, or the check that it exists at the bank.
    Customer,
    /// The uniqueness record of a number being claimed.
    NewNumber,
    /// The uniqueness record of the number being given up.
    OldNumber,
    /// A user customer link.
    Link,
    /// One of a customer's records (address, handle, tax residence, credit limit order).
    Record,
    /// A CRM event.
    CrmEvent,
    /// The `Idempotency-Key` record of a create.
    IdempotencyKey,
    /// The marker of a delete: who deleted the item.
    DeletionMarker,
    /// The check that no legal hold keeps a customer.
    LegalHold,
}

/// How a transaction failed.
pub(crate) enum Tx {
    /// This part's condition failed (the last such part when several did: a create's
    /// `Idempotency-Key` record comes last, and when it failed the request is a replay).
    Failed(Part),
    Error(StoreError),
}
/// Attempts of a transaction that collides with a concurrent one on the same items.
const TX_ATTEMPTS: u32 = 6;

impl Store {
    /// One TransactWriteItems. A collision with a concurrent transaction (not a failed condition)
    /// is retried after a short, jittered pause, so that racing writers end as one success and
    /// clean condition failures rather than spurious errors.
    pub(crate) async fn transact(&self, parts: Vec<(Part, TransactWriteItem)>) -> Result<(), Tx> {
        let (names, items): (Vec<Part>, Vec<TransactWriteItem>) = parts.into_iter().unzip();
        for attempt in 1..=TX_ATTEMPTS {
            let err = match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let reasons = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    Some(e.cancellation_reasons().to_vec())
                }
                _ => None,
            };
            match reasons {
                Some(reasons) => {
                    if let Some(i) = reasons.iter().rposition(|r| r.code() == Some("ConditionalCheckFailed")) {
                        return Err(Tx::Failed(names[i]));
                    }
                    let conflict = reasons.iter().any(|r| r.code() == Some("TransactionConflict"));
                    if !conflict {
                        return Err(Tx::Error(sdk_error(err)));
                    }
                    if attempt == TX_ATTEMPTS {
                        return Err(Tx::Error(StoreError::Conflict(
                            "a concurrent request changed the same data, retry".into(),
                        )));
                    }
                }
                None if err.code() == Some("TransactionConflictException") && attempt < TX_ATTEMPTS => {}
                None => return Err(Tx::Error(sdk_error(err))),
            }
            let mut jitter = [0u8; 1];
            crate::domain::ids::random(&mut jitter);
            tokio::time::sleep(Duration::from_millis(
                5 * u64::from(attempt) + u64::from(jitter[0] % 20),
            ))
            .await;
        }
        Err(Tx::Error(StoreError::Unavailable))
    }
}

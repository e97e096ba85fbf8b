//! A customer's history: one entry per change of the customer, its records, links and CRM events,
//! made from the table's stream (`entry_of`) by the changes function and kept in the customer's
//! partition (`keys::history`). An entry is keyed by its change, so a redelivered stream record
//! writes nothing new; `published` remembers that its event went out.

use super::error::{StoreResult, internal, sdk_error};
use super::keys::{self, EXPIRES_AT, FIREHOSE_PK, FIREHOSE_SK, GSI1PK, GSI1SK, PK, SK, Subject};
use super::page::{Key, Page};
use super::{BANK_ID, CHANGED_AT, CHANGED_BY, ERASED_AT, Part, REQUEST_ID, Store, Tx, VERSION, put_new};
use crate::domain::change::{Change, HistoryEntry, Operation, Resource, diff};
use crate::domain::ids::{BankId, ChangeId, CustomerId, UserId};
use crate::domain::timestamp::Timestamp;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Attributes that are keys or bookkeeping, not fields of the API's objects.
const NOT_FIELDS: &[&str] = &[
    PK,
    SK,
    FIREHOSE_PK,
    FIREHOSE_SK,
    GSI1PK,
    GSI1SK,
    VERSION,
    BANK_ID,
    CHANGED_BY,
    REQUEST_ID,
    CHANGED_AT,
    EXPIRES_AT,
    MIGRATED_AT,
    "created_at",
];
const PUBLISHED: &str = "published";
/// Set on an item a migration copied under a new key (`store::migrate`).
pub const MIGRATED_AT: &str = "migrated_at";

#[derive(Serialize, Deserialize)]
struct HistoryItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    entry: HistoryEntry,
    published: bool,
    /// Written without values: its customer was erased (`erasure::SCRUBBED`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    scrubbed: bool,
}

/// The entry a stored history item holds.
pub(crate) fn entry_of_item(item: super::Item) -> StoreResult<HistoryEntry> {
    serde_dynamo::from_item::<_, HistoryItem>(item)
        .map(|h| h.entry)
        .map_err(internal)
}

/// What the store already knew of a change when asked to record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Written now.
    New,
    /// Written before, its event not yet published (a crash in between).
    Unpublished,
    /// Written and published before: nothing is left to do.
    Published,
}

/// A history page's query: newest first.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub resource: Option<Resource>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub limit: i32,
    pub start: Option<Key>,
}

/// The history entry of one stream record (its sequence number and the item's images before and
/// after, as JSON; for a deletion, its marker names the deleter), or `None` when it is no change of the API: another kind of item (numbers,
/// idempotency records, history entries), or a write that kept the version (a delete's audit
/// stamp, a migration's move between index partitions).
pub fn entry_of(
    sequence_number: &str,
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
    deletion: Option<&Map<String, Value>>,
) -> Result<Option<HistoryEntry>, String> {
    let erased = |image: Option<&Map<String, Value>>| image.is_some_and(|i| i.contains_key(ERASED_AT));
    // An erased customer's tombstone changes no more (its erasure finishing is no change), and an
    // erasure is the customer's deletion, recorded without a single value.
    if erased(old) {
        return Ok(None);
    }
    let erasure = erased(new);
    let (operation, image) = match (old, new) {
        (None, Some(new)) => (Operation::Create, new),
        (Some(_), Some(new)) if erasure => (Operation::Delete, new),
        (Some(_), Some(new)) => (Operation::Update, new),
        (Some(old), None) => (Operation::Delete, old),
        (None, None) => return Err("a stream record without an image".into()),
    };
    let text = |name: &str| image.get(name).and_then(Value::as_str);
    let (Some(pk), Some(sk)) = (text(PK), text(SK)) else {
        return Err("an image without its key".into());
    };
    let Some(subject) = keys::subject_of(pk, sk) else {
        return Ok(None);
    };
    if operation == Operation::Update && old.and_then(|o| o.get(VERSION)) == new.and_then(|n| n.get(VERSION)) {
        return Ok(None);
    }
    // An item removed without a deletion's marker was not deleted through the API (a migration
    // moved it, an erasure removed it, or it expired); an item written by a migration is a copy,
    // not a creation.
    if (operation == Operation::Delete && deletion.is_none() && !erasure) || image.contains_key(MIGRATED_AT) {
        return Ok(None);
    }
    let (customer_id, resource, resource_id) = match subject {
        Subject::Customer(id) => (id, Resource::Customer, id.to_string()),
        Subject::Child(customer, kind, id) => (customer, Resource::from(kind), id),
        Subject::Link(customer) => {
            let id = text("user_customer_link_id").ok_or("a link without its id")?;
            (customer, Resource::UserCustomerLink, id.to_owned())
        }
        Subject::CrmEvent(id) => {
            let customer = text("customer_id").and_then(|c| CustomerId::parse(c).ok());
            (
                customer.ok_or("a CRM event without its customer")?,
                Resource::CrmEvent,
                id,
            )
        }
    };
    let bank_id = text(BANK_ID)
        .and_then(|b| BankId::parse(b).ok())
        .ok_or("an item without its bank")?;
    let audit = match (operation, deletion) {
        (Operation::Delete, Some(marker)) => marker,
        _ => image,
    };
    let audited = |name: &str| audit.get(name).and_then(Value::as_str);
    // Items written before writes were audited name no actor.
    let changed_by = audited(CHANGED_BY)
        .and_then(|u| UserId::parse(u).ok())
        .unwrap_or_else(|| UserId::parse("unknown").expect("a valid user id"));
    let changed_at = audit
        .get(CHANGED_AT)
        .and_then(|t| serde_json::from_value::<Timestamp>(t.clone()).ok())
        .unwrap_or_else(Timestamp::now);
    let empty = Map::new();
    Ok(Some(HistoryEntry {
        change: Change {
            change_id: ChangeId::of_sequence_number(sequence_number),
            bank_id,
            customer_id,
            resource,
            resource_id,
            operation,
            changed_by,
            request_id: audited(REQUEST_ID).unwrap_or_default().to_owned(),
            changed_at,
        },
        changes: if erasure {
            Vec::new()
        } else {
            diff(old.unwrap_or(&empty), new.unwrap_or(&empty), NOT_FIELDS)
        },
    }))
}

impl From<keys::ChildKind> for Resource {
    fn from(kind: keys::ChildKind) -> Self {
        match kind {
            keys::ChildKind::CustomerAddress => Resource::CustomerAddress,
            keys::ChildKind::SocialMediaHandle => Resource::SocialMediaHandle,
            keys::ChildKind::TaxResidence => Resource::TaxResidence,
            keys::ChildKind::CreditLimitOrder => Resource::CreditLimitOrder,
        }
    }
}

impl Store {
    /// Writes the entry unless its change was recorded before, and says which. The entry keeps its
    /// values only while its customer is not erased, checked in the same transaction: a stream
    /// record that lags behind an erasure never leaves values readable, not even for a moment.
    pub async fn record_history(&self, entry: &HistoryEntry) -> StoreResult<Recorded> {
        let c = &entry.change;
        let key = keys::history(&c.customer_id, c.changed_at, &c.change_id);
        let item = |entry: HistoryEntry, scrubbed: bool| HistoryItem {
            pk: key.pk.clone(),
            sk: key.sk.clone(),
            entry,
            published: false,
            scrubbed,
        };
        let alive = ConditionCheck::builder()
            .table_name(self.table())
            .set_key(Some(keys::customer(&c.customer_id).to_map()))
            .condition_expression(format!("attribute_not_exists({ERASED_AT})"))
            .build()
            .map_err(internal)?;
        let parts = vec![
            (
                Part::Customer,
                TransactWriteItem::builder().condition_check(alive).build(),
            ),
            (Part::Record, put_new(self.table(), &item(entry.clone(), false))?),
        ];
        match self.transact(parts).await {
            Ok(()) => Ok(Recorded::New),
            // The customer is erased (or being erased): the entry without its values.
            Err(Tx::Failed(Part::Customer)) => match self
                .transact(vec![(
                    Part::Record,
                    put_new(self.table(), &item(entry.without_values(), true))?,
                )])
                .await
            {
                Ok(()) => Ok(Recorded::New),
                Err(Tx::Failed(_)) => self.recorded(&key).await,
                Err(Tx::Error(e)) => Err(e),
            },
            Err(Tx::Failed(_)) => self.recorded(&key).await,
            Err(Tx::Error(e)) => Err(e),
        }
    }

    /// How far an entry that is already there went.
    async fn recorded(&self, key: &keys::ItemKey) -> StoreResult<Recorded> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key.to_map()))
            .projection_expression(PUBLISHED)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        let published = out.item.and_then(|i| i.get(PUBLISHED).cloned()) == Some(AttributeValue::Bool(true));
        Ok(if published {
            Recorded::Published
        } else {
            Recorded::Unpublished
        })
    }

    /// Remembers that the entry's event was published.
    pub async fn history_published(&self, entry: &HistoryEntry) -> StoreResult<()> {
        let c = &entry.change;
        let key = keys::history(&c.customer_id, c.changed_at, &c.change_id);
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key.to_map()))
            .update_expression(format!("SET {PUBLISHED} = :true"))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// A page of a customer's history, newest first. It does not check the customer: callers run
    /// it beside the access check.
    pub async fn history(&self, customer: &CustomerId, q: &HistoryQuery) -> StoreResult<Page<HistoryEntry>> {
        let (lower, upper) = keys::history_range(q.from, q.to);
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression(format!("{PK} = :pk AND {SK} BETWEEN :lower AND :upper"))
            .expression_attribute_values(":pk", AttributeValue::S(keys::customer_pk(customer)))
            .expression_attribute_values(":lower", AttributeValue::S(lower))
            .expression_attribute_values(":upper", AttributeValue::S(upper))
            .scan_index_forward(false);
        if let Some(resource) = q.resource {
            query = query
                .filter_expression("#resource = :resource")
                .expression_attribute_names("#resource", "resource")
                .expression_attribute_values(":resource", AttributeValue::S(resource.name().to_owned()));
        }
        let (items, next) = self.query_page(query, q.limit, q.start.clone(), &[PK, SK]).await?;
        let items = items.into_iter().map(entry_of_item).collect::<StoreResult<_>>()?;
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    fn audited(mut image: Value, by: &str, version: u64) -> Map<String, Value> {
        image["changed_by"] = json!(by);
        image["request_id"] = json!("r-1");
        image["changed_at"] = json!({"seconds": 1_800_000_000, "nanos": 5});
        image["version"] = json!(version);
        map(image)
    }

    #[test]
    fn an_update_records_the_fields_that_changed_with_the_actor() {
        let c = CustomerId::new();
        let base = json!({"pk": keys::customer_pk(&c), "sk": "CUSTOMER", "bank_id": "b1", "id": c.to_string(),
            "firehose_pk": "BANK#b1#CUSTOMERS#3", "email": "a@x", "legal_name": "Ada"});
        let old = audited(base.clone(), "clerk-1", 1);
        let mut changed = base;
        changed["email"] = json!("b@x");
        let new = audited(changed, "clerk-2", 2);
        let entry = entry_of("100", Some(&old), Some(&new), None)
            .unwrap()
            .expect("a change");
        assert_eq!(
            (entry.change.operation, entry.change.resource, entry.change.customer_id),
            (Operation::Update, Resource::Customer, c)
        );
        assert_eq!(entry.change.changed_by.as_str(), "clerk-2");
        assert_eq!(entry.changes.len(), 1, "{:?}", entry.changes);
        assert_eq!(
            (&entry.changes[0].field, &entry.changes[0].old),
            (&"email".to_owned(), &json!("a@x"))
        );
        assert_eq!(
            entry.change.change_id,
            entry_of("100", Some(&old), Some(&new), None)
                .unwrap()
                .unwrap()
                .change
                .change_id
        );
        assert_ne!(
            entry.change.change_id,
            entry_of("101", Some(&old), Some(&new), None)
                .unwrap()
                .unwrap()
                .change
                .change_id
        );
        // The same version: a delete's stamp or a migration, no change of the API.
        assert_eq!(
            entry_of("102", Some(&old), Some(&audited(json!(old), "x", 1)), None).unwrap(),
            None
        );
    }

    #[test]
    fn a_delete_names_its_actor_and_other_items_are_no_change() {
        let c = CustomerId::new();
        let address =
            json!({"pk": keys::customer_pk(&c), "sk": "CUSTOMER_ADDRESS#a1", "bank_id": "b1", "city": "Bath"});
        let gone = audited(address, "last-writer", 3);
        let marker = audited(json!({}), "deleter", 0);
        let entry = entry_of("7", Some(&gone), None, Some(&marker))
            .unwrap()
            .expect("a change");
        assert_eq!(
            (entry.change.operation, entry.change.resource),
            (Operation::Delete, Resource::CustomerAddress)
        );
        assert_eq!(
            (entry.change.resource_id.as_str(), entry.change.changed_by.as_str()),
            ("a1", "deleter")
        );
        assert_eq!(entry.changes[0].new, Value::Null);
        let number = map(json!({"pk": "BANK#b1#NUMBER#7", "sk": "NUMBER", "customer_id": c.to_string()}));
        assert_eq!(entry_of("8", None, Some(&number), None).unwrap(), None);
        assert!(entry_of("9", None, None, None).is_err());
    }

    // contract: C-LIFE-3
    #[test]
    fn an_erasure_is_one_delete_without_values_and_its_removals_are_no_change() {
        let c = CustomerId::new();
        let customer = audited(
            json!({"pk": keys::customer_pk(&c), "sk": "CUSTOMER", "bank_id": "b1", "id": c.to_string(),
                   "legal_name": "Ada", "email": "ada@x"}),
            "clerk-1",
            3,
        );
        let mut tombstone = audited(
            json!({"pk": keys::customer_pk(&c), "sk": "CUSTOMER", "bank_id": "b1", "id": c.to_string(),
                   "erased_at": {"seconds": 1_800_000_001, "nanos": 0}, "erasure": "ERASING"}),
            "dpo",
            4,
        );
        let entry = entry_of("200", Some(&customer), Some(&tombstone), None)
            .unwrap()
            .expect("the erasure");
        assert_eq!(
            (
                entry.change.operation,
                entry.change.resource,
                entry.change.changed_by.as_str()
            ),
            (Operation::Delete, Resource::Customer, "dpo")
        );
        assert!(entry.changes.is_empty(), "no value: {:?}", entry.changes);
        let finished = {
            let mut t = tombstone.clone();
            t.insert("erasure".into(), json!("ERASED"));
            t
        };
        assert_eq!(entry_of("201", Some(&tombstone), Some(&finished), None).unwrap(), None);
        tombstone.insert("version".into(), json!(5));
        assert_eq!(entry_of("202", Some(&tombstone), Some(&finished), None).unwrap(), None);
        // A record the wipe removes has no deletion's marker: no entry.
        let address = audited(
            json!({"pk": keys::customer_pk(&c), "sk": format!("CUSTOMER_ADDRESS#{}", CustomerId::new()),
                   "bank_id": "b1", "line_1": "1 Main St"}),
            "clerk-1",
            1,
        );
        assert_eq!(entry_of("203", Some(&address), None, None).unwrap(), None);
    }
}

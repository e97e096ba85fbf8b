//! A customer's legal hold and erasure.
//!
//! The erasure's first step is one transaction: the customer becomes a tombstone (its ids, the
//! erasure's actor and time, nothing personal; out of the firehose index), its number is freed,
//! and no legal hold may hold it. From then on no read answers it and no write changes it or adds
//! to it. The wipe then removes every item of the customer's partition (records, the copies of its
//! links and CRM events and the links and events themselves, deletions' markers, an expired hold, the
//! pointers to stored idempotent answers, which are left erased)
//! and strips the values from its history entries; the tombstone says `ERASED` at the end. A wipe interrupted half-way is
//! finished by the next erasure request: every step is idempotent.
//!
//! Removed items get no deletion marker, so the stream's history records none of them: the
//! erasure is one `DELETE` entry of the customer, without values.

use super::error::{StoreError, StoreResult, internal, sdk_error};
use super::keys::{self, PK, SK};
use super::{BANK_ID, ERASED_AT, Item, Part, Store, Tx, VERSION, Versions, to_item, version_of};
use crate::domain::audit::Audit;
use crate::domain::change::FieldChange;
use crate::domain::ids::{BankId, CustomerId, CustomerNumber};
use crate::domain::lifecycle::LegalHold;
use crate::domain::timestamp::Timestamp;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

/// The tombstone's state: `ERASING` until the wipe has finished.
const ERASURE: &str = "erasure";
const ERASING: &str = "ERASING";
const ERASED: &str = "ERASED";
/// A hold's end in milliseconds (rounded up), which the erasure's condition compares with now:
/// a hold until `S.950Z` still holds at `S.100Z`.
const UNTIL_MS: &str = "until_ms";
/// The end in whole seconds of holds placed before `until_ms`, compared as before.
const UNTIL_SECONDS: &str = "until_seconds";
/// On a history entry whose values are gone.
const SCRUBBED: &str = "scrubbed";
/// Items of the customer's partition read and removed at a time, and writes in flight.
const WIPE_PAGE: i32 = 100;
const WIPE_PARALLEL: usize = 16;
/// Attempts of the first step when a concurrent write changed the customer (without `If-Match`).
const TOMBSTONE_ATTEMPTS: usize = 3;

#[derive(Serialize)]
struct Tombstone<'a> {
    pk: String,
    sk: String,
    id: CustomerId,
    bank_id: &'a BankId,
    version: u64,
    erased_at: Timestamp,
    erasure: &'static str,
    #[serde(flatten)]
    audit: &'a Audit,
}

#[derive(Serialize, Deserialize)]
struct HoldItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    hold: LegalHold,
    until_ms: Option<i64>,
}

/// Milliseconds since the epoch, a fraction of one rounded up.
fn millis(t: Timestamp) -> i64 {
    t.seconds * 1000 + (i64::from(t.nanos) + 999_999) / 1_000_000
}

impl Store {
    /// Places (or replaces) the legal hold of a customer of `bank`.
    pub async fn place_legal_hold(&self, bank: &BankId, customer: &CustomerId, hold: &LegalHold) -> StoreResult<()> {
        let key = keys::legal_hold(customer);
        let item = HoldItem {
            pk: key.pk,
            sk: key.sk,
            hold: hold.clone(),
            until_ms: Some(millis(hold.until)),
        };
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .build()
            .map_err(internal)?;
        let parts = vec![
            (Part::Customer, self.customer_exists(bank, customer)?),
            (Part::LegalHold, TransactWriteItem::builder().put(put).build()),
        ];
        match self.transact(parts).await {
            Ok(()) => Ok(()),
            Err(Tx::Failed(_)) => Err(StoreError::NotFound("customer")),
            Err(Tx::Error(e)) => Err(e),
        }
    }

    /// Lifts the legal hold of a customer of `bank`; 404 when it has none.
    pub async fn lift_legal_hold(&self, bank: &BankId, customer: &CustomerId) -> StoreResult<()> {
        let delete = Delete::builder()
            .table_name(self.table())
            .set_key(Some(keys::legal_hold(customer).to_map()))
            .condition_expression(format!("attribute_exists({PK})"))
            .build()
            .map_err(internal)?;
        let parts = vec![
            (Part::Customer, self.customer_exists(bank, customer)?),
            (Part::LegalHold, TransactWriteItem::builder().delete(delete).build()),
        ];
        match self.transact(parts).await {
            Ok(()) => Ok(()),
            Err(Tx::Failed(Part::LegalHold)) => Err(StoreError::NotFound("legal hold")),
            Err(Tx::Failed(_)) => Err(StoreError::NotFound("customer")),
            Err(Tx::Error(e)) => Err(e),
        }
    }

    /// The customer's legal hold, if one was placed (it may have run out).
    pub async fn legal_hold(&self, customer: &CustomerId) -> StoreResult<Option<LegalHold>> {
        self.item_at(&keys::legal_hold(customer))
            .await?
            .map(|item| {
                serde_dynamo::from_item::<_, HoldItem>(item)
                    .map(|h| h.hold)
                    .map_err(internal)
            })
            .transpose()
    }

    /// Erases a customer of `bank` (at a version `if_match` accepts), or finishes an erasure that
    /// was interrupted. 404 for a customer that is not there or is erased, 412 for another
    /// version, 409 under a legal hold.
    pub async fn erase_customer(
        &self,
        bank: &BankId,
        id: &CustomerId,
        audit: &Audit,
        if_match: Option<&Versions>,
    ) -> StoreResult<()> {
        self.begin_erasure(bank, id, audit, if_match).await?;
        self.finish_erasure(id).await
    }

    /// The first step: the tombstone, unless an interrupted erasure left it already.
    pub async fn begin_erasure(
        &self,
        bank: &BankId,
        id: &CustomerId,
        audit: &Audit,
        if_match: Option<&Versions>,
    ) -> StoreResult<()> {
        for attempt in 1..=TOMBSTONE_ATTEMPTS {
            let item = match self.item_at(&keys::customer(id)).await? {
                Some(item) if text(&item, BANK_ID) == Some(bank.as_str()) => item,
                _ => return Err(StoreError::NotFound("customer")),
            };
            match text(&item, ERASURE) {
                Some(ERASED) => return Err(StoreError::NotFound("customer")),
                // Interrupted: the tombstone is there, the wipe goes on.
                Some(_) => return Ok(()),
                None => {}
            }
            let version = version_of(&item)?;
            if if_match.is_some_and(|v| !v.contains(version)) {
                return Err(StoreError::VersionMismatch);
            }
            match self.transact(self.tombstone(bank, id, &item, version, audit)?).await {
                Ok(()) => return Ok(()),
                Err(Tx::Failed(Part::LegalHold)) => return Err(self.held(id).await),
                // Changed (or erased) since it was read.
                Err(Tx::Failed(_)) if if_match.is_some() => return Err(StoreError::VersionMismatch),
                Err(Tx::Failed(_)) if attempt < TOMBSTONE_ATTEMPTS => continue,
                Err(Tx::Failed(_)) => break,
                Err(Tx::Error(e)) => return Err(e),
            }
        }
        Err(StoreError::Conflict(
            "the customer is changing concurrently, retry the erasure".into(),
        ))
    }

    /// The wipe after the tombstone, and the tombstone marked `ERASED`.
    pub async fn finish_erasure(&self, id: &CustomerId) -> StoreResult<()> {
        self.wipe(id).await?;
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(keys::customer(id).to_map()))
            .update_expression("SET #erasure = :erased")
            .condition_expression(format!("attribute_exists({ERASED_AT})"))
            .expression_attribute_names("#erasure", ERASURE)
            .expression_attribute_values(":erased", AttributeValue::S(ERASED.into()))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// Keeps the field names of a history entry and drops its values.
    pub(crate) async fn scrub_history_entry(&self, key: &keys::ItemKey, changes: &[FieldChange]) -> StoreResult<()> {
        let scrubbed: Vec<FieldChange> = changes.iter().map(FieldChange::without_values).collect();
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key.to_map()))
            .update_expression("SET #changes = :scrubbed, #done = :true")
            .condition_expression(format!("attribute_exists({PK})"))
            .expression_attribute_names("#changes", "changes")
            .expression_attribute_names("#done", SCRUBBED)
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(
                ":scrubbed",
                serde_dynamo::to_attribute_value(scrubbed).map_err(internal)?,
            )
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// The first step: the tombstone in place of the customer (at the version read), its number
    /// freed, and no legal hold in force.
    fn tombstone(
        &self,
        bank: &BankId,
        id: &CustomerId,
        item: &Item,
        version: u64,
        audit: &Audit,
    ) -> StoreResult<Vec<(Part, TransactWriteItem)>> {
        let key = keys::customer(id);
        let tombstone = Tombstone {
            pk: key.pk,
            sk: key.sk,
            id: *id,
            bank_id: bank,
            version: version + 1,
            erased_at: audit.changed_at,
            erasure: ERASING,
            audit,
        };
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(&tombstone)?))
            .condition_expression(format!("#v = :v AND attribute_not_exists({ERASED_AT})"))
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(":v", AttributeValue::N(version.to_string()))
            .build()
            .map_err(internal)?;
        let now = Timestamp::now();
        let hold = ConditionCheck::builder()
            .table_name(self.table())
            .set_key(Some(keys::legal_hold(id).to_map()))
            .condition_expression(format!(
                "attribute_not_exists({PK}) OR #until_ms <= :now_ms \
                 OR (attribute_not_exists(#until_ms) AND #until <= :now)"
            ))
            .expression_attribute_names("#until_ms", UNTIL_MS)
            .expression_attribute_names("#until", UNTIL_SECONDS)
            .expression_attribute_values(":now_ms", AttributeValue::N(millis(now).to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.seconds.to_string()))
            .build()
            .map_err(internal)?;
        let mut parts = vec![
            (Part::Customer, TransactWriteItem::builder().put(put).build()),
            (
                Part::LegalHold,
                TransactWriteItem::builder().condition_check(hold).build(),
            ),
        ];
        if let Some(number) = text(item, "customer_number").and_then(|n| CustomerNumber::parse(n).ok()) {
            let free = Delete::builder()
                .table_name(self.table())
                .set_key(Some(keys::customer_number(bank, &number).to_map()))
                .condition_expression(format!("attribute_not_exists({PK}) OR customer_id = :id"))
                .expression_attribute_values(":id", AttributeValue::S(id.to_string()))
                .build()
                .map_err(internal)?;
            parts.push((Part::OldNumber, TransactWriteItem::builder().delete(free).build()));
        }
        Ok(parts)
    }

    /// The 409 of an erasure a hold refused, naming the hold.
    async fn held(&self, id: &CustomerId) -> StoreError {
        match self.legal_hold(id).await {
            Ok(Some(hold)) => StoreError::Conflict(format!(
                "the customer is under a legal hold until {} (placed by {}); lift it before erasing",
                hold.until.rfc3339(),
                hold.placed_by
            )),
            Ok(None) => StoreError::Conflict("the customer was under a legal hold, retry".into()),
            Err(e) => e,
        }
    }

    /// Removes every item of the customer's partition but the tombstone, and strips its history
    /// entries of their values.
    async fn wipe(&self, id: &CustomerId) -> StoreResult<()> {
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression(format!("{PK} = :pk"))
                // What is left to do: a retry after a timeout does not redo the entries (nor
                // read past the tombstone's attributes).
                .filter_expression(format!(
                    "attribute_not_exists({SCRUBBED}) AND attribute_not_exists({ERASED_AT})"
                ))
                .expression_attribute_values(":pk", AttributeValue::S(keys::customer_pk(id)))
                .set_exclusive_start_key(start)
                .limit(WIPE_PAGE)
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk_error)?;
            futures::stream::iter(
                out.items
                    .unwrap_or_default()
                    .into_iter()
                    .map(|item| self.wipe_item(item)),
            )
            .buffer_unordered(WIPE_PARALLEL)
            .try_collect::<Vec<()>>()
            .await?;
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    async fn wipe_item(&self, item: Item) -> StoreResult<()> {
        let key = keys::ItemKey {
            pk: text(&item, PK)
                .ok_or_else(|| internal("an item without its key"))?
                .to_owned(),
            sk: text(&item, SK)
                .ok_or_else(|| internal("an item without its key"))?
                .to_owned(),
        };
        if key.sk.starts_with(keys::HISTORY_PREFIX) {
            let entry = super::history::entry_of_item(item)?;
            return self.scrub_history_entry(&key, &entry.changes).await;
        }
        if key.sk.starts_with(keys::CRM_EVENT_COPY_PREFIX) {
            // The event itself first, wherever it is: under its shard, or still in the bank's
            // legacy partition before a migration moved it.
            let (Some(bank), Some(event)) = (
                text(&item, BANK_ID).and_then(|b| BankId::parse(b).ok()),
                text(&item, "id"),
            ) else {
                return Err(internal("a CRM event's copy without its bank or id"));
            };
            self.delete_key(&keys::crm_event(&bank, self.shards(), event)).await?;
            let legacy = keys::ItemKey {
                pk: keys::legacy_crm_events_pk(&bank),
                sk: event.to_owned(),
            };
            self.delete_key(&legacy).await?;
        }
        if key.sk.starts_with(keys::IDEMPOTENCY_PREFIX) {
            // The stored answer first: while its pointer is there, a retry finds it.
            let expires_at = item
                .get(keys::EXPIRES_AT)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| internal("an idempotency pointer without its expiry"))?;
            self.erase_record(&key.sk, expires_at).await?;
        }
        if key.sk.starts_with(keys::LINKED_PREFIX) {
            // The link first: while its copy is there, a retry finds it.
            let (Some(user), Some(bank), Some(customer)) = (
                text(&item, "user_id").and_then(|u| crate::domain::ids::UserId::parse(u).ok()),
                text(&item, BANK_ID).and_then(|b| BankId::parse(b).ok()),
                text(&item, "customer_id").and_then(|c| CustomerId::parse(c).ok()),
            ) else {
                return Err(internal("a link's copy without its user, bank or customer"));
            };
            self.delete_key(&keys::user_customer_link(&user, &bank, &customer))
                .await?;
        }
        self.delete_key(&key).await
    }

    async fn delete_key(&self, key: &keys::ItemKey) -> StoreResult<()> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key.to_map()))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }
}

fn text<'a>(item: &'a Item, attribute: &str) -> Option<&'a str> {
    item.get(attribute).and_then(|v| v.as_s().ok()).map(String::as_str)
}

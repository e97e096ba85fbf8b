//! The move of a table's bank-wide collections to their sharded keys: customers from the legacy
//! index `gsi1` to the keys-only index `firehose`, CRM events from a bank's one partition to its
//! shards, and both to their shard under the store's current count when that count changed. And
//! the copy of every user link and CRM event written before they had one in their customer's
//! partition.
//!
//! It is a parallel Scan, one page at a time per segment: each page's items that are not where the
//! current keys put them are moved, each in one atomic write, so at every moment an item is in
//! exactly one place, where the lists (which read the legacy keys too) find it. Running it again
//! moves nothing twice; a segment continues from the last page it finished (`Segment::next`).

use super::error::{StoreResult, internal, sdk_error};
use super::keys::{self, FIREHOSE_PK, FIREHOSE_SK, GSI1PK, GSI1SK, ItemKey, PK, SK};
use super::page::Key;
use super::{Item, Part, Store, Tx};
use crate::domain::crm_event::CrmEvent;
use crate::domain::ids::{BankId, CrmEventId, CustomerId};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

/// What one scanned page did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub scanned: u64,
    pub customers: u64,
    pub crm_events: u64,
    /// Links and CRM events given their copy in the customer's partition.
    pub copied: u64,
}

impl std::ops::AddAssign for Moved {
    fn add_assign(&mut self, other: Self) {
        self.scanned += other.scanned;
        self.customers += other.customers;
        self.crm_events += other.crm_events;
        self.copied += other.copied;
    }
}

/// One Scan page of a segment: what it moved, and where the segment continues (`None`: done).
pub struct Segment {
    pub moved: Moved,
    pub next: Option<Key>,
}

/// Only items the migration may move or copy: customers, CRM events and links (by their key shapes).
const FILTER: &str = "#sk = :customer OR (begins_with(#pk, :bank) AND contains(#pk, :crm)) \
     OR (begins_with(#pk, :user) AND begins_with(#sk, :link))";

impl Store {
    /// Scans one page of segment `segment` of `segments` from `start` (at most `limit` items, else
    /// up to 1 MB) and moves what it found.
    pub async fn migrate_page(
        &self,
        segment: i32,
        segments: i32,
        limit: Option<i32>,
        start: Option<Key>,
    ) -> StoreResult<Segment> {
        let out = self
            .client()
            .scan()
            .table_name(self.table())
            .segment(segment)
            .total_segments(segments)
            .set_limit(limit)
            .filter_expression(FILTER)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":customer", AttributeValue::S(keys::CUSTOMER_SK.to_owned()))
            .expression_attribute_values(":bank", AttributeValue::S("BANK#".into()))
            .expression_attribute_values(":crm", AttributeValue::S("#CRM_EVENTS".into()))
            .expression_attribute_values(":user", AttributeValue::S("USER#".into()))
            .expression_attribute_values(":link", AttributeValue::S("LINK#".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error)?;
        let mut moved = Moved {
            scanned: out.scanned_count as u64,
            ..Moved::default()
        };
        for item in out.items.unwrap_or_default() {
            if text(&item, SK)? == keys::CUSTOMER_SK {
                moved.customers += u64::from(self.move_customer(&item).await?);
            } else if text(&item, PK)?.starts_with("USER#") {
                moved.copied += u64::from(self.copy_link(item).await?);
            } else {
                let event: CrmEvent = serde_dynamo::from_item(item.clone()).map_err(internal)?;
                let copy = super::to_item(&super::crm_events::copy_of(&event))?;
                moved.copied += u64::from(self.put_copy(copy).await?);
                moved.crm_events += u64::from(self.move_crm_event(item).await?);
            }
        }
        Ok(Segment {
            moved,
            next: out.last_evaluated_key,
        })
    }

    /// Puts a customer's firehose entry under its shard and out of the legacy index. One
    /// UpdateItem of the index attributes only: it cannot undo a concurrent change of the customer,
    /// and does not change its version (the representation is the same).
    async fn move_customer(&self, item: &Item) -> StoreResult<bool> {
        let bank = BankId::parse(text(item, "bank_id")?).map_err(internal)?;
        let id = CustomerId::parse(text(item, "id")?).map_err(internal)?;
        let target = keys::bank_customers(&bank, self.shards().of(&id));
        let legacy = item.contains_key(GSI1PK);
        if !legacy && item.get(FIREHOSE_PK).and_then(|v| v.as_s().ok()) == Some(&target) {
            return Ok(false);
        }
        let sort = text(item, if legacy { GSI1SK } else { FIREHOSE_SK })?;
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(keys::customer(&id).to_map()))
            .update_expression("SET #fpk = :fpk, #fsk = :fsk REMOVE #gpk, #gsk")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#fpk", FIREHOSE_PK)
            .expression_attribute_names("#fsk", FIREHOSE_SK)
            .expression_attribute_names("#gpk", GSI1PK)
            .expression_attribute_names("#gsk", GSI1SK)
            .expression_attribute_values(":fpk", AttributeValue::S(target))
            .expression_attribute_values(":fsk", AttributeValue::S(sort.to_owned()))
            .send()
            .await
            .map(|_| ());
        // Removed since it was scanned: nothing to move.
        written(result)
    }

    /// Moves a CRM event to its shard's partition: one transaction puts it there and deletes it
    /// here. Events are never changed once written, so the copy is the event.
    async fn move_crm_event(&self, mut item: Item) -> StoreResult<bool> {
        let bank = BankId::parse(text(&item, "bank_id")?).map_err(internal)?;
        let id = CrmEventId::parse(text(&item, "id")?).map_err(internal)?;
        let target = keys::crm_event(&bank, self.shards(), id);
        let here = ItemKey {
            pk: text(&item, PK)?.to_owned(),
            sk: text(&item, SK)?.to_owned(),
        };
        if here == target {
            return Ok(false);
        }
        item.insert(PK.into(), AttributeValue::S(target.pk));
        // The history knows the copy for a move, not a new event.
        item.insert(
            super::history::MIGRATED_AT.into(),
            AttributeValue::N(super::idempotency::now().to_string()),
        );
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression(format!("attribute_not_exists({PK})"))
            .build()
            .map_err(internal)?;
        let delete = Delete::builder()
            .table_name(self.table())
            .set_key(Some(here.to_map()))
            .condition_expression(format!("attribute_exists({PK})"))
            .build()
            .map_err(internal)?;
        let parts = vec![
            (Part::CrmEvent, TransactWriteItem::builder().put(put).build()),
            (Part::CrmEvent, TransactWriteItem::builder().delete(delete).build()),
        ];
        match self.transact(parts).await {
            Ok(()) => Ok(true),
            // Moved by a concurrent run, whose transaction did the whole move.
            Err(Tx::Failed(_)) => Ok(false),
            Err(Tx::Error(e)) => Err(e),
        }
    }
}

impl Store {
    /// Gives a link its copy in the customer's partition, unless it has one. The copy is the
    /// link's attributes under the customer's key, without the audit (as a new link's copy).
    async fn copy_link(&self, item: Item) -> StoreResult<bool> {
        let customer = CustomerId::parse(text(&item, "customer_id")?).map_err(internal)?;
        let user = crate::domain::ids::UserId::parse(text(&item, "user_id")?).map_err(internal)?;
        let key = keys::customer_link(&customer, &user);
        let mut copy: Item = item
            .into_iter()
            .filter(|(name, _)| !matches!(name.as_str(), "changed_by" | "request_id" | "changed_at"))
            .collect();
        copy.insert(PK.into(), AttributeValue::S(key.pk));
        copy.insert(SK.into(), AttributeValue::S(key.sk));
        self.put_copy(copy).await
    }

    /// Puts a copy under the customer unless it is there (a new item's, or an earlier run's).
    async fn put_copy(&self, copy: Item) -> StoreResult<bool> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(copy))
            .condition_expression(format!("attribute_not_exists({PK})"))
            .send()
            .await
            .map(|_| ());
        written(result)
    }
}

/// Whether a conditional write was made: `false` when its condition failed (nothing to do).
fn written<E: ProvideErrorMetadata, R>(result: Result<(), SdkError<E, R>>) -> StoreResult<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(e) => Err(sdk_error(e)),
    }
}

fn text<'a>(item: &'a Item, attribute: &str) -> StoreResult<&'a str> {
    item.get(attribute)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| internal(format!("a scanned item has no {attribute}")))
}

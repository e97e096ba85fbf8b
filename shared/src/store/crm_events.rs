//! CRM events: a bank's events are spread over its shards' partitions, each sorted by UUIDv7 id;
//! the list queries them in parallel and merges them in creation order.

use super::error::{StoreError, StoreResult, internal};
use super::idempotency::Record;
use super::keys::{self, PK, SK};
use super::merge::{Merge, Source};
use super::page::{Key, Page};
use super::{BANK_ID, Part, Read, Store, Tx, VERSION, put_new};
use crate::domain::audit::Audit;
use crate::domain::crm_event::{CrmEvent, NewCrmEvent};
use crate::domain::ids::BankId;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub(crate) struct CrmEventItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    event: CrmEvent,
}

/// An event as written: with the audit of its creation.
#[derive(Serialize)]
struct NewCrmEventItem<'a> {
    #[serde(flatten)]
    item: &'a CrmEventItem,
    #[serde(flatten)]
    audit: &'a Audit,
}

/// The copy of an event in its customer's partition (found there by the customer's export and
/// erasure). Without audit or version: the stream's history ignores it.
pub(crate) fn copy_of(event: &CrmEvent) -> CrmEventItem {
    let key = keys::customer_crm_event(&event.customer_id, event.id);
    CrmEventItem {
        pk: key.pk,
        sk: key.sk,
        event: event.clone(),
    }
}

/// Reads of the customer before giving up when it keeps changing under us.
const CUSTOMER_ATTEMPTS: usize = 5;

impl Store {
    /// Records an event of a customer that must exist at `bank`, with the customer's current name
    /// and number. The customer is read, then the event is written in a transaction that checks
    /// the customer still has the version that was read: an event never names a customer that was
    /// renamed, renumbered or removed in between (it rereads and retries instead).
    pub async fn create_crm_event(
        &self,
        bank: &BankId,
        new: &NewCrmEvent,
        record: Record<'_, CrmEvent>,
        audit: &Audit,
    ) -> StoreResult<CrmEvent> {
        for _ in 0..CUSTOMER_ATTEMPTS {
            let customer = self.customer_at(bank, &new.customer_id, Read::Latest).await?;
            let event = new.with_customer(bank, &customer.item);
            let key = keys::crm_event(bank, self.shards(), event.id);
            let item = CrmEventItem {
                pk: key.pk,
                sk: key.sk,
                event,
            };
            let unchanged = ConditionCheck::builder()
                .table_name(self.table())
                .set_key(Some(keys::customer(&new.customer_id).to_map()))
                .condition_expression(format!("attribute_exists({PK}) AND #bank = :bank AND #v = :version"))
                .expression_attribute_names("#bank", BANK_ID)
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":bank", AttributeValue::S(bank.to_string()))
                .expression_attribute_values(":version", AttributeValue::N(customer.version.to_string()))
                .build()
                .map_err(internal)?;
            let mut parts = vec![
                (
                    Part::Customer,
                    TransactWriteItem::builder().condition_check(unchanged).build(),
                ),
                (
                    Part::CrmEvent,
                    put_new(self.table(), &NewCrmEventItem { item: &item, audit })?,
                ),
                (Part::CrmEvent, put_new(self.table(), &copy_of(&item.event))?),
            ];
            parts.extend(self.record_item(record, &item.event, &new.customer_id)?);
            match self.transact(parts).await {
                Ok(()) => return Ok(item.event),
                Err(Tx::Failed(Part::IdempotencyKey)) => return Err(StoreError::KeyInUse),
                // The customer changed since it was read: read it again.
                Err(Tx::Failed(Part::Customer)) => continue,
                Err(Tx::Failed(_)) => return Err(StoreError::Conflict("the CRM event already exists".into())),
                Err(Tx::Error(e)) => return Err(e),
            }
        }
        Err(StoreError::Conflict(
            "the customer is changing concurrently, retry".into(),
        ))
    }

    /// A page of a bank's CRM events, oldest first: every shard (and the legacy partition) in one
    /// parallel round of Queries, merged by id.
    pub async fn crm_events(&self, bank: &BankId, limit: i32, start: Option<Key>) -> StoreResult<Page<CrmEvent>> {
        let partitions = self.shards().all().map(|shard| keys::crm_events_pk(bank, shard));
        let sources = partitions
            .chain([keys::legacy_crm_events_pk(bank)])
            .map(|pk| Source {
                index: None,
                pk_attr: PK,
                sk_attr: SK,
                pk,
            })
            .collect();
        // Tokens from before sharding hold the same sort key (the event id).
        let after = match start.as_ref().map(|key| key.get(SK)) {
            None => None,
            Some(Some(AttributeValue::S(sk))) => Some(sk.clone()),
            Some(_) => return Err(internal("a CRM events page token has no sort key")),
        };
        let merge = Merge {
            sources,
            lower: None,
            upper: None,
            descending: false,
            after,
            projection: None,
        };
        let page = self.merged(&merge, 0, limit as usize).await?;
        let next = page.next(SK);
        let items = page
            .items
            .into_iter()
            .map(|(_, item)| {
                serde_dynamo::from_item::<_, CrmEventItem>(item)
                    .map(|i| i.event)
                    .map_err(internal)
            })
            .collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{CrmEventId, CustomerId, CustomerNumber};
    use crate::domain::timestamp::Timestamp;

    #[test]
    fn items_round_trip() {
        let event = CrmEvent {
            id: CrmEventId::new(),
            bank_id: BankId::parse("b1").unwrap(),
            customer_id: CustomerId::new(),
            customer_name: "Ada".into(),
            customer_number: CustomerNumber::parse("C-1").unwrap(),
            category: String::new(),
            detail: "d".into(),
            channel: String::new(),
            scheduled_date: None,
            actual_date: Some(Timestamp { seconds: 5, nanos: 6 }),
            result: String::new(),
        };
        let item = CrmEventItem {
            pk: "p".into(),
            sk: "s".into(),
            event: event.clone(),
        };
        let stored = serde_dynamo::to_item::<_, crate::store::Item>(&item).unwrap();
        let back: CrmEventItem = serde_dynamo::from_item(stored).unwrap();
        assert_eq!(back.event, event);
    }
}

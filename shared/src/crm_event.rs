//! CRM events: a bank's record of contacts with its customers (calls, meetings...). They belong to
//! the bank, not to a customer: one partition per bank, sorted by UUIDv7 id, so a bank's list is
//! one Query in creation order. Each event copies the customer's name and number as they were when
//! it was recorded.

use crate::customer::Customer;
use crate::error::ApiError;
use crate::idempotency::Record;
use crate::ids::{BankId, CrmEventId, CustomerId, CustomerNumber};
use crate::keys::{self, PK, SK};
use crate::page::{Key, Page};
use crate::store::{BANK_ID, RECORD_INDEX, Read, Store, Tx, VERSION, internal};
use crate::timestamp::{Timestamp, TimestampInput};
use crate::validate::{self, Check};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

/// Longest category, channel and result.
pub const MAX_LABEL: usize = 64;
/// Longest detail.
pub const MAX_DETAIL: usize = 2048;

/// The seed's CRMEvent, plus the customer's id. Absent strings are `""`, absent dates `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmEvent {
    pub id: CrmEventId,
    pub bank_id: BankId,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub customer_number: CustomerNumber,
    pub category: String,
    pub detail: String,
    pub channel: String,
    pub scheduled_date: Option<Timestamp>,
    pub actual_date: Option<Timestamp>,
    pub result: String,
}

/// A validated create request: the event before the customer's name and number are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCrmEvent {
    pub id: CrmEventId,
    pub customer_id: CustomerId,
    pub category: String,
    pub detail: String,
    pub channel: String,
    pub scheduled_date: Option<Timestamp>,
    pub actual_date: Option<Timestamp>,
    pub result: String,
}

impl NewCrmEvent {
    fn with_customer(&self, bank: &BankId, customer: &Customer) -> CrmEvent {
        CrmEvent {
            id: self.id,
            bank_id: bank.clone(),
            customer_id: self.customer_id,
            customer_name: customer.legal_name.clone(),
            customer_number: customer.customer_number.clone(),
            category: self.category.clone(),
            detail: self.detail.clone(),
            channel: self.channel.clone(),
            scheduled_date: self.scheduled_date,
            actual_date: self.actual_date,
            result: self.result.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCrmEventBody {
    pub bank_id: Option<String>,
    pub customer_id: Option<String>,
    pub category: Option<String>,
    pub detail: Option<String>,
    pub channel: Option<String>,
    pub scheduled_date: Option<TimestampInput>,
    pub actual_date: Option<TimestampInput>,
    pub result: Option<String>,
}

fn label(v: &str) -> Result<String, String> {
    validate::text(v, MAX_LABEL)
}

impl CreateCrmEventBody {
    /// A new event with a fresh id, or a 400 naming every field at fault.
    pub fn validate(self, bank: &BankId) -> Result<NewCrmEvent, ApiError> {
        let mut check = Check::default();
        check.same_as_path("bank_id", self.bank_id.as_deref(), bank, BankId::parse);
        let customer_id = check.required("customer_id", self.customer_id.as_deref(), CustomerId::parse);
        let category = check.optional("category", self.category.as_deref(), label);
        let detail = check.optional("detail", self.detail.as_deref(), |v| {
            validate::multiline_text(v, MAX_DETAIL)
        });
        let channel = check.optional("channel", self.channel.as_deref(), label);
        let result = check.optional("result", self.result.as_deref(), label);
        check.finish()?;
        let Some(customer_id) = customer_id else {
            return Err(ApiError::Internal("validated fields missing".into()));
        };
        Ok(NewCrmEvent {
            id: CrmEventId::new(),
            customer_id,
            category: category.unwrap_or_default(),
            detail: detail.unwrap_or_default(),
            channel: channel.unwrap_or_default(),
            scheduled_date: self.scheduled_date.map(|t| t.0),
            actual_date: self.actual_date.map(|t| t.0),
            result: result.unwrap_or_default(),
        })
    }
}

/// The seed's list answer; `next_page_token` only when `has_more`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CrmEventList {
    pub crm_events: Vec<CrmEvent>,
    pub has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CrmEventItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    event: CrmEvent,
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
    ) -> Result<CrmEvent, ApiError> {
        for _ in 0..CUSTOMER_ATTEMPTS {
            let customer = self.customer_at(bank, &new.customer_id, Read::Latest).await?;
            let event = new.with_customer(bank, &customer.item);
            let key = keys::crm_event(bank, event.id);
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
            let put = Put::builder()
                .table_name(self.table())
                .set_item(Some(serde_dynamo::to_item(&item).map_err(internal)?))
                .condition_expression(format!("attribute_not_exists({PK}) AND attribute_not_exists({SK})"))
                .build()
                .map_err(internal)?;
            let mut items = vec![
                TransactWriteItem::builder().condition_check(unchanged).build(),
                TransactWriteItem::builder().put(put).build(),
            ];
            items.extend(self.record_item(record, &item.event)?);
            match self.transact(items).await {
                Ok(()) => return Ok(item.event),
                Err(Tx::Failed(RECORD_INDEX)) => return Err(ApiError::KeyInUse),
                // The customer changed since it was read: read it again.
                Err(Tx::Failed(0)) => continue,
                Err(Tx::Failed(_)) => return Err(ApiError::Conflict("the CRM event already exists".into())),
                Err(Tx::Error(e)) => return Err(e),
            }
        }
        Err(ApiError::Conflict(
            "the customer is changing concurrently, retry".into(),
        ))
    }

    /// A page of a bank's CRM events, oldest first.
    pub async fn crm_events(&self, bank: &BankId, limit: i32, start: Option<Key>) -> Result<Page<CrmEvent>, ApiError> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression(format!("{PK} = :pk"))
            .expression_attribute_values(":pk", AttributeValue::S(keys::crm_events_pk(bank)));
        // One item more than a page tells exactly whether another page exists (`has_more`).
        let (raw, next) = self.query_page(query, limit, start, &[PK, SK]).await?;
        let items = raw
            .into_iter()
            .map(|item| {
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
    use serde_json::json;

    fn validate(json: serde_json::Value) -> Result<NewCrmEvent, Vec<String>> {
        let bank = BankId::parse("b1").unwrap();
        crate::body::parse_json::<CreateCrmEventBody>(json.to_string().as_bytes())
            .and_then(|b| b.validate(&bank))
            .map_err(|e| match e {
                ApiError::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
                other => vec![other.to_string()],
            })
    }

    #[test]
    fn accepts_a_full_event() {
        let e = validate(json!({
            "bank_id": "b1",
            "customer_id": "0190a0b0-0000-7000-8000-000000000001",
            "category": "call",
            "detail": "asked about rates",
            "channel": "phone",
            "scheduled_date": "2026-01-02",
            "actual_date": {"seconds": 1767312000, "nanos": 0},
            "result": "done",
        }))
        .unwrap();
        assert_eq!(
            e.scheduled_date,
            Some(Timestamp {
                seconds: 1_767_312_000,
                nanos: 0
            })
        );
        assert_eq!(e.actual_date, e.scheduled_date);
        let minimal = validate(json!({"customer_id": "0190a0b0-0000-7000-8000-000000000001"})).unwrap();
        assert_eq!((minimal.category.as_str(), minimal.scheduled_date), ("", None));
    }

    #[test]
    fn names_every_bad_field() {
        assert_eq!(validate(json!({})).unwrap_err(), ["customer_id"]);
        assert_eq!(validate(json!({"customer_id": "C-0001"})).unwrap_err(), ["customer_id"]);
        assert_eq!(
            validate(json!({"customer_id": "0190a0b0-0000-7000-8000-000000000001", "scheduled_date": "soon"}))
                .unwrap_err(),
            ["scheduled_date"]
        );
        let all = validate(json!({
            "bank_id": "b2",
            "customer_id": "0190a0b0-0000-7000-8000-000000000001",
            "category": "c".repeat(MAX_LABEL + 1),
            "detail": "d".repeat(MAX_DETAIL + 1),
            "channel": "a\nb",
            "result": "r".repeat(MAX_LABEL + 1),
        }))
        .unwrap_err();
        assert_eq!(all, ["bank_id", "category", "detail", "channel", "result"]);
    }

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

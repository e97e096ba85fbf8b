//! CRM events: a bank's record of contacts with its customers (calls, meetings...). They belong to
//! the bank, not to a customer: one partition per bank, sorted by UUIDv7 id, so a bank's list is
//! one Query in creation order. Each event copies the customer's name and number as they were when
//! it was recorded.

use crate::domain::customer::Customer;
use crate::domain::ids::{BankId, CrmEventId, CustomerId, CustomerNumber};
use crate::domain::timestamp::{Timestamp, TimestampInput};
use crate::domain::validate::Invalid;
use crate::domain::validate::{self, Check};
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
    pub fn with_customer(&self, bank: &BankId, customer: &Customer) -> CrmEvent {
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
    pub fn validate(self, bank: &BankId) -> Result<NewCrmEvent, Invalid> {
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
            return Err(Invalid::field("body", "validated fields missing"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::error::ApiError;
    use serde_json::json;

    fn validate(json: serde_json::Value) -> Result<NewCrmEvent, Vec<String>> {
        let bank = BankId::parse("b1").unwrap();
        crate::http::body::parse_json::<CreateCrmEventBody>(json.to_string().as_bytes())
            .and_then(|b| b.validate(&bank).map_err(ApiError::from))
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
}

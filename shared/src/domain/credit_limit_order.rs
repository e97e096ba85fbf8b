//! The credit limit order: a customer's request for a new credit limit, stored under the customer,
//! and its decision under the four-eyes rule: staff other than the order's maker approve it (the
//! customer's credit limit becomes the granted one) or reject it, once.

use crate::domain::customer::{Amount, AmountBody};
use crate::domain::ids::{BankId, CreditLimitOrderId, CustomerId, UserId};
use crate::domain::timestamp::Timestamp;
use crate::domain::validate::Invalid;
use crate::domain::validate::{self, Check, optional_object};
use serde::{Deserialize, Serialize};

/// Longest documentation text of a request.
pub const MAX_DOCUMENTATION: usize = 1024;

/// The seed's CreditLimitOrder (`rank_amount_*`, `nominal_interest_*`) plus what the request
/// stored. Stored as it is answered, so reads need no mapping: `rank_amount_1/2` are the requested
/// amounts, and `nominal_interest_1/2` stay `""` until something sets a rate. Absent values are `""`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLimitOrder {
    pub rank_amount_1: String,
    pub nominal_interest_1: String,
    pub rank_amount_2: String,
    pub nominal_interest_2: String,
    pub credit_limit_order_id: CreditLimitOrderId,
    pub requested_current_rate_amount1: String,
    pub requested_current_rate_amount2: String,
    pub requested_current_valid_end_date: String,
    pub current_credit_documentation: String,
    pub temporary_requested_current_amount: String,
    pub requested_temporary_valid_end_date: String,
    pub temporary_credit_documentation: String,
    pub created_at: Timestamp,
    /// Orders stored before decisions existed read as pending.
    #[serde(default)]
    pub status: CreditLimitOrderStatus,
    /// The maker: who requested it. Absent on orders stored before it was recorded, which
    /// therefore cannot be decided (no one can prove to be someone else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<UserId>,
    /// Who decided, when and why; absent while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CreditLimitOrderStatus {
    #[default]
    Pending,
    Approved,
    Rejected,
}

impl CreditLimitOrderStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
        }
    }
}

/// The checker's decision on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub decided_by: UserId,
    pub decided_at: Timestamp,
    /// `""` when none was given.
    pub reason: String,
    /// The granted limit, which became the customer's `credit_limit`; only on an approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_limit: Option<Amount>,
}

/// Why the four-eyes rule refuses a credit limit change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The decider requested it (four eyes: the maker is never the checker).
    OwnOrder,
    AlreadyDecided(CreditLimitOrderStatus),
    /// Stored before makers were recorded.
    MakerUnknown,
    /// A limit raised (or moved to another currency) without an approved order: by a direct PUT
    /// or at the customer's creation.
    NoOrder,
    /// An approval that grants more than was requested, or in another currency than the
    /// customer's limit: the member at fault and why.
    BeyondRequest(&'static str, String),
}

impl CreditLimitOrder {
    /// Whether `checker` may decide this order now.
    pub fn decidable_by(&self, checker: &UserId) -> Result<(), Refusal> {
        if self.status != CreditLimitOrderStatus::Pending {
            return Err(Refusal::AlreadyDecided(self.status));
        }
        match &self.requested_by {
            None => Err(Refusal::MakerUnknown),
            Some(maker) if maker == checker => Err(Refusal::OwnOrder),
            Some(_) => Ok(()),
        }
    }

    /// Whether `outcome` grants at most what this order requested (`requested_current_rate_amount1`),
    /// in the currency of the customer's `current` limit (any currency while it is zero).
    pub fn grants_within(&self, outcome: &Outcome, current: &Amount) -> Result<(), Refusal> {
        let Some(granted) = outcome.granted() else {
            return Ok(());
        };
        if !current.is_zero() && granted.cur != current.cur {
            return Err(Refusal::BeyondRequest(
                "credit_limit.cur",
                format!(
                    "must be the customer's credit limit currency {}; lower the limit to 0 to change it",
                    current.cur
                ),
            ));
        }
        if validate::decimal_cmp(&granted.num, &self.requested_current_rate_amount1).is_gt() {
            return Err(Refusal::BeyondRequest(
                "credit_limit.num",
                format!(
                    "must not exceed the requested amount {}",
                    self.requested_current_rate_amount1
                ),
            ));
        }
        Ok(())
    }

    /// The order once `outcome` is recorded on it.
    pub fn decided(self, outcome: Outcome) -> Self {
        Self {
            status: outcome.status,
            decision: Some(outcome.decision),
            ..self
        }
    }
}

/// A validated approval or rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: CreditLimitOrderStatus,
    pub decision: Decision,
}

impl Outcome {
    /// The limit the customer gets: only an approval grants one.
    pub fn granted(&self) -> Option<&Amount> {
        self.decision.credit_limit.as_ref()
    }
}

/// The approval's body: the granted limit and why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveCreditLimitOrderBody {
    #[serde(default, deserialize_with = "optional_object")]
    pub credit_limit: Option<AmountBody>,
    pub reason: Option<String>,
}

/// The rejection's body: why, optionally.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectCreditLimitOrderBody {
    pub reason: Option<String>,
}

fn reason(check: &mut Check, reason: Option<&str>) -> String {
    check.optional("reason", reason, documentation).unwrap_or_default()
}

impl ApproveCreditLimitOrderBody {
    pub fn validate(self, checker: UserId) -> Result<Outcome, Invalid> {
        let mut check = Check::default();
        let granted = match self.credit_limit {
            None => {
                check.fail("credit_limit", "is required");
                None
            }
            Some(body) => Some(crate::domain::customer::credit_limit(&mut check, body)),
        };
        let reason = reason(&mut check, self.reason.as_deref());
        check.finish()?;
        Ok(Outcome {
            status: CreditLimitOrderStatus::Approved,
            decision: Decision {
                decided_by: checker,
                decided_at: Timestamp::now(),
                reason,
                credit_limit: granted,
            },
        })
    }
}

impl RejectCreditLimitOrderBody {
    pub fn validate(self, checker: UserId) -> Result<Outcome, Invalid> {
        let mut check = Check::default();
        let reason = reason(&mut check, self.reason.as_deref());
        check.finish()?;
        Ok(Outcome {
            status: CreditLimitOrderStatus::Rejected,
            decision: Decision {
                decided_by: checker,
                decided_at: Timestamp::now(),
                reason,
                credit_limit: None,
            },
        })
    }
}

/// The seed's create body: every value is a string (amounts as decimal strings, never numbers).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCreditLimitOrderBody {
    pub bank_id: Option<String>,
    pub customer_id: Option<String>,
    pub requested_current_rate_amount1: Option<String>,
    pub requested_current_rate_amount2: Option<String>,
    pub requested_current_valid_end_date: Option<String>,
    pub current_credit_documentation: Option<String>,
    pub temporary_requested_current_amount: Option<String>,
    pub requested_temporary_valid_end_date: Option<String>,
    pub temporary_credit_documentation: Option<String>,
}

fn amount(v: &str) -> Result<String, String> {
    validate::decimal(v, false)
}

/// A date is checked but kept as the client spelled it (RFC 3339 or `YYYY-MM-DD`).
fn date(v: &str) -> Result<String, String> {
    Timestamp::parse(v).map(|_| v.to_owned())
}

fn documentation(v: &str) -> Result<String, String> {
    validate::multiline_text(v, MAX_DOCUMENTATION)
}

impl CreateCreditLimitOrderBody {
    /// A new pending order with a fresh id, requested by `maker`, or a 400 naming every field at
    /// fault.
    pub fn validate(self, bank: &BankId, customer: &CustomerId, maker: UserId) -> Result<CreditLimitOrder, Invalid> {
        let mut check = Check::default();
        check.same_as_path("bank_id", self.bank_id.as_deref(), bank, BankId::parse);
        check.same_as_path("customer_id", self.customer_id.as_deref(), customer, CustomerId::parse);
        let amount1 = check.required(
            "requested_current_rate_amount1",
            self.requested_current_rate_amount1.as_deref(),
            amount,
        );
        let amount2 = check.optional(
            "requested_current_rate_amount2",
            self.requested_current_rate_amount2.as_deref(),
            amount,
        );
        let valid_end = check.optional(
            "requested_current_valid_end_date",
            self.requested_current_valid_end_date.as_deref(),
            date,
        );
        let current_doc = check.optional(
            "current_credit_documentation",
            self.current_credit_documentation.as_deref(),
            documentation,
        );
        let temporary_amount = check.optional(
            "temporary_requested_current_amount",
            self.temporary_requested_current_amount.as_deref(),
            amount,
        );
        let temporary_end = check.optional(
            "requested_temporary_valid_end_date",
            self.requested_temporary_valid_end_date.as_deref(),
            date,
        );
        let temporary_doc = check.optional(
            "temporary_credit_documentation",
            self.temporary_credit_documentation.as_deref(),
            documentation,
        );
        check.finish()?;
        let Some(amount1) = amount1 else {
            return Err(Invalid::field("body", "validated fields missing"));
        };
        let amount2 = amount2.unwrap_or_default();
        Ok(CreditLimitOrder {
            rank_amount_1: amount1.clone(),
            nominal_interest_1: String::new(),
            rank_amount_2: amount2.clone(),
            nominal_interest_2: String::new(),
            credit_limit_order_id: CreditLimitOrderId::new(),
            requested_current_rate_amount1: amount1,
            requested_current_rate_amount2: amount2,
            requested_current_valid_end_date: valid_end.unwrap_or_default(),
            current_credit_documentation: current_doc.unwrap_or_default(),
            temporary_requested_current_amount: temporary_amount.unwrap_or_default(),
            requested_temporary_valid_end_date: temporary_end.unwrap_or_default(),
            temporary_credit_documentation: temporary_doc.unwrap_or_default(),
            created_at: Timestamp::now(),
            status: CreditLimitOrderStatus::Pending,
            requested_by: Some(maker),
            decision: None,
        })
    }
}

/// The seed's create answer.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CreateCreditLimitOrderResponse {
    pub credit_limit_order_id: CreditLimitOrderId,
}

/// The seed's list answer, with the next page when there is one.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreditLimitOrderList {
    pub result: Vec<CreditLimitOrder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// The seed's read-by-id answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreditLimitOrderEnvelope {
    pub credit_limit_order: CreditLimitOrder,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::error::ApiError;

    fn maker() -> UserId {
        UserId::parse("maker").unwrap()
    }

    fn validate(json: serde_json::Value) -> Result<CreditLimitOrder, Vec<String>> {
        let bank = BankId::parse("b1").unwrap();
        let customer = CustomerId::parse("0190a0b0-0000-7000-8000-000000000001").unwrap();
        crate::http::body::parse_json::<CreateCreditLimitOrderBody>(json.to_string().as_bytes())
            .and_then(|b| b.validate(&bank, &customer, maker()).map_err(ApiError::from))
            .map_err(|e| match e {
                ApiError::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
                other => vec![other.to_string()],
            })
    }

    #[test]
    fn maps_amounts_to_the_seed_read_shape() {
        let o = validate(serde_json::json!({
            "requested_current_rate_amount1": "1500.00",
            "requested_current_rate_amount2": "20",
            "requested_current_valid_end_date": "2026-12-31",
            "requested_temporary_valid_end_date": "2026-06-30T00:00:00+02:00",
        }))
        .unwrap();
        assert_eq!((o.rank_amount_1.as_str(), o.rank_amount_2.as_str()), ("1500.00", "20"));
        assert_eq!((o.nominal_interest_1.as_str(), o.nominal_interest_2.as_str()), ("", ""));
        assert_eq!(o.requested_current_valid_end_date, "2026-12-31");
        assert_eq!(o.requested_temporary_valid_end_date, "2026-06-30T00:00:00+02:00");
        assert_eq!(o.temporary_requested_current_amount, "");
    }

    #[test]
    fn names_every_bad_field() {
        assert_eq!(
            validate(serde_json::json!({})).unwrap_err(),
            ["requested_current_rate_amount1"]
        );
        assert_eq!(
            validate(serde_json::json!({"requested_current_rate_amount1": 5})).unwrap_err(),
            ["requested_current_rate_amount1"]
        );
        let all = validate(serde_json::json!({
            "bank_id": "b2",
            "customer_id": "string",
            "requested_current_rate_amount1": "1e5",
            "requested_current_rate_amount2": "-1",
            "requested_current_valid_end_date": "tomorrow",
            "current_credit_documentation": "x".repeat(MAX_DOCUMENTATION + 1),
            "temporary_requested_current_amount": "abc",
            "requested_temporary_valid_end_date": "2026-02-30",
            "temporary_credit_documentation": "a\u{7}b",
        }))
        .unwrap_err();
        assert_eq!(
            all,
            [
                "bank_id",
                "customer_id",
                "requested_current_rate_amount1",
                "requested_current_rate_amount2",
                "requested_current_valid_end_date",
                "current_credit_documentation",
                "temporary_requested_current_amount",
                "requested_temporary_valid_end_date",
                "temporary_credit_documentation",
            ]
        );
    }

    fn approval(json: serde_json::Value) -> Result<Outcome, Vec<String>> {
        crate::http::body::parse_json::<ApproveCreditLimitOrderBody>(json.to_string().as_bytes())
            .and_then(|b| b.validate(UserId::parse("checker").unwrap()).map_err(ApiError::from))
            .map_err(|e| match e {
                ApiError::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
                other => vec![other.to_string()],
            })
    }

    #[test]
    fn an_approval_grants_a_valid_limit() {
        let o =
            approval(serde_json::json!({"credit_limit": {"cur": "EUR", "num": "5000.00"}, "reason": "ok"})).unwrap();
        assert_eq!(o.status, CreditLimitOrderStatus::Approved);
        assert_eq!(
            o.granted().map(|a| (a.cur.as_str(), a.num.as_str())),
            Some(("EUR", "5000.00"))
        );
        assert_eq!(
            (o.decision.decided_by.as_str(), o.decision.reason.as_str()),
            ("checker", "ok")
        );
        assert_eq!(approval(serde_json::json!({})).unwrap_err(), ["credit_limit"]);
        assert_eq!(
            approval(serde_json::json!({"credit_limit": null})).unwrap_err(),
            ["credit_limit"]
        );
        assert_eq!(
            approval(serde_json::json!({"credit_limit": {"cur": "EURO", "num": "-1"}, "reason": "a\u{7}"}))
                .unwrap_err(),
            ["credit_limit.cur", "credit_limit.num", "reason"]
        );
        assert_eq!(
            approval(serde_json::json!({"credit_limit": {"cur": "EUR", "num": "1"}, "granted": "1"}))
                .unwrap_err()
                .len(),
            1
        );
    }

    #[test]
    fn only_someone_else_decides_a_pending_order_once() {
        let order = validate(serde_json::json!({"requested_current_rate_amount1": "10"})).unwrap();
        assert_eq!(order.status, CreditLimitOrderStatus::Pending);
        let checker = UserId::parse("checker").unwrap();
        assert_eq!(order.decidable_by(&maker()), Err(Refusal::OwnOrder));
        assert_eq!(order.decidable_by(&checker), Ok(()));
        let rejection = RejectCreditLimitOrderBody { reason: None }
            .validate(checker.clone())
            .unwrap();
        assert_eq!(rejection.granted(), None);
        let rejected = order.clone().decided(rejection);
        assert_eq!(
            rejected.decidable_by(&checker),
            Err(Refusal::AlreadyDecided(CreditLimitOrderStatus::Rejected))
        );
        let legacy = CreditLimitOrder {
            requested_by: None,
            ..order
        };
        assert_eq!(legacy.decidable_by(&checker), Err(Refusal::MakerUnknown));
    }
}

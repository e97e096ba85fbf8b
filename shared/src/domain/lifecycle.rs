//! The end of a customer's life: a legal hold (anti-money-laundering retention, litigation) keeps
//! a customer from being erased until it is lifted or runs out; an erasure leaves a tombstone that
//! holds no personal data.

use crate::domain::ids::UserId;
use crate::domain::timestamp::{Timestamp, TimestampInput};
use crate::domain::validate::{self, Check, Invalid};
use serde::{Deserialize, Serialize};

/// Longest reason of a hold.
pub const MAX_REASON: usize = 1024;

/// A customer's legal hold: why, until when, who placed it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    pub reason: String,
    pub until: Timestamp,
    pub placed_by: UserId,
    pub placed_at: Timestamp,
}

impl LegalHold {
    /// Whether it still holds at `now`.
    pub fn holds_at(&self, now: Timestamp) -> bool {
        self.until > now
    }
}

/// The body of `PUT .../legal-hold`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceLegalHoldBody {
    pub reason: Option<String>,
    pub until: Option<TimestampInput>,
}

impl PlaceLegalHoldBody {
    /// A hold placed now by `by`; `until` must be in the future.
    pub fn validate(self, by: UserId) -> Result<LegalHold, Invalid> {
        let mut check = Check::default();
        let reason = check.required("reason", self.reason.as_deref(), |v| {
            validate::required_text(v, MAX_REASON)
        });
        let now = Timestamp::now();
        let until = match self.until {
            None => {
                check.fail("until", "is required");
                None
            }
            Some(TimestampInput(t)) if t <= now => {
                check.fail("until", "must be in the future");
                None
            }
            Some(TimestampInput(t)) => Some(t),
        };
        check.finish()?;
        let (Some(reason), Some(until)) = (reason, until) else {
            return Err(Invalid::field("body", "validated fields missing"));
        };
        Ok(LegalHold {
            reason,
            until,
            placed_by: by,
            placed_at: now,
        })
    }
}

/// The answer of `PUT .../legal-hold`.
#[derive(Debug, Serialize, Deserialize)]
pub struct LegalHoldEnvelope {
    pub legal_hold: LegalHold,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(json: serde_json::Value) -> Result<LegalHold, Vec<String>> {
        crate::http::body::parse_json::<PlaceLegalHoldBody>(json.to_string().as_bytes())
            .and_then(|b| {
                b.validate(UserId::parse("officer").unwrap())
                    .map_err(crate::ApiError::from)
            })
            .map_err(|e| match e {
                crate::ApiError::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
                other => vec![other.to_string()],
            })
    }

    #[test]
    fn a_hold_needs_a_reason_and_a_future_end() {
        let h = hold(serde_json::json!({"reason": "AML case 17", "until": "2999-01-01"})).unwrap();
        assert_eq!((h.reason.as_str(), h.placed_by.as_str()), ("AML case 17", "officer"));
        assert!(h.holds_at(Timestamp::now()));
        assert_eq!(hold(serde_json::json!({})).unwrap_err(), ["reason", "until"]);
        assert_eq!(
            hold(serde_json::json!({"reason": "", "until": "2000-01-01"})).unwrap_err(),
            ["reason", "until"]
        );
        assert_eq!(
            hold(serde_json::json!({"reason": "x", "until": "soon"})).unwrap_err(),
            ["until"]
        );
        assert_eq!(
            hold(serde_json::json!({"reason": "x", "until": "2999-01-01", "by": "me"})).unwrap_err(),
            ["by"]
        );
    }
}

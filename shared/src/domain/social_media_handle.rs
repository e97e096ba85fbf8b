//! The social media handle: a customer's account on a social network, as the seed's add request
//! and its list's `Check` object name it.

use crate::domain::customer::Customer;
use crate::domain::ids::{CustomerId, SocialMediaHandleId};
use crate::domain::timestamp::{Timestamp, TimestampInput};
use crate::domain::validate::Invalid;
use crate::domain::validate::{self, Check, MAX_TEXT};
use serde::{Deserialize, Serialize};

/// Longest network name (`type`): "twitter", "linkedin"...
pub const MAX_TYPE: usize = 64;

/// What is stored. The customer number is not: the list answers the customer's current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialMediaHandle {
    pub social_media_handle_id: SocialMediaHandleId,
    #[serde(rename = "type")]
    pub kind: String,
    pub handle: String,
    pub date_added: Timestamp,
    pub date_activated: Option<Timestamp>,
}

/// The seed's AddSocialMediaHandleRequest body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddSocialMediaHandleBody {
    pub customer_id: Option<String>,
    pub customer_number: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub handle: Option<String>,
    pub date_added: Option<TimestampInput>,
    pub date_activated: Option<TimestampInput>,
}

impl AddSocialMediaHandleBody {
    /// A new handle of `customer` (as read by the access check), or every field at fault.
    pub fn validate(self, id: &CustomerId, customer: &Customer) -> Result<SocialMediaHandle, Invalid> {
        let mut check = Check::default();
        check.same_as_path("customer_id", self.customer_id.as_deref(), id, CustomerId::parse);
        // The seed lets a client name the customer by number too: it must be the same customer.
        // `""` is absent, as for every optional string.
        if self
            .customer_number
            .as_deref()
            .is_some_and(|n| !n.is_empty() && !customer.customer_number.is_same(n))
        {
            check.fail("customer_number", "must be the customer's current number when given");
        }
        let kind = check.required("type", self.kind.as_deref(), |v| validate::required_text(v, MAX_TYPE));
        let handle = check.required("handle", self.handle.as_deref(), |v| {
            validate::required_text(v, MAX_TEXT)
        });
        check.finish()?;
        let (Some(kind), Some(handle)) = (kind, handle) else {
            return Err(Invalid::field("body", "validated fields missing"));
        };
        Ok(SocialMediaHandle {
            social_media_handle_id: SocialMediaHandleId::new(),
            kind,
            handle,
            date_added: self.date_added.map_or_else(Timestamp::now, |t| t.0),
            date_activated: self.date_activated.map(|t| t.0),
        })
    }
}

/// The answer of the add: the seed's `success`, and the new id.
#[derive(Debug, Serialize, Deserialize)]
pub struct AddSocialMediaHandleResponse {
    pub success: String,
    pub social_media_handle_id: SocialMediaHandleId,
}

/// The seed's `Check`: one handle as the list answers it, with its id added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialMediaHandleCheck {
    pub customer_number: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub handle: String,
    pub date_added: Timestamp,
    pub date_activated: Option<Timestamp>,
    pub social_media_handle_id: SocialMediaHandleId,
}

impl SocialMediaHandleCheck {
    pub fn new(handle: SocialMediaHandle, customer: &Customer) -> Self {
        Self {
            customer_number: customer.customer_number.to_string(),
            kind: handle.kind,
            handle: handle.handle,
            date_added: handle.date_added,
            date_activated: handle.date_activated,
            social_media_handle_id: handle.social_media_handle_id,
        }
    }
}

/// The list: the seed's key `checks`, and the next page when there is one.
#[derive(Debug, Serialize, Deserialize)]
pub struct SocialMediaHandleList {
    pub checks: Vec<SocialMediaHandleCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::CreateCustomerBody;
    use crate::http::body::parse_json;
    use crate::http::error::ApiError;

    fn customer() -> Customer {
        let body = br#"{"bank_id": "b1", "legal_name": "Ada", "customer_number": "N-1"}"#;
        parse_json::<CreateCustomerBody>(body)
            .and_then(|b| b.validate().map_err(ApiError::from))
            .unwrap()
            .customer
    }

    fn fields(json: &str) -> Vec<String> {
        let c = customer();
        match parse_json::<AddSocialMediaHandleBody>(json.as_bytes())
            .and_then(|b| b.validate(&c.id, &c).map_err(ApiError::from))
        {
            Err(ApiError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn valid_handle_defaults_its_dates() {
        let c = customer();
        let body = format!(
            r#"{{"customer_id": "{}", "customer_number": "N-1", "type": "twitter", "handle": "@ada", "date_activated": "2024-01-02"}}"#,
            c.id
        );
        let h = parse_json::<AddSocialMediaHandleBody>(body.as_bytes())
            .and_then(|b| b.validate(&c.id, &c).map_err(ApiError::from))
            .unwrap();
        assert_eq!((h.kind.as_str(), h.handle.as_str()), ("twitter", "@ada"));
        assert!(h.date_added.seconds > 1_700_000_000, "date_added defaults to now");
        assert_eq!(h.date_activated.map(|t| t.seconds), Some(1_704_153_600));
        let item = serde_json::to_value(&h).unwrap();
        assert_eq!(item["type"], "twitter");
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(fields("{}"), ["type", "handle"]);
        assert_eq!(
            fields(r#"{"customer_number": "N-2", "type": "", "handle": " "}"#),
            ["customer_number", "type", "handle"]
        );
        let long_type = format!(r#"{{"type": "{}", "handle": "h"}}"#, "t".repeat(MAX_TYPE + 1));
        assert_eq!(fields(&long_type), ["type"]);
        assert_eq!(
            fields(r#"{"customer_id": "0190a0b0-0000-7000-8000-0000000000ff", "type": "t", "handle": "h"}"#),
            ["customer_id"]
        );
        assert_eq!(
            fields(r#"{"type": "t", "handle": "h", "date_added": {"seconds": "int64", "nanos": "int32"}}"#),
            ["date_added.seconds"]
        );
    }
}

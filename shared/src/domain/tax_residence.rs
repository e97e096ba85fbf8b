//! The tax residence: a jurisdiction where the customer is liable to tax, and their number there.
//! The seed's `TaxResidence` object is both what is stored and what is answered.

use crate::domain::ids::{BankId, CustomerId, TaxResidenceId};
use crate::domain::validate::Invalid;
use crate::domain::validate::{self, Check};
use serde::{Deserialize, Serialize};

/// Longest tax number: national ones are at most about 20 characters; this leaves room for
/// formatted and foreign forms.
pub const MAX_TAX_NUMBER: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxResidence {
    /// The tax jurisdiction, an ISO 3166-1 alpha-2 code.
    pub domain: String,
    pub tax_number: String,
    pub tax_residence_id: TaxResidenceId,
}

/// The create body (the seed has none): `domain` and `tax_number`, and at most the path's ids.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTaxResidenceBody {
    pub bank_id: Option<String>,
    pub customer_id: Option<String>,
    pub domain: Option<String>,
    pub tax_number: Option<String>,
}

impl CreateTaxResidenceBody {
    /// A new tax residence with a fresh id, or every field at fault.
    pub fn validate(self, bank: &BankId, customer: &CustomerId) -> Result<TaxResidence, Invalid> {
        let mut check = Check::default();
        check.same_as_path("bank_id", self.bank_id.as_deref(), bank, BankId::parse);
        check.same_as_path("customer_id", self.customer_id.as_deref(), customer, CustomerId::parse);
        let domain = check.required("domain", self.domain.as_deref(), validate::country);
        let tax_number = check.required("tax_number", self.tax_number.as_deref(), tax_number);
        check.finish()?;
        let (Some(domain), Some(tax_number)) = (domain, tax_number) else {
            return Err(Invalid::field("body", "validated fields missing"));
        };
        Ok(TaxResidence {
            domain,
            tax_number,
            tax_residence_id: TaxResidenceId::new(),
        })
    }
}

/// Tax numbers have no common standard: letters, digits and the separators national formats
/// use (space, `-`, `/`, `.`), with at least one letter or digit.
pub fn tax_number(value: &str) -> Result<String, String> {
    const RULE: &str = "must be 1 to 64 letters, digits, spaces, '-', '/' or '.', like 12/345/67890";
    let ok = value.len() <= MAX_TAX_NUMBER
        && value.bytes().any(|b| b.is_ascii_alphanumeric())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'-' | b'/' | b'.'));
    if ok { Ok(value.to_owned()) } else { Err(RULE.into()) }
}

/// The list: the seed's key `result`, and the next page when there is one.
#[derive(Debug, Serialize, Deserialize)]
pub struct TaxResidenceList {
    pub result: Vec<TaxResidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::body::parse_json;
    use crate::http::error::ApiError;

    fn validate(json: &str) -> Result<TaxResidence, ApiError> {
        let bank = BankId::parse("b1").unwrap();
        let customer = CustomerId::parse("0190a0b0-0000-7000-8000-000000000001").unwrap();
        parse_json::<CreateTaxResidenceBody>(json.as_bytes())
            .and_then(|b| b.validate(&bank, &customer).map_err(ApiError::from))
    }

    fn fields(json: &str) -> Vec<String> {
        match validate(json) {
            Err(ApiError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn tax_numbers() {
        for ok in [
            "DE123456789",
            "12/345/67890",
            "AB 12 34 56 C",
            "123-45-6789",
            "1.2",
            &"9".repeat(64),
        ] {
            assert_eq!(tax_number(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in ["", " ", "--", "12#3", "a_b", "ü1", "1\n2", &"9".repeat(65)] {
            assert!(tax_number(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn valid_body() {
        let t = validate(r#"{"bank_id": "b1", "domain": "DE", "tax_number": "12/345/67890"}"#).unwrap();
        assert_eq!((t.domain.as_str(), t.tax_number.as_str()), ("DE", "12/345/67890"));
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(fields("{}"), ["domain", "tax_number"]);
        assert_eq!(
            fields(r##"{"bank_id": "b2", "customer_id": "x", "domain": "XX", "tax_number": "#"}"##),
            ["bank_id", "customer_id", "domain", "tax_number"]
        );
        assert_eq!(fields(r#"{"domain": "de", "tax_number": "1", "x": 1}"#), ["x"]);
    }
}

//! The customer address: the seed's `Address` object, what a create and an update accept, and their
//! validation. Absent strings are `""` and absent tags `[]`: every field is always present.

use crate::domain::ids::{BankId, CustomerAddressId, CustomerId};
use crate::domain::patch::Patch;
use crate::domain::timestamp::Timestamp;
use crate::domain::validate::Invalid;
use crate::domain::validate::{self, Check, MAX_TEXT};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most tags one address may carry.
pub const MAX_TAGS: usize = 20;
/// Longest tag.
pub const MAX_TAG_CHARS: usize = 64;
/// Longest postcode: the longest real ones are about ten characters.
pub const MAX_POSTCODE: usize = 32;

/// The seed's Address, which is also what is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAddress {
    pub customer_address_id: CustomerAddressId,
    pub customer_id: CustomerId,
    pub line_1: String,
    pub line_2: String,
    pub line_3: String,
    pub city: String,
    pub county: String,
    pub state: String,
    pub postcode: String,
    pub country_code: String,
    pub tags: Vec<String>,
    pub status: String,
    pub insert_date: Timestamp,
}

/// `GET .../addresses`: the seed's key, and the next page when there is one.
#[derive(Debug, Serialize, Deserialize)]
pub struct AddressList {
    pub addresses: Vec<CustomerAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// `POST /v1/customers/{CustomerID}/address`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAddressBody {
    pub customer_id: Option<String>,
    pub line_1: Option<String>,
    pub line_2: Option<String>,
    pub line_3: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub state: Option<String>,
    pub postcode: Option<String>,
    pub country_code: Option<String>,
    /// Kept as JSON so that a wrong `tags` is reported beside the other bad fields, not alone.
    pub tags: Option<Value>,
    pub status: Option<String>,
}

/// `PUT .../addresses/{CustomerAddressID}`: every field given replaces the stored one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAddressBody {
    pub bank_id: Option<String>,
    pub customer_id: Option<String>,
    pub customer_address_id: Option<String>,
    pub line_1: Option<String>,
    pub line_2: Option<String>,
    pub line_3: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub state: Option<String>,
    pub postcode: Option<String>,
    pub country_code: Option<String>,
    pub tags: Option<Value>,
    pub status: Option<String>,
}

fn text(v: &str) -> Result<String, String> {
    validate::text(v, MAX_TEXT)
}

fn required_text(v: &str) -> Result<String, String> {
    validate::required_text(v, MAX_TEXT)
}

fn postcode(v: &str) -> Result<String, String> {
    validate::text(v, MAX_POSTCODE)
}

/// A JSON array of at most `MAX_TAGS` non-empty strings; element faults are named `tags[i]`.
fn tags(check: &mut Check, value: &Value) -> Option<Vec<String>> {
    let Value::Array(items) = value else {
        check.fail("tags", "must be an array of strings, like [\"home\"]");
        return None;
    };
    if items.len() > MAX_TAGS {
        check.fail("tags", format!("must have at most {MAX_TAGS} tags"));
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let parsed = match item {
            Value::String(s) => validate::required_text(s, MAX_TAG_CHARS),
            _ => Err("must be a string".to_owned()),
        };
        match parsed {
            Ok(tag) => out.push(tag),
            Err(why) => {
                check.fail(&format!("tags[{i}]"), why);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// A body may repeat an id of the path in any spelling that parses to the same id.
impl CreateAddressBody {
    /// A new address of `customer` with a fresh id, or every field at fault.
    pub fn validate(self, customer: CustomerId) -> Result<CustomerAddress, Invalid> {
        let mut check = Check::default();
        check.same_as_path("customer_id", self.customer_id.as_deref(), &customer, CustomerId::parse);
        let line_1 = check.required("line_1", self.line_1.as_deref(), required_text);
        let line_2 = check.optional("line_2", self.line_2.as_deref(), text);
        let line_3 = check.optional("line_3", self.line_3.as_deref(), text);
        let city = check.required("city", self.city.as_deref(), required_text);
        let county = check.optional("county", self.county.as_deref(), text);
        let state = check.optional("state", self.state.as_deref(), text);
        let postcode = check.optional("postcode", self.postcode.as_deref(), postcode);
        let country_code = check.required("country_code", self.country_code.as_deref(), validate::country);
        let tags = match &self.tags {
            None => Some(Vec::new()),
            Some(v) => tags(&mut check, v),
        };
        let status = check.optional("status", self.status.as_deref(), text);
        check.finish()?;

        let (Some(line_1), Some(city), Some(country_code), Some(tags)) = (line_1, city, country_code, tags) else {
            return Err(Invalid::field("body", "validated fields missing"));
        };
        Ok(CustomerAddress {
            customer_address_id: CustomerAddressId::new(),
            customer_id: customer,
            line_1,
            line_2: line_2.unwrap_or_default(),
            line_3: line_3.unwrap_or_default(),
            city,
            county: county.unwrap_or_default(),
            state: state.unwrap_or_default(),
            postcode: postcode.unwrap_or_default(),
            country_code,
            tags,
            status: status.unwrap_or_default(),
            insert_date: Timestamp::now(),
        })
    }
}

type Parse = fn(&str) -> Result<String, String>;

impl UpdateAddressBody {
    /// Checks the ids against the path and turns every given field into a change; at least one
    /// field besides the ids must be given.
    pub fn into_patch(
        self,
        bank: &BankId,
        customer: &CustomerId,
        address: &CustomerAddressId,
    ) -> Result<Patch, Invalid> {
        let mut check = Check::default();
        check.same_as_path("bank_id", self.bank_id.as_deref(), bank, BankId::parse);
        check.same_as_path("customer_id", self.customer_id.as_deref(), customer, CustomerId::parse);
        check.same_as_path(
            "customer_address_id",
            self.customer_address_id.as_deref(),
            address,
            CustomerAddressId::parse,
        );
        let texts: [(&'static str, Option<String>, Parse); 9] = [
            ("line_1", self.line_1, required_text),
            ("line_2", self.line_2, text),
            ("line_3", self.line_3, text),
            ("city", self.city, required_text),
            ("county", self.county, text),
            ("state", self.state, text),
            ("postcode", self.postcode, postcode),
            ("country_code", self.country_code, validate::country),
            ("status", self.status, text),
        ];
        let mut patch = Patch::default();
        let mut given = self.tags.is_some();
        for (field, value, parse) in texts {
            let Some(value) = value else { continue };
            given = true;
            // Unlike a create, a given "" is a value here: it clears an optional field.
            match parse(&value) {
                Ok(v) => patch.set(&[field], v)?,
                Err(why) => check.fail(field, why),
            }
        }
        if let Some(value) = &self.tags
            && let Some(tags) = tags(&mut check, value)
        {
            patch.set(&["tags"], tags)?;
        }
        if !given {
            check.fail(
                "body",
                "give at least one of line_1, line_2, line_3, city, county, state, postcode, country_code, tags, \
                 status",
            );
        }
        check.finish()?;
        Ok(patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::body::parse_json;
    use crate::http::error::ApiError;

    const CUSTOMER: &str = "0190a0b0-0000-7000-8000-000000000001";

    fn customer() -> CustomerId {
        CustomerId::parse(CUSTOMER).unwrap()
    }

    fn fields(err: impl Into<ApiError>) -> Vec<String> {
        match err.into() {
            ApiError::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    fn create(json: &str) -> Result<CustomerAddress, ApiError> {
        parse_json::<CreateAddressBody>(json.as_bytes()).and_then(|b| b.validate(customer()).map_err(ApiError::from))
    }

    fn update(json: &str) -> Result<Patch, ApiError> {
        let address = CustomerAddressId::parse("0190a0b0-0000-7000-8000-0000000000a1").unwrap();
        parse_json::<UpdateAddressBody>(json.as_bytes()).and_then(|b| {
            b.into_patch(&BankId::parse("bank-1").unwrap(), &customer(), &address)
                .map_err(ApiError::from)
        })
    }

    #[test]
    fn creates_with_defaults() {
        let a = create(r#"{"line_1": "1 Main St", "city": "Berlin", "country_code": "DE"}"#).unwrap();
        assert_eq!(a.customer_id, customer());
        assert_eq!(
            (a.line_2.as_str(), a.postcode.as_str(), a.status.as_str()),
            ("", "", "")
        );
        assert!(a.tags.is_empty());
        let a = create(&format!(
            r#"{{"customer_id": "{}", "line_1": "x", "city": "y", "country_code": "GB", "tags": ["home", "billing"], "postcode": "SW1A 1AA"}}"#,
            CUSTOMER.to_uppercase()
        ))
        .unwrap();
        assert_eq!(a.tags, ["home", "billing"]);
    }

    #[test]
    fn names_every_bad_field() {
        let seed = r#"{"customer_id": "string", "line_1": "string", "line_2": "string", "line_3": "string",
            "city": "string", "county": "string", "state": "string", "postcode": "string",
            "country_code": "string", "tags": "[]string", "status": "string"}"#;
        assert_eq!(
            fields(create(seed).unwrap_err()),
            ["customer_id", "country_code", "tags"]
        );
        assert_eq!(fields(create("{}").unwrap_err()), ["line_1", "city", "country_code"]);
        assert_eq!(
            fields(create(r#"{"line_1": " ", "city": "c", "country_code": "de", "tags": [1, "ok", ""]}"#).unwrap_err()),
            ["line_1", "country_code", "tags[0]", "tags[2]"]
        );
        let many = format!(
            r#"{{"line_1": "l", "city": "c", "country_code": "DE", "tags": {:?}}}"#,
            ["t"; 21]
        );
        assert_eq!(fields(create(&many).unwrap_err()), ["tags"]);
        let long = format!(
            r#"{{"line_1": "l", "city": "c", "country_code": "DE", "postcode": "{}", "tags": ["{}"], "county": "a\u0007"}}"#,
            "1".repeat(MAX_POSTCODE + 1),
            "t".repeat(MAX_TAG_CHARS + 1)
        );
        assert_eq!(fields(create(&long).unwrap_err()), ["county", "postcode", "tags[0]"]);
        assert_eq!(fields(create(r#"{"line_1": 5}"#).unwrap_err()), ["line_1"]);
        assert_eq!(fields(create(r#"{"bank_id": "b"}"#).unwrap_err()), ["bank_id"]);
    }

    #[test]
    fn updates_only_what_is_given() {
        let p = update(r#"{"city": "Paris", "line_2": "", "tags": []}"#).unwrap();
        let names: Vec<&str> = p.sets.iter().map(|(path, _)| path[0]).collect();
        assert_eq!(names, ["line_2", "city", "tags"]);
        assert_eq!(
            fields(
                update(r#"{"bank_id": "bank-1", "customer_id": "0190a0b0-0000-7000-8000-000000000001"}"#).unwrap_err()
            ),
            ["body"]
        );
        assert_eq!(fields(update("{}").unwrap_err()), ["body"]);
        assert_eq!(
            fields(
                update(r#"{"bank_id": "bank-2", "customer_address_id": "x", "line_1": "", "country_code": "XX", "tags": "a"}"#)
                    .unwrap_err()
            ),
            ["bank_id", "customer_address_id", "line_1", "country_code", "tags"]
        );
        assert!(update(r#"{"customer_address_id": "0190A0B0-0000-7000-8000-0000000000A1", "status": "old"}"#).is_ok());
    }
}

//! Extractors that turn a request into validated input or a 400/413 problem: the JSON body (whatever
//! the Content-Type says), path parameters and query parameters.

use crate::domain::ids::{BankId, CustomerId};
use crate::domain::validate::FieldError;
use crate::http::caller::Granted;
use crate::http::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// Bodies above this are 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request body, at most `MAX_BODY_BYTES`.
pub struct Body(bytes::Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map(Body)
            .map_err(|_| ApiError::PayloadTooLarge(MAX_BODY_BYTES))
    }
}

impl Body {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The body as `T`, read only with the proof of a passed permission check: a caller without
    /// the right learns nothing from validation messages (403 before 400, by construction).
    pub fn json<T: DeserializeOwned>(&self, _granted: &Granted) -> Result<T, ApiError> {
        parse_json(&self.0)
    }
}

/// Parses a JSON document into `T`, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would also fill a struct from a JSON array, positionally: only objects are bodies.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::field("body", "a JSON object is required"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        // serde reports an unknown or missing field at its parent: name the field itself.
        let named = ["unknown field `", "missing field `"]
            .iter()
            .find_map(|p| message.strip_prefix(p))
            .and_then(|rest| rest.split('`').next());
        // serde_path_to_error's path is `.` at the root and `?` where it lost track (syntax errors).
        let path = match path.as_str() {
            "." | "?" | "" => None,
            p => Some(p),
        };
        let field = match (named, path) {
            // An unknown field's path already ends with its name; a missing one's is its parent.
            (Some(name), Some(p)) if p == name || p.ends_with(&format!(".{name}")) => p.to_owned(),
            (Some(name), Some(parent)) => format!("{parent}.{name}"),
            (Some(name), None) => name.to_owned(),
            (None, Some(p)) => p.to_owned(),
            (None, None) => "body".to_owned(),
        };
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {message}")
        } else {
            message
        };
        ApiError::Invalid(vec![FieldError::new(field, message)])
    })?;
    // One JSON document and nothing after it but whitespace.
    de.end()
        .map_err(|_| ApiError::field("body", "malformed JSON: unexpected characters after the JSON object"))?;
    Ok(value)
}

/// serde_json appends " at line L column C"; clients need the reason, not our parser's cursor.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Path parameters by name, already percent-decoded by the router.
pub struct PathParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|p| PathParams(p.0))
            .map_err(|_| ApiError::field("path", "path parameters must be valid percent-encoded UTF-8"))
    }
}

impl PathParams {
    /// Parses the parameter named as in the template (`CustomerID`); errors name it as the seed's
    /// fields do (`customer_id`).
    pub fn get<T>(&self, name: &str, parse: impl FnOnce(&str) -> Result<T, &'static str>) -> Result<T, ApiError> {
        let raw = self.0.get(name).map(String::as_str).unwrap_or_default();
        parse(raw).map_err(|why| ApiError::field(snake_case(name), why))
    }
}

impl PathParams {
    /// The `{BankID}` and `{CustomerID}` of a customer's routes.
    pub fn bank_and_customer(&self) -> Result<(BankId, CustomerId), ApiError> {
        Ok((
            self.get("BankID", BankId::parse)?,
            self.get("CustomerID", CustomerId::parse)?,
        ))
    }
}

/// `CustomerAddressID` → `customer_address_id`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Query parameters; a repeated parameter is a 400 rather than a silent pick.
pub struct QueryParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()) {
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(ApiError::field(k, "must be given at most once"));
            }
        }
        Ok(QueryParams(map))
    }
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// An optional timestamp parameter (RFC 3339 or `YYYY-MM-DD`).
    pub fn timestamp(&self, name: &str) -> Result<Option<crate::domain::timestamp::Timestamp>, ApiError> {
        self.get(name)
            .map(|v| crate::domain::timestamp::Timestamp::parse(v).map_err(|why| ApiError::field(name, why)))
            .transpose()
    }

    /// An optional `from_date`/`to_date` window, `to_date` not before `from_date`.
    pub fn window(
        &self,
    ) -> Result<
        (
            Option<crate::domain::timestamp::Timestamp>,
            Option<crate::domain::timestamp::Timestamp>,
        ),
        ApiError,
    > {
        let (from, to) = (self.timestamp("from_date")?, self.timestamp("to_date")?);
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(ApiError::field("to_date", "must not be before from_date"));
        }
        Ok((from, to))
    }

    /// An optional integer parameter within `range`.
    pub fn int(&self, name: &str, range: std::ops::RangeInclusive<i64>) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.get(name) else { return Ok(None) };
        match raw.parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::field(
                name,
                format!("must be an integer from {} to {}", range.start(), range.end()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: Option<String>,
        inner: Option<Inner>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: Option<i32>,
    }

    fn field_of(json: &str) -> String {
        match parse_json::<Outer>(json.as_bytes()) {
            Err(ApiError::Invalid(errors)) => errors[0].field.clone(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    // contract: C-BODY-1, C-BODY-2
    #[test]
    fn names_the_field() {
        assert_eq!(field_of(r#"{"name": 5}"#), "name");
        assert_eq!(field_of(r#"{"inner": {"n": "x"}}"#), "inner.n");
        assert_eq!(field_of(r#"{"inner": {"m": 1}}"#), "inner.m");
        assert_eq!(field_of(r#"{"name": "a", "inner": {}, "x": 1}"#), "x");
        assert_eq!(field_of("{"), "body");
        assert_eq!(field_of(r#"{"name": "a"}x"#), "body");
        assert_eq!(field_of(r#"{"name": "a"} {"name": "b"}"#), "body");
        assert_eq!(field_of(r#"{"bogus": 1}"#), "bogus");
        assert_eq!(field_of(r#"{"name": "a""#), "body");
        assert_eq!(field_of(""), "body");
        assert_eq!(field_of("[1]"), "body");
        assert_eq!(field_of(&"[".repeat(200)), "body");
    }

    // contract: C-ERR-2
    #[test]
    fn path_names_follow_the_seed() {
        assert_eq!(snake_case("BankID"), "bank_id");
        assert_eq!(snake_case("CustomerAddressID"), "customer_address_id");
        assert_eq!(snake_case("CustomerNumber"), "customer_number");
    }

    #[test]
    fn messages_hide_parser_positions() {
        let Err(ApiError::Invalid(errors)) = parse_json::<Outer>(br#"{"name": 5}"#) else {
            panic!()
        };
        assert!(!errors[0].message.contains("line"), "{}", errors[0].message);
    }
}

//! Every DynamoDB key of the single table, built here and nowhere else.
//!
//! | item                  | pk                              | sk                               | gsi1pk                  | gsi1sk                  |
//! |-----------------------|---------------------------------|----------------------------------|-------------------------|-------------------------|
//! | customer              | `CUSTOMER#<id>`                 | `CUSTOMER`                       | `BANK#<bank>#CUSTOMERS` | `<created, sortable>#<id>` |
//! | customer number       | `BANK#<bank>#NUMBER#<number>`   | `NUMBER`                         |                         |                         |
//! | user customer link    | `USER#<user>`                   | `LINK#<bank>#<customer id>`      |                         |                         |
//! | customer's child      | `CUSTOMER#<id>`                 | `<KIND>#<child id>` (UUIDv7: creation order) |          |                         |
//! | CRM event             | `BANK#<bank>#CRM_EVENTS`        | `<event id>` (UUIDv7)            |                         |                         |
//! | idempotency record    | `IDEMPOTENCY#<user>#<key hash>` | `IDEMPOTENCY`                    |                         |                         |
//! | (never written)       | `CONNECT`                       | `CONNECT`                        |                         |                         |
//!
//! Children kinds: `CUSTOMER_ADDRESS`, `SOCIAL_MEDIA_HANDLE`, `TAX_RESIDENCE`, `CREDIT_LIMIT_ORDER`.
//! No caller-named id may contain `#` (see `ids`), so keys cannot be forged across tenants.

use crate::domain::ids::{BankId, CustomerId, CustomerNumber, UserId};
use crate::domain::timestamp::Timestamp;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::fmt::Display;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
/// The TTL attribute (epoch seconds) of items that expire.
pub const EXPIRES_AT: &str = "expires_at";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKey {
    pub pk: String,
    pub sk: String,
}

impl ItemKey {
    pub fn to_map(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }
}

pub fn customer_pk(id: &CustomerId) -> String {
    format!("CUSTOMER#{id}")
}

/// The key that `Store::connect` reads at init to open the connection; no item has it.
pub fn connect() -> ItemKey {
    ItemKey {
        pk: "CONNECT".into(),
        sk: "CONNECT".into(),
    }
}

pub fn customer(id: &CustomerId) -> ItemKey {
    ItemKey {
        pk: customer_pk(id),
        sk: "CUSTOMER".into(),
    }
}

/// Numbers are unique per bank without regard to case (`ACME-1` is `acme-1`): a number is read
/// aloud and typed by people, so two that differ only in case would be confused.
pub fn customer_number(bank: &BankId, number: &CustomerNumber) -> ItemKey {
    ItemKey {
        pk: format!("BANK#{bank}#NUMBER#{}", number.as_str().to_ascii_uppercase()),
        sk: "NUMBER".into(),
    }
}

/// The firehose index partition of a bank's customers.
pub fn bank_customers(bank: &BankId) -> String {
    format!("BANK#{bank}#CUSTOMERS")
}

/// Sorts a bank's customers by creation time (then id, for equal times).
pub fn bank_customers_sort(created: Timestamp, id: &CustomerId) -> String {
    format!("{}#{id}", created.sortable())
}

pub fn user_links_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

pub fn user_customer_link(user: &UserId, bank: &BankId, customer: &CustomerId) -> ItemKey {
    ItemKey {
        pk: user_links_pk(user),
        sk: format!("{}{customer}", user_links_prefix(Some(bank))),
    }
}

/// The sort key prefix of a user's links, at every bank or at one.
pub fn user_links_prefix(bank: Option<&BankId>) -> String {
    match bank {
        Some(bank) => format!("LINK#{bank}#"),
        None => "LINK#".into(),
    }
}

/// The kinds of item stored under a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    CustomerAddress,
    SocialMediaHandle,
    TaxResidence,
    CreditLimitOrder,
}

impl ChildKind {
    pub fn prefix(self) -> &'static str {
        match self {
            ChildKind::CustomerAddress => "CUSTOMER_ADDRESS#",
            ChildKind::SocialMediaHandle => "SOCIAL_MEDIA_HANDLE#",
            ChildKind::TaxResidence => "TAX_RESIDENCE#",
            ChildKind::CreditLimitOrder => "CREDIT_LIMIT_ORDER#",
        }
    }
}

pub fn child(customer: &CustomerId, kind: ChildKind, id: impl Display) -> ItemKey {
    ItemKey {
        pk: customer_pk(customer),
        sk: format!("{}{id}", kind.prefix()),
    }
}

pub fn crm_events_pk(bank: &BankId) -> String {
    format!("BANK#{bank}#CRM_EVENTS")
}

pub fn crm_event(bank: &BankId, id: impl Display) -> ItemKey {
    ItemKey {
        pk: crm_events_pk(bank),
        sk: id.to_string(),
    }
}

pub fn idempotency(user: &UserId, key_hash: &str) -> ItemKey {
    ItemKey {
        pk: format!("IDEMPOTENCY#{user}#{key_hash}"),
        sk: "IDEMPOTENCY".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_per_tenant_and_kind() {
        let b1 = BankId::parse("b1").unwrap();
        let b2 = BankId::parse("b2").unwrap();
        let n = CustomerNumber::parse("42").unwrap();
        assert_ne!(customer_number(&b1, &n), customer_number(&b2, &n));
        let upper = CustomerNumber::parse("ACME-1").unwrap();
        let lower = CustomerNumber::parse("acme-1").unwrap();
        assert_eq!(customer_number(&b1, &upper), customer_number(&b1, &lower));
        let c = CustomerId::new();
        assert_ne!(
            customer(&c).sk,
            child(&c, ChildKind::TaxResidence, CustomerId::new()).sk
        );
        let u = UserId::parse("u1").unwrap();
        let link = user_customer_link(&u, &b1, &c);
        assert!(link.sk.starts_with(&user_links_prefix(Some(&b1))));
        assert!(link.sk.starts_with(&user_links_prefix(None)));
        assert!(!link.sk.starts_with(&user_links_prefix(Some(&b2))));
    }

    #[test]
    fn bank_prefixes_do_not_overlap() {
        // "b1" must not see "b10"'s links: the prefix ends with the separator.
        let b1 = BankId::parse("b1").unwrap();
        let b10 = BankId::parse("b10").unwrap();
        let u = UserId::parse("u").unwrap();
        let link = user_customer_link(&u, &b10, &CustomerId::new());
        assert!(!link.sk.starts_with(&user_links_prefix(Some(&b1))));
    }
}

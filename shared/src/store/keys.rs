//! Every DynamoDB key of the single table, built here and nowhere else.
//!
//! | item                  | pk                                     | sk                               | firehose_pk (index `firehose`, keys only) | firehose_sk |
//! |-----------------------|----------------------------------------|----------------------------------|-------------------------------------------|-------------|
//! | customer              | `CUSTOMER#<id>`                        | `CUSTOMER`                       | `BANK#<bank>#CUSTOMERS#<shard>`           | `<created, sortable>#<id>` |
//! | customer number       | `BANK#<bank>#NUMBER#<number>`          | `NUMBER`                         |                                           |             |
//! | user customer link    | `USER#<user>`                          | `LINK#<bank>#<customer id>`      |                                           |             |
//! | customer's child      | `CUSTOMER#<id>`                        | `<KIND>#<child id>` (UUIDv7: creation order) |                               |             |
//! | customer's legal hold | `CUSTOMER#<id>`                        | `LEGAL_HOLD`                     |                                           |             |
//! | customer's CRM event copy | `CUSTOMER#<id>`                    | `CRM_EVENT#<event id>` (written with the event) |                       |             |
//! | customer's link copy  | `CUSTOMER#<id>`                        | `LINKED#<user>` (written with the link: the customer's links are found from it) | |  |
//! | CRM event             | `BANK#<bank>#CRM_EVENTS#<shard>`       | `<event id>` (UUIDv7)            |                                           |             |
//! | history entry         | `CUSTOMER#<id>`                        | `HISTORY#<changed at, sortable>#<change id>` |                   |             |
//! | deletion marker       | the deleted item's pk                  | `DELETED#<its sk>` (expires after 7 days) |                   |             |
//! | idempotency record    | `IDEMPOTENCY#<user>#<key hash>`        | `IDEMPOTENCY`                    |                                           |             |
//! | customer's idempotency pointer | `CUSTOMER#<id>`               | `IDEMPOTENCY#<user>#<key hash>` (the record's pk, written with it: the erasure finds the answers naming the customer) | | |
//! | (never written)       | `CONNECT`                              | `CONNECT`                        |                                           |             |
//!
//! Children kinds: `CUSTOMER_ADDRESS`, `SOCIAL_MEDIA_HANDLE`, `TAX_RESIDENCE`, `CREDIT_LIMIT_ORDER`.
//! No caller-named id may contain `#` (see `ids`), so keys cannot be forged across tenants.
//!
//! A bank's customers and CRM events are spread over [`Shards`] partitions by a hash of the item's
//! id: a bank's writes never all land on one partition, and a list reads every shard in parallel
//! and merges them (`store::merge`). The index `firehose` holds keys only, so a customer update
//! writes the base item alone (1 WCU under 1 KB).
//!
//! Legacy keys (before sharding), read beside the shards until `local-api migrate` has moved them:
//! customers in index `gsi1` under `BANK#<bank>#CUSTOMERS` (`gsi1pk`/`gsi1sk`, projection ALL),
//! CRM events under `BANK#<bank>#CRM_EVENTS`.

use crate::domain::ids::{BankId, ChangeId, CustomerId, CustomerNumber, UserId};
use crate::domain::timestamp::Timestamp;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::fmt::Display;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// The keys-only index of a bank's customers by creation time, and its key attributes.
pub const FIREHOSE: &str = "firehose";
pub const FIREHOSE_PK: &str = "firehose_pk";
pub const FIREHOSE_SK: &str = "firehose_sk";
/// The legacy index (projection ALL, one partition per bank) and its key attributes.
pub const GSI1: &str = "gsi1";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
/// The sort key of a customer item.
pub const CUSTOMER_SK: &str = "CUSTOMER";
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

/// The customer whose item has partition key `pk` (the inverse of [`customer_pk`]).
pub fn customer_id_of(pk: &str) -> Option<CustomerId> {
    pk.strip_prefix("CUSTOMER#").and_then(|id| CustomerId::parse(id).ok())
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
        sk: CUSTOMER_SK.into(),
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

/// How many partitions a bank's customers (in the firehose index) and CRM events are spread over.
/// It may be raised on a running table (the shards an item was written to stay among those read),
/// never lowered without `local-api migrate`, which moves every item to its shard under the new count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shards(u16);

impl Shards {
    pub const DEFAULT: Shards = Shards(16);
    pub const MAX: u16 = 256;

    pub fn new(count: u16) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&count) {
            Ok(Self(count))
        } else {
            Err(format!("must be between 1 and {}", Self::MAX))
        }
    }

    pub fn count(self) -> u16 {
        self.0
    }

    /// The shard of the item with this id: FNV-1a of the id's text, so it is stable, needs no
    /// read, and spreads UUIDs evenly.
    pub fn of(self, id: &impl Display) -> u16 {
        let hash = id.to_string().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        (hash % u64::from(self.0)) as u16
    }

    pub fn all(self) -> impl Iterator<Item = u16> {
        0..self.0
    }
}

/// The firehose index partition of one shard of a bank's customers.
pub fn bank_customers(bank: &BankId, shard: u16) -> String {
    format!("BANK#{bank}#CUSTOMERS#{shard}")
}

/// The legacy firehose partition (index `gsi1`) of a bank's customers.
pub fn legacy_bank_customers(bank: &BankId) -> String {
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

/// A customer's legal hold, beside it.
pub fn legal_hold(customer: &CustomerId) -> ItemKey {
    ItemKey {
        pk: customer_pk(customer),
        sk: "LEGAL_HOLD".into(),
    }
}

/// The sort key prefix of the copies of a customer's CRM events in its partition.
pub const CRM_EVENT_COPY_PREFIX: &str = "CRM_EVENT#";

/// The copy of a CRM event in its customer's partition: what finds a customer's events (its
/// export, its erasure) without reading the bank's.
pub fn customer_crm_event(customer: &CustomerId, id: impl Display) -> ItemKey {
    ItemKey {
        pk: customer_pk(customer),
        sk: format!("{CRM_EVENT_COPY_PREFIX}{id}"),
    }
}

/// The sort key prefix of the copies of a customer's links in its partition.
pub const LINKED_PREFIX: &str = "LINKED#";

/// The copy of a user's link in the customer's partition (a customer is at one bank: the user
/// names the link).
pub fn customer_link(customer: &CustomerId, user: &UserId) -> ItemKey {
    ItemKey {
        pk: customer_pk(customer),
        sk: format!("{LINKED_PREFIX}{user}"),
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

/// The partition of one shard of a bank's CRM events.
pub fn crm_events_pk(bank: &BankId, shard: u16) -> String {
    format!("BANK#{bank}#CRM_EVENTS#{shard}")
}

/// The legacy partition of all a bank's CRM events.
pub fn legacy_crm_events_pk(bank: &BankId) -> String {
    format!("BANK#{bank}#CRM_EVENTS")
}

pub fn crm_event(bank: &BankId, shards: Shards, id: impl Display) -> ItemKey {
    ItemKey {
        pk: crm_events_pk(bank, shards.of(&id)),
        sk: id.to_string(),
    }
}

/// The sort key prefix of a customer's history entries (in the customer's partition: a customer's
/// history is read with one Query, newest first).
pub const HISTORY_PREFIX: &str = "HISTORY#";

pub fn history(customer: &CustomerId, at: Timestamp, change: &ChangeId) -> ItemKey {
    ItemKey {
        pk: customer_pk(customer),
        sk: format!("{HISTORY_PREFIX}{}#{change}", at.sortable()),
    }
}

/// The history's sort keys from `from` to `to` (inclusive; `None`: unbounded).
pub fn history_range(from: Option<Timestamp>, to: Option<Timestamp>) -> (String, String) {
    let lower = from.map(Timestamp::sortable).unwrap_or_default();
    // `~` sorts after every character of a sortable time and a change id.
    let upper = to.map(Timestamp::sortable).unwrap_or_default();
    (format!("{HISTORY_PREFIX}{lower}"), format!("{HISTORY_PREFIX}{upper}~"))
}

pub const DELETED_PREFIX: &str = "DELETED#";

/// The marker of the deletion of the item at `key`, beside it: who deleted it, written in the
/// delete's transaction.
pub fn deletion(key: &ItemKey) -> ItemKey {
    ItemKey {
        pk: key.pk.clone(),
        sk: format!("{DELETED_PREFIX}{}", key.sk),
    }
}

/// What object of the API an item of the table is, by its key; `None` for the rest (number,
/// idempotency and history items).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Customer(CustomerId),
    Child(CustomerId, ChildKind, String),
    Link(CustomerId),
    CrmEvent(String),
}

pub fn subject_of(pk: &str, sk: &str) -> Option<Subject> {
    if sk.starts_with(DELETED_PREFIX) {
        return None;
    }
    if let Some(customer) = customer_id_of(pk) {
        if sk == CUSTOMER_SK {
            return Some(Subject::Customer(customer));
        }
        let kinds = [
            ChildKind::CustomerAddress,
            ChildKind::SocialMediaHandle,
            ChildKind::TaxResidence,
            ChildKind::CreditLimitOrder,
        ];
        return kinds.into_iter().find_map(|kind| {
            let id = sk.strip_prefix(kind.prefix())?;
            Some(Subject::Child(customer, kind, id.to_owned()))
        });
    }
    if pk.starts_with("USER#") {
        let customer = sk.strip_prefix("LINK#")?.rsplit('#').next()?;
        return CustomerId::parse(customer).ok().map(Subject::Link);
    }
    let (_, rest) = pk.strip_prefix("BANK#")?.split_once('#')?;
    (rest == "CRM_EVENTS" || rest.starts_with("CRM_EVENTS#")).then(|| Subject::CrmEvent(sk.to_owned()))
}

/// The prefix of an idempotency record's pk, and of its pointer's sk in the customer's partition.
pub const IDEMPOTENCY_PREFIX: &str = "IDEMPOTENCY#";
const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";

pub fn idempotency(user: &UserId, key_hash: &str) -> ItemKey {
    ItemKey {
        pk: format!("{IDEMPOTENCY_PREFIX}{user}#{key_hash}"),
        sk: IDEMPOTENCY_SK.into(),
    }
}

/// The pointer, in `customer`'s partition, to an idempotency record whose answer names the
/// customer: records are keyed by caller and key, so the erasure finds them only through these.
pub fn customer_idempotency(customer: &CustomerId, record: &ItemKey) -> ItemKey {
    ItemKey {
        pk: customer_pk(customer),
        sk: record.pk.clone(),
    }
}

/// The idempotency record a customer's pointer (its sort key) points to.
pub fn idempotency_of_pointer(sk: &str) -> Option<ItemKey> {
    sk.starts_with(IDEMPOTENCY_PREFIX).then(|| ItemKey {
        pk: sk.to_owned(),
        sk: IDEMPOTENCY_SK.into(),
    })
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
        assert_eq!(customer_id_of(&customer(&c).pk), Some(c));
        assert_eq!(customer_id_of(&user_links_pk(&UserId::parse("u").unwrap())), None);
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
    fn shards_are_stable_and_even() {
        let shards = Shards::new(16).unwrap();
        let ids: Vec<CustomerId> = (0..16_000).map(|_| CustomerId::new()).collect();
        let mut counts = [0u32; 16];
        for id in &ids {
            assert_eq!(shards.of(id), shards.of(id));
            counts[shards.of(id) as usize] += 1;
        }
        // 1,000 expected per shard; a fair hash stays well within ±20% (≈6 standard deviations).
        for count in counts {
            assert!((800..1200).contains(&count), "{counts:?}");
        }
        assert_eq!(Shards::new(1).unwrap().of(&ids[0]), 0);
        assert!(Shards::new(0).is_err() && Shards::new(Shards::MAX + 1).is_err());
        let bank = BankId::parse("b1").unwrap();
        assert_ne!(bank_customers(&bank, 1), legacy_bank_customers(&bank));
        assert!(
            crm_event(&bank, shards, ids[0])
                .pk
                .starts_with(&legacy_crm_events_pk(&bank))
        );
    }

    #[test]
    fn every_object_of_the_api_is_known_by_its_key_and_nothing_else() {
        let (b1, c, u) = (
            BankId::parse("b1").unwrap(),
            CustomerId::new(),
            UserId::parse("u1").unwrap(),
        );
        let subject = |k: ItemKey| subject_of(&k.pk, &k.sk);
        assert_eq!(subject(customer(&c)), Some(Subject::Customer(c)));
        let order = CustomerId::new();
        assert_eq!(
            subject(child(&c, ChildKind::CreditLimitOrder, order)),
            Some(Subject::Child(c, ChildKind::CreditLimitOrder, order.to_string()))
        );
        assert_eq!(subject(user_customer_link(&u, &b1, &c)), Some(Subject::Link(c)));
        let event = crm_event(&b1, Shards::DEFAULT, "e1");
        assert_eq!(subject(event), Some(Subject::CrmEvent("e1".into())));
        let legacy = ItemKey {
            pk: legacy_crm_events_pk(&b1),
            sk: "e2".into(),
        };
        assert_eq!(subject(legacy), Some(Subject::CrmEvent("e2".into())));
        let number = customer_number(&b1, &CustomerNumber::parse("7").unwrap());
        assert_eq!(subject(number), None);
        assert_eq!(subject(idempotency(&u, "h")), None);
        let pointer = customer_idempotency(&c, &idempotency(&u, "h"));
        assert_eq!(idempotency_of_pointer(&pointer.sk), Some(idempotency(&u, "h")));
        assert_eq!(subject(pointer), None);
        assert_eq!(subject(history(&c, Timestamp::now(), &ChangeId::new())), None);
        assert_eq!(subject(connect()), None);
        assert_eq!(subject(deletion(&crm_event(&b1, Shards::DEFAULT, "e1"))), None);
        assert_eq!(subject(deletion(&customer(&c))), None);
        assert_eq!(subject(customer_link(&c, &u)), None);
        assert_eq!(subject(customer_crm_event(&c, "e1")), None);
        assert_eq!(subject(legal_hold(&c)), None);
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

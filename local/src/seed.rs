//! `local-api seed`: a demo bank in the local table, so a new user sees data at once.
//!
//! Bank `demo-bank` gets eight customers (people and one company, in EUR, GBP and USD) with their
//! addresses, social media handles, tax residences, credit limit orders and CRM events, and user
//! links: `dev-user` (the token `make run` prints, a relationship manager) is linked to every
//! customer, `alice` to two (herself and her company) and `bob` to one.
//!
//! Everything goes through the real store and the API's own request validation, with fixed ids, so
//! a second run creates nothing: a create that fails as a conflict is counted as found only when
//! the item with that id is really there. Any other error, or a conflict over something else (say,
//! a customer number that a customer created by hand already uses), stops the seed. Data changed
//! through the API since is left as it is; deleted demo items are created again.

use serde::Deserialize;
use serde_json::{Value, json};
use shared::ApiError;
use shared::domain::audit::Audit;
use shared::domain::credit_limit_order::CreateCreditLimitOrderBody;
use shared::domain::crm_event::CreateCrmEventBody;
use shared::domain::customer::{CreateCustomerBody, Customer};
use shared::domain::customer_address::CreateAddressBody;
use shared::domain::ids::{
    BankId, CreditLimitOrderId, CrmEventId, CustomerAddressId, CustomerId, SocialMediaHandleId, TaxResidenceId,
    UserCustomerLinkId, UserId,
};
use shared::domain::link::CreateLinkBody;
use shared::domain::social_media_handle::AddSocialMediaHandleBody;
use shared::domain::tax_residence::CreateTaxResidenceBody;
use shared::store::records::Child;
use shared::store::{Read, Store, StoreError, StoreResult, sdk_error};
use std::fmt;
use std::future::Future;

/// The demo bank: the bank of the staff token that `make run` prints.
pub const BANK: &str = "demo-bank";

/// The users linked to demo customers, with how many customers each is linked to.
pub const USERS: &[(&str, usize)] = &[("dev-user", 8), ("alice", 2), ("bob", 1)];

/// The demo bank's data: request bodies as a client would send them, with the fixed ids they get
/// (UUIDv7-shaped, time part 2025-05-05), so that a second run finds them.
const DEMO_BANK: &str = include_str!("../seed/demo-bank.json");

#[derive(Deserialize)]
struct DemoBank {
    bank_id: String,
    customers: Vec<Fixture>,
    addresses: Vec<Fixture>,
    social_media_handles: Vec<Fixture>,
    tax_residences: Vec<Fixture>,
    credit_limit_orders: Vec<Fixture>,
    crm_events: Vec<Fixture>,
    user_customer_links: Vec<LinkFixture>,
}

/// One item: its fixed id, its customer (for a customer's records) and its request body.
#[derive(Deserialize)]
struct Fixture {
    id: String,
    #[serde(default)]
    customer_id: String,
    body: Value,
}

#[derive(Deserialize)]
struct LinkFixture {
    id: String,
    user_id: String,
    customer_id: String,
}

fn demo_bank() -> Result<DemoBank, SeedError> {
    serde_json::from_str(DEMO_BANK).map_err(|e| SeedError::Invalid {
        what: "local/seed/demo-bank.json".into(),
        error: ApiError::field("body", e.to_string()),
    })
}

/// Created and already-there counts of one kind of item.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub created: usize,
    pub found: usize,
}

/// What a seed run did, per kind of item.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub table: String,
    pub customers: Tally,
    pub addresses: Tally,
    pub social_media_handles: Tally,
    pub tax_residences: Tally,
    pub credit_limit_orders: Tally,
    pub crm_events: Tally,
    pub user_customer_links: Tally,
}

impl Report {
    pub fn kinds(&self) -> [(&'static str, Tally); 7] {
        [
            ("customers", self.customers),
            ("addresses", self.addresses),
            ("social media handles", self.social_media_handles),
            ("tax residences", self.tax_residences),
            ("credit limit orders", self.credit_limit_orders),
            ("CRM events", self.crm_events),
            ("user customer links", self.user_customer_links),
        ]
    }

    pub fn created(&self) -> usize {
        self.kinds().iter().map(|(_, t)| t.created).sum()
    }

    pub fn found(&self) -> usize {
        self.kinds().iter().map(|(_, t)| t.found).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed: bank {BANK} in table {}", self.table)?;
        writeln!(f, "  {:<22}{:>8}{:>8}", "", "created", "found")?;
        for (kind, t) in self.kinds() {
            writeln!(f, "  {kind:<22}{:>8}{:>8}", t.created, t.found)?;
        }
        write!(f, "  {:<22}{:>8}{:>8}", "total", self.created(), self.found())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A bug in the demo data: the API's own validation rejects it.
    #[error("demo {what} is invalid: {error:?}")]
    Invalid { what: String, error: ApiError },
    #[error("{what}: {error}")]
    Store { what: String, error: StoreError },
}

fn invalid<E: Into<ApiError>>(what: &str) -> impl FnOnce(E) -> SeedError + '_ {
    move |error| SeedError::Invalid {
        what: what.to_owned(),
        error: error.into(),
    }
}

/// A request body, parsed as the API parses it.
fn body<T: serde::de::DeserializeOwned>(what: &str, value: &Value) -> Result<T, SeedError> {
    shared::http::body::parse_json(value.to_string().as_bytes()).map_err(invalid(what))
}

fn parse_id<T>(what: &str, id: &str, parse: fn(&str) -> Result<T, &'static str>) -> Result<T, SeedError> {
    parse(id).map_err(|e| SeedError::Invalid {
        what: what.to_owned(),
        error: ApiError::field("id", e),
    })
}

/// Counts a create: created, or found when it was refused as a conflict and `exists` confirms that
/// the item is there. Any other outcome is an error.
async fn settle<T>(
    what: &str,
    tally: &mut Tally,
    result: StoreResult<T>,
    exists: impl Future<Output = StoreResult<Option<T>>>,
) -> Result<T, SeedError> {
    let store_error = |error| SeedError::Store {
        what: what.to_owned(),
        error,
    };
    match result {
        Ok(item) => {
            tally.created += 1;
            Ok(item)
        }
        Err(conflict @ StoreError::Conflict(_)) => match exists.await.map_err(store_error)? {
            Some(item) => {
                tally.found += 1;
                Ok(item)
            }
            None => Err(store_error(conflict)),
        },
        Err(error) => Err(store_error(error)),
    }
}

/// A child of a demo customer, created or found.
async fn child<T: Child>(
    store: &Store,
    bank: &BankId,
    customer: &CustomerId,
    item: T,
    tally: &mut Tally,
) -> Result<(), SeedError> {
    let id = item.id();
    let what = format!("{} {id}", T::NAME);
    let result = store
        .create_child(bank, customer, item, None, &Audit::tool("seed", "demo-bank"))
        .await
        .map(|_| ());
    let exists = async {
        match store.child::<T>(bank, customer, &id).await {
            Ok(_) => Ok(Some(())),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    settle(&what, tally, result, exists).await
}

/// Loads the demo bank into `store`'s table, which must exist.
pub async fn run(store: &Store) -> Result<Report, SeedError> {
    let demo = demo_bank()?;
    let bank = parse_id("bank", &demo.bank_id, BankId::parse)?;
    let mut report = Report {
        table: store.table().to_owned(),
        ..Report::default()
    };

    let mut customers: Vec<Customer> = Vec::new();
    for fixture in &demo.customers {
        let name = fixture.body["legal_name"].as_str().unwrap_or_default();
        let what = format!("customer {} ({name})", fixture.id);
        let mut new = body::<CreateCustomerBody>(&what, &fixture.body)?
            .validate()
            .map_err(invalid(&what))?;
        let id = parse_id(&what, &fixture.id, CustomerId::parse)?;
        new.customer.id = id;
        let result = store
            .create_customer(new, None, &Audit::tool("seed", "demo-bank"))
            .await;
        let exists = async {
            let found = store.get_customer(&id, Read::Latest).await?;
            Ok(found.map(|c| c.item).filter(|c| c.bank_id == bank))
        };
        customers.push(settle(&what, &mut report.customers, result, exists).await?);
    }
    let owner = |fixture: &Fixture| {
        customers
            .iter()
            .find(|c| c.id.to_string() == fixture.customer_id)
            .ok_or_else(|| SeedError::Invalid {
                what: format!("reference to customer {}", fixture.customer_id),
                error: ApiError::NotFound("customer"),
            })
    };

    for fixture in &demo.addresses {
        let owner = owner(fixture)?;
        let what = format!("address {}", fixture.id);
        let mut address = body::<CreateAddressBody>(&what, &fixture.body)?
            .validate(owner.id)
            .map_err(invalid(&what))?;
        address.customer_address_id = parse_id(&what, &fixture.id, CustomerAddressId::parse)?;
        child(store, &bank, &owner.id, address, &mut report.addresses).await?;
    }

    for fixture in &demo.social_media_handles {
        let owner = owner(fixture)?;
        let what = format!("social media handle {}", fixture.id);
        let mut handle = body::<AddSocialMediaHandleBody>(&what, &fixture.body)?
            .validate(&owner.id, owner)
            .map_err(invalid(&what))?;
        handle.social_media_handle_id = parse_id(&what, &fixture.id, SocialMediaHandleId::parse)?;
        child(store, &bank, &owner.id, handle, &mut report.social_media_handles).await?;
    }

    for fixture in &demo.tax_residences {
        let owner = owner(fixture)?;
        let what = format!("tax residence {}", fixture.id);
        let mut residence = body::<CreateTaxResidenceBody>(&what, &fixture.body)?
            .validate(&bank, &owner.id)
            .map_err(invalid(&what))?;
        residence.tax_residence_id = parse_id(&what, &fixture.id, TaxResidenceId::parse)?;
        child(store, &bank, &owner.id, residence, &mut report.tax_residences).await?;
    }

    for fixture in &demo.credit_limit_orders {
        let owner = owner(fixture)?;
        let what = format!("credit limit order {}", fixture.id);
        let mut order = body::<CreateCreditLimitOrderBody>(&what, &fixture.body)?
            .validate(&bank, &owner.id, Audit::tool("seed", "demo-bank").changed_by)
            .map_err(invalid(&what))?;
        order.credit_limit_order_id = parse_id(&what, &fixture.id, CreditLimitOrderId::parse)?;
        child(store, &bank, &owner.id, order, &mut report.credit_limit_orders).await?;
    }

    for fixture in &demo.crm_events {
        let what = format!("CRM event {}", fixture.id);
        let mut event = body::<CreateCrmEventBody>(&what, &fixture.body)?
            .validate(&bank)
            .map_err(invalid(&what))?;
        event.id = parse_id(&what, &fixture.id, CrmEventId::parse)?;
        let result = store
            .create_crm_event(&bank, &event, None, &Audit::tool("seed", "demo-bank"))
            .await
            .map(|_| ());
        let exists = async {
            let out = store
                .client()
                .get_item()
                .table_name(store.table())
                .set_key(Some(
                    shared::store::keys::crm_event(&bank, store.shards(), event.id).to_map(),
                ))
                .projection_expression("pk")
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk_error)?;
            Ok(out.item.map(|_| ()))
        };
        settle(&what, &mut report.crm_events, result, exists).await?;
    }

    for fixture in &demo.user_customer_links {
        let what = format!("link of user {} to customer {}", fixture.user_id, fixture.customer_id);
        let data = json!({"user_id": fixture.user_id, "customer_id": fixture.customer_id});
        let mut link = body::<CreateLinkBody>(&what, &data)?
            .validate(&bank)
            .map_err(invalid(&what))?;
        link.user_customer_link_id = parse_id(&what, &fixture.id, UserCustomerLinkId::parse)?;
        let user = parse_id(&what, &fixture.user_id, UserId::parse)?;
        let result = store
            .create_link(&bank, &link, None, &Audit::tool("seed", "demo-bank"))
            .await;
        let exists = async {
            let linked = store.is_linked(&user, &bank, &link.customer_id).await?;
            Ok(linked.then_some(()))
        };
        settle(&what, &mut report.user_customer_links, result, exists).await?;
    }

    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_names_the_demo_bank_with_canonical_distinct_ids() {
        let demo = demo_bank().expect("demo-bank.json");
        assert_eq!(demo.bank_id, BANK);
        let mut ids: Vec<&str> = [
            &demo.customers,
            &demo.addresses,
            &demo.social_media_handles,
            &demo.tax_residences,
            &demo.credit_limit_orders,
            &demo.crm_events,
        ]
        .into_iter()
        .flatten()
        .map(|f| f.id.as_str())
        .chain(demo.user_customer_links.iter().map(|l| l.id.as_str()))
        .collect();
        for id in &ids {
            assert!(CustomerId::parse(id).is_ok(), "{id}");
            assert_eq!(&id[14..15], "7", "UUIDv7-shaped: {id}");
        }
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count);
    }

    #[test]
    fn users_match_the_links() {
        let links = demo_bank().expect("demo-bank.json").user_customer_links;
        for (user, count) in USERS {
            assert_eq!(links.iter().filter(|l| l.user_id == *user).count(), *count, "{user}");
        }
        assert_eq!(USERS.iter().map(|(_, n)| n).sum::<usize>(), links.len());
    }
}

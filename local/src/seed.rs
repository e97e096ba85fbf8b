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

use serde_json::{Value, json};
use shared::ApiError;
use shared::child::Child;
use shared::credit_limit_order::CreateCreditLimitOrderBody;
use shared::crm_event::CreateCrmEventBody;
use shared::customer::{CreateCustomerBody, Customer};
use shared::customer_address::CreateAddressBody;
use shared::ids::{
    BankId, CreditLimitOrderId, CrmEventId, CustomerAddressId, CustomerId, SocialMediaHandleId, TaxResidenceId,
    UserCustomerLinkId, UserId,
};
use shared::link::CreateLinkBody;
use shared::social_media_handle::AddSocialMediaHandleBody;
use shared::store::{Read, Store, sdk_error};
use shared::tax_residence::CreateTaxResidenceBody;
use std::fmt;
use std::future::Future;

/// The demo bank: the bank of the staff token that `make run` prints.
pub const BANK: &str = "demo-bank";

/// The users linked to demo customers, with how many customers each is linked to.
pub const USERS: &[(&str, usize)] = &[("dev-user", 8), ("alice", 2), ("bob", 1)];

// Fixed UUIDv7-shaped ids (their time part is 2025-05-05): `7k00` tells the kind.
const ALICE: &str = "0196a2c0-5eed-7100-8000-000000000001";
const WHITFIELD_LTD: &str = "0196a2c0-5eed-7100-8000-000000000002";
const JONAS: &str = "0196a2c0-5eed-7100-8000-000000000003";
const CAMILLE: &str = "0196a2c0-5eed-7100-8000-000000000004";
const MARCUS: &str = "0196a2c0-5eed-7100-8000-000000000005";
const PRIYA: &str = "0196a2c0-5eed-7100-8000-000000000006";
const SOFIA: &str = "0196a2c0-5eed-7100-8000-000000000007";
const KENJI: &str = "0196a2c0-5eed-7100-8000-000000000008";

/// The fixed id of the `n`th demo item of a kind: 2 addresses, 3 handles, 4 tax residences,
/// 5 credit limit orders, 6 CRM events, 7 user links.
fn fixed(kind: u8, n: u8) -> String {
    format!("0196a2c0-5eed-7{kind}00-8000-{n:012x}")
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
    Store { what: String, error: ApiError },
}

fn invalid(what: &str) -> impl FnOnce(ApiError) -> SeedError + '_ {
    move |error| SeedError::Invalid {
        what: what.to_owned(),
        error,
    }
}

/// A request body, parsed as the API parses it.
fn body<T: serde::de::DeserializeOwned>(what: &str, value: &Value) -> Result<T, SeedError> {
    shared::body::parse_json(value.to_string().as_bytes()).map_err(invalid(what))
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
    result: Result<T, ApiError>,
    exists: impl Future<Output = Result<Option<T>, ApiError>>,
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
        Err(conflict @ ApiError::Conflict(_)) => match exists.await.map_err(store_error)? {
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
    let result = store.create_child(bank, customer, item, None).await.map(|_| ());
    let exists = async {
        match store.child::<T>(bank, customer, &id).await {
            Ok(_) => Ok(Some(())),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    settle(&what, tally, result, exists).await
}

/// Loads the demo bank into `store`'s table, which must exist.
pub async fn run(store: &Store) -> Result<Report, SeedError> {
    let bank = parse_id("bank", BANK, BankId::parse)?;
    let mut report = Report {
        table: store.table().to_owned(),
        ..Report::default()
    };

    let mut customers: Vec<Customer> = Vec::new();
    for (id, data) in customers_data() {
        let what = format!("customer {id} ({})", data["legal_name"].as_str().unwrap_or_default());
        let mut new = body::<CreateCustomerBody>(&what, &data)?
            .validate()
            .map_err(invalid(&what))?;
        let id = parse_id(&what, id, CustomerId::parse)?;
        new.customer.id = id;
        let result = store.create_customer(new, None).await;
        let exists = async {
            let found = store.get_customer(&id, Read::Latest).await?;
            Ok(found.map(|c| c.item).filter(|c| c.bank_id == bank))
        };
        customers.push(settle(&what, &mut report.customers, result, exists).await?);
    }
    let customer = |id: &str| {
        customers
            .iter()
            .find(|c| c.id.to_string() == id)
            .ok_or_else(|| SeedError::Invalid {
                what: format!("reference to customer {id}"),
                error: ApiError::NotFound("customer"),
            })
    };

    for (n, (owner, data)) in (1..).zip(addresses_data()) {
        let owner = customer(owner)?;
        let what = format!("address {n}");
        let mut address = body::<CreateAddressBody>(&what, &data)?
            .validate(owner.id)
            .map_err(invalid(&what))?;
        address.customer_address_id = parse_id(&what, &fixed(2, n), CustomerAddressId::parse)?;
        child(store, &bank, &owner.id, address, &mut report.addresses).await?;
    }

    for (n, (owner, data)) in (1..).zip(handles_data()) {
        let owner = customer(owner)?;
        let what = format!("social media handle {n}");
        let mut handle = body::<AddSocialMediaHandleBody>(&what, &data)?
            .validate(&owner.id, owner)
            .map_err(invalid(&what))?;
        handle.social_media_handle_id = parse_id(&what, &fixed(3, n), SocialMediaHandleId::parse)?;
        child(store, &bank, &owner.id, handle, &mut report.social_media_handles).await?;
    }

    for (n, (owner, data)) in (1..).zip(tax_residences_data()) {
        let owner = customer(owner)?;
        let what = format!("tax residence {n}");
        let mut residence = body::<CreateTaxResidenceBody>(&what, &data)?
            .validate(&bank, &owner.id)
            .map_err(invalid(&what))?;
        residence.tax_residence_id = parse_id(&what, &fixed(4, n), TaxResidenceId::parse)?;
        child(store, &bank, &owner.id, residence, &mut report.tax_residences).await?;
    }

    for (n, (owner, data)) in (1..).zip(credit_limit_orders_data()) {
        let owner = customer(owner)?;
        let what = format!("credit limit order {n}");
        let mut order = body::<CreateCreditLimitOrderBody>(&what, &data)?
            .validate(&bank, &owner.id)
            .map_err(invalid(&what))?;
        order.credit_limit_order_id = parse_id(&what, &fixed(5, n), CreditLimitOrderId::parse)?;
        child(store, &bank, &owner.id, order, &mut report.credit_limit_orders).await?;
    }

    for (n, data) in (1..).zip(crm_events_data()) {
        let what = format!("CRM event {n}");
        let mut event = body::<CreateCrmEventBody>(&what, &data)?
            .validate(&bank)
            .map_err(invalid(&what))?;
        event.id = parse_id(&what, &fixed(6, n), CrmEventId::parse)?;
        let result = store.create_crm_event(&bank, &event, None).await.map(|_| ());
        let exists = async {
            let out = store
                .client()
                .get_item()
                .table_name(store.table())
                .set_key(Some(shared::keys::crm_event(&bank, event.id).to_map()))
                .projection_expression("pk")
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk_error)?;
            Ok(out.item.map(|_| ()))
        };
        settle(&what, &mut report.crm_events, result, exists).await?;
    }

    for (n, (user, owner)) in (1..).zip(links_data()) {
        let what = format!("link of user {user} to customer {owner}");
        let data = json!({"user_id": user, "customer_id": owner});
        let mut link = body::<CreateLinkBody>(&what, &data)?
            .validate(&bank)
            .map_err(invalid(&what))?;
        link.user_customer_link_id = parse_id(&what, &fixed(7, n), UserCustomerLinkId::parse)?;
        let user = parse_id(&what, user, UserId::parse)?;
        let result = store.create_link(&bank, &link, None).await;
        let exists = async {
            let linked = store.is_linked(&user, &bank, &link.customer_id).await?;
            Ok(linked.then_some(()))
        };
        settle(&what, &mut report.user_customer_links, result, exists).await?;
    }

    Ok(report)
}

/// The customers, as `POST /v1/customers` bodies.
fn customers_data() -> Vec<(&'static str, Value)> {
    vec![
        (
            ALICE,
            json!({
                "bank_id": BANK, "customer_number": "100200300401", "title": "Ms",
                "legal_name": "Alice Whitfield", "mobile_phone_number": "+44 7700 900123",
                "email": "alice.whitfield@example.com", "date_of_birth": "1986-04-12",
                "face_image": {"url": "https://images.example.com/faces/alice-whitfield.jpg", "date": "2024-01-15"},
                "relationship_status": "Married", "dob_of_dependents": ["2015-06-02", "2018-09-23"],
                "credit_rating": {"rating": "A", "source": "Experian"},
                "credit_limit": {"cur": "GBP", "num": "5000.00"},
                "highest_education_attained": "Master's degree", "employment_status": "Self-employed",
                "last_ok_date": "2025-03-01", "branchId": "london-soho"
            }),
        ),
        (
            WHITFIELD_LTD,
            json!({
                "bank_id": BANK, "customer_number": "100200300402",
                "legal_name": "Whitfield Botanicals Ltd", "mobile_phone_number": "+44 20 7946 0321",
                "email": "accounts@whitfield-botanicals.example",
                "credit_rating": {"rating": "BBB", "source": "Dun & Bradstreet"},
                "credit_limit": {"cur": "GBP", "num": "25000.00"},
                "employment_status": "Company", "last_ok_date": "2025-02-10", "branchId": "london-soho"
            }),
        ),
        (
            JONAS,
            json!({
                "bank_id": BANK, "customer_number": "100200300403", "title": "Mr",
                "legal_name": "Jonas Becker", "mobile_phone_number": "+49 151 2345 6789",
                "email": "jonas.becker@example.net", "date_of_birth": "1979-11-03",
                "relationship_status": "Single",
                "credit_rating": {"rating": "AA", "source": "SCHUFA"},
                "credit_limit": {"cur": "EUR", "num": "12000.00"},
                "highest_education_attained": "Diplom-Ingenieur", "employment_status": "Employed",
                "last_ok_date": "2025-01-20", "branchId": "berlin-mitte"
            }),
        ),
        (
            CAMILLE,
            json!({
                "bank_id": BANK, "customer_number": "100200300404", "title": "Mme",
                "legal_name": "Camille Laurent", "mobile_phone_number": "+33 6 12 34 56 78",
                "email": "camille.laurent@example.org", "date_of_birth": "1992-07-21",
                "relationship_status": "Civil partnership", "dob_of_dependents": ["2021-03-14"],
                "credit_rating": {"rating": "A-", "source": "Banque de France"},
                "credit_limit": {"cur": "EUR", "num": "8000.00"},
                "highest_education_attained": "Master's degree", "employment_status": "Employed",
                "last_ok_date": "2025-04-02", "branchId": "paris-opera"
            }),
        ),
        (
            MARCUS,
            json!({
                "bank_id": BANK, "customer_number": "100200300405", "title": "Mr",
                "legal_name": "Marcus Johnson", "mobile_phone_number": "+1 415 555 0142",
                "email": "marcus.johnson@example.com", "date_of_birth": "1974-02-28",
                "face_image": {"url": "https://images.example.com/faces/marcus-johnson.jpg"},
                "relationship_status": "Divorced", "dob_of_dependents": ["2004-12-01", "2007-08-19"],
                "credit_rating": {"rating": "742", "source": "FICO Score 8"},
                "credit_limit": {"cur": "USD", "num": "15000.00"},
                "highest_education_attained": "Bachelor's degree", "employment_status": "Employed",
                "last_ok_date": "2024-11-30", "branchId": "sf-market-st"
            }),
        ),
        (
            PRIYA,
            json!({
                "bank_id": BANK, "customer_number": "100200300406", "title": "Dr",
                "legal_name": "Priya Raman", "mobile_phone_number": "+44 7700 900456",
                "email": "priya.raman@example.org", "date_of_birth": "1990-09-15",
                "relationship_status": "Single",
                "credit_rating": {"rating": "AA", "source": "Equifax"},
                "credit_limit": {"cur": "GBP", "num": "7500.00"},
                "highest_education_attained": "Doctorate", "employment_status": "Employed",
                "last_ok_date": "2025-03-18", "branchId": "manchester-spinningfields"
            }),
        ),
        (
            SOFIA,
            json!({
                "bank_id": BANK, "customer_number": "100200300407", "title": "Sig.ra",
                "legal_name": "Sofia Rossi", "mobile_phone_number": "+39 347 123 4567",
                "email": "sofia.rossi@example.net", "date_of_birth": "1983-05-30",
                "relationship_status": "Married", "dob_of_dependents": ["2012-10-05"],
                "credit_rating": {"rating": "A", "source": "CRIF"},
                "credit_limit": {"cur": "EUR", "num": "10000.00"},
                "highest_education_attained": "Laurea magistrale", "employment_status": "Employed",
                "last_ok_date": "2025-02-27", "branchId": "milano-duomo"
            }),
        ),
        (
            KENJI,
            json!({
                "bank_id": BANK, "customer_number": "100200300408", "title": "Mr",
                "legal_name": "Kenji Watanabe", "mobile_phone_number": "+1 212 555 0178",
                "email": "kenji.watanabe@example.com", "date_of_birth": "1968-12-08",
                "relationship_status": "Married",
                "credit_rating": {"rating": "A+", "source": "TransUnion"},
                "credit_limit": {"cur": "USD", "num": "40000.00"},
                "highest_education_attained": "MBA", "employment_status": "Retired",
                "last_ok_date": "2025-04-11", "branchId": "nyc-fifth-avenue"
            }),
        ),
    ]
}

/// `POST /v1/customers/{CustomerID}/address` bodies, by customer.
fn addresses_data() -> Vec<(&'static str, Value)> {
    vec![
        (
            ALICE,
            json!({"line_1": "14 Lavender Court", "line_2": "Clapham", "city": "London", "county": "Greater London",
                   "postcode": "SW4 7AX", "country_code": "GB", "tags": ["home"], "status": "current"}),
        ),
        (
            ALICE,
            json!({"line_1": "Flat 3", "line_2": "22 Orchard Road", "city": "Bristol", "postcode": "BS6 5TJ",
                   "country_code": "GB", "tags": ["home"], "status": "previous"}),
        ),
        (
            WHITFIELD_LTD,
            json!({"line_1": "Unit 5, Greenhouse Yard", "line_2": "120 Cable Street", "city": "London",
                   "postcode": "E1 8JY", "country_code": "GB", "tags": ["registered-office", "billing"],
                   "status": "current"}),
        ),
        (
            JONAS,
            json!({"line_1": "Kastanienallee 41", "city": "Berlin", "state": "Berlin", "postcode": "10435",
                   "country_code": "DE", "tags": ["home"], "status": "current"}),
        ),
        (
            CAMILLE,
            json!({"line_1": "18 rue des Martyrs", "line_2": "Bâtiment B", "city": "Paris", "postcode": "75009",
                   "country_code": "FR", "tags": ["home"], "status": "current"}),
        ),
        (
            MARCUS,
            json!({"line_1": "2150 Lombard Street", "line_2": "Apt 4C", "city": "San Francisco", "state": "CA",
                   "postcode": "94123", "country_code": "US", "tags": ["home", "mailing"], "status": "current"}),
        ),
        (
            PRIYA,
            json!({"line_1": "7 Ancoats Mill", "line_2": "Redhill Street", "city": "Manchester",
                   "county": "Greater Manchester", "postcode": "M4 5BA", "country_code": "GB", "tags": ["home"],
                   "status": "current"}),
        ),
        (
            SOFIA,
            json!({"line_1": "Via Solferino 12", "city": "Milano", "state": "Lombardia", "postcode": "20121",
                   "country_code": "IT", "tags": ["home"], "status": "current"}),
        ),
        (
            KENJI,
            json!({"line_1": "301 East 64th Street", "line_2": "Apt 12B", "city": "New York", "state": "NY",
                   "postcode": "10065", "country_code": "US", "tags": ["home"], "status": "current"}),
        ),
        (
            KENJI,
            json!({"line_1": "2-14-3 Jingumae", "line_2": "Shibuya-ku", "city": "Tokyo", "postcode": "150-0001",
                   "country_code": "JP", "tags": ["second-home"], "status": "current"}),
        ),
    ]
}

/// `POST /v1/customers/{CustomerID}/social_media_handles` bodies, by customer.
fn handles_data() -> Vec<(&'static str, Value)> {
    vec![
        (
            ALICE,
            json!({"type": "linkedin", "handle": "alice-whitfield", "date_added": "2024-02-03T10:15:00Z",
                   "date_activated": "2024-02-03T10:20:00Z"}),
        ),
        (
            ALICE,
            json!({"type": "instagram", "handle": "@alicegrowsthings", "date_added": "2024-05-11T18:40:00Z"}),
        ),
        (
            WHITFIELD_LTD,
            json!({"type": "instagram", "handle": "@whitfieldbotanicals", "date_added": "2023-09-01T09:00:00Z",
                   "date_activated": "2023-09-01T09:05:00Z"}),
        ),
        (
            JONAS,
            json!({"type": "x", "handle": "@jbecker_dev", "date_added": "2024-07-19T08:30:00Z"}),
        ),
        (
            CAMILLE,
            json!({"type": "linkedin", "handle": "camille-laurent-design", "date_added": "2024-10-02T14:00:00Z",
                   "date_activated": "2024-10-02T14:12:00Z"}),
        ),
        (
            MARCUS,
            json!({"type": "github", "handle": "mjohnson-sf", "date_added": "2023-12-12T21:05:00Z"}),
        ),
        (
            SOFIA,
            json!({"type": "facebook", "handle": "sofia.rossi.mi", "date_added": "2024-03-08T12:00:00Z",
                   "date_activated": "2024-03-09T07:45:00Z"}),
        ),
    ]
}

/// `POST .../customers/{CustomerID}/tax-residences` bodies, by customer.
fn tax_residences_data() -> Vec<(&'static str, Value)> {
    vec![
        (ALICE, json!({"domain": "GB", "tax_number": "QQ 12 34 56 C"})),
        (WHITFIELD_LTD, json!({"domain": "GB", "tax_number": "GB 123 4567 89"})),
        (JONAS, json!({"domain": "DE", "tax_number": "12/345/67890"})),
        (CAMILLE, json!({"domain": "FR", "tax_number": "30 23 217 600 053"})),
        (MARCUS, json!({"domain": "US", "tax_number": "123-45-6789"})),
        (PRIYA, json!({"domain": "GB", "tax_number": "QQ 65 43 21 A"})),
        (SOFIA, json!({"domain": "IT", "tax_number": "RSSSFO83E70F205X"})),
        (KENJI, json!({"domain": "US", "tax_number": "987-65-4320"})),
        (KENJI, json!({"domain": "JP", "tax_number": "1234 5678 9012"})),
    ]
}

/// `POST .../customers/{CustomerID}/credit_limit/requests` bodies, by customer.
fn credit_limit_orders_data() -> Vec<(&'static str, Value)> {
    vec![
        (
            ALICE,
            json!({"requested_current_rate_amount1": "7500.00", "requested_current_valid_end_date": "2027-03-31",
                   "current_credit_documentation": "Self-assessment tax returns 2023/24 and 2024/25; \
                                                    bank statements Jan-Mar 2026."}),
        ),
        (
            WHITFIELD_LTD,
            json!({"requested_current_rate_amount1": "40000.00", "requested_current_rate_amount2": "25000.00",
                   "requested_current_valid_end_date": "2027-06-30",
                   "current_credit_documentation": "Filed accounts FY2025; management accounts Q1 2026.",
                   "temporary_requested_current_amount": "60000.00",
                   "requested_temporary_valid_end_date": "2026-12-31",
                   "temporary_credit_documentation": "Seasonal stock purchase for the Christmas market: \
                                                      supplier invoices attached."}),
        ),
        (
            JONAS,
            json!({"requested_current_rate_amount1": "15000.00", "requested_current_valid_end_date": "2027-01-31",
                   "current_credit_documentation": "Gehaltsnachweise Oktober-Dezember; SCHUFA-Auskunft."}),
        ),
        (
            MARCUS,
            json!({"requested_current_rate_amount1": "20000.00",
                   "temporary_requested_current_amount": "25000.00",
                   "requested_temporary_valid_end_date": "2026-09-30",
                   "temporary_credit_documentation": "Home renovation quote from contractor, dated 2026-05-02."}),
        ),
        (
            KENJI,
            json!({"requested_current_rate_amount1": "50000.00", "requested_current_valid_end_date": "2027-12-31",
                   "current_credit_documentation": "Pension statements and brokerage account summary."}),
        ),
    ]
}

/// `POST /v1/banks/{BankID}/crm-events` bodies.
fn crm_events_data() -> Vec<Value> {
    vec![
        json!({"customer_id": ALICE, "category": "Onboarding", "channel": "Branch", "result": "Completed",
               "detail": "Account opening and KYC documents checked at the Soho branch.",
               "scheduled_date": "2025-01-14T10:00:00Z", "actual_date": "2025-01-14T10:05:00Z"}),
        json!({"customer_id": WHITFIELD_LTD, "category": "Credit review", "channel": "Video call",
               "result": "Follow-up scheduled",
               "detail": "Annual facility review with the director; asked for Q1 management accounts.",
               "scheduled_date": "2026-04-08T14:30:00Z", "actual_date": "2026-04-08T14:32:00Z"}),
        json!({"customer_id": JONAS, "category": "Product offer", "channel": "Email", "result": "Interested",
               "detail": "Sent the green mortgage brochure after his enquiry about energy-efficient homes.",
               "actual_date": "2026-02-19T09:12:00Z"}),
        json!({"customer_id": CAMILLE, "category": "Complaint", "channel": "Phone", "result": "Resolved",
               "detail": "Card declined abroad: travel notice added, fee refunded.",
               "actual_date": "2026-03-03T16:45:00Z"}),
        json!({"customer_id": MARCUS, "category": "Credit review", "channel": "Phone", "result": "No answer",
               "detail": "Call about the temporary limit increase; left a voicemail.",
               "scheduled_date": "2026-05-06T17:00:00Z", "actual_date": "2026-05-06T17:02:00Z"}),
        json!({"customer_id": MARCUS, "category": "Credit review", "channel": "Phone",
               "result": "Follow-up scheduled",
               "detail": "Discussed the renovation budget; documents to be uploaded this week.",
               "scheduled_date": "2026-05-08T16:00:00Z", "actual_date": "2026-05-08T16:04:00Z"}),
        json!({"customer_id": PRIYA, "category": "Onboarding", "channel": "Mobile app", "result": "Completed",
               "detail": "Digital onboarding with video identification.",
               "actual_date": "2025-11-21T19:30:00Z"}),
        json!({"customer_id": SOFIA, "category": "Product offer", "channel": "Branch",
               "detail": "Appointment to review the children's savings plan.",
               "scheduled_date": "2026-12-10T11:00:00Z"}),
        json!({"customer_id": KENJI, "category": "Annual review", "channel": "Branch", "result": "Completed",
               "detail": "Retirement income review; moved part of the savings to a 12-month term deposit.",
               "scheduled_date": "2026-01-22T15:00:00Z", "actual_date": "2026-01-22T15:10:00Z"}),
        json!({"customer_id": KENJI, "category": "Address change", "channel": "Email", "result": "Completed",
               "detail": "Added the Tokyo address for the winter months.",
               "actual_date": "2026-02-02T08:20:00Z"}),
    ]
}

/// `(user, customer)` links. `dev-user` manages every customer; `alice` is a customer herself and
/// runs Whitfield Botanicals; `bob` is Marcus Johnson's online banking login.
fn links_data() -> Vec<(&'static str, &'static str)> {
    let everyone = [ALICE, WHITFIELD_LTD, JONAS, CAMILLE, MARCUS, PRIYA, SOFIA, KENJI];
    let mut links: Vec<_> = everyone.iter().map(|c| ("dev-user", *c)).collect();
    links.extend([("alice", ALICE), ("alice", WHITFIELD_LTD), ("bob", MARCUS)]);
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_ids_are_canonical_and_distinct() {
        let mut ids: Vec<String> = [ALICE, WHITFIELD_LTD, JONAS, CAMILLE, MARCUS, PRIYA, SOFIA, KENJI]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for kind in 2..=7 {
            for n in 1..=20 {
                ids.push(fixed(kind, n));
            }
        }
        for id in &ids {
            assert!(CustomerId::parse(id).is_ok(), "{id}");
            assert_eq!(&id[14..15], "7", "UUIDv7-shaped: {id}");
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn users_match_the_links() {
        for (user, count) in USERS {
            assert_eq!(links_data().iter().filter(|(u, _)| u == user).count(), *count, "{user}");
        }
        assert_eq!(USERS.iter().map(|(_, n)| n).sum::<usize>(), links_data().len());
    }
}

//! What the functions run against: a table created from `template.yaml` in DynamoDB Local, seeded
//! with the fixture that `events/` names (the same items, through the same store, as
//! `tests/tests/events`), the events themselves, and which function serves which group.

use serde_json::Value;
use shared::AppState;
use shared::domain::audit::Audit;
use shared::domain::ids::{BankId, CustomerId, UserCustomerLinkId, UserId};
use shared::domain::link::UserCustomerLink;
use shared::domain::timestamp::Timestamp;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The groups' fixture items (addresses, handles, tax residences, orders, CRM events), shared
/// with the events test so that the two cannot drift apart.
#[path = "../../tests/tests/events/seed/mod.rs"]
mod event_seed;

/// The customers of the events' fixture (as in `tests/tests/events/main.rs`): bank, id, number, name.
pub const CUSTOMERS: [(&str, &str, &str, &str); 3] = [
    (
        "bank-1",
        "0190a0b0-0000-7000-8000-000000000001",
        "C-0001",
        "Ada Lovelace",
    ),
    (
        "bank-1",
        "0190a0b0-0000-7000-8000-000000000002",
        "C-0002",
        "Grace Hopper",
    ),
    (
        "bank-2",
        "0190a0b0-0000-7000-8000-000000000003",
        "C-0003",
        "Alan Turing",
    ),
];
/// The fixture's link: user, bank, customer.
pub const LINK: (&str, &str, &str) = ("linked-user", "bank-1", "0190a0b0-0000-7000-8000-000000000001");
/// The customer that `GET` customer, the baseline and the load generators read.
pub const CUSTOMER_ID: &str = CUSTOMERS[0].1;
pub const BANK_ID: &str = CUSTOMERS[0].0;

/// Creates `state`'s table from the template and writes the whole fixture.
pub async fn create_and_seed(state: &AppState, template: &Path) -> Result<(), String> {
    let template = local_api::template::Template::load(template).map_err(|e| e.to_string())?;
    local_api::table::ensure_table(state.store.client(), state.store.table(), &template.table)
        .await
        .map_err(|e| e.to_string())?;
    // The events' own fixture customers (a credit limit granted before: the sample events lower it).
    for (bank, id, number, name) in CUSTOMERS {
        event_seed::customer(state, bank, id, number, name).await;
    }
    let (user, bank, customer) = LINK;
    let link = UserCustomerLink {
        user_customer_link_id: UserCustomerLinkId::new(),
        customer_id: CustomerId::parse(customer).map_err(|e| format!("{e:?}"))?,
        user_id: UserId::parse(user).map_err(|e| format!("{e:?}"))?,
        date_inserted: Timestamp::now(),
        is_active: true,
    };
    let bank = BankId::parse(bank).map_err(|e| format!("{e:?}"))?;
    state
        .store
        .create_link(&bank, &link, None, &Audit::tool("bench", "fixture"))
        .await
        .map_err(|e| format!("seed the link: {e:?}"))?;
    event_seed::seed_groups(state).await;
    Ok(())
}

/// A function of the template: its resource name (`.aws-sam/build/<resource>/bootstrap`) and its
/// group (the last part of its `CodeUri`, the folder of its events).
#[derive(Debug, Clone)]
pub struct Function {
    pub resource: String,
    pub group: String,
}

/// The template's functions, in template order.
pub fn functions(template: &Path) -> Result<Vec<Function>, String> {
    let text = std::fs::read_to_string(template).map_err(|e| format!("{}: {e}", template.display()))?;
    let doc: serde_norway::Value = serde_norway::from_str(&text).map_err(|e| e.to_string())?;
    let resources = doc
        .get("Resources")
        .and_then(serde_norway::Value::as_mapping)
        .ok_or("template.yaml has no Resources")?;
    let mut functions = Vec::new();
    for (name, resource) in resources {
        if resource.get("Type").and_then(serde_norway::Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap_or_default().to_owned();
        let code_uri = resource
            .get("Properties")
            .and_then(|p| p.get("CodeUri"))
            .and_then(serde_norway::Value::as_str)
            .ok_or_else(|| format!("{name} has no CodeUri"))?;
        let group = code_uri
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        functions.push(Function { resource: name, group });
    }
    Ok(functions)
}

/// One file of `events/<group>/`.
#[derive(Debug, Clone)]
pub struct Event {
    pub group: String,
    pub name: String,
    pub expected: u16,
    pub method: String,
    pub resource: String,
    pub json: Value,
}

impl Event {
    /// The event to send as invocation `n`. A `POST` whose body names a `user_id` (a user customer
    /// link) gets a user of its own each time, so that every invocation creates a link instead
    /// of hitting the previous one (409).
    pub fn render(&self, n: u64) -> Vec<u8> {
        let mut json = self.json.clone();
        if self.method == "POST"
            && let Some(body) = json["body"].as_str()
            && let Ok(Value::Object(mut body)) = serde_json::from_str::<Value>(body)
            && let Some(user) = body.get("user_id").and_then(Value::as_str)
        {
            let user = format!("{user}-bench-{n}");
            body.insert("user_id".into(), Value::String(user));
            json["body"] = Value::String(Value::Object(body).to_string());
        }
        serde_json::to_vec(&json).unwrap_or_default()
    }

    /// The same event with an `Idempotency-Key` header.
    pub fn with_idempotency_key(&self, key: &str) -> Event {
        let mut event = self.clone();
        event.name = format!("{} + Idempotency-Key", self.name);
        event.json["headers"]["Idempotency-Key"] = Value::String(key.to_owned());
        event.json["multiValueHeaders"]["Idempotency-Key"] = serde_json::json!([key]);
        event
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.expected)
    }
}

/// A stream event of `events/<group>/` whose every record succeeds (`{"batch_item_failures": 0}`
/// in its expected.json), if the group has one: the changes function's input.
pub fn stream_event(root: &Path, group: &str) -> Result<Option<(String, Value)>, String> {
    let dir: PathBuf = root.join("events").join(group);
    let expected: BTreeMap<String, Value> = read_json(&dir.join("expected.json"))
        .and_then(|v| serde_json::from_value(v).map_err(|e| format!("events/{group}/expected.json: {e}")))?;
    match expected.into_iter().find(|(_, want)| want["batch_item_failures"] == 0) {
        Some((name, _)) => Ok(Some((name.clone(), read_json(&dir.join(&name))?))),
        None => Ok(None),
    }
}

/// The stream event as invocation `n`: its records' sequence numbers made new, so that every
/// invocation is a first delivery (a history entry and an event each), not a redelivery.
pub fn render_stream(event: &Value, n: u64) -> Vec<u8> {
    let mut event = event.clone();
    for (i, record) in event["Records"].as_array_mut().into_iter().flatten().enumerate() {
        record["dynamodb"]["SequenceNumber"] = Value::String(format!("9{n:012}{i:06}"));
    }
    serde_json::to_vec(&event).unwrap_or_default()
}

/// Every event of `events/<group>/` with its expected status, sorted by file name.
pub fn events(root: &Path, group: &str) -> Result<Vec<Event>, String> {
    let dir: PathBuf = root.join("events").join(group);
    let expected_path = dir.join("expected.json");
    let expected: BTreeMap<String, Value> = read_json(&expected_path)
        .and_then(|v| serde_json::from_value(v).map_err(|e| format!("{}: {e}", expected_path.display())))?;
    let mut events = Vec::new();
    for (name, want) in expected {
        let status = want.as_u64().or_else(|| want["status"].as_u64()).unwrap_or_default() as u16;
        let json = read_json(&dir.join(&name))?;
        events.push(Event {
            group: group.to_owned(),
            method: json["httpMethod"].as_str().unwrap_or_default().to_owned(),
            resource: json["resource"].as_str().unwrap_or_default().to_owned(),
            name,
            expected: status,
            json,
        });
    }
    Ok(events)
}

/// The event a group's function is timed with: its shortest-named successful `GET`, else its
/// shortest-named successful event.
pub fn timing_event(events: &[Event]) -> Option<&Event> {
    let shortest = |get: bool| {
        events
            .iter()
            .filter(|e| e.is_success() && (!get || e.method == "GET"))
            .min_by_key(|e| (e.name.len(), e.name.clone()))
    };
    shortest(true).or_else(|| shortest(false))
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The status code of a `lambda_http` answer (`{"statusCode": 200, ...}`).
pub fn status_of(answer: &[u8]) -> Option<u16> {
    serde_json::from_slice::<Value>(answer).ok()?["statusCode"]
        .as_u64()
        .map(|s| s as u16)
}

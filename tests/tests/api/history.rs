//! Who changed what: every write gives one history entry (made from the table's stream by the
//! changes function) and one change event without personal values.

use crate::common::{ALL_SCOPES, Api, Reply};
use serde_json::{Value, json};
use std::time::Duration;

const BANK: &str = "history-bank";

/// The customer's history once it has `count` entries (the stream is read asynchronously).
async fn settled(api: &Api, path: &str, token: &str, count: usize) -> Vec<Value> {
    for _ in 0..150 {
        let page = api.get(&format!("{path}?limit=100"), token).await;
        page.expect(200);
        let entries = page.body["history"].as_array().cloned().unwrap_or_default();
        if entries.len() >= count {
            assert_eq!(entries.len(), count, "exactly one entry per change: {entries:#?}");
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the history of {path} did not reach {count} entries");
}

/// The API's published events once there are `count` (an entry is written before its event is
/// published, so the events may trail the history by a moment).
pub async fn events(api: &Api, count: usize) -> Vec<Value> {
    for _ in 0..150 {
        let text = std::fs::read_to_string(&api.changes.events_file).unwrap_or_default();
        if text.lines().count() >= count {
            let events: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).expect("a JSON line"))
                .collect();
            assert_eq!(events.len(), count, "exactly one event per change: {text}");
            return events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {count} events were published");
}

fn find<'a>(entries: &'a [Value], resource: &str, operation: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["resource"] == resource && e["operation"] == operation)
        .unwrap_or_else(|| panic!("no {operation} of {resource} in {entries:#?}"))
}

fn field<'a>(entry: &'a Value, name: &str) -> &'a Value {
    entry["changes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["field"] == name))
        .unwrap_or_else(|| panic!("{name} not among the changes of {entry:#}"))
}

// contract: C-HIST-2, C-HIST-3
#[tokio::test]
async fn every_write_gives_one_entry_with_its_actor_fields_and_values_and_one_event() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let clerk = api.token("clerk-2", &[BANK], ALL_SCOPES);
    let created = api
        .post(
            "/v1/customers",
            &staff,
            &json!({"bank_id": BANK, "legal_name": "Ada Lovelace", "email": "ada@example.com"}),
        )
        .await;
    created.expect(201);
    let id = created.body["customer_id"].as_str().expect("id").to_owned();
    let base = format!("/v1/banks/{BANK}/customers/{id}");
    let history = format!("{base}/history");
    let updated: Reply = api
        .put(
            &format!("{base}/email"),
            &clerk,
            &json!({"email": "countess@example.com"}),
        )
        .await;
    updated.expect(200);
    let address = api
        .post(
            &format!("/v1/customers/{id}/address"),
            &staff,
            &json!({"line_1": "12 St James Square", "city": "London", "country_code": "GB"}),
        )
        .await;
    address.expect(201);
    let address_id = address.body["customer_address_id"].as_str().expect("id").to_owned();
    api.put(
        &format!("{base}/addresses/{address_id}"),
        &staff,
        &json!({"city": "Bath"}),
    )
    .await
    .expect(200);
    api.send(
        reqwest::Method::DELETE,
        &format!("{base}/addresses/{address_id}"),
        Some(&clerk),
        None,
    )
    .await
    .expect(204);
    api.post(
        &format!("/v1/banks/{BANK}/user_customer_links"),
        &staff,
        &json!({"user_id": "linked-user", "customer_id": id}),
    )
    .await
    .expect(201);
    api.post(
        &format!("/v1/banks/{BANK}/crm-events"),
        &staff,
        &json!({"customer_id": id, "category": "call"}),
    )
    .await
    .expect(201);

    let entries = settled(&api, &history, &staff, 7).await;
    let times: Vec<i64> = entries
        .iter()
        .map(|e| e["changed_at"]["seconds"].as_i64().expect("seconds"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");

    let create = find(&entries, "customer", "CREATE");
    assert_eq!(create["changed_by"], format!("staff-of-{BANK}"));
    assert_eq!(
        create["request_id"],
        created.headers["x-request-id"].to_str().expect("ascii")
    );
    assert_eq!(field(create, "legal_name")["new"], "Ada Lovelace");
    let update = find(&entries, "customer", "UPDATE");
    assert_eq!(update["changed_by"], "clerk-2");
    assert_eq!(
        update["request_id"],
        updated.headers["x-request-id"].to_str().expect("ascii")
    );
    assert_eq!(
        (&field(update, "email")["old"], &field(update, "email")["new"]),
        (&json!("ada@example.com"), &json!("countess@example.com"))
    );
    assert_eq!(
        update["changes"].as_array().map(Vec::len),
        Some(1),
        "only the email changed: {update:#}"
    );
    let moved = find(&entries, "customer_address", "UPDATE");
    assert_eq!(
        (&field(moved, "city")["old"], &field(moved, "city")["new"]),
        (&json!("London"), &json!("Bath"))
    );
    let removed = find(&entries, "customer_address", "DELETE");
    assert_eq!(
        (removed["changed_by"].as_str(), removed["resource_id"].as_str()),
        (Some("clerk-2"), Some(address_id.as_str()))
    );
    assert_eq!(field(removed, "city")["new"], Value::Null);
    find(&entries, "customer_address", "CREATE");
    find(&entries, "user_customer_link", "CREATE");
    find(&entries, "crm_event", "CREATE");

    // One event per entry, named per resource and operation, carrying field names and never values.
    let published = events(&api, 7).await;
    let mut names: Vec<&str> = published.iter().filter_map(|e| e["DetailType"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "CrmEventCreated",
            "CustomerAddressAdded",
            "CustomerAddressRemoved",
            "CustomerAddressUpdated",
            "CustomerCreated",
            "CustomerUpdated",
            "UserCustomerLinkAdded"
        ]
    );
    let text = std::fs::read_to_string(&api.changes.events_file).expect("events");
    for personal in [
        "Ada Lovelace",
        "ada@example.com",
        "countess@example.com",
        "St James",
        "London",
        "Bath",
    ] {
        assert!(!text.contains(personal), "an event holds {personal:?}: {text}");
    }
    // Each as docs/events/change-event.schema.json describes it.
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/events/change-event.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).expect("the schema")).expect("JSON");
    let detail = &schema["$defs"]["Detail"];
    let mut required: Vec<&str> = detail["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    required.sort_unstable();
    for event in &published {
        assert_eq!(event["Source"], schema["properties"]["source"]["const"]);
        let names = schema["properties"]["detail-type"]["enum"].as_array().expect("enum");
        assert!(
            names.contains(&event["DetailType"]),
            "{} is not in the schema",
            event["DetailType"]
        );
        let mut keys: Vec<&str> = event["Detail"]
            .as_object()
            .expect("detail")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, required, "the detail's fields are the schema's");
        let resources = detail["properties"]["resource"]["enum"].as_array().expect("enum");
        assert!(resources.contains(&event["Detail"]["resource"]));
    }
    let email_event = published
        .iter()
        .find(|e| e["DetailType"] == "CustomerUpdated")
        .expect("CustomerUpdated");
    assert_eq!(email_event["Detail"]["fields"], json!(["email"]));
    assert_eq!(email_event["Detail"]["change_id"], update["change_id"]);
    assert_eq!(email_event["Source"], "customer-api");

    // Filters: by resource, and by time.
    let addresses = api.get(&format!("{history}?resource=customer_address"), &staff).await;
    addresses.expect(200);
    assert_eq!(addresses.body["history"].as_array().map(Vec::len), Some(3));
    let future = api.get(&format!("{history}?from_date=2999-01-01"), &staff).await;
    assert_eq!(future.body["history"], json!([]));
    // Pages of 2, each entry once, in the same order.
    let pages = api.pages(&format!("{history}?limit=2"), &staff).await;
    let paged: Vec<Value> = pages
        .iter()
        .flat_map(|p| p.body["history"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(paged, entries);
}

// contract: C-HIST-2
#[tokio::test]
async fn only_staff_of_the_bank_read_a_history() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let id = api.create_customer(BANK, json!({})).await;
    api.post(
        &format!("/v1/banks/{BANK}/user_customer_links"),
        &staff,
        &json!({"user_id": "linked-user", "customer_id": id}),
    )
    .await
    .expect(201);
    let history = format!("/v1/banks/{BANK}/customers/{id}/history");
    let linked = api.token("linked-user", &[], ALL_SCOPES);
    api.get(&format!("/v1/banks/{BANK}/customers/{id}"), &linked)
        .await
        .expect(200);
    api.get(&history, &linked).await.expect(403);
    api.get(&history, &api.staff("another-bank")).await.expect(403);
    api.get(&history, &api.token("writer", &[BANK], "customer.write"))
        .await
        .expect(403);
    api.send(reqwest::Method::GET, &history, None, None).await.expect(401);
    let missing = format!("/v1/banks/{BANK}/customers/01a247cd-0000-7000-8000-000000000000/history");
    api.get(&missing, &staff).await.expect(404);
    let elsewhere = api.create_customer("another-bank", json!({})).await;
    api.get(&format!("/v1/banks/{BANK}/customers/{elsewhere}/history"), &staff)
        .await
        .expect(404);
    let bad = api.get(&format!("{history}?resource=everything"), &staff).await;
    bad.expect(400);
    assert_eq!(bad.fields(), ["resource"]);
    let backwards = api
        .get(&format!("{history}?from_date=2026-02-01&to_date=2026-01-01"), &staff)
        .await;
    assert_eq!(backwards.fields(), ["to_date"]);
    api.get(&format!("{history}?limit=0"), &staff).await.expect(400);

    // A page token is bound to its customer and filters.
    settled(&api, &history, &staff, 2).await;
    let first = api.get(&format!("{history}?limit=1"), &staff).await;
    let token = first.body["next_page_token"].as_str().expect("a next page").to_owned();
    api.get(&format!("{history}?limit=1&page_token={token}"), &staff)
        .await
        .expect(200);
    let other = api.create_customer(BANK, json!({})).await;
    let foreign = format!("/v1/banks/{BANK}/customers/{other}/history?limit=1&page_token={token}");
    assert_eq!(api.get(&foreign, &staff).await.fields(), ["page_token"]);
    let filtered = format!("{history}?limit=1&resource=customer&page_token={token}");
    assert_eq!(api.get(&filtered, &staff).await.fields(), ["page_token"]);
}

/// A stream event for `customer` (a MODIFY of its email), as Lambda delivers it.
fn email_change(customer: &str, sequence: &str) -> Value {
    let image = |version: u64, email: &str| {
        json!({
            "pk": {"S": format!("CUSTOMER#{customer}")}, "sk": {"S": "CUSTOMER"},
            "bank_id": {"S": BANK}, "id": {"S": customer}, "email": {"S": email},
            "version": {"N": version.to_string()}, "changed_by": {"S": "clerk-9"},
            "request_id": {"S": "r-9"}, "changed_at": {"M": {"seconds": {"N": "1800000000"}, "nanos": {"N": "0"}}}
        })
    };
    json!({"Records": [{
        "eventID": format!("e-{sequence}"), "eventName": "MODIFY", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": {"S": format!("CUSTOMER#{customer}")}, "sk": {"S": "CUSTOMER"}},
            "OldImage": image(1, "old@example.com"), "NewImage": image(2, "new@example.com"),
            "SequenceNumber": sequence, "SizeBytes": 300, "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/1"
    }]})
}

// contract: C-HIST-3
#[tokio::test]
async fn a_redelivered_record_writes_and_publishes_nothing_new() {
    let api = Api::start().await;
    let id = api.create_customer(BANK, json!({})).await;
    let dir = local_api::scratch::Scratch::new("history-redelivery").expect("scratch");
    let receiver = local_api::changes::receiver(dir.path()).await.expect("receiver");
    let changes = local_api::changes::in_process(&api.enforcer, &api.state, &receiver).expect("changes");
    let event = email_change(&id, "900000000000000000001");
    let parsed = || serde_json::from_value::<aws_lambda_events::event::dynamodb::Event>(event.clone()).expect("event");

    // As if a first delivery crashed after writing the entry, before publishing its event.
    let record = &parsed().records[0].change;
    let image = |item: &serde_dynamo::Item| {
        serde_dynamo::from_item::<_, serde_json::Map<String, Value>>(item.clone()).expect("an image")
    };
    let (old, new) = (image(&record.old_image), image(&record.new_image));
    let entry = shared::store::history::entry_of("900000000000000000001", Some(&old), Some(&new), None)
        .expect("an entry")
        .expect("a change of the API");
    let recorded = changes.store.record_history(&entry).await.expect("record");
    assert_eq!(recorded, shared::store::history::Recorded::New);
    let change = entry.change.change_id.to_string();
    // Delivered again, three times: published once, one entry.
    for _ in 0..3 {
        let answer = changes.handle(parsed()).await;
        assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    }
    let history = format!("/v1/banks/{BANK}/customers/{id}/history");
    let entries = api.get(&history, &api.staff(BANK)).await.body["history"].clone();
    let copies = entries
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["change_id"] == change.as_str())
        .count();
    assert_eq!(copies, 1, "one entry for three deliveries: {entries:#}");
    let published = std::fs::read_to_string(&receiver.events_file).expect("events");
    assert_eq!(published.matches(&change).count(), 1, "published once: {published}");
}

/// A record the function cannot make an entry of (an item without its bank) fails every time: it
/// goes to the on-failure destination after its retries, and the records after it are done.
// contract: C-HIST-3
#[tokio::test]
async fn a_poison_record_goes_to_the_dead_letters_and_the_stream_moves_on() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let id = api.create_customer(BANK, json!({})).await;
    let broken = shared::domain::ids::CustomerId::new();
    api.state
        .store
        .client()
        .put_item()
        .table_name(api.state.store.table())
        .item(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("CUSTOMER#{broken}")),
        )
        .item("sk", aws_sdk_dynamodb::types::AttributeValue::S("CUSTOMER".into()))
        .send()
        .await
        .expect("put");
    api.put(
        &format!("/v1/banks/{BANK}/customers/{id}/email"),
        &staff,
        &json!({"email": "after@example.com"}),
    )
    .await
    .expect(200);
    let entries = settled(&api, &format!("/v1/banks/{BANK}/customers/{id}/history"), &staff, 2).await;
    assert_eq!(
        entries[0]["operation"], "UPDATE",
        "the record after the poison one is done"
    );
    let dead = std::fs::read_to_string(&api.changes.dead_letters).expect("the dead letters");
    let lines: Vec<Value> = dead.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(lines.len(), 1, "{dead}");
    assert_eq!(lines[0]["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert!(lines[0]["DDBStreamBatchInfo"]["startSequenceNumber"].is_string());
}

/// Each of the eight customer PUTs, and the create of every kind of record (and a tax residence's
/// delete), each give exactly one entry naming the fields it changed.
// contract: C-HIST-2
#[tokio::test]
async fn every_customer_put_and_record_kind_gives_one_entry() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let id = api.create_customer(BANK, json!({})).await;
    let base = format!("/v1/banks/{BANK}/customers/{id}");
    let puts = [
        ("branch", json!({"branch_id": "manchester-2"}), "branch_id"),
        (
            "credit-limit",
            json!({"credit_limit": {"cur": "EUR", "num": "0.00"}}),
            "credit_limit",
        ),
        (
            "credit-rating-and-source",
            json!({"credit_rating": {"rating": "A+", "source": "Equifax"}}),
            "credit_rating",
        ),
        (
            "data",
            json!({"relationship_status": "married", "dependants": 1}),
            "relationship_status",
        ),
        ("email", json!({"email": "a@example.com"}), "email"),
        (
            "identity",
            json!({"legal_name": "Augusta Ada King", "title": "Dr"}),
            "legal_name",
        ),
        (
            "mobile-number",
            json!({"mobile_phone_number": "+44 7700 900123"}),
            "phone_number",
        ),
        ("number", json!({"customer_number": "HIST-NEW-1"}), "customer_number"),
    ];
    for (path, body, _) in &puts {
        api.put(&format!("{base}/{path}"), &staff, body).await.expect(200);
    }
    let records = [
        (
            "handle",
            format!("/v1/customers/{id}/social_media_handles"),
            json!({"type": "x", "handle": "@h"}),
        ),
        (
            "residence",
            format!("{base}/tax-residences"),
            json!({"domain": "GB", "tax_number": "T1"}),
        ),
        (
            "order",
            format!("{base}/credit_limit/requests"),
            json!({"requested_current_rate_amount1": "10"}),
        ),
    ];
    let mut residence = String::new();
    for (what, path, body) in &records {
        let r = api.post(path, &staff, body).await;
        r.expect(201);
        if *what == "residence" {
            residence = r.body["tax_residence_id"].as_str().expect("id").to_owned();
        }
    }
    api.send(
        reqwest::Method::DELETE,
        &format!("{base}/tax_residencies/{residence}"),
        Some(&staff),
        None,
    )
    .await
    .expect(204);

    // The create, 8 updates, 3 records, 1 delete.
    let entries = settled(&api, &format!("{base}/history"), &staff, 13).await;
    let updates: Vec<&Value> = entries
        .iter()
        .filter(|e| e["resource"] == "customer" && e["operation"] == "UPDATE")
        .collect();
    assert_eq!(updates.len(), 8);
    // Newest first: the last PUT is the first update listed.
    for ((path, _, changed), entry) in puts.iter().rev().zip(&updates) {
        let fields: Vec<&str> = entry["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter_map(|c| c["field"].as_str())
            .collect();
        assert!(fields.contains(changed), "PUT {path}: {fields:?}");
    }
    for resource in ["social_media_handle", "tax_residence", "credit_limit_order"] {
        find(&entries, resource, "CREATE");
    }
    find(&entries, "tax_residence", "DELETE");
}

/// The changes function stopped and started again (a new pipeline, which knows nothing of where
/// the first one was): it reads the stream from its start again, recognises every change it has
/// recorded, publishes none of them again, and records what came after.
// contract: C-HIST-3
#[tokio::test]
async fn a_restarted_changes_function_loses_nothing_and_repeats_nothing() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let id = api.create_customer(BANK, json!({})).await;
    let base = format!("/v1/banks/{BANK}/customers/{id}");
    api.put(&format!("{base}/email"), &staff, &json!({"email": "first@example.com"}))
        .await
        .expect(200);
    let before = settled(&api, &format!("{base}/history"), &staff, 2).await;

    let dir = local_api::scratch::Scratch::new("history-restart").expect("scratch");
    let receiver = local_api::changes::receiver(dir.path()).await.expect("receiver");
    let template =
        local_api::template::Template::load(&local_api::template_path().expect("the checkout")).expect("template");
    let symbols = local_api::template::Symbols::new(&template, &[], "us-east-1", api.state.store.table());
    let changes = local_api::changes::in_process(&api.enforcer, &api.state, &receiver).expect("changes");
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT");
    let restarted = local_api::changes::start(
        &template,
        &symbols,
        api.state.store.client().clone(),
        &endpoint,
        api.state.store.table(),
        &receiver,
        local_api::changes::Target::InProcess(changes),
    )
    .expect("a second pipeline");
    api.put(
        &format!("{base}/email"),
        &staff,
        &json!({"email": "second@example.com"}),
    )
    .await
    .expect(200);
    let after = settled(&api, &format!("{base}/history"), &staff, 3).await;
    assert_eq!(
        &after[1..],
        &before[..],
        "the earlier entries, unchanged, after the new one"
    );
    // The second pipeline published only what it recorded first (it may race the first one for
    // the new change; whichever records it publishes it), never the changes recorded before.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let republished = std::fs::read_to_string(&restarted.events_file).unwrap_or_default();
    for entry in &before {
        let change = entry["change_id"].as_str().expect("change id");
        assert!(!republished.contains(change), "{change} published again: {republished}");
    }
}

// contract: C-FOUR-3
#[tokio::test]
async fn a_decision_is_an_update_of_the_order_and_of_the_customer_by_the_checker() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let checker = api.token("history-checker", &[BANK], ALL_SCOPES);
    let id = api
        .create_customer(BANK, json!({"credit_limit": {"cur": "EUR", "num": "0.00"}}))
        .await;
    let base = format!("/v1/banks/{BANK}/customers/{id}");
    let created = api
        .post(
            &format!("{base}/credit_limit/requests"),
            &staff,
            &json!({"requested_current_rate_amount1": "900.00"}),
        )
        .await;
    created.expect(201);
    let order = created.body["credit_limit_order_id"]
        .as_str()
        .expect("order id")
        .to_owned();
    api.post(
        &format!("{base}/credit_limit/request/{order}/approval"),
        &checker,
        &json!({"credit_limit": {"cur": "EUR", "num": "900.00"}, "reason": "verified"}),
    )
    .await
    .expect(200);
    // Customer created, order added, then the decision's two updates.
    let entries = settled(&api, &format!("{base}/history"), &staff, 4).await;
    let order_update = find(&entries, "credit_limit_order", "UPDATE");
    assert_eq!(order_update["resource_id"], order.as_str());
    assert_eq!(order_update["changed_by"], "history-checker");
    assert_eq!(field(order_update, "status")["old"], "PENDING");
    assert_eq!(field(order_update, "status")["new"], "APPROVED");
    assert_eq!(field(order_update, "decision")["old"], Value::Null);
    assert_eq!(field(order_update, "decision")["new"]["decided_by"], "history-checker");
    let customer_update = find(&entries, "customer", "UPDATE");
    assert_eq!(customer_update["changed_by"], "history-checker");
    assert_eq!(
        customer_update["request_id"], order_update["request_id"],
        "one request, one transaction"
    );
    assert_eq!(
        field(customer_update, "credit_limit")["old"],
        json!({"cur": "EUR", "num": "0.00"})
    );
    assert_eq!(
        field(customer_update, "credit_limit")["new"],
        json!({"cur": "EUR", "num": "900.00"})
    );
    let names: Vec<Value> = events(&api, 4).await.iter().map(|e| e["DetailType"].clone()).collect();
    for name in ["CreditLimitOrderUpdated", "CustomerUpdated"] {
        assert!(names.contains(&json!(name)), "{name} in {names:?}");
    }
}

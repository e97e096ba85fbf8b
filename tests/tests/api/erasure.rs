//! Erasure and legal holds: an erased customer is gone from every read and every list, its number
//! is free, and no item of the table holds any of its personal values; a legal hold refuses the
//! erasure until it is lifted or runs out; an interrupted erasure is finished by a retry.

use crate::common::{ALL_SCOPES, Api, Reply};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const BANK: &str = "erasure-bank";

fn customer_path(id: &str) -> String {
    format!("/v1/banks/{BANK}/customers/{id}")
}

fn etag(r: &Reply) -> String {
    r.headers["etag"].to_str().expect("etag").to_owned()
}

/// Every item of the table, as text.
async fn table_text(api: &Api) -> Vec<String> {
    let store = &api.state.store;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = store
            .client()
            .scan()
            .table_name(store.table())
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .expect("scan");
        items.extend(out.items.unwrap_or_default().into_iter().map(|i| format!("{i:?}")));
        start = out.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// A customer with a value of its own in every field and every collection, two linked users and a
/// history; its personal values.
async fn rich_customer(api: &Api, tag: &str) -> (String, Vec<String>) {
    let staff = api.staff(BANK);
    let personal: Vec<String> = [
        "Name", "mail", "Street", "Town", "handle", "TAXNO", "docs", "Title", "Branch", "Number", "Call",
    ]
    .iter()
    .map(|p| format!("{p}{tag}"))
    .collect();
    let [name, mail, street, town, handle, tax, docs, title, branch, number, call] =
        <[String; 11]>::try_from(personal.clone()).expect("eleven values");
    let id = api
        .create_customer(
            BANK,
            json!({"legal_name": name, "email": format!("{mail}@example.com"), "customer_number": number,
                   "mobile_phone_number": "+44 7700 900777", "title": title, "branchId": branch,
                   "date_of_birth": "1815-12-10T00:00:00Z"}),
        )
        .await;
    let base = customer_path(&id);
    api.post(
        &format!("/v1/customers/{id}/address"),
        &staff,
        &json!({"line_1": street, "city": town, "country_code": "GB"}),
    )
    .await
    .expect(201);
    api.post(
        &format!("/v1/customers/{id}/social_media_handles"),
        &staff,
        &json!({"type": "twitter", "handle": format!("@{handle}")}),
    )
    .await
    .expect(201);
    api.post(
        &format!("{base}/tax-residences"),
        &staff,
        &json!({"domain": "GB", "tax_number": tax}),
    )
    .await
    .expect(201);
    api.post(
        &format!("{base}/credit_limit/requests"),
        &staff,
        &json!({"requested_current_rate_amount1": "100", "current_credit_documentation": docs}),
    )
    .await
    .expect(201);
    for user in ["erasure-user-1", "erasure-user-2"] {
        api.post(
            &format!("/v1/banks/{BANK}/user_customer_links"),
            &staff,
            &json!({"user_id": user, "customer_id": id}),
        )
        .await
        .expect(201);
    }
    // A CRM event: the bank's log names the customer.
    api.post(
        &format!("/v1/banks/{BANK}/crm-events"),
        &staff,
        &json!({"customer_id": id, "category": "call", "detail": call}),
    )
    .await
    .expect(201);
    // A change, so that the history holds old and new values.
    api.put(
        &format!("{base}/email"),
        &staff,
        &json!({"email": format!("new-{mail}@example.com")}),
    )
    .await
    .expect(200);
    (id, personal)
}

/// Waits until the changes function has published `count` events.
async fn settled(api: &Api, count: usize) {
    crate::history::events(api, count).await;
}

// contract: C-LIFE-2, C-LIFE-3
#[tokio::test]
async fn an_erased_customer_is_gone_everywhere_and_no_item_holds_its_personal_values() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let (id, personal) = rich_customer(&api, "Q7x").await;
    let base = customer_path(&id);
    // 1 customer, 4 records, 2 links, 1 CRM event, 1 update.
    settled(&api, 9).await;
    assert!(
        table_text(&api).await.iter().any(|i| i.contains("StreetQ7x")),
        "the check below can see a value"
    );
    let got = api.get(&base, &staff).await;
    got.expect(200);
    let number = got.body["customer_number"].as_str().expect("number").to_owned();

    api.send(Method::DELETE, &base, Some(&staff), None).await.expect(204);

    // Reads, lists and writes of the customer and its records: 404, or it is absent.
    let children = [
        format!("{base}/addresses"),
        format!("{base}/social_media_handles"),
        format!("{base}/tax-residences"),
        format!("{base}/credit_limit/requests"),
        format!("{base}/history"),
        format!("{base}/export"),
        format!("{base}/customer-number/{number}"),
        base.clone(),
    ];
    for path in &children {
        api.get(path, &staff).await.expect(404);
    }
    api.put(&format!("{base}/email"), &staff, &json!({"email": "x@example.com"}))
        .await
        .expect(404);
    api.post(
        &format!("/v1/customers/{id}/address"),
        &staff,
        &json!({"line_1": "1 Main St", "city": "Bath", "country_code": "GB"}),
    )
    .await
    .expect(404);
    api.post(
        &format!("{base}/credit_limit/requests"),
        &staff,
        &json!({"requested_current_rate_amount1": "1"}),
    )
    .await
    .expect(404);
    api.send(Method::DELETE, &base, Some(&staff), None).await.expect(404);
    let firehose = api
        .pages(&format!("/v1/banks/{BANK}/firehose/customers?limit=50"), &staff)
        .await;
    assert!(
        firehose.iter().all(|p| !p.body.to_string().contains(&id)),
        "gone from the firehose"
    );
    for user in ["erasure-user-1", "erasure-user-2"] {
        let token = api.token(user, &[], ALL_SCOPES);
        let linked = api.get("/v1/users/current/customers", &token).await;
        linked.expect(200);
        assert_eq!(linked.body["customers"], json!([]), "{user}'s list");
        api.get(&base, &token).await.expect(403);
    }
    // The erasure is one event, CustomerDeleted, without values; nothing else came of it.
    let events = crate::history::events(&api, 10).await;
    let erased: Vec<&Value> = events
        .iter()
        .filter(|e| e["Detail"]["customer_id"] == id.as_str() && e["DetailType"] == "CustomerDeleted")
        .collect();
    assert_eq!(erased.len(), 1, "{events:#?}");
    // Wait out the stream: nothing may bring a value back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let items = table_text(&api).await;
    for value in &personal {
        let holders: Vec<&String> = items.iter().filter(|i| i.contains(value.as_str())).collect();
        assert!(holders.is_empty(), "{value} is still held by {holders:#?}");
    }
    let tombstone: Vec<&String> = items.iter().filter(|i| i.contains(&format!("CUSTOMER#{id}"))).collect();
    assert_eq!(
        tombstone.len(),
        1 + 10,
        "the tombstone and the 10 history entries: {tombstone:#?}"
    );
    let crm = api.get(&format!("/v1/banks/{BANK}/crm-events?limit=100"), &staff).await;
    crm.expect(200);
    assert_eq!(crm.body["crm_events"], json!([]), "gone from the bank's CRM events");
    // The number is free.
    api.create_customer(BANK, json!({"customer_number": number})).await;
}

// contract: C-LIFE-2
#[tokio::test]
async fn an_erasure_honours_if_match() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let id = api.create_customer(BANK, json!({})).await;
    let base = customer_path(&id);
    let delete = |tag: &'static str| {
        api.http
            .delete(format!("{}{base}", api.base))
            .header("Authorization", format!("Bearer {staff}"))
            .header("If-Match", tag)
            .send()
    };
    assert_eq!(delete("\"7\"").await.expect("request").status().as_u16(), 412);
    api.get(&base, &staff).await.expect(200);
    assert_eq!(delete("\"1\"").await.expect("request").status().as_u16(), 204);
    api.get(&base, &staff).await.expect(404);
}

// contract: C-LIFE-4
#[tokio::test]
async fn a_legal_hold_refuses_the_erasure_until_it_is_lifted_or_runs_out() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let officer = api.token("officer", &[BANK], ALL_SCOPES);
    let id = api.create_customer(BANK, json!({"legal_name": "Held Person"})).await;
    let base = customer_path(&id);
    let hold = format!("{base}/legal-hold");
    let placed = api
        .put(
            &hold,
            &officer,
            &json!({"reason": "AML case 42", "until": "2999-01-01T00:00:00Z"}),
        )
        .await;
    placed.expect(200);
    assert_eq!(placed.body["legal_hold"]["reason"], "AML case 42");
    assert_eq!(placed.body["legal_hold"]["placed_by"], "officer");
    let before = api.get(&base, &staff).await;
    let count = api.item_count().await;
    let refused = api.send(Method::DELETE, &base, Some(&staff), None).await;
    refused.expect(409);
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("legal hold") && detail.contains("2999-01-01"),
        "{detail}"
    );
    let after = api.get(&base, &staff).await;
    assert_eq!(
        (after.body.clone(), etag(&after)),
        (before.body.clone(), etag(&before)),
        "nothing changed"
    );
    assert_eq!(api.item_count().await, count);

    // Who may place and lift one; what a bad hold is.
    let no_approve = api.token("clerk", &[BANK], "customer.read customer.write");
    let body = json!({"reason": "x", "until": "2999-01-01"});
    for (who, token, status) in [
        ("staff without customer.approve", no_approve.clone(), 403),
        (
            "an officer of another bank",
            api.token("o2", &["other-bank"], ALL_SCOPES),
            403,
        ),
        ("a linked user", api.token("u", &[], ALL_SCOPES), 403),
    ] {
        assert_eq!(api.put(&hold, &token, &body).await.status, status, "{who}");
        assert_eq!(
            api.send(Method::DELETE, &hold, Some(&token), None).await.status,
            status,
            "{who}"
        );
    }
    for (bad, fields) in [
        (json!({"reason": "x", "until": "2000-01-01"}), vec!["until"]),
        (json!({"until": "2999-01-01"}), vec!["reason"]),
        (json!({"reason": "x", "until": "soon"}), vec!["until"]),
        (json!({"reason": "x", "until": "2999-01-01", "by": "me"}), vec!["by"]),
    ] {
        let r = api.put(&hold, &officer, &bad).await;
        r.expect(400);
        assert_eq!(r.fields(), fields, "{bad}");
    }
    api.put(
        &format!("{}/legal-hold", customer_path("0190a0b0-0000-7000-8000-00000000dead")),
        &officer,
        &body,
    )
    .await
    .expect(404);

    // Lifted: the erasure goes through.
    api.send(Method::DELETE, &hold, Some(&officer), None).await.expect(204);
    api.send(Method::DELETE, &hold, Some(&officer), None).await.expect(404);
    api.send(Method::DELETE, &base, Some(&staff), None).await.expect(204);
    api.put(&hold, &officer, &body).await.expect(404);

    // A hold that ran out holds nothing.
    let other = api.create_customer(BANK, json!({})).await;
    let now = shared::domain::timestamp::Timestamp::now();
    let until = shared::domain::timestamp::Timestamp {
        seconds: now.seconds + 2,
        nanos: 0,
    }
    .rfc3339();
    api.put(
        &format!("{}/legal-hold", customer_path(&other)),
        &officer,
        &json!({"reason": "short", "until": until}),
    )
    .await
    .expect(200);
    api.send(Method::DELETE, &customer_path(&other), Some(&staff), None)
        .await
        .expect(409);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    api.send(Method::DELETE, &customer_path(&other), Some(&staff), None)
        .await
        .expect(204);
}

// contract: C-LIFE-5
#[tokio::test]
async fn an_interrupted_erasure_hides_the_customer_and_a_retry_finishes_it() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let (id, personal) = rich_customer(&api, "Zq9").await;
    let base = customer_path(&id);
    let store = &api.state.store;
    let bank = shared::domain::ids::BankId::parse(BANK).expect("bank");
    let customer = shared::domain::ids::CustomerId::parse(&id).expect("id");
    // The first step only, as when the function stopped after it.
    store
        .begin_erasure(
            &bank,
            &customer,
            &shared::domain::audit::Audit::tool("erasure-test", "crash"),
            None,
        )
        .await
        .expect("the first step");
    api.get(&base, &staff).await.expect(404);
    api.get(&format!("{base}/addresses"), &staff).await.expect(404);
    let linked = api
        .get(
            "/v1/users/current/customers",
            &api.token("erasure-user-1", &[], ALL_SCOPES),
        )
        .await;
    assert_eq!(linked.body["customers"], json!([]), "no reader sees it half-erased");
    assert!(
        table_text(&api).await.iter().any(|i| i.contains("StreetZq9")),
        "its records are still there"
    );
    // The retry finishes it; one more is a 404.
    api.send(Method::DELETE, &base, Some(&staff), None).await.expect(204);
    api.send(Method::DELETE, &base, Some(&staff), None).await.expect(404);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let items = table_text(&api).await;
    for value in &personal {
        assert!(
            !items.iter().any(|i| i.contains(value.as_str())),
            "{value} is still held"
        );
    }
}

// contract: C-LIFE-3
#[tokio::test]
async fn a_customer_with_300_records_is_erased_in_one_request() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let id = api.create_customer(BANK, json!({})).await;
    let base = customer_path(&id);
    let posts = (0..300).map(|i| {
        let (path, body) = match i % 3 {
            0 => (
                format!("/v1/customers/{id}/address"),
                json!({"line_1": format!("{i} Long Road"), "city": "Leeds", "country_code": "GB"}),
            ),
            1 => (
                format!("{base}/tax-residences"),
                json!({"domain": "GB", "tax_number": format!("T-{i}")}),
            ),
            _ => (
                format!("{base}/credit_limit/requests"),
                json!({"requested_current_rate_amount1": format!("{i}")}),
            ),
        };
        let api = &api;
        let staff = staff.clone();
        async move { api.post(&path, &staff, &body).await.status }
    });
    let statuses: Vec<u16> = futures::stream::iter(posts).buffer_unordered(8).collect().await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    // Its export, at the largest page: within Lambda's 6 MB answer.
    let mut exported = 0;
    let mut largest = 0;
    let pages = api.pages(&format!("{base}/export?limit=500"), &staff).await;
    for page in &pages {
        largest = largest.max(page.body.to_string().len());
        exported += ["customer_addresses", "tax_residences", "credit_limit_orders"]
            .iter()
            .map(|c| page.body[*c].as_array().map_or(0, Vec::len))
            .sum::<usize>();
    }
    assert_eq!(exported, 300);
    assert!(largest < 6 * 1024 * 1024, "{largest} bytes");
    println!(
        "export: 300 records in {} pages of at most 500 items, the largest {largest} bytes",
        pages.len()
    );
    let started = Instant::now();
    api.send(Method::DELETE, &base, Some(&staff), None).await.expect(204);
    println!("erasure: 300 records erased in {:?}", started.elapsed());
    let left = table_text(&api)
        .await
        .into_iter()
        .filter(|i| i.contains(&format!("CUSTOMER#{id}")) && !i.contains("HISTORY#"))
        .count();
    assert_eq!(left, 1, "the tombstone alone");
}

// contract: C-LIFE-3, C-IDEM-5
#[tokio::test]
async fn stored_answers_are_erased_with_the_customer_and_every_replay_is_404() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let checker = api.token("erasure-checker", &[BANK], ALL_SCOPES);
    let tag = "K9z";
    let created = api
        .post_keyed(
            "/v1/customers",
            &staff,
            "erase-create",
            &json!({"bank_id": BANK, "legal_name": format!("Name{tag}")}),
        )
        .await;
    created.expect(201);
    let id = created.body["customer_id"].as_str().expect("id").to_owned();
    let base = customer_path(&id);
    // Every kind of stored answer: each create, and a decision.
    let mut keyed: Vec<(String, String, Value, String)> = vec![(
        "/v1/customers".into(),
        staff.clone(),
        json!({"bank_id": BANK, "legal_name": format!("Name{tag}")}),
        "erase-create".into(),
    )];
    for (path, body) in [
        (
            format!("{base}/tax-residences"),
            json!({"domain": "DE", "tax_number": format!("TAX{tag}")}),
        ),
        (
            format!("/v1/customers/{id}/address"),
            json!({"line_1": format!("Street{tag}"), "city": "Bonn", "country_code": "DE"}),
        ),
        (
            format!("/v1/customers/{id}/social_media_handles"),
            json!({"type": "x", "handle": format!("@handle{tag}")}),
        ),
        (
            format!("/v1/banks/{BANK}/crm-events"),
            json!({"customer_id": id, "category": "call", "detail": format!("Call{tag}")}),
        ),
        (
            format!("/v1/banks/{BANK}/user_customer_links"),
            json!({"user_id": format!("user{tag}"), "customer_id": id}),
        ),
        (
            format!("{base}/credit_limit/requests"),
            json!({"requested_current_rate_amount1": "100", "current_credit_documentation": format!("Docs{tag}")}),
        ),
    ] {
        let key = format!("erase-{}", keyed.len());
        let r = api.post_keyed(&path, &staff, &key, &body).await;
        r.expect(201);
        if let Some(order) = r.body["credit_limit_order_id"].as_str() {
            let approval = format!("{base}/credit_limit/request/{order}/approval");
            let grant = json!({"credit_limit": {"cur": "EUR", "num": "100"}, "reason": format!("Why{tag}")});
            api.post_keyed(&approval, &checker, "erase-approval", &grant)
                .await
                .expect(200);
            keyed.push((approval, checker.clone(), grant, "erase-approval".into()));
        }
        keyed.push((path, staff.clone(), body, key));
    }
    let before = table_text(&api).await;
    assert!(
        before
            .iter()
            .any(|i| i.contains(&format!("TAX{tag}")) && i.contains("IDEMPOTENCY#")),
        "the check below can see a stored answer"
    );

    api.send(Method::DELETE, &base, Some(&staff), None).await.expect(204);

    // No stored answer, no request digest, no value of the customer is left.
    let items = table_text(&api).await;
    for item in &items {
        assert!(
            !item.contains(tag) && !item.contains("request_hash") && !item.contains("\"answer\""),
            "{item}"
        );
    }
    // A replay of each is 404, as every write naming the customer; a key is not freed for reuse.
    for (path, token, body, key) in &keyed {
        let replay = api.post_keyed(path, token, key, body).await;
        assert_eq!(replay.status, 404, "{path}: {}", replay.body);
    }
    api.get(&base, &staff).await.expect(404);
}

// contract: C-LIFE-4
#[tokio::test]
async fn a_legal_hold_holds_to_its_fraction_of_a_second() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let officer = api.token("officer", &[BANK], ALL_SCOPES);
    let id = api.create_customer(BANK, json!({})).await;
    let base = customer_path(&id);
    // Until S.950, S two whole seconds ahead: at S.100 it holds, after S.950 it does not.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    let second = now.as_secs() + 2;
    let until = json!({"seconds": second, "nanos": 950_000_000});
    api.put(
        &format!("{base}/legal-hold"),
        &officer,
        &json!({"reason": "case", "until": until}),
    )
    .await
    .expect(200);
    sleep_until(second, 100).await;
    let held = api.send(Method::DELETE, &base, Some(&staff), None).await;
    assert_eq!(held.status, 409, "at S.100 the hold until S.950 holds: {}", held.body);
    sleep_until(second + 1, 0).await;
    api.send(Method::DELETE, &base, Some(&staff), None).await.expect(204);
}

async fn sleep_until(second: u64, millis: u64) {
    let target = Duration::from_millis(second * 1000 + millis);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    if let Some(wait) = target.checked_sub(now) {
        tokio::time::sleep(wait).await;
    }
}

// contract: C-LIFE-3
#[tokio::test]
async fn a_change_the_stream_delivers_after_the_erasure_leaves_no_value_for_a_moment() {
    use shared::domain::change::{Change, FieldChange, HistoryEntry, Operation, Resource};
    use shared::domain::ids::{BankId, ChangeId, CustomerId, UserId};
    use shared::domain::timestamp::Timestamp;
    let api = Api::start().await;
    let staff = api.staff(BANK);
    // Through the gateway: a change, and the erasure at once, before the stream has delivered it.
    let id = api.create_customer(BANK, json!({"legal_name": "Early Bird"})).await;
    let base = customer_path(&id);
    api.put(
        &format!("{base}/email"),
        &staff,
        &json!({"email": "lateP4v@example.com"}),
    )
    .await
    .expect(200);
    api.send(Method::DELETE, &base, Some(&staff), None).await.expect(204);
    let deadline = Instant::now() + Duration::from_millis(2000);
    while Instant::now() < deadline {
        let items = table_text(&api).await;
        let holders: Vec<&String> = items
            .iter()
            .filter(|i| i.contains("P4v") || i.contains("Early Bird"))
            .collect();
        assert!(holders.is_empty(), "after the 204: {holders:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The same, made certain: a stream record of the customer handled after the erasure answered.
    let late = HistoryEntry {
        change: Change {
            change_id: ChangeId::new(),
            bank_id: BankId::parse(BANK).expect("bank"),
            customer_id: CustomerId::parse(&id).expect("id"),
            resource: Resource::Customer,
            resource_id: id.clone(),
            operation: Operation::Update,
            changed_by: UserId::parse("late-writer").expect("user"),
            request_id: "late-request".into(),
            changed_at: Timestamp::now(),
        },
        changes: vec![FieldChange {
            field: "email".into(),
            old: json!("oldQ8w@example.com"),
            new: json!("newQ8w@example.com"),
        }],
    };
    api.state.store.record_history(&late).await.expect("recorded");
    let items = table_text(&api).await;
    let entry: Vec<&String> = items.iter().filter(|i| i.contains("late-request")).collect();
    assert_eq!(entry.len(), 1, "the entry is kept, without its values: {entry:#?}");
    assert!(!entry[0].contains("Q8w"), "{}", entry[0]);
    // Not even for a moment: the stream, which sees every write, never saw the values.
    let written: Vec<String> = stream_text(&api).await;
    assert!(
        written.iter().any(|r| r.contains("late-request")),
        "the stream shows the entry"
    );
    let leaked: Vec<&String> = written.iter().filter(|r| r.contains("Q8w")).collect();
    assert!(leaked.is_empty(), "{leaked:#?}");
}

/// Every record of the table's stream so far, as text.
async fn stream_text(api: &Api) -> Vec<String> {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let store = &api.state.store;
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT");
    let streams = local_api::streams::client(&endpoint).expect("streams client");
    let table = store
        .client()
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .expect("table");
    let arn = table
        .table
        .and_then(|t| t.latest_stream_arn)
        .expect("the table has a stream");
    let described = streams.describe_stream().stream_arn(&arn).send().await.expect("stream");
    let shards = described.stream_description.and_then(|d| d.shards).unwrap_or_default();
    let mut records = Vec::new();
    for shard in shards {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id.expect("shard id"))
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("iterator");
        let mut next = iterator.shard_iterator;
        while let Some(it) = next {
            let out = streams.get_records().shard_iterator(it).send().await.expect("records");
            let batch = out.records.unwrap_or_default();
            if batch.is_empty() {
                break;
            }
            records.extend(batch.iter().map(|r| format!("{r:?}")));
            next = out.next_shard_iterator;
        }
    }
    records
}

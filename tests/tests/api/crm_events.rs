use crate::common::{ALL_SCOPES, Api, Reply, sharded};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

/// The seed's CRMEvent, plus the customer's id.
const EVENT_FIELDS: [&str; 11] = [
    "id",
    "bank_id",
    "customer_id",
    "customer_name",
    "customer_number",
    "category",
    "detail",
    "channel",
    "scheduled_date",
    "actual_date",
    "result",
];

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

fn sorted(fields: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

fn is_uuid_v7(id: &str) -> bool {
    let b = id.as_bytes();
    id.len() == 36
        && [8, 13, 18, 23].iter().all(|i| b[*i] == b'-')
        && b[14] == b'7'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
        && id
            .bytes()
            .all(|c| c == b'-' || c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

fn events(bank: &str) -> String {
    format!("/v1/banks/{bank}/crm-events")
}

pub(crate) fn ids(r: &Reply) -> Vec<String> {
    r.body["crm_events"]
        .as_array()
        .expect("crm_events list")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn create(api: &Api, bank: &str, customer: &str) -> String {
    let r = api
        .post(&events(bank), &api.staff(bank), &json!({"customer_id": customer}))
        .await;
    r.expect(201);
    r.body["id"].as_str().expect("id").to_owned()
}

// contract: C-TIME-4, C-OUT-2, C-ADD-2
async fn events_carry_the_customers_name_and_number(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let customer = api
        .create_customer("b1", json!({"legal_name": "Ada Lovelace", "customer_number": "CRM-1"}))
        .await;
    let created = api
        .post(
            &events("b1"),
            &staff,
            &json!({
                "bank_id": "b1",
                "customer_id": customer,
                "category": "call",
                "detail": "asked to raise the credit limit",
                "channel": "phone",
                "scheduled_date": "2025-11-24",
                "actual_date": {"seconds": "1763975100", "nanos": 7},
                "result": "order recorded",
            }),
        )
        .await;
    created.expect(201);
    assert_eq!(keys(&created.body), sorted(&EVENT_FIELDS));
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(is_uuid_v7(&id), "{id}");
    let full = json!({
        "id": id,
        "bank_id": "b1",
        "customer_id": customer,
        "customer_name": "Ada Lovelace",
        "customer_number": "CRM-1",
        "category": "call",
        "detail": "asked to raise the credit limit",
        "channel": "phone",
        "scheduled_date": {"seconds": 1763942400, "nanos": 0},
        "actual_date": {"seconds": 1763975100, "nanos": 7},
        "result": "order recorded",
    });
    assert_eq!(created.body, full);

    // Only the customer is required: absent strings are "", absent dates null.
    let minimal = api
        .post(
            &events("b1"),
            &staff,
            &json!({"customer_id": customer, "scheduled_date": null}),
        )
        .await;
    minimal.expect(201);
    let minimal_id = minimal.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        minimal.body,
        json!({
            "id": minimal_id,
            "bank_id": "b1",
            "customer_id": customer,
            "customer_name": "Ada Lovelace",
            "customer_number": "CRM-1",
            "category": "",
            "detail": "",
            "channel": "",
            "scheduled_date": null,
            "actual_date": null,
            "result": "",
        })
    );

    // The name and number are those of the time of the event.
    api.put(
        &format!("/v1/banks/b1/customers/{customer}/identity"),
        &staff,
        &json!({"legal_name": "Augusta Ada King"}),
    )
    .await
    .expect(200);
    api.put(
        &format!("/v1/banks/b1/customers/{customer}/number"),
        &staff,
        &json!({"customer_number": "CRM-2"}),
    )
    .await
    .expect(200);
    let later = api.post(&events("b1"), &staff, &json!({"customer_id": customer})).await;
    later.expect(201);
    assert_eq!(later.body["customer_name"], "Augusta Ada King");
    assert_eq!(later.body["customer_number"], "CRM-2");

    let list = api.get(&events("b1"), &staff).await;
    list.expect(200);
    assert_eq!(
        keys(&list.body),
        ["crm_events", "has_more"],
        "no token on the only page"
    );
    assert_eq!(list.body["has_more"], false);
    assert_eq!(
        list.body["crm_events"][0], full,
        "the list holds what the create answered"
    );
    assert_eq!(list.body["crm_events"][1], minimal.body);
    assert_eq!(list.body["crm_events"][2], later.body);
}
sharded!(events_carry_the_customers_name_and_number);

// contract: C-PAGE-3, C-PAGE-4
async fn events_paginate_in_creation_order_per_bank(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let a = api.create_customer("b1", json!({})).await;
    let b = api.create_customer("b1", json!({})).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create(&api, "b1", if i % 2 == 0 { &a } else { &b }).await);
    }
    // Another bank's events are its own.
    let elsewhere = api.create_customer("b2", json!({})).await;
    let b2_event = create(&api, "b2", &elsewhere).await;

    let mut pages = Vec::new();
    for page in api.pages(&format!("{}?limit=2", events("b1")), &staff).await {
        assert_eq!(
            page.body["has_more"],
            json!(page.body.get("next_page_token").is_some()),
            "a token exactly when there is more: {}",
            page.body
        );
        pages.push((ids(&page), page.body["has_more"].clone()));
    }
    assert_eq!(
        pages
            .iter()
            .map(|(p, more)| (p.len(), more.clone()))
            .collect::<Vec<_>>(),
        [(2, json!(true)), (2, json!(true)), (1, json!(false))]
    );
    assert_eq!(
        pages.into_iter().flat_map(|(p, _)| p).collect::<Vec<_>>(),
        created,
        "every event once, oldest first"
    );
    let exact = api.get(&format!("{}?limit=5", events("b1")), &staff).await;
    assert_eq!(ids(&exact), created);
    assert_eq!(exact.body["has_more"], false, "a full last page has no more");
    assert!(exact.body.get("next_page_token").is_none());
    let b2 = api.get(&events("b2"), &api.staff("b2")).await;
    assert_eq!(ids(&b2), [b2_event]);

    // A token is bound to its bank.
    let first = api.get(&format!("{}?limit=2", events("b1")), &staff).await;
    let token = first.body["next_page_token"].as_str().expect("token").to_owned();
    let r = api
        .get(&format!("{}?page_token={token}", events("b2")), &api.staff("b2"))
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["page_token"]);
    for bad in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=abc",
        "page_token=garbage",
        "limit=1&limit=2",
    ] {
        api.get(&format!("{}?{bad}", events("b1")), &staff).await.expect(400);
    }

    // A bank without events: an empty list.
    let r = api.get(&events("b3"), &api.staff("b3")).await;
    r.expect(200);
    assert_eq!(r.body, json!({"crm_events": [], "has_more": false}));
}
sharded!(events_paginate_in_creation_order_per_bank);

async fn events_of_missing_or_foreign_customers_are_404_and_nothing_is_written(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let elsewhere = api.create_customer("b2", json!({})).await;
    let before = api.item_count().await;
    api.post(
        &events("b1"),
        &staff,
        &json!({"customer_id": "0190a0b0-0000-7000-8000-0000000000ff"}),
    )
    .await
    .expect(404);
    // A customer of another bank does not exist under this one.
    api.post(&events("b1"), &staff, &json!({"customer_id": elsewhere}))
        .await
        .expect(404);
    assert_eq!(api.item_count().await, before, "nothing was written");
    let r = api.get(&events("b1"), &staff).await;
    assert_eq!(r.body["crm_events"], json!([]));
}
sharded!(events_of_missing_or_foreign_customers_are_404_and_nothing_is_written);

async fn concurrent_events_of_one_customer_all_succeed(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let body = json!({"customer_id": customer, "category": "race"});
    let path = events("b1");
    let replies = join_all((0..10).map(|_| api.post(&path, &staff, &body))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let list = api.get(&events("b1"), &staff).await;
    assert_eq!(ids(&list).len(), 10);
}
sharded!(concurrent_events_of_one_customer_all_succeed);

// contract: C-AUTH-8
async fn only_staff_see_and_write_events(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let customer = api.create_customer("b1", json!({})).await;
    create(&api, "b1", &customer).await;
    api.post(
        "/v1/banks/b1/user_customer_links",
        &api.staff("b1"),
        &json!({"user_id": "linked", "customer_id": customer}),
    )
    .await
    .expect(201);
    let body = json!({"customer_id": customer}).to_string();
    let post = (Method::POST, Some(body.as_str()));
    let list = (Method::GET, None);

    let staff = api.staff("b1");
    let reader = api.token("reader", &["b1"], "customer.read");
    let writer = api.token("writer", &["b1"], "customer.write");
    let no_scope = api.token("nobody", &["b1"], "");
    let linked = api.token("linked", &[], ALL_SCOPES);
    let stranger = api.token("stranger", &[], ALL_SCOPES);
    let other_staff = api.staff("b2");
    // (caller, POST, GET).
    let matrix: [(Option<&str>, &str, [u16; 2]); 8] = [
        (Some(&staff), "staff", [201, 200]),
        (Some(&reader), "read-only staff", [403, 200]),
        (Some(&writer), "write-only staff", [201, 403]),
        (Some(&no_scope), "staff without scopes", [403, 403]),
        (Some(&linked), "linked user", [403, 403]),
        (Some(&stranger), "unlinked user", [403, 403]),
        (Some(&other_staff), "staff of another bank", [403, 403]),
        (None, "no token", [401, 401]),
    ];
    for (token, who, statuses) in matrix {
        for ((method, body), want) in [&post, &list].into_iter().zip(statuses) {
            let before = api.item_count().await;
            let r = api.send(method.clone(), &events("b1"), token, *body).await;
            assert_eq!(r.status, want, "{who}: {method}: {}", r.body);
            if want >= 400 {
                r.expect(want);
                assert_eq!(api.item_count().await, before, "{who}: a refused request wrote nothing");
            }
        }
    }
}
sharded!(only_staff_see_and_write_events);

async fn bad_input_is_a_400_naming_the_field_and_writes_nothing(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let before = api.item_count().await;
    let with = |extra: Value| {
        let mut body = json!({"customer_id": customer});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body.to_string()
    };
    let path = events("b1");
    let cases: Vec<(String, String, &str)> = vec![
        (path.clone(), "{".into(), "body"),
        (path.clone(), "".into(), "body"),
        (path.clone(), "[]".into(), "body"),
        (path.clone(), "{}".into(), "customer_id"),
        (path.clone(), json!({"customer_id": null}).to_string(), "customer_id"),
        (path.clone(), json!({"customer_id": ""}).to_string(), "customer_id"),
        (
            path.clone(),
            json!({"customer_id": "C-0001"}).to_string(),
            "customer_id",
        ),
        (path.clone(), json!({"customer_id": 1}).to_string(), "customer_id"),
        (
            path.clone(),
            json!({"customer_id": "0190a0b0-0000-7000-8000-00000000#001"}).to_string(),
            "customer_id",
        ),
        (path.clone(), with(json!({"bank_id": "b2"})), "bank_id"),
        (path.clone(), with(json!({"category": "c".repeat(65)})), "category"),
        (path.clone(), with(json!({"channel": "c".repeat(65)})), "channel"),
        (path.clone(), with(json!({"result": "r".repeat(65)})), "result"),
        (path.clone(), with(json!({"detail": "d".repeat(2049)})), "detail"),
        (path.clone(), with(json!({"detail": "a\u{1b}b"})), "detail"),
        (path.clone(), with(json!({"category": 5})), "category"),
        (
            path.clone(),
            with(json!({"scheduled_date": "tomorrow"})),
            "scheduled_date",
        ),
        (
            path.clone(),
            with(json!({"scheduled_date": "2025-13-01"})),
            "scheduled_date",
        ),
        // The seed's placeholder Timestamp, in the seed's field order.
        (
            path.clone(),
            format!(r#"{{"customer_id": "{customer}", "actual_date": {{"seconds": "int64", "nanos": "int32"}}}}"#),
            "actual_date.seconds",
        ),
        (
            path.clone(),
            with(json!({"actual_date": {"seconds": 1, "nanos": -1}})),
            "actual_date",
        ),
        (path.clone(), with(json!({"actual_date": 1763975100})), "actual_date"),
        (path.clone(), with(json!({"customer_name": "x"})), "customer_name"),
        (path.clone(), with(json!({"id": "x"})), "id"),
        (events("b%231"), with(json!({})), "bank_id"),
    ];
    let mut failures = Vec::new();
    for (path, body, field) in &cases {
        let r = api.send(Method::POST, path, Some(&staff), Some(body)).await;
        let ct = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if r.status != 400 || ct != "application/problem+json" || !r.fields().iter().any(|f| f == field) {
            failures.push(format!("POST {path} {body:?}: {} {ct} {}", r.status, r.body));
        }
    }
    let r = api.get(&events("b%231"), &staff).await;
    if r.status != 400 || r.fields() != ["bank_id"] {
        failures.push(format!("GET b%231: {} {}", r.status, r.body));
    }
    assert!(
        failures.is_empty(),
        "cases not answered 400 naming the field:\n{}",
        failures.join("\n")
    );
    // Every bad field of one request is named at once.
    let r = api
        .post(
            &path,
            &staff,
            &json!({"bank_id": "x", "customer_id": "x", "category": "c".repeat(65), "result": "r".repeat(65)}),
        )
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["bank_id", "customer_id", "category", "result"]);
    assert_eq!(api.item_count().await, before, "rejected requests wrote nothing");
}
sharded!(bad_input_is_a_400_naming_the_field_and_writes_nothing);

/// Renames racing event creates: an event read a customer that a rename then changed is written
/// only after rereading it, so every create still succeeds (with a name the customer had).
async fn events_racing_renames_all_succeed(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({"legal_name": "Name 0"})).await;
    let path = events("b1");
    let identity = format!("/v1/banks/b1/customers/{customer}/identity");
    let body = json!({"customer_id": customer});
    let names: Vec<Value> = (1..=10).map(|i| json!({"legal_name": format!("Name {i}")})).collect();
    let renames = names.iter().map(|name| api.put(&identity, &staff, name));
    let creates = (0..10).map(|_| api.post(&path, &staff, &body));
    let (renamed, created) = tokio::join!(join_all(renames), join_all(creates));
    assert!(renamed.iter().all(|r| r.status == 200));
    let statuses: Vec<u16> = created.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    for r in &created {
        let name = r.body["customer_name"].as_str().unwrap_or_default();
        assert!(
            names.iter().any(|n| n["legal_name"] == name) || name == "Name 0",
            "{name}"
        );
    }
    // Once the renames are done, a new event names the customer as it is now.
    let now = api.get(&format!("/v1/banks/b1/customers/{customer}"), &staff).await;
    let last = api.post(&path, &staff, &body).await;
    assert_eq!(last.body["customer_name"], now.body["legal_name"]);
}
sharded!(events_racing_renames_all_succeed);

/// Events of many customers spread over every shard come back in creation order, page after page,
/// at every shard count.
// contract: C-SCALE-1
async fn events_of_every_shard_merge_in_creation_order(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let customers = [
        api.create_customer("b1", json!({})).await,
        api.create_customer("b1", json!({})).await,
        api.create_customer("b1", json!({})).await,
    ];
    let mut created = Vec::new();
    for i in 0..30 {
        created.push(create(&api, "b1", &customers[i % 3]).await);
    }
    for limit in [1, 4, 30, 100] {
        let pages = api.pages(&format!("{}?limit={limit}", events("b1")), &staff).await;
        assert_eq!(pages.len(), 30usize.div_ceil(limit), "pages of {limit}");
        assert_eq!(
            pages.iter().flat_map(ids).collect::<Vec<_>>(),
            created,
            "pages of {limit}: every event once, oldest first"
        );
    }
}
sharded!(events_of_every_shard_merge_in_creation_order);

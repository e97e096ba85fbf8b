use crate::common::{ALL_SCOPES, Api, Reply};
use reqwest::Method;
use serde_json::{Value, json};

/// The read shape: the seed's four fields, then the id, the stored request and its time, its
/// status and maker (a decision adds `decision`).
const ORDER_FIELDS: [&str; 15] = [
    "rank_amount_1",
    "nominal_interest_1",
    "rank_amount_2",
    "nominal_interest_2",
    "credit_limit_order_id",
    "requested_current_rate_amount1",
    "requested_current_rate_amount2",
    "requested_current_valid_end_date",
    "current_credit_documentation",
    "temporary_requested_current_amount",
    "requested_temporary_valid_end_date",
    "temporary_credit_documentation",
    "created_at",
    "status",
    "requested_by",
];

/// The seed's curl example body, placeholders and all.
const SEED_CREATE: &str = r#"{
		"bank_id": "string",
		"customer_id": "string",
		"requested_current_rate_amount1": "string",
		"requested_current_rate_amount2": "string",
		"requested_current_valid_end_date": "string",
		"current_credit_documentation": "string",
		"temporary_requested_current_amount": "string",
		"requested_temporary_valid_end_date": "string",
		"temporary_credit_documentation": "string"
	}"#;

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

fn requests(bank: &str, customer: &str) -> String {
    format!("/v1/banks/{bank}/customers/{customer}/credit_limit/requests")
}

fn request(bank: &str, customer: &str, id: &str) -> String {
    format!("/v1/banks/{bank}/customers/{customer}/credit_limit/request/{id}")
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["result"]
        .as_array()
        .expect("result list")
        .iter()
        .map(|o| o["credit_limit_order_id"].as_str().expect("id").to_owned())
        .collect()
}

/// Creates an order with amount `amount` and returns its id.
async fn create(api: &Api, bank: &str, customer: &str, amount: &str) -> String {
    let r = api
        .post(
            &requests(bank, customer),
            &api.staff(bank),
            &json!({"requested_current_rate_amount1": amount}),
        )
        .await;
    r.expect(201);
    r.body["credit_limit_order_id"].as_str().expect("id").to_owned()
}

// contract: C-TIME-5, C-TEXT-6, C-OUT-1, C-OUT-2, C-SEED-1, C-SEED-3
#[tokio::test]
async fn orders_are_created_read_and_listed() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let created = api
        .post(
            &requests("b1", &customer),
            &staff,
            &json!({
                "bank_id": "b1",
                "customer_id": customer,
                "requested_current_rate_amount1": "12345678901234567890.0123456789",
                "requested_current_rate_amount2": "0.5",
                "requested_current_valid_end_date": "2026-12-31",
                "current_credit_documentation": "payslips, ümlauts and all",
                "temporary_requested_current_amount": "20000",
                "requested_temporary_valid_end_date": "2026-01-31T23:59:59+01:00",
                "temporary_credit_documentation": "holiday season",
            }),
        )
        .await;
    created.expect(201);
    assert_eq!(keys(&created.body), ["credit_limit_order_id"]);
    let id = created.body["credit_limit_order_id"].as_str().unwrap().to_owned();
    assert!(is_uuid_v7(&id), "{id}");
    assert_eq!(
        created.headers["location"],
        request("b1", &customer, &id).as_str(),
        "Location names the created order"
    );

    let got = api.get(&request("b1", &customer, &id), &staff).await;
    got.expect(200);
    assert_eq!(keys(&got.body), ["credit_limit_order"]);
    let o = &got.body["credit_limit_order"];
    assert_eq!(keys(o), sorted(&ORDER_FIELDS));
    let created_at = o["created_at"]["seconds"].as_i64().expect("created_at.seconds");
    assert!(created_at > 1_700_000_000, "{o}");
    assert!(o["created_at"]["nanos"].is_i64(), "{o}");
    let mut expected = json!({
        "rank_amount_1": "12345678901234567890.0123456789",
        "nominal_interest_1": "",
        "rank_amount_2": "0.5",
        "nominal_interest_2": "",
        "credit_limit_order_id": id,
        "requested_current_rate_amount1": "12345678901234567890.0123456789",
        "requested_current_rate_amount2": "0.5",
        "requested_current_valid_end_date": "2026-12-31",
        "current_credit_documentation": "payslips, ümlauts and all",
        "temporary_requested_current_amount": "20000",
        "requested_temporary_valid_end_date": "2026-01-31T23:59:59+01:00",
        "temporary_credit_documentation": "holiday season",
    });
    expected["created_at"] = o["created_at"].clone();
    expected["status"] = json!("PENDING");
    expected["requested_by"] = json!("staff-of-b1");
    assert_eq!(*o, expected, "amounts and dates come back exactly as sent");

    // Only the first amount is required; everything absent reads as "".
    let minimal = create(&api, "b1", &customer, "7").await;
    let got = api.get(&request("b1", &customer, &minimal), &staff).await;
    got.expect(200);
    let o = &got.body["credit_limit_order"];
    assert_eq!(keys(o), sorted(&ORDER_FIELDS));
    assert_eq!(o["rank_amount_1"], "7");
    assert_eq!(o["requested_current_rate_amount1"], "7");
    for field in ORDER_FIELDS.iter().filter(|f| {
        ![
            "rank_amount_1",
            "requested_current_rate_amount1",
            "credit_limit_order_id",
            "created_at",
            "status",
            "requested_by",
        ]
        .contains(f)
    }) {
        assert_eq!(o[*field], "", "{field} is \"\" when absent");
    }

    let list = api.get(&requests("b1", &customer), &staff).await;
    list.expect(200);
    assert_eq!(keys(&list.body), ["result"], "no next_page_token on the only page");
    assert_eq!(ids(&list), [id.clone(), minimal]);
    assert_eq!(list.body["result"][0], expected, "the list holds the same objects");
}

// contract: C-PAGE-3, C-PAGE-4
#[tokio::test]
async fn orders_paginate_in_creation_order() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let other = api.create_customer("b1", json!({})).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create(&api, "b1", &customer, &format!("{i}00")).await);
    }
    // Another customer's orders never show up.
    create(&api, "b1", &other, "1").await;

    let pages: Vec<Vec<String>> = api
        .pages(&format!("{}?limit=2", requests("b1", &customer)), &staff)
        .await
        .iter()
        .map(ids)
        .collect();
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert_eq!(pages.concat(), created, "every order once, oldest first");
    let all = api.get(&requests("b1", &customer), &staff).await;
    assert_eq!(ids(&all), created, "default limit 20 holds all five");
    let exact = api.get(&format!("{}?limit=5", requests("b1", &customer)), &staff).await;
    assert!(
        exact.body.get("next_page_token").is_none(),
        "a full last page has no token"
    );

    // A token is bound to its bank and customer.
    let first = api.get(&format!("{}?limit=2", requests("b1", &customer)), &staff).await;
    let token = first.body["next_page_token"].as_str().expect("token").to_owned();
    let r = api
        .get(&format!("{}?page_token={token}", requests("b1", &other)), &staff)
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["page_token"]);
    let elsewhere = api.create_customer("b2", json!({})).await;
    api.get(
        &format!("{}?page_token={token}", requests("b2", &elsewhere)),
        &api.staff("b2"),
    )
    .await
    .expect(400);
    for bad in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=abc",
        "page_token=garbage",
        "limit=1&limit=2",
    ] {
        api.get(&format!("{}?{bad}", requests("b1", &customer)), &staff)
            .await
            .expect(400);
    }

    // A customer without orders: an empty list.
    let empty = api.create_customer("b1", json!({})).await;
    let r = api.get(&requests("b1", &empty), &staff).await;
    r.expect(200);
    assert_eq!(r.body, json!({"result": []}));
}

#[tokio::test]
async fn missing_and_foreign_orders_are_404_and_nothing_is_written() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let other = api.create_customer("b1", json!({})).await;
    let elsewhere = api.create_customer("b2", json!({})).await;
    let order = create(&api, "b1", &customer, "100").await;
    let before = api.item_count().await;
    let missing = "0190a0b0-0000-7000-8000-0000000000ff";
    let body = json!({"requested_current_rate_amount1": "1"});

    api.post(&requests("b1", missing), &staff, &body).await.expect(404);
    // A customer of another bank does not exist under this one.
    api.post(&requests("b1", &elsewhere), &staff, &body).await.expect(404);
    api.get(&requests("b1", missing), &staff).await.expect(404);
    api.get(&requests("b1", &elsewhere), &staff).await.expect(404);
    // Another customer's order, a missing order, an order of a missing customer.
    api.get(&request("b1", &other, &order), &staff).await.expect(404);
    api.get(&request("b1", &customer, missing), &staff).await.expect(404);
    api.get(&request("b1", missing, &order), &staff).await.expect(404);
    // The order's customer is not a customer of b2.
    let b2 = api.staff("b2");
    api.get(&request("b2", &customer, &order), &b2).await.expect(404);
    api.get(&requests("b2", &customer), &b2).await.expect(404);
    api.post(&requests("b2", &customer), &b2, &body).await.expect(404);
    assert_eq!(api.item_count().await, before, "nothing was written");
    let r = api.get(&request("b1", &customer, &order), &staff).await;
    r.expect(200);
}

// contract: C-AUTH-8
#[tokio::test]
async fn who_may_do_what() {
    let api = Api::start().await;
    let customer = api.create_customer("b1", json!({})).await;
    let unlinked = api.create_customer("b1", json!({})).await;
    let order = create(&api, "b1", &customer, "100").await;
    let unlinked_order = create(&api, "b1", &unlinked, "100").await;
    api.post(
        "/v1/banks/b1/user_customer_links",
        &api.staff("b1"),
        &json!({"user_id": "linked", "customer_id": customer}),
    )
    .await
    .expect(201);
    let body = json!({"requested_current_rate_amount1": "1"}).to_string();
    let post = (Method::POST, requests("b1", &customer), Some(body.as_str()));
    let list = (Method::GET, requests("b1", &customer), None);
    let get = (Method::GET, request("b1", &customer, &order), None);

    let staff = api.staff("b1");
    let reader = api.token("reader", &["b1"], "customer.read");
    let writer = api.token("writer", &["b1"], "customer.write");
    let no_scope = api.token("nobody", &["b1"], "");
    let linked = api.token("linked", &[], "customer.read");
    let linked_writer = api.token("linked", &[], ALL_SCOPES);
    let stranger = api.token("stranger", &[], ALL_SCOPES);
    let other_staff = api.staff("b2");
    // (caller, POST, list, get): 0 is no token.
    let matrix: [(Option<&str>, &str, [u16; 3]); 9] = [
        (Some(&staff), "staff", [201, 200, 200]),
        (Some(&reader), "read-only staff", [403, 200, 200]),
        (Some(&writer), "write-only staff", [201, 403, 403]),
        (Some(&no_scope), "staff without scopes", [403, 403, 403]),
        (Some(&linked), "linked user", [403, 200, 200]),
        (Some(&linked_writer), "linked user with write scope", [403, 200, 200]),
        (Some(&stranger), "unlinked user", [403, 403, 403]),
        (Some(&other_staff), "staff of another bank", [403, 403, 403]),
        (None, "no token", [401, 401, 401]),
    ];
    for (token, who, statuses) in matrix {
        for ((method, path, body), want) in [&post, &list, &get].into_iter().zip(statuses) {
            let before = api.item_count().await;
            let r = api.send(method.clone(), path, token, *body).await;
            assert_eq!(r.status, want, "{who}: {method} {path}: {}", r.body);
            if want >= 400 {
                r.expect(want);
                assert_eq!(api.item_count().await, before, "{who}: a refused request wrote nothing");
            }
        }
    }
    // A linked user reads only the linked customer's orders.
    for path in [requests("b1", &unlinked), request("b1", &unlinked, &unlinked_order)] {
        api.get(&path, &linked).await.expect(403);
    }
    let r = api.get(&requests("b1", &customer), &linked).await;
    assert_eq!(ids(&r)[0], order);
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_writes_nothing() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let order = create(&api, "b1", &customer, "100").await;
    let before = api.item_count().await;
    let path = requests("b1", &customer);
    let with = |extra: Value| {
        let mut body = json!({"requested_current_rate_amount1": "100"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body.to_string()
    };
    let long = "x".repeat(1025);
    let cases: Vec<(Method, String, String, &str)> = vec![
        (Method::POST, path.clone(), "{".into(), "body"),
        (Method::POST, path.clone(), "".into(), "body"),
        (Method::POST, path.clone(), "[]".into(), "body"),
        (Method::POST, path.clone(), "null".into(), "body"),
        (
            Method::POST,
            path.clone(),
            "{}".into(),
            "requested_current_rate_amount1",
        ),
        (
            Method::POST,
            path.clone(),
            json!({"requested_current_rate_amount1": ""}).to_string(),
            "requested_current_rate_amount1",
        ),
        (
            Method::POST,
            path.clone(),
            json!({"requested_current_rate_amount1": null}).to_string(),
            "requested_current_rate_amount1",
        ),
        (
            Method::POST,
            path.clone(),
            json!({"requested_current_rate_amount1": 100}).to_string(),
            "requested_current_rate_amount1",
        ),
        (
            Method::POST,
            path.clone(),
            json!({"requested_current_rate_amount1": 1.5}).to_string(),
            "requested_current_rate_amount1",
        ),
        (
            Method::POST,
            path.clone(),
            json!({"requested_current_rate_amount1": "1e5"}).to_string(),
            "requested_current_rate_amount1",
        ),
        (
            Method::POST,
            path.clone(),
            json!({"requested_current_rate_amount1": "abc"}).to_string(),
            "requested_current_rate_amount1",
        ),
        (
            Method::POST,
            path.clone(),
            json!({"requested_current_rate_amount1": "-5"}).to_string(),
            "requested_current_rate_amount1",
        ),
        (
            Method::POST,
            path.clone(),
            with(json!({"requested_current_rate_amount2": "1,5"})),
            "requested_current_rate_amount2",
        ),
        (
            Method::POST,
            path.clone(),
            with(json!({"temporary_requested_current_amount": 20000})),
            "temporary_requested_current_amount",
        ),
        (
            Method::POST,
            path.clone(),
            with(json!({"temporary_requested_current_amount": "NaN"})),
            "temporary_requested_current_amount",
        ),
        (
            Method::POST,
            path.clone(),
            with(json!({"requested_current_valid_end_date": "31/12/2026"})),
            "requested_current_valid_end_date",
        ),
        (
            Method::POST,
            path.clone(),
            with(json!({"requested_current_valid_end_date": {"seconds": 1}})),
            "requested_current_valid_end_date",
        ),
        (
            Method::POST,
            path.clone(),
            with(json!({"requested_temporary_valid_end_date": "2026-02-30"})),
            "requested_temporary_valid_end_date",
        ),
        (
            Method::POST,
            path.clone(),
            with(json!({"current_credit_documentation": long})),
            "current_credit_documentation",
        ),
        (
            Method::POST,
            path.clone(),
            with(json!({"temporary_credit_documentation": "a\u{0}b"})),
            "temporary_credit_documentation",
        ),
        (Method::POST, path.clone(), with(json!({"bank_id": "b2"})), "bank_id"),
        (
            Method::POST,
            path.clone(),
            with(json!({"customer_id": "0190a0b0-0000-7000-8000-0000000000ff"})),
            "customer_id",
        ),
        (Method::POST, path.clone(), with(json!({"rate": "1"})), "rate"),
        // The seed's own curl example: every placeholder is rejected.
        (
            Method::POST,
            path.clone(),
            SEED_CREATE.into(),
            "requested_current_rate_amount1",
        ),
        (
            Method::POST,
            requests("b1", "not-a-uuid"),
            with(json!({})),
            "customer_id",
        ),
        (Method::POST, requests("b%231", &customer), with(json!({})), "bank_id"),
        (
            Method::GET,
            requests("b1", "0190a0b0-0000-7000-8000-00000000%2301"),
            String::new(),
            "customer_id",
        ),
        (
            Method::GET,
            request("b1", &customer, "not-a-uuid"),
            String::new(),
            "request_id",
        ),
        (
            Method::GET,
            request("b1", &customer, "0190a0b0-0000-7000-8000-00000000%2301"),
            String::new(),
            "request_id",
        ),
        (
            Method::GET,
            request("b%231", &customer, &order),
            String::new(),
            "bank_id",
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, field) in &cases {
        let body = (*method != Method::GET).then_some(body.as_str());
        let r = api.send(method.clone(), path, Some(&staff), body).await;
        let ct = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if r.status != 400 || ct != "application/problem+json" || !r.fields().iter().any(|f| f == field) {
            failures.push(format!("{method} {path} {body:?}: {} {ct} {}", r.status, r.body));
        }
    }
    assert!(
        failures.is_empty(),
        "cases not answered 400 naming the field:\n{}",
        failures.join("\n")
    );
    // Every bad field of one request is named at once.
    let r = api.send(Method::POST, &path, Some(&staff), Some(SEED_CREATE)).await;
    r.expect(400);
    let mut named = r.fields();
    named.sort();
    assert_eq!(
        named,
        sorted(&[
            "bank_id",
            "customer_id",
            "requested_current_rate_amount1",
            "requested_current_rate_amount2",
            "requested_current_valid_end_date",
            "temporary_requested_current_amount",
            "requested_temporary_valid_end_date",
        ]),
        "documentation placeholders are valid text; the rest is not"
    );
    assert_eq!(api.item_count().await, before, "rejected requests wrote nothing");
    let list = api.get(&requests("b1", &customer), &staff).await;
    assert_eq!(ids(&list), [order]);
}

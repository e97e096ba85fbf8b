//! Black-box tests of the social media group: `POST /v1/customers/{CustomerID}/social_media_handles`
//! (no bank in the path) and `GET /v1/banks/{BankID}/customers/{CustomerID}/social_media_handles`.

use crate::common::{ALL_SCOPES, Api, Reply};
use reqwest::Method;
use serde_json::{Value, json};

fn add_path(customer: &str) -> String {
    format!("/v1/customers/{customer}/social_media_handles")
}

fn list_path(bank: &str, customer: &str) -> String {
    format!("/v1/banks/{bank}/customers/{customer}/social_media_handles")
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

fn handles(r: &Reply) -> Vec<String> {
    r.body["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["handle"].as_str().expect("handle").to_owned())
        .collect()
}

/// Adds a handle as staff of `bank` and returns its id.
async fn add(api: &Api, bank: &str, customer: &str, handle: &str) -> String {
    let r = api
        .post(
            &add_path(customer),
            &api.staff(bank),
            &json!({"type": "twitter", "handle": handle}),
        )
        .await;
    r.expect(201);
    r.body["social_media_handle_id"].as_str().expect("id").to_owned()
}

// contract: C-TIME-3, C-SEED-3, C-ADD-3
#[tokio::test]
async fn add_then_list_shows_the_seed_fields() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({"customer_number": "SM-1"})).await;
    let r = api
        .post(
            &add_path(&id),
            &staff,
            &json!({
                "customer_id": id, "customer_number": "SM-1", "type": "twitter", "handle": "@ada",
                "date_added": {"seconds": "1700000000", "nanos": 5}, "date_activated": "2024-01-02T03:04:05Z"
            }),
        )
        .await;
    r.expect(201);
    assert_eq!(keys(&r.body), ["social_media_handle_id", "success"]);
    assert_eq!(r.body["success"], "true");
    let handle_id = r.body["social_media_handle_id"].as_str().unwrap().to_owned();
    assert_eq!(handle_id.len(), 36);
    assert_eq!(&handle_id[14..15], "7", "a UUIDv7: {handle_id}");

    // Dates left out: date_added is now, date_activated null.
    let before = api.item_count().await;
    let r = api
        .post(&add_path(&id), &staff, &json!({"type": "linkedin", "handle": "ada-l"}))
        .await;
    r.expect(201);
    assert_eq!(api.item_count().await, before + 1, "one item per handle");

    let list = api.get(&list_path("b1", &id), &staff).await;
    list.expect(200);
    assert_eq!(keys(&list.body), ["checks"], "no next_page_token on the only page");
    let checks = list.body["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(
        keys(&checks[0]),
        [
            "customer_number",
            "date_activated",
            "date_added",
            "handle",
            "social_media_handle_id",
            "type"
        ]
    );
    assert_eq!(
        checks[0],
        json!({
            "customer_number": "SM-1", "type": "twitter", "handle": "@ada",
            "date_added": {"seconds": 1700000000, "nanos": 5},
            "date_activated": {"seconds": 1704164645, "nanos": 0},
            "social_media_handle_id": handle_id
        })
    );
    assert_eq!(checks[1]["type"], "linkedin");
    assert_eq!(checks[1]["date_activated"], Value::Null);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let added = checks[1]["date_added"]["seconds"].as_i64().unwrap();
    assert!((now - added).abs() < 120, "date_added defaults to now: {added}");

    // The list answers the customer's current number, not the one it had when the handle was added.
    api.put(
        &format!("/v1/banks/b1/customers/{id}/number"),
        &staff,
        &json!({"customer_number": "SM-2"}),
    )
    .await
    .expect(200);
    let list = api.get(&list_path("b1", &id), &staff).await;
    assert!(
        list.body["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["customer_number"] == "SM-2"),
        "{}",
        list.body
    );
    // ...and the add checks the current one.
    let stale = api
        .post(
            &add_path(&id),
            &staff,
            &json!({"customer_number": "SM-1", "type": "x", "handle": "y"}),
        )
        .await;
    stale.expect(400);
    assert_eq!(stale.fields(), ["customer_number"]);
    api.post(
        &add_path(&id),
        &staff,
        &json!({"customer_number": "SM-2", "type": "x", "handle": "y"}),
    )
    .await
    .expect(201);
}

// contract: C-PAGE-4, C-PAGE-7
#[tokio::test]
async fn lists_are_in_creation_order_and_paginated() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({})).await;
    let other = api.create_customer("b1", json!({})).await;
    let names: Vec<String> = (1..=5).map(|i| format!("@h{i}")).collect();
    let mut ids = Vec::new();
    for name in &names {
        ids.push(add(&api, "b1", &id, name).await);
    }
    add(&api, "b1", &other, "@someone-else").await;

    let all = api.get(&list_path("b1", &id), &staff).await;
    all.expect(200);
    assert_eq!(handles(&all), names, "creation order, this customer's only");

    let replies = api.pages(&format!("{}?limit=2", list_path("b1", &id)), &staff).await;
    let pages = replies.len();
    let mut seen = Vec::new();
    for page in &replies {
        let got = handles(page);
        assert!(got.len() <= 2);
        seen.extend(got);
    }
    assert_eq!(
        (seen, pages),
        (names.clone(), 3),
        "2 + 2 + 1, no token on the last page"
    );

    // A token belongs to its customer and bank.
    let first = api.get(&format!("{}?limit=2", list_path("b1", &id)), &staff).await;
    let token = first.body["next_page_token"].as_str().unwrap();
    let r = api
        .get(&format!("{}?page_token={token}", list_path("b1", &other)), &staff)
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["page_token"]);
    // Under another bank the customer does not exist: the access check answers first (404), and the
    // token is refused with it.
    let both = api.token("both", &["b1", "b2"], ALL_SCOPES);
    api.get(&format!("{}?page_token={token}", list_path("b2", &id)), &both)
        .await
        .expect(404);
    for bad in ["limit=0", "limit=101", "limit=x", "page_token=garbage"] {
        api.get(&format!("{}?{bad}", list_path("b1", &id)), &staff)
            .await
            .expect(400);
    }
    // limit=100 is allowed.
    api.get(&format!("{}?limit=100", list_path("b1", &id)), &staff)
        .await
        .expect(200);

    let empty_customer = api.create_customer("b1", json!({})).await;
    let empty = api.get(&list_path("b1", &empty_customer), &staff).await;
    empty.expect(200);
    assert_eq!(empty.body, json!({"checks": []}));
}

#[tokio::test]
async fn missing_customers_and_other_banks_are_404_and_nothing_is_written() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let at_b1 = api.create_customer("b1", json!({})).await;
    let at_b2 = api.create_customer("b2", json!({})).await;
    add(&api, "b2", &at_b2, "@b2").await;
    let before = api.item_count().await;
    let missing = "0190a0b0-0000-7000-8000-0000000000ff";
    let body = json!({"type": "twitter", "handle": "@x"});

    api.post(&add_path(missing), &staff, &body).await.expect(404);
    api.get(&list_path("b1", missing), &staff).await.expect(404);
    // b2's customer does not exist for b1's staff, neither without a bank nor under b1.
    api.post(&add_path(&at_b2), &staff, &body).await.expect(404);
    api.get(&list_path("b1", &at_b2), &staff).await.expect(404);
    // A customer of b1 is not found under b2, even by staff of both.
    let both = api.token("both", &["b1", "b2"], ALL_SCOPES);
    api.get(&list_path("b2", &at_b1), &both).await.expect(404);
    assert_eq!(api.item_count().await, before, "no item written");

    // b2's own staff see b2's handle; b1's customer has none.
    let r = api.get(&list_path("b2", &at_b2), &api.staff("b2")).await;
    assert_eq!(handles(&r), ["@b2"]);
    let r = api.get(&list_path("b1", &at_b1), &staff).await;
    assert_eq!(r.body["checks"], json!([]));
}

// contract: C-AUTH-10
#[tokio::test]
async fn permission_matrix() {
    let api = Api::start().await;
    let id = api.create_customer("b1", json!({})).await;
    api.post(
        "/v1/banks/b1/user_customer_links",
        &api.staff("b1"),
        &json!({"user_id": "linked", "customer_id": id}),
    )
    .await
    .expect(201);
    let staff = api.staff("b1");
    let linked = api.token("linked", &[], ALL_SCOPES);
    let linked_read_only = api.token("linked", &[], "customer.read");
    let stranger = api.token("stranger", &[], ALL_SCOPES);
    let other_staff = api.token("other-staff", &["b2"], ALL_SCOPES);
    let read_only_staff = api.token("ro", &["b1"], "customer.read");
    let no_scope_staff = api.token("ns", &["b1"], "");
    let upstream = api.token(
        "up",
        &["b1"],
        "https://auth.bnk.to/customer.read https://auth.bnk.to/customer.write",
    );
    let body = json!({"type": "twitter", "handle": "@p"}).to_string();

    // (who, token, POST status, GET status): the bank-less POST hides customers the caller may
    // not write (404) once the token has the write scope.
    let matrix: [(&str, Option<&str>, u16, u16); 9] = [
        ("staff", Some(staff.as_str()), 201, 200),
        ("upstream scope names", Some(upstream.as_str()), 201, 200),
        ("linked user", Some(linked.as_str()), 404, 200),
        ("linked user, read only", Some(linked_read_only.as_str()), 403, 200),
        ("stranger", Some(stranger.as_str()), 404, 403),
        ("staff of another bank", Some(other_staff.as_str()), 404, 403),
        ("read-only staff", Some(read_only_staff.as_str()), 403, 200),
        ("staff without scopes", Some(no_scope_staff.as_str()), 403, 403),
        ("no token", None, 401, 401),
    ];
    let mut failures = Vec::new();
    for (who, token, post, get) in matrix {
        let before = api.item_count().await;
        let r = api.send(Method::POST, &add_path(&id), token, Some(&body)).await;
        if r.status != post {
            failures.push(format!("{who} POST: {} {}", r.status, r.body));
        }
        if post != 201 && api.item_count().await != before {
            failures.push(format!("{who} POST wrote something"));
        }
        let r = api.send(Method::GET, &list_path("b1", &id), token, None).await;
        if r.status != get {
            failures.push(format!("{who} GET: {} {}", r.status, r.body));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Errors are problem+json.
    api.send(Method::POST, &add_path(&id), Some(&linked), Some(&body))
        .await
        .expect(404);
    api.get(&list_path("b1", &id), &stranger).await.expect(403);
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_writes_nothing() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({"customer_number": "BAD-1"})).await;
    let add = add_path(&id);
    let ok = |extra: Value| {
        let mut body = json!({"type": "twitter", "handle": "@h"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body.to_string()
    };
    let before = api.item_count().await;
    let cases: Vec<(Method, String, Option<String>, &str)> = vec![
        (Method::POST, add.clone(), Some("{".into()), "body"),
        (Method::POST, add.clone(), Some("".into()), "body"),
        (Method::POST, add.clone(), Some("[]".into()), "body"),
        (
            Method::POST,
            add.clone(),
            Some(json!({"handle": "@h"}).to_string()),
            "type",
        ),
        (
            Method::POST,
            add.clone(),
            Some(json!({"type": "twitter"}).to_string()),
            "handle",
        ),
        (Method::POST, add.clone(), Some(ok(json!({"type": ""}))), "type"),
        (Method::POST, add.clone(), Some(ok(json!({"handle": "  "}))), "handle"),
        (Method::POST, add.clone(), Some(ok(json!({"type": 5}))), "type"),
        (
            Method::POST,
            add.clone(),
            Some(ok(json!({"type": "t".repeat(65)}))),
            "type",
        ),
        (
            Method::POST,
            add.clone(),
            Some(ok(json!({"handle": "h".repeat(257)}))),
            "handle",
        ),
        (
            Method::POST,
            add.clone(),
            Some(ok(json!({"handle": "a\u{7}b"}))),
            "handle",
        ),
        (
            Method::POST,
            add.clone(),
            Some(ok(json!({"customer_number": "BAD-2"}))),
            "customer_number",
        ),
        (
            Method::POST,
            add.clone(),
            Some(ok(json!({"customer_id": "0190a0b0-0000-7000-8000-0000000000ff"}))),
            "customer_id",
        ),
        (Method::POST, add.clone(), Some(ok(json!({"bank_id": "b1"}))), "bank_id"),
        (
            Method::POST,
            add.clone(),
            Some(ok(json!({"date_added": "yesterday"}))),
            "date_added",
        ),
        (
            Method::POST,
            add.clone(),
            Some(ok(json!({"date_activated": {"seconds": 1, "nanos": -1}}))),
            "date_activated",
        ),
        (
            Method::POST,
            add.clone(),
            Some(ok(json!({"date_activated": {"seconds": 1, "nanos": 1000000000}}))),
            "date_activated",
        ),
        // The seed's curl example, placeholders and all.
        (
            Method::POST,
            add.clone(),
            Some(
                r#"{"customer_id": "string", "customer_number": "string", "type": "string", "handle": "string",
                    "date_added": {"seconds": "int64", "nanos": "int32"},
                    "date_activated": {"seconds": "int64", "nanos": "int32"}}"#
                    .into(),
            ),
            "date_added.seconds",
        ),
        (Method::POST, add_path("not-a-uuid"), Some(ok(json!({}))), "customer_id"),
        (
            Method::POST,
            add_path("0190a0b0-0000-7000-8000-00000000%2301"),
            Some(ok(json!({}))),
            "customer_id",
        ),
        (Method::GET, list_path("b1", "not-a-uuid"), None, "customer_id"),
        (Method::GET, list_path("b%231", &id), None, "bank_id"),
        (
            Method::GET,
            list_path("b1", "0190a0b0-0000-7000-8000-00000000%2301"),
            None,
            "customer_id",
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, field) in &cases {
        let r = api.send(method.clone(), path, Some(&staff), body.as_deref()).await;
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
    // Several bad fields are named together.
    let r = api
        .post(
            &add,
            &staff,
            &json!({"customer_number": "nope", "type": "", "handle": ""}),
        )
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["customer_number", "type", "handle"]);
    assert_eq!(api.item_count().await, before, "rejected requests wrote nothing");
    let list = api.get(&list_path("b1", &id), &staff).await;
    assert_eq!(list.body, json!({"checks": []}));
}

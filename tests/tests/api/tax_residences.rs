//! Black-box tests of the tax residences group: `POST` and `GET .../tax-residences` and
//! `DELETE .../tax_residencies/{TaxResidenceID}` (the seed's two spellings).

use crate::common::{ALL_SCOPES, Api, Reply};
use reqwest::Method;
use serde_json::{Value, json};

fn list_path(bank: &str, customer: &str) -> String {
    format!("/v1/banks/{bank}/customers/{customer}/tax-residences")
}

fn item_path(bank: &str, customer: &str, residence: &str) -> String {
    format!("/v1/banks/{bank}/customers/{customer}/tax_residencies/{residence}")
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

fn numbers(r: &Reply) -> Vec<String> {
    r.body["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|t| t["tax_number"].as_str().expect("tax_number").to_owned())
        .collect()
}

/// Adds a tax residence as staff of `bank` and returns its id.
async fn create(api: &Api, bank: &str, customer: &str, tax_number: &str) -> String {
    let r = api
        .post(
            &list_path(bank, customer),
            &api.staff(bank),
            &json!({"domain": "DE", "tax_number": tax_number}),
        )
        .await;
    r.expect(201);
    r.body["tax_residence_id"].as_str().expect("id").to_owned()
}

// contract: C-LOCK-1, C-LOCK-2, C-SEED-1, C-ADD-1
#[tokio::test]
async fn create_then_list_then_delete() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({})).await;
    let r = api
        .post(
            &list_path("b1", &id),
            &staff,
            &json!({"bank_id": "b1", "customer_id": id, "domain": "FR", "tax_number": "12 345 678 901"}),
        )
        .await;
    r.expect(201);
    assert_eq!(keys(&r.body), ["domain", "tax_number", "tax_residence_id"]);
    assert_eq!(r.body["domain"], "FR");
    assert_eq!(r.body["tax_number"], "12 345 678 901");
    let residence = r.body["tax_residence_id"].as_str().unwrap().to_owned();
    assert_eq!(&residence[14..15], "7", "a UUIDv7: {residence}");
    assert_eq!(r.headers["etag"], "\"1\"");
    let other = create(&api, "b1", &id, "DE-2").await;

    let list = api.get(&list_path("b1", &id), &staff).await;
    list.expect(200);
    assert_eq!(keys(&list.body), ["result"], "no next_page_token on the only page");
    assert_eq!(list.body["result"][0], r.body, "the list answers what the create did");
    assert_eq!(numbers(&list), ["12 345 678 901", "DE-2"]);

    // Delete: 204 with an empty body, then 404; nothing else is touched.
    let before = api.item_count().await;
    let d = api
        .send(Method::DELETE, &item_path("b1", &id, &residence), Some(&staff), None)
        .await;
    assert_eq!(d.status, 204, "{}", d.body);
    assert_eq!(d.body, Value::Null, "no body");
    assert_eq!(api.item_count().await, before - 1);
    api.send(Method::DELETE, &item_path("b1", &id, &residence), Some(&staff), None)
        .await
        .expect(404);
    assert_eq!(api.item_count().await, before - 1);
    let list = api.get(&list_path("b1", &id), &staff).await;
    assert_eq!(numbers(&list), ["DE-2"]);

    // If-Match: the create's ETag.
    api.send(Method::DELETE, &item_path("b1", &id, &other), Some(&staff), None)
        .await;
    let third = create(&api, "b1", &id, "DE-3").await;
    let stale = api
        .http
        .delete(format!("{}{}", api.base, item_path("b1", &id, &third)))
        .header("Authorization", format!("Bearer {staff}"))
        .header("If-Match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let fresh = api
        .http
        .delete(format!("{}{}", api.base, item_path("b1", &id, &third)))
        .header("Authorization", format!("Bearer {staff}"))
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 204);
    let list = api.get(&list_path("b1", &id), &staff).await;
    assert_eq!(list.body, json!({"result": []}));
}

// contract: C-PAGE-4
#[tokio::test]
async fn lists_are_in_creation_order_and_paginated() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({})).await;
    let other = api.create_customer("b1", json!({})).await;
    let names: Vec<String> = (1..=5).map(|i| format!("TN-{i}")).collect();
    for name in &names {
        create(&api, "b1", &id, name).await;
    }
    create(&api, "b1", &other, "TN-other").await;

    let all = api.get(&list_path("b1", &id), &staff).await;
    all.expect(200);
    assert_eq!(numbers(&all), names, "creation order, this customer's only");

    let replies = api.pages(&format!("{}?limit=2", list_path("b1", &id)), &staff).await;
    let pages = replies.len();
    let mut seen = Vec::new();
    for page in &replies {
        let got = numbers(page);
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

    let empty_customer = api.create_customer("b1", json!({})).await;
    let empty = api.get(&list_path("b1", &empty_customer), &staff).await;
    empty.expect(200);
    assert_eq!(empty.body, json!({"result": []}));
}

#[tokio::test]
async fn missing_customers_other_banks_and_other_customers_are_404() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({})).await;
    let other = api.create_customer("b1", json!({})).await;
    let at_b2 = api.create_customer("b2", json!({})).await;
    let mine = create(&api, "b1", &id, "MINE-1").await;
    let theirs = create(&api, "b1", &other, "THEIRS-1").await;
    let b2s = create(&api, "b2", &at_b2, "B2-1").await;
    let before = api.item_count().await;
    let missing = "0190a0b0-0000-7000-8000-0000000000ff";
    let body = json!({"domain": "DE", "tax_number": "1"});

    api.post(&list_path("b1", missing), &staff, &body).await.expect(404);
    api.get(&list_path("b1", missing), &staff).await.expect(404);
    api.send(Method::DELETE, &item_path("b1", missing, &mine), Some(&staff), None)
        .await
        .expect(404);
    // A customer of b2 does not exist under b1.
    api.post(&list_path("b1", &at_b2), &staff, &body).await.expect(404);
    api.get(&list_path("b1", &at_b2), &staff).await.expect(404);
    api.send(Method::DELETE, &item_path("b1", &at_b2, &b2s), Some(&staff), None)
        .await
        .expect(404);
    // Another customer's residence, and one that never existed.
    api.send(Method::DELETE, &item_path("b1", &id, &theirs), Some(&staff), None)
        .await
        .expect(404);
    api.send(Method::DELETE, &item_path("b1", &id, missing), Some(&staff), None)
        .await
        .expect(404);
    // Staff of both banks cannot reach b1's customer through b2.
    let both = api.token("both", &["b1", "b2"], ALL_SCOPES);
    api.send(Method::DELETE, &item_path("b2", &id, &mine), Some(&both), None)
        .await
        .expect(404);
    api.post(&list_path("b2", &id), &both, &body).await.expect(404);
    assert_eq!(api.item_count().await, before, "nothing written or deleted");
    assert_eq!(numbers(&api.get(&list_path("b1", &id), &staff).await), ["MINE-1"]);
    assert_eq!(numbers(&api.get(&list_path("b1", &other), &staff).await), ["THEIRS-1"]);
    assert_eq!(
        numbers(&api.get(&list_path("b2", &at_b2), &api.staff("b2")).await),
        ["B2-1"]
    );
}

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
    let stranger = api.token("stranger", &[], ALL_SCOPES);
    let other_staff = api.token("other-staff", &["b2"], ALL_SCOPES);
    let read_only_staff = api.token("ro", &["b1"], "customer.read");
    let no_scope_staff = api.token("ns", &["b1"], "");
    let upstream = api.token(
        "up",
        &["b1"],
        "https://auth.bnk.to/customer.read https://auth.bnk.to/customer.write",
    );
    let body = json!({"domain": "DE", "tax_number": "P-1"}).to_string();

    // (who, token, POST, GET, DELETE)
    let matrix: [(&str, Option<&str>, u16, u16, u16); 8] = [
        ("linked user", Some(linked.as_str()), 403, 200, 403),
        ("stranger", Some(stranger.as_str()), 403, 403, 403),
        ("staff of another bank", Some(other_staff.as_str()), 403, 403, 403),
        ("read-only staff", Some(read_only_staff.as_str()), 403, 200, 403),
        ("staff without scopes", Some(no_scope_staff.as_str()), 403, 403, 403),
        ("no token", None, 401, 401, 401),
        ("upstream scope names", Some(upstream.as_str()), 201, 200, 204),
        ("staff", Some(staff.as_str()), 201, 200, 204),
    ];
    let mut failures = Vec::new();
    for (who, token, post, get, delete) in matrix {
        // Every caller tries to delete a residence that exists.
        let victim = create(&api, "b1", &id, "VICTIM-1").await;
        let before = api.item_count().await;
        let r = api.send(Method::POST, &list_path("b1", &id), token, Some(&body)).await;
        if r.status != post {
            failures.push(format!("{who} POST: {} {}", r.status, r.body));
        }
        let r = api.send(Method::GET, &list_path("b1", &id), token, None).await;
        if r.status != get {
            failures.push(format!("{who} GET: {} {}", r.status, r.body));
        }
        let r = api
            .send(Method::DELETE, &item_path("b1", &id, &victim), token, None)
            .await;
        if r.status != delete {
            failures.push(format!("{who} DELETE: {} {}", r.status, r.body));
        }
        if post >= 400 && api.item_count().await != before {
            failures.push(format!("{who}: a refused request changed the table"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Refusals are problem+json.
    api.send(Method::POST, &list_path("b1", &id), Some(&linked), Some(&body))
        .await
        .expect(403);
    api.get(&list_path("b1", &id), &stranger).await.expect(403);
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_writes_nothing() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({})).await;
    let residence = create(&api, "b1", &id, "KEEP-1").await;
    let post = list_path("b1", &id);
    let ok = |extra: Value| {
        let mut body = json!({"domain": "DE", "tax_number": "12/345/67890"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body.to_string()
    };
    let before = api.item_count().await;
    let cases: Vec<(Method, String, Option<String>, &str)> = vec![
        (Method::POST, post.clone(), Some("{".into()), "body"),
        (Method::POST, post.clone(), Some("".into()), "body"),
        (Method::POST, post.clone(), Some("[1]".into()), "body"),
        (
            Method::POST,
            post.clone(),
            Some(json!({"tax_number": "1"}).to_string()),
            "domain",
        ),
        (
            Method::POST,
            post.clone(),
            Some(json!({"domain": "DE"}).to_string()),
            "tax_number",
        ),
        (Method::POST, post.clone(), Some(ok(json!({"domain": "XX"}))), "domain"),
        (Method::POST, post.clone(), Some(ok(json!({"domain": "de"}))), "domain"),
        (Method::POST, post.clone(), Some(ok(json!({"domain": "DEU"}))), "domain"),
        (Method::POST, post.clone(), Some(ok(json!({"domain": ""}))), "domain"),
        (Method::POST, post.clone(), Some(ok(json!({"domain": 49}))), "domain"),
        (
            Method::POST,
            post.clone(),
            Some(ok(json!({"tax_number": ""}))),
            "tax_number",
        ),
        (
            Method::POST,
            post.clone(),
            Some(ok(json!({"tax_number": "1#2"}))),
            "tax_number",
        ),
        (
            Method::POST,
            post.clone(),
            Some(ok(json!({"tax_number": "9".repeat(65)}))),
            "tax_number",
        ),
        (
            Method::POST,
            post.clone(),
            Some(ok(json!({"bank_id": "b2"}))),
            "bank_id",
        ),
        (
            Method::POST,
            post.clone(),
            Some(ok(json!({"customer_id": "0190a0b0-0000-7000-8000-0000000000ff"}))),
            "customer_id",
        ),
        (
            Method::POST,
            post.clone(),
            Some(ok(json!({"country": "DE"}))),
            "country",
        ),
        (
            Method::POST,
            list_path("b1", "not-a-uuid"),
            Some(ok(json!({}))),
            "customer_id",
        ),
        (
            Method::POST,
            list_path("b1", "0190a0b0-0000-7000-8000-00000000%2301"),
            Some(ok(json!({}))),
            "customer_id",
        ),
        (Method::GET, list_path("b%231", &id), None, "bank_id"),
        (Method::GET, list_path("b1", "nope"), None, "customer_id"),
        (
            Method::DELETE,
            item_path("b1", &id, "not-a-uuid"),
            None,
            "tax_residence_id",
        ),
        (
            Method::DELETE,
            item_path("b1", &id, "0190a0b0-0000-7000-8000-00000000%2301"),
            None,
            "tax_residence_id",
        ),
        (
            Method::DELETE,
            item_path("b1", "0190a0b0-0000-7000-8000-00000000%2301", &residence),
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
    // Every bad field at once.
    let r = api
        .post(
            &post,
            &staff,
            &json!({"bank_id": "b9", "domain": "ZZ", "tax_number": "?"}),
        )
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["bank_id", "domain", "tax_number"]);
    assert_eq!(api.item_count().await, before, "rejected requests wrote nothing");
    assert_eq!(numbers(&api.get(&post, &staff).await), ["KEEP-1"]);
}

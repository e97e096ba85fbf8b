//! `Idempotency-Key` on every POST: one resource per key, the first answer replayed.

use crate::common::Api;
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

// contract: C-IDEM-2, C-IDEM-4
#[tokio::test]
async fn fifty_concurrent_creates_with_one_key_make_one_customer() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let before = api.item_count().await;
    let body = json!({"bank_id": "b1", "legal_name": "Once Only"});
    let replies = join_all((0..50).map(|_| api.post_keyed("/v1/customers", &staff, "create-once-1", &body))).await;
    // DynamoDB Local runs transactions one at a time: under the whole suite's load some of the 50
    // may wait past the SDK's timeout and answer 503, "outcome unknown" (C-ERR-7). A client retries
    // those with the key, and must then get the same answer as everyone else.
    let mut answers = Vec::new();
    for r in replies {
        let r = match r.status {
            503 => api.post_keyed("/v1/customers", &staff, "create-once-1", &body).await,
            _ => r,
        };
        assert_eq!(r.status, 201, "{}", r.body);
        answers.push(r);
    }
    let first = &answers[0];
    for r in &answers {
        assert_eq!(r.body, first.body, "identical answers");
        assert_eq!(r.headers.get("location"), first.headers.get("location"));
        assert_eq!(r.headers.get("etag"), first.headers.get("etag"));
    }
    // The customer, its number item, the key's record and its pointer under the customer.
    assert_eq!(api.item_count().await, before + 4);
    let firehose = api.get("/v1/banks/b1/firehose/customers", &staff).await;
    assert_eq!(firehose.body["customers"].as_array().map(Vec::len), Some(1));
}

// contract: C-ERR-6, C-IDEM-2, C-IDEM-3, C-IDEM-4
#[tokio::test]
async fn a_retry_replays_and_another_body_is_a_conflict() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let body = json!({"bank_id": "b1", "legal_name": "Retry Me"});
    let first = api.post_keyed("/v1/customers", &staff, "k-2", &body).await;
    first.expect(201);
    let count = api.item_count().await;
    let again = api.post_keyed("/v1/customers", &staff, "k-2", &body).await;
    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(api.item_count().await, count, "a replay writes nothing");

    let other = api
        .post_keyed(
            "/v1/customers",
            &staff,
            "k-2",
            &json!({"bank_id": "b1", "legal_name": "Else"}),
        )
        .await;
    other.expect(409);
    assert_eq!(api.item_count().await, count);

    // Keys belong to their caller: another user's same key is another request.
    let colleague = api.token("colleague", &["b1"], crate::common::ALL_SCOPES);
    let theirs = api.post_keyed("/v1/customers", &colleague, "k-2", &body).await;
    theirs.expect(201);
    assert_ne!(theirs.body["customer_id"], first.body["customer_id"]);

    // Without a key, the same body creates again.
    api.post("/v1/customers", &staff, &body).await.expect(201);
}

// contract: C-ERR-4, C-IDEM-1, C-IDEM-3
#[tokio::test]
async fn bad_keys_are_400_and_rejected_requests_record_nothing() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let body = json!({"bank_id": "b1", "legal_name": "X"});
    let before = api.item_count().await;
    for key in [String::new(), "k".repeat(256), "tab\there".into()] {
        let r = api
            .http
            .post(format!("{}/v1/customers", api.base))
            .header("Authorization", format!("Bearer {staff}"))
            .header("Idempotency-Key", key.as_str())
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "key {key:?}");
    }
    let bad = api
        .post_keyed("/v1/customers", &staff, "k-3", &json!({"bank_id": "b1"}))
        .await;
    bad.expect(400);
    assert_eq!(
        api.item_count().await,
        before,
        "nothing written, no record kept for a 400"
    );
    // The key is still free for a valid request.
    api.post_keyed("/v1/customers", &staff, "k-3", &body).await.expect(201);
}

// contract: C-IDEM-2, C-IDEM-3, C-IDEM-4
#[tokio::test]
async fn every_post_route_honours_the_key() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let c = format!("/v1/banks/b1/customers/{customer}");
    let routes = [
        (
            format!("/v1/customers/{customer}/address"),
            json!({"line_1": "1 Main St", "city": "Town", "country_code": "DE"}),
            "customer_address_id",
        ),
        (
            format!("/v1/customers/{customer}/social_media_handles"),
            json!({"type": "x", "handle": "@me"}),
            "social_media_handle_id",
        ),
        (
            format!("{c}/tax-residences"),
            json!({"domain": "DE", "tax_number": "12/345"}),
            "tax_residence_id",
        ),
        (
            format!("{c}/credit_limit/requests"),
            json!({"requested_current_rate_amount1": "100"}),
            "credit_limit_order_id",
        ),
        (
            "/v1/banks/b1/crm-events".into(),
            json!({"customer_id": customer, "category": "call"}),
            "id",
        ),
        (
            "/v1/banks/b1/user_customer_links".into(),
            json!({"user_id": "u-idem", "customer_id": customer}),
            "user_customer_link_id",
        ),
    ];
    for (i, (path, body, id_field)) in routes.iter().enumerate() {
        let key = format!("route-key-{i}");
        let replies = join_all((0..5).map(|_| api.post_keyed(path, &staff, &key, body))).await;
        let ids: Vec<&Value> = replies.iter().map(|r| &r.body[*id_field]).collect();
        assert!(
            replies.iter().all(|r| r.status == 201),
            "{path}: {:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert!(
            ids.iter().all(|id| *id == ids[0] && id.is_string()),
            "{path}: one resource, {ids:?}"
        );
        // The same key on another route is another request: 409, not a replay.
        let reused = api
            .post_keyed(
                "/v1/customers",
                &staff,
                &key,
                &json!({"bank_id": "b1", "legal_name": "Y"}),
            )
            .await;
        reused.expect(409);
    }
    // Without keys, nothing is deduplicated.
    let body = json!({"bank_id": "b1", "legal_name": "Twice"}).to_string();
    for _ in 0..2 {
        api.send(Method::POST, "/v1/customers", Some(&staff), Some(&body))
            .await
            .expect(201);
    }
    // Exactly one of each child was made.
    let addresses = api.get(&format!("{c}/addresses"), &staff).await;
    assert_eq!(addresses.body["addresses"].as_array().map(Vec::len), Some(1));
    let orders = api.get(&format!("{c}/credit_limit/requests"), &staff).await;
    assert_eq!(orders.body["result"].as_array().map(Vec::len), Some(1));
    let events = api.get("/v1/banks/b1/crm-events", &staff).await;
    assert_eq!(events.body["crm_events"].as_array().map(Vec::len), Some(1));
}

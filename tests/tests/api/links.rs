use crate::common::{ALL_SCOPES, Api};
use serde_json::json;

// contract: C-BODY-4, C-ID-7, C-SEED-3
#[tokio::test]
async fn links_are_created_once_per_user_and_customer() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({})).await;
    let r = api
        .post(
            "/v1/banks/b1/user_customer_links",
            &staff,
            &json!({"bank_id": "b1", "user_id": "u-1", "customer_id": id}),
        )
        .await;
    r.expect(201);
    let mut keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "customer_id",
            "date_inserted",
            "is_active",
            "user_customer_link_id",
            "user_id"
        ]
    );
    assert_eq!(r.body["is_active"], true);
    assert_eq!(r.body["customer_id"], json!(id));
    assert!(r.body["date_inserted"]["seconds"].as_i64().unwrap() > 1_700_000_000);

    let before = api.item_count().await;
    api.post(
        "/v1/banks/b1/user_customer_links",
        &staff,
        &json!({"user_id": "u-1", "customer_id": id}),
    )
    .await
    .expect(409);
    api.post(
        "/v1/banks/b1/user_customer_links",
        &staff,
        &json!({"user_id": "u-1", "customer_id": "0190a0b0-0000-7000-8000-0000000000ff"}),
    )
    .await
    .expect(404);
    // A customer of another bank cannot be linked under this one.
    let elsewhere = api.create_customer("b2", json!({})).await;
    let before_elsewhere = api.item_count().await;
    api.post(
        "/v1/banks/b1/user_customer_links",
        &staff,
        &json!({"user_id": "u-1", "customer_id": elsewhere}),
    )
    .await
    .expect(404);
    for (body, field) in [
        (json!({"customer_id": id}), "user_id"),
        (json!({"user_id": "u 1", "customer_id": id}), "user_id"),
        (json!({"user_id": "u-2", "customer_id": "nope"}), "customer_id"),
        (json!({"user_id": "u-2", "customer_id": id, "bank_id": "b2"}), "bank_id"),
        (json!({"user_id": "u-2", "customer_id": id, "extra": 1}), "extra"),
    ] {
        let r = api.post("/v1/banks/b1/user_customer_links", &staff, &body).await;
        r.expect(400);
        assert_eq!(r.fields(), [field], "{body}");
    }
    assert_eq!(api.item_count().await, before_elsewhere);
    assert_eq!(
        before_elsewhere,
        before + 2,
        "only the b2 customer and its number were added"
    );
}

// contract: C-ERR-6
#[tokio::test]
async fn concurrent_duplicate_links_give_one_success() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({})).await;
    let body = json!({"user_id": "u-race", "customer_id": id});
    let replies =
        futures::future::join_all((0..10).map(|_| api.post("/v1/banks/b1/user_customer_links", &staff, &body))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 9, "{statuses:?}");
}

// contract: C-AUTH-9, C-PAGE-2, C-PAGE-4
#[tokio::test]
async fn users_list_their_linked_customers() {
    let api = Api::start().await;
    let mut b1 = Vec::new();
    for _ in 0..5 {
        let id = api.create_customer("b1", json!({})).await;
        api.post(
            "/v1/banks/b1/user_customer_links",
            &api.staff("b1"),
            &json!({"user_id": "reader", "customer_id": id}),
        )
        .await
        .expect(201);
        b1.push(id);
    }
    let b2 = api.create_customer("b2", json!({})).await;
    api.post(
        "/v1/banks/b2/user_customer_links",
        &api.staff("b2"),
        &json!({"user_id": "reader", "customer_id": b2}),
    )
    .await
    .expect(201);
    let _not_linked = api.create_customer("b1", json!({})).await;
    let reader = api.token("reader", &[], "customer.read");

    let ids = |r: &crate::common::Reply| -> Vec<String> {
        r.body["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = api.get("/v1/users/current/customers", &reader).await;
    all.expect(200);
    let mut expected = b1.clone();
    expected.push(b2.clone());
    let mut got = ids(&all);
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    assert!(all.body.get("next_page_token").is_none());

    let at_b1 = api.get("/v1/banks/b1/customers", &reader).await;
    assert_eq!(ids(&at_b1), b1, "one bank's links, in creation order");

    // Pages of 2 cover the list exactly once.
    let pages = api.pages("/v1/banks/b1/customers?limit=2", &reader).await;
    assert_eq!(pages.iter().flat_map(ids).collect::<Vec<_>>(), b1);

    // A page token is bound to its user and bank.
    let first = api.get("/v1/banks/b1/customers?limit=2", &reader).await;
    let token = first.body["next_page_token"].as_str().unwrap();
    api.get(&format!("/v1/banks/b2/customers?page_token={token}"), &reader)
        .await
        .expect(400);
    let other = api.token("other", &[], ALL_SCOPES);
    api.get(&format!("/v1/banks/b1/customers?page_token={token}"), &other)
        .await
        .expect(400);
    for bad in ["limit=0", "limit=101", "limit=-1", "limit=abc", "page_token=garbage"] {
        api.get(&format!("/v1/users/current/customers?{bad}"), &reader)
            .await
            .expect(400);
    }
    // Nobody linked: an empty list.
    let nobody = api.get("/v1/users/current/customers", &other).await;
    nobody.expect(200);
    assert_eq!(nobody.body["customers"], json!([]));
}

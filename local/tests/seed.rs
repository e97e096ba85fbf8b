//! `local-api seed` against the test run's DynamoDB Local (`make test` sets DYNAMODB_ENDPOINT): a
//! fresh table gets the whole demo bank, a second run creates nothing, the API shows the data to the
//! linked users, and a conflict over anything but the demo item itself stops the seed.

use axum::body::Body;
use http::{Request, StatusCode};
use local_api::seed::{self, Tally};
use serde_json::Value;
use shared::AppState;
use tower::ServiceExt;

mod support;
use support::{fresh_store, unique};

#[tokio::test]
async fn seeding_twice_creates_everything_once() {
    let store = fresh_store("seed").await;

    let first = seed::run(&store).await.expect("first seed");
    let created = |n| Tally { created: n, found: 0 };
    assert_eq!(first.customers, created(8));
    assert_eq!(first.addresses, created(10));
    assert_eq!(first.social_media_handles, created(7));
    assert_eq!(first.tax_residences, created(9));
    assert_eq!(first.credit_limit_orders, created(5));
    assert_eq!(first.crm_events, created(10));
    assert_eq!(first.user_customer_links, created(11));
    assert_eq!((first.created(), first.found()), (60, 0));

    let second = seed::run(&store).await.expect("second seed");
    for ((kind, before), (_, after)) in first.kinds().into_iter().zip(second.kinds()) {
        assert_eq!(
            after,
            Tally {
                created: 0,
                found: before.created
            },
            "{kind} on the second run"
        );
    }
    assert!(
        second.to_string().contains("total                        0      60"),
        "{second}"
    );

    // What the API shows: alice sees her two customers, the bank has 8 and 10 CRM events.
    let key_dir = std::env::temp_dir().join(unique("seed-test-keys"));
    let keys = local_api::keys::load_or_create(&key_dir).expect("dev keys");
    let state = AppState::new(store.client().clone(), store.table(), &[7; 32]).expect("state");
    let template =
        local_api::template::Template::load(&local_api::template_path().expect("the checkout")).expect("template");
    let app = local_api::build(template, &keys, &state, &key_dir)
        .await
        .expect("local api")
        .router;
    let get = |path: &str, sub: &str, banks: &[&str]| {
        let mut request = local_api::keys::TokenRequest::new(sub);
        request.scope = "customer.read customer.firehose".into();
        request.bank_ids = banks.iter().map(|b| b.to_string()).collect();
        let token = keys.mint(&request).expect("mint");
        let app = app.clone();
        let request = Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let path = path.to_owned();
        async move {
            let response = app.oneshot(request).await.expect("response");
            assert_eq!(response.status(), StatusCode::OK, "GET {path}");
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body");
            serde_json::from_slice::<Value>(&bytes).expect("JSON")
        }
    };
    let names = |list: &Value| -> Vec<String> {
        list["customers"]
            .as_array()
            .expect("customers")
            .iter()
            .map(|c| c["legal_name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let alice = get("/v1/users/current/customers", "alice", &[]).await;
    assert_eq!(names(&alice), ["Alice Whitfield", "Whitfield Botanicals Ltd"]);
    let bank = get("/v1/banks/demo-bank/customers", "dev-user", &["demo-bank"]).await;
    assert_eq!(names(&bank).len(), 8);
    let events = get("/v1/banks/demo-bank/crm-events", "dev-user", &["demo-bank"]).await;
    assert_eq!(events["crm_events"].as_array().map(Vec::len), Some(10));
    let _ = std::fs::remove_dir_all(&key_dir);
}

#[tokio::test]
async fn a_conflict_that_is_not_the_demo_item_stops_the_seed() {
    let store = fresh_store("seed").await;
    // A customer of the user's own takes the first demo customer's number.
    let body =
        serde_json::json!({"bank_id": "demo-bank", "legal_name": "Someone Else", "customer_number": "100200300401"});
    let new =
        shared::http::body::parse_json::<shared::domain::customer::CreateCustomerBody>(body.to_string().as_bytes())
            .and_then(|b| b.validate().map_err(shared::ApiError::from))
            .expect("valid customer");
    store
        .create_customer(new, None, &shared::domain::audit::Audit::tool("test", "seed"))
        .await
        .expect("create");

    let err = seed::run(&store)
        .await
        .expect_err("the seed must not count this as done");
    let message = err.to_string();
    assert!(
        message.contains("Alice Whitfield") && message.contains("100200300401"),
        "{message}"
    );
}

//! `Store::connect`, what `DYNAMODB_CONNECT_AT_INIT=true` runs during init.

use crate::common::Api;
use shared::store::Store;
use std::time::{Duration, Instant};

#[tokio::test]
async fn connecting_at_init_reads_nothing_writes_nothing_and_the_api_serves() {
    let api = Api::start().await;
    let before = api.item_count().await;
    api.state.store.connect().await;
    assert_eq!(api.item_count().await, before, "connect wrote to the table");
    let id = api.create_customer("connect-bank", serde_json::json!({})).await;
    let r = api
        .get(
            &format!("/v1/banks/connect-bank/customers/{id}"),
            &api.staff("connect-bank"),
        )
        .await;
    r.expect(200);
}

#[tokio::test]
async fn an_unreachable_dynamodb_at_init_is_logged_and_bounded_not_fatal() {
    // Nothing listens on port 9 of loopback: the connection is refused at once, then retried.
    let client = shared::config::dynamodb_client_for(Some("http://127.0.0.1:9")).expect("client");
    let store = Store::new(client, "unreachable");
    let started = Instant::now();
    store.connect().await;
    let took = started.elapsed();
    let bound = shared::config::sdk_timeouts()
        .operation_timeout()
        .expect("an operation timeout")
        + Duration::from_secs(1);
    assert!(took <= bound, "connect took {took:?}, more than {bound:?}");
}

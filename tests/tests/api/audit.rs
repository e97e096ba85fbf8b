//! Every write stores who made it, in which request and when, on the item itself and in the same
//! write (the table's stream and the history built from it rely on it).

use crate::common::{Api, Reply};
use serde_json::{Value, json};
use shared::domain::ids::{BankId, CustomerId, UserId};
use shared::store::keys::{self, ChildKind, ItemKey};
use std::time::{SystemTime, UNIX_EPOCH};

const BANK: &str = "audit-bank";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// The item's audit is this reply's caller and request, stamped during the request.
async fn assert_audited(api: &Api, key: ItemKey, sub: &str, reply: &Reply, before: i64) {
    let item = api
        .state
        .store
        .client()
        .get_item()
        .table_name(api.state.store.table())
        .set_key(Some(key.to_map()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
        .unwrap_or_else(|| panic!("no item at {key:?}"));
    let item: Value = serde_dynamo::from_item(item).expect("an item as JSON");
    let request_id = reply.headers["x-request-id"].to_str().expect("ASCII");
    assert!(!request_id.is_empty());
    assert_eq!(item["changed_by"], sub, "{key:?}");
    assert_eq!(item["request_id"], request_id, "{key:?}");
    let at = item["changed_at"]["seconds"].as_i64().expect("changed_at.seconds");
    assert!(
        (before..=now()).contains(&at),
        "{key:?}: changed at {at}, request from {before}"
    );
}

// contract: C-HIST-1
#[tokio::test]
async fn every_write_stores_its_caller_request_and_time() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let sub = format!("staff-of-{BANK}");
    let bank = BankId::parse(BANK).expect("bank");

    let before = now();
    let created = api
        .post(
            "/v1/customers",
            &staff,
            &json!({"bank_id": BANK, "legal_name": "Audited"}),
        )
        .await;
    created.expect(201);
    let id = CustomerId::parse(created.body["customer_id"].as_str().expect("id")).expect("uuid");
    assert_audited(&api, keys::customer(&id), &sub, &created, before).await;

    let base = format!("/v1/banks/{BANK}/customers/{id}");
    let other = api.token("another-clerk", &[BANK], crate::common::ALL_SCOPES);
    let updated = api
        .put(&format!("{base}/email"), &other, &json!({"email": "a@example.com"}))
        .await;
    updated.expect(200);
    assert_audited(&api, keys::customer(&id), "another-clerk", &updated, before).await;
    let renumbered = api
        .put(&format!("{base}/number"), &staff, &json!({"customer_number": "AUD-2"}))
        .await;
    renumbered.expect(200);
    assert_audited(&api, keys::customer(&id), &sub, &renumbered, before).await;

    let address = api
        .post(
            &format!("/v1/customers/{id}/address"),
            &staff,
            &json!({"line_1": "1 Way", "city": "Bath", "country_code": "GB"}),
        )
        .await;
    address.expect(201);
    let address_id = address.body["customer_address_id"].as_str().expect("id").to_owned();
    let address_key = keys::child(&id, ChildKind::CustomerAddress, &address_id);
    assert_audited(&api, address_key.clone(), &sub, &address, before).await;
    let moved = api
        .put(
            &format!("{base}/addresses/{address_id}"),
            &other,
            &json!({"city": "Wells"}),
        )
        .await;
    moved.expect(200);
    assert_audited(&api, address_key, "another-clerk", &moved, before).await;

    let handle = api
        .post(
            &format!("/v1/customers/{id}/social_media_handles"),
            &staff,
            &json!({"type": "twitter", "handle": "@aud"}),
        )
        .await;
    handle.expect(201);
    let handle_id = handle.body["social_media_handle_id"].as_str().expect("id");
    assert_audited(
        &api,
        keys::child(&id, ChildKind::SocialMediaHandle, handle_id),
        &sub,
        &handle,
        before,
    )
    .await;

    let residence = api
        .post(
            &format!("{base}/tax-residences"),
            &staff,
            &json!({"domain": "GB", "tax_number": "X1"}),
        )
        .await;
    residence.expect(201);
    let residence_id = residence.body["tax_residence_id"].as_str().expect("id");
    assert_audited(
        &api,
        keys::child(&id, ChildKind::TaxResidence, residence_id),
        &sub,
        &residence,
        before,
    )
    .await;

    let order = api
        .post(
            &format!("{base}/credit_limit/requests"),
            &staff,
            &json!({"requested_current_rate_amount1": "10"}),
        )
        .await;
    order.expect(201);
    let order_id = order.body["credit_limit_order_id"].as_str().expect("id");
    assert_audited(
        &api,
        keys::child(&id, ChildKind::CreditLimitOrder, order_id),
        &sub,
        &order,
        before,
    )
    .await;

    let link = api
        .post(
            &format!("/v1/banks/{BANK}/user_customer_links"),
            &staff,
            &json!({"user_id": "linked-user", "customer_id": id.to_string()}),
        )
        .await;
    link.expect(201);
    let user = UserId::parse("linked-user").expect("user");
    assert_audited(&api, keys::user_customer_link(&user, &bank, &id), &sub, &link, before).await;

    let event = api
        .post(
            &format!("/v1/banks/{BANK}/crm-events"),
            &staff,
            &json!({"customer_id": id.to_string(), "category": "call"}),
        )
        .await;
    event.expect(201);
    let event_id = event.body["id"].as_str().expect("id");
    let event_key = keys::crm_event(&bank, api.state.store.shards(), event_id);
    assert_audited(&api, event_key, &sub, &event, before).await;
}

/// A delete writes, in its transaction, a marker beside the item naming who deleted it; a refused
/// delete writes nothing.
// contract: C-HIST-1
#[tokio::test]
async fn a_delete_leaves_a_marker_naming_the_deleter_and_a_refused_one_nothing() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let id = api.create_customer(BANK, json!({})).await;
    let customer = CustomerId::parse(&id).expect("uuid");
    let base = format!("/v1/banks/{BANK}/customers/{id}");
    let added = api
        .post(
            &format!("{base}/tax-residences"),
            &staff,
            &json!({"domain": "FR", "tax_number": "F1"}),
        )
        .await;
    added.expect(201);
    let residence_id = added.body["tax_residence_id"].as_str().expect("id").to_owned();
    let residence = format!("{base}/tax_residencies/{residence_id}");
    let key = keys::child(&customer, ChildKind::TaxResidence, &residence_id);
    let items = api.item_count().await;
    let delete = |if_match: Option<&'static str>| {
        let mut request = api.http.delete(format!("{}{residence}", api.base)).bearer_auth(&staff);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        request.send()
    };

    assert_eq!(delete(Some("\"7\"")).await.expect("delete").status(), 412);
    assert_eq!(api.item_count().await, items, "a refused delete writes nothing");

    let before = now();
    let deleted = delete(Some("\"1\"")).await.expect("delete");
    assert_eq!(deleted.status(), 204);
    let reply = Reply {
        status: 204,
        headers: deleted.headers().clone(),
        body: Value::Null,
    };
    assert_eq!(api.item_count().await, items - 1, "the item is gone");
    assert_audited(&api, keys::deletion(&key), &format!("staff-of-{BANK}"), &reply, before).await;
    assert_eq!(delete(None).await.expect("delete").status(), 404);
    assert_eq!(api.item_count().await, items - 1);
}

//! A bank-wide collection at scale: what a write costs, items written before sharding (or under
//! another shard count), and their migration while the lists keep answering.

use crate::common::{Api, sharded};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use serde_json::{Value, json};
use shared::domain::ids::CustomerId;
use shared::store::Store;
use shared::store::keys::{self, Shards};
use shared::store::migrate::Moved;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// A customer update rewrites the base item only: the firehose index holds keys, which no update
/// changes, so DynamoDB charges 1 write unit (the item is under 1 KB) and nothing for the index.
// contract: C-SCALE-2
async fn a_customer_update_costs_one_write_unit(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let id = api.create_customer("b1", json!({"email": "a@example.com"})).await;
    let token = api.staff("b1");
    // The route's own write, for the record: it must succeed before the same write is measured.
    api.put(
        &format!("/v1/banks/b1/customers/{id}/email"),
        &token,
        &json!({"email": "b@example.com"}),
    )
    .await
    .expect(200);
    let out = api
        .state
        .store
        .client()
        .update_item()
        .table_name(api.state.store.table())
        .set_key(Some(keys::customer(&CustomerId::parse(&id).unwrap()).to_map()))
        .update_expression("SET email = :e, version = version + :one")
        .expression_attribute_values(":e", s("c@example.com"))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .expect("update");
    let used = out.consumed_capacity.expect("consumed capacity");
    assert_eq!(used.capacity_units, Some(1.0), "{used:?}");
    assert!(
        used.global_secondary_indexes.unwrap_or_default().is_empty(),
        "no index write"
    );
}
sharded!(a_customer_update_costs_one_write_unit);

/// Rewrites a customer as the release before sharding stored it: in the legacy index only.
async fn make_legacy_customer(store: &Store, id: &str) {
    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .set_key(Some(keys::customer(&CustomerId::parse(id).unwrap()).to_map()))
        .send()
        .await
        .expect("get")
        .item
        .expect("customer");
    let bank = item["bank_id"].as_s().unwrap();
    let sort = item[keys::FIREHOSE_SK].as_s().unwrap();
    store
        .client()
        .update_item()
        .table_name(store.table())
        .set_key(Some(keys::customer(&CustomerId::parse(id).unwrap()).to_map()))
        .update_expression("SET gsi1pk = :p, gsi1sk = :s REMOVE firehose_pk, firehose_sk")
        .expression_attribute_values(":p", s(&format!("BANK#{bank}#CUSTOMERS")))
        .expression_attribute_values(":s", s(sort))
        .send()
        .await
        .expect("legacy customer");
}

/// Moves every CRM event of `bank` into the one partition the release before sharding used.
async fn make_legacy_events(store: &Store, bank: &str) {
    let legacy = format!("BANK#{bank}#CRM_EVENTS");
    let items = store
        .client()
        .scan()
        .table_name(store.table())
        .filter_expression("begins_with(pk, :p)")
        .expression_attribute_values(":p", s(&format!("{legacy}#")))
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    assert!(!items.is_empty());
    for mut item in items {
        let key = keys::ItemKey {
            pk: item["pk"].as_s().unwrap().clone(),
            sk: item["sk"].as_s().unwrap().clone(),
        };
        item.insert("pk".into(), s(&legacy));
        let client = store.client();
        client
            .put_item()
            .table_name(store.table())
            .set_item(Some(item))
            .send()
            .await
            .expect("put");
        client
            .delete_item()
            .table_name(store.table())
            .set_key(Some(key.to_map()))
            .send()
            .await
            .expect("delete");
    }
}

/// Runs the migration to its end, two segments, as `local-api migrate` does.
async fn migrate(store: &Store) -> Moved {
    let mut total = Moved::default();
    for segment in 0..2 {
        let mut start = None;
        loop {
            let page = store.migrate_page(segment, 2, None, start).await.expect("migrate");
            total += page.moved;
            match page.next {
                Some(next) => start = Some(next),
                None => break,
            }
        }
    }
    total
}

async fn lists(api: &Api, token: &str) -> (Vec<String>, Vec<String>) {
    let customers = api
        .pages("/v1/banks/b1/firehose/customers?sort_direction=ASC&limit=4", token)
        .await
        .iter()
        .flat_map(crate::firehose::ids)
        .collect();
    let events = api
        .pages("/v1/banks/b1/crm-events?limit=4", token)
        .await
        .iter()
        .flat_map(crate::crm_events::ids)
        .collect();
    (customers, events)
}

/// Items written before sharding are listed with the new ones in one order; the migration moves
/// each of them once (a second run moves nothing), the lists answer the same before, during
/// (page tokens issued before it continue) and after, and nothing else in the table changes.
// contract: C-SCALE-3
async fn legacy_items_are_listed_and_migrated_once_without_changing_a_list(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let token = api.staff("b1");
    let mut customers = Vec::new();
    for _ in 0..12 {
        customers.push(api.create_customer("b1", json!({})).await);
    }
    let mut events = Vec::new();
    for customer in &customers[..6] {
        let r = api
            .post(
                "/v1/banks/b1/crm-events",
                &token,
                &json!({"customer_id": customer, "detail": "call"}),
            )
            .await;
        r.expect(201);
        events.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let store = &api.state.store;
    // Every other customer, and every event so far, as the previous release wrote them.
    for id in customers.iter().step_by(2) {
        make_legacy_customer(store, id).await;
    }
    make_legacy_events(store, "b1").await;
    // Then more events under the new keys.
    for customer in &customers[6..9] {
        let r = api
            .post(
                "/v1/banks/b1/crm-events",
                &token,
                &json!({"customer_id": customer, "detail": "visit"}),
            )
            .await;
        r.expect(201);
        events.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let items = api.item_count().await;

    assert_eq!(lists(&api, &token).await, (customers.clone(), events.clone()), "before");
    // Tokens issued before the migration continue after it.
    let first = api
        .get("/v1/banks/b1/firehose/customers?sort_direction=ASC&limit=5", &token)
        .await;
    let events_first = api.get("/v1/banks/b1/crm-events?limit=5", &token).await;

    let moved = migrate(store).await;
    assert_eq!((moved.customers, moved.crm_events), (6, 6), "{moved:?}");
    assert_eq!(
        migrate(store).await.customers + migrate(store).await.crm_events,
        0,
        "idempotent"
    );
    assert_eq!(api.item_count().await, items, "moved, not copied");
    assert_eq!(lists(&api, &token).await, (customers.clone(), events.clone()), "after");

    let next = first.body["next_page_token"].as_str().unwrap();
    let rest = api
        .get(
            &format!("/v1/banks/b1/firehose/customers?sort_direction=ASC&limit=100&page_token={next}"),
            &token,
        )
        .await;
    assert_eq!(crate::firehose::ids(&rest), customers[5..]);
    let next = events_first.body["next_page_token"].as_str().unwrap();
    let rest = api
        .get(&format!("/v1/banks/b1/crm-events?limit=100&page_token={next}"), &token)
        .await;
    assert_eq!(crate::crm_events::ids(&rest), events[5..]);

    // Nothing is left under the legacy keys; every customer is in the index under its shard.
    let legacy: Vec<Value> = store
        .client()
        .scan()
        .table_name(store.table())
        .filter_expression("attribute_exists(gsi1pk) OR pk = :legacy")
        .expression_attribute_values(":legacy", s("BANK#b1#CRM_EVENTS"))
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default()
        .iter()
        .map(|i| json!(format!("{i:?}")))
        .collect();
    assert!(legacy.is_empty(), "{legacy:?}");
}
sharded!(legacy_items_are_listed_and_migrated_once_without_changing_a_list);

/// Lowering the shard count strands items in shards no longer read, until the migration moves
/// them under the new count; raising it strands nothing.
// contract: C-SCALE-3
async fn a_new_shard_count_is_served_after_the_migration_moves_items_under_it(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let token = api.staff("b1");
    let wide = api.state.store.clone().with_shards(Shards::new(64).unwrap());
    let mut customers = Vec::new();
    for _ in 0..10 {
        customers.push(api.create_customer("b1", json!({})).await);
    }
    // Two shards, or one when the API itself runs with one (its list must read them all).
    let count = api.state.store.shards().count().min(2);
    let narrow = wide.clone().with_shards(Shards::new(count).unwrap());
    let page = |store: Store| {
        let bank = shared::domain::ids::BankId::parse("b1").unwrap();
        async move {
            let q = shared::store::customers::BankCustomersQuery {
                descending: false,
                from: None,
                to: None,
                limit: 100,
                offset: 0,
                start: None,
            };
            store
                .bank_customers(&bank, &q)
                .await
                .expect("firehose")
                .items
                .iter()
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        page(wide.clone()).await,
        customers,
        "raised: every shard written is still read"
    );
    let moved = migrate(&wide).await.customers;
    assert_eq!(
        moved > 0,
        api.state.store.shards() != wide.shards(),
        "moved under 64 shards"
    );
    assert_eq!(page(wide.clone()).await, customers);
    assert_ne!(page(narrow.clone()).await, customers, "lowered: some are out of reach");
    let moved = migrate(&narrow).await;
    assert!(moved.customers > 0, "{moved:?}");
    assert_eq!(page(narrow.clone()).await, customers, "migrated to the new count");
    // The API's own count reads the narrow count's partitions too.
    let listed = api
        .get("/v1/banks/b1/firehose/customers?sort_direction=ASC", &token)
        .await;
    assert_eq!(crate::firehose::ids(&listed), customers);
}
sharded!(a_new_shard_count_is_served_after_the_migration_moves_items_under_it);

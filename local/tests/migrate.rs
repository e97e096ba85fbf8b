//! `local-api migrate` against the test run's DynamoDB Local: the demo bank, rewritten as the
//! release before sharding stored it, is moved in runs that stop after one page per segment and
//! continue from the state file, each item once, until the scan is complete.

use aws_sdk_dynamodb::types::AttributeValue;
use local_api::migrate::{Options, run};
use shared::domain::ids::BankId;
use shared::store::Store;
use shared::store::customers::BankCustomersQuery;

mod support;
use support::{fresh_store, unique};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

async fn demo_store() -> Store {
    let store = fresh_store("migrate").await;
    local_api::seed::run(&store).await.expect("seed");
    store
}

/// Every customer into the legacy index, every CRM event into its bank's one partition.
async fn make_legacy(store: &Store) -> (u64, u64) {
    let items = store
        .client()
        .scan()
        .table_name(store.table())
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let (mut customers, mut events) = (0, 0);
    for mut item in items {
        let pk = item["pk"].as_s().unwrap().clone();
        let sk = item["sk"].as_s().unwrap().clone();
        if let Some(AttributeValue::S(shard)) = item.get("firehose_pk").cloned() {
            let legacy = shard.rsplit_once('#').unwrap().0.to_owned();
            let sort = item["firehose_sk"].as_s().unwrap().clone();
            item.remove("firehose_pk");
            item.remove("firehose_sk");
            item.insert("gsi1pk".into(), s(&legacy));
            item.insert("gsi1sk".into(), s(&sort));
            customers += 1;
        } else if pk.contains("#CRM_EVENTS#") {
            let legacy = pk.rsplit_once('#').unwrap().0.to_owned();
            store
                .client()
                .delete_item()
                .table_name(store.table())
                .key("pk", s(&pk))
                .key("sk", s(&sk))
                .send()
                .await
                .expect("delete");
            item.insert("pk".into(), s(&legacy));
            events += 1;
        } else {
            continue;
        }
        store
            .client()
            .put_item()
            .table_name(store.table())
            .set_item(Some(item))
            .send()
            .await
            .expect("put");
    }
    (customers, events)
}

async fn firehose(store: &Store) -> Vec<String> {
    let q = BankCustomersQuery {
        descending: false,
        from: None,
        to: None,
        limit: 500,
        offset: 0,
        start: None,
    };
    store
        .bank_customers(&BankId::parse("demo-bank").unwrap(), &q)
        .await
        .expect("firehose")
        .items
        .iter()
        .map(|c| c.id.to_string())
        .collect()
}

#[tokio::test]
async fn an_interrupted_migration_continues_and_moves_each_item_once() {
    let store = demo_store().await;
    let before = firehose(&store).await;
    let (customers, events) = make_legacy(&store).await;
    assert!(customers > 0 && events > 0);
    assert_eq!(firehose(&store).await, before, "legacy items are listed in place");

    let dir = std::env::temp_dir().join(unique("migrate-state"));
    let options = Options {
        segments: 2,
        state: dir.join("state.json"),
        page_size: Some(5),
        max_pages: Some(1),
        progress: false,
    };
    let mut runs = 0;
    let report = loop {
        let report = run(&store, &options).await.expect("migrate");
        runs += 1;
        assert_eq!(report.resumed, runs > 1, "run {runs} continues the state file");
        if report.complete {
            break report;
        }
        assert!(options.state.exists(), "the position is kept between runs");
        assert!(runs < 100);
    };
    assert!(runs > 2, "{runs} runs: the migration was interrupted and continued");
    assert!(!options.state.exists(), "a complete run leaves no state");
    assert_eq!(
        (report.moved.customers, report.moved.crm_events),
        (customers, events),
        "each item moved once across the runs"
    );
    assert_eq!(firehose(&store).await, before, "listed the same after the move");

    let again = run(
        &store,
        &Options {
            max_pages: None,
            ..options.clone()
        },
    )
    .await
    .expect("again");
    assert!(again.complete && !again.resumed);
    assert_eq!((again.moved.customers, again.moved.crm_events), (0, 0));

    // A state file of another shard count is refused, not continued with the wrong keys.
    run(&store, &options).await.expect("one page");
    let other = store.clone().with_shards(shared::store::keys::Shards::new(3).unwrap());
    let refused = run(&other, &options).await.expect_err("another shard count");
    assert!(refused.contains("shards"), "{refused}");
    std::fs::remove_dir_all(&dir).ok();
}

//! What the tests against the test run's DynamoDB Local share: unique names and fresh tables.

use shared::store::Store;

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", shared::domain::ids::CustomerId::new())
}

/// A store on a new table named after `prefix`, with the template's definition.
pub async fn fresh_store(prefix: &str) -> Store {
    assert!(
        std::env::var_os("DYNAMODB_ENDPOINT").is_some(),
        "DYNAMODB_ENDPOINT is not set: run the tests with `make test`, which starts DynamoDB Local"
    );
    let client = shared::config::dynamodb_client().expect("DynamoDB client");
    let table = unique(prefix);
    let template =
        local_api::template::Template::load(&local_api::template_path().expect("the checkout")).expect("template");
    assert!(
        local_api::table::ensure_table(&client, &table, &template.table)
            .await
            .expect("create table")
    );
    Store::new(client, table)
}

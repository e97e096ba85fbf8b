//! The generated client has every operation of the contract, under progenitor's name for it.

use serde_json::Value;

const CONTRACT: &str = include_str!("../../../docs/openapi.yaml");
const CLIENT: &str = include_str!(concat!(env!("OUT_DIR"), "/client.rs"));

/// progenitor's method name: the operationId in snake case.
fn snake(operation_id: &str) -> String {
    let mut name = String::new();
    for (i, c) in operation_id.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

#[test]
fn every_operation_of_the_contract_is_a_method_of_the_client() {
    let contract: Value = serde_norway::from_str(CONTRACT).expect("the contract is YAML");
    let mut count = 0;
    for item in contract["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("a path item").values() {
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let name = snake(id);
            let (method, info) = (format!("pub fn {name}("), format!("operation_id: \"{name}\""));
            assert!(
                CLIENT.contains(&method) && CLIENT.contains(&info),
                "{id}: no `{method}` in the generated client"
            );
            count += 1;
        }
    }
    assert_eq!(
        CLIENT.matches("operation_id: \"").count(),
        count,
        "the client has an operation the contract has not"
    );
    assert!(count >= 29, "the contract has {count} operations");
}

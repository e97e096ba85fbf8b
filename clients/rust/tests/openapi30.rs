//! The 3.0 rendition's rules (build/openapi30.rs), one construct at a time.

#[path = "../build/openapi30.rs"]
mod openapi30;

use serde_json::{Value, json};

/// A document with one schema `S` and one operation answering it.
fn document(schema: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1", "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "paths": {"/s": {"get": {"operationId": "GetS", "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/S"}}}},
            "400": {"description": "bad", "content": {"application/problem+json": {"schema": {"type": "object"}}}}
        }}}},
        "components": {"schemas": {"S": schema}}
    })
}

fn downgraded(schema: Value) -> Value {
    let contract = document(schema);
    let rendition = openapi30::downgrade(&contract).expect("a 3.0 rendition");
    openapi30::same_api(&contract, &rendition).expect("the same API");
    assert_eq!(rendition["openapi"], "3.0.3");
    assert!(rendition["info"]["license"].get("identifier").is_none());
    rendition["components"]["schemas"]["S"].clone()
}

#[test]
fn a_nullable_type_becomes_nullable() {
    let s = downgraded(json!({"type": ["string", "null"], "maxLength": 0}));
    assert_eq!(s, json!({"type": "string", "nullable": true, "maxLength": 0}));
}

#[test]
fn a_null_branch_makes_the_union_nullable() {
    let s = downgraded(json!({"oneOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]}));
    assert_eq!(
        s,
        json!({"allOf": [{"$ref": "#/components/schemas/X"}], "nullable": true})
    );
    let s = downgraded(json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}));
    assert_eq!(
        s,
        json!({"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
    );
}

#[test]
fn const_examples_not_and_ref_siblings_take_their_3_0_forms() {
    let s = downgraded(json!({
        "type": "object",
        "not": {"required": ["a", "b"]},
        "properties": {
            "a": {"type": "string", "const": "true", "examples": ["true", "x"]},
            "b": {"$ref": "#/components/schemas/X", "description": "dropped"},
            "c": {"type": "array", "items": {"type": ["integer", "null"]}}
        }
    }));
    assert_eq!(
        s,
        json!({"type": "object", "properties": {
            "a": {"type": "string", "enum": ["true"], "example": "true"},
            "b": {"$ref": "#/components/schemas/X"},
            "c": {"type": "array", "items": {"type": "integer", "nullable": true}}
        }})
    );
}

#[test]
fn an_alias_property_is_left_to_the_server_and_json_media_types_are_one() {
    let contract = document(json!({"type": "object", "properties": {
        "branchId": {"type": "string"},
        "branch_id": {"type": "string", "x-alias-of": "branchId"}
    }}));
    let rendition = openapi30::downgrade(&contract).expect("a 3.0 rendition");
    assert_eq!(
        rendition["components"]["schemas"]["S"]["properties"],
        json!({"branchId": {"type": "string"}})
    );
    let bad = &rendition["paths"]["/s"]["get"]["responses"]["400"]["content"];
    assert_eq!(bad, &json!({"application/json": {"schema": {"type": "object"}}}));
    openapi30::same_api(&contract, &rendition).expect("the same API");
}

#[test]
fn a_construct_without_a_rule_stops_the_build() {
    let contract = document(json!({"type": "object", "properties": {"a": {"type": "null"}}}));
    let error = openapi30::downgrade(&contract).expect_err("a lone null type has no 3.0 form");
    assert!(error.contains("S: a:"), "{error}");
    let contract = document(json!({"type": ["string", "integer"]}));
    assert!(openapi30::downgrade(&contract).is_err());
}

#[test]
fn a_changed_operation_or_schema_is_a_difference() {
    let contract = document(json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}));
    let mut other = openapi30::downgrade(&contract).expect("a 3.0 rendition");
    other["paths"]["/s"]["get"]["operationId"] = json!("Renamed");
    other["components"]["schemas"]["S"]["required"] = json!([]);
    let differences = openapi30::same_api(&contract, &other).expect_err("they differ");
    for expected in ["operation get /s GetS", "operation get /s Renamed", "required S.a"] {
        assert!(
            differences.iter().any(|d| d == expected),
            "{expected} not in {differences:?}"
        );
    }
}

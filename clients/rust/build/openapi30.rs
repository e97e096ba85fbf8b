//! The OpenAPI 3.0 rendition of the one contract, `docs/openapi.yaml` (3.1), for generators that
//! read 3.0 only (progenitor). Derived mechanically, never edited by hand:
//!
//! - `type: [T, 'null']` becomes `type: T` with `nullable: true`;
//! - a `oneOf`/`anyOf` with a `{type: 'null'}` branch loses the branch and becomes `nullable`
//!   (a single remaining branch is wrapped in `allOf`, 3.0's way to give a `$ref` siblings);
//! - `not` is dropped: 3.0 generators make no type of it, and the server enforces those rules
//!   (at least one field of an update, not both `branchId` and `branch_id`) either way;
//! - `const: v` becomes `enum: [v]`; a schema's `examples: [a, ...]` becomes `example: a`;
//! - keywords beside a `$ref` are dropped (3.0 ignores them);
//! - a property marked `x-alias-of` (another name the server accepts for a property) is dropped:
//!   generated field names of both would collide, and clients send the property it aliases;
//! - `+json` media types (`application/problem+json`) become `application/json`: progenitor parses
//!   only that one into types (the others stay byte streams), and both are JSON;
//! - `info.license.identifier` is dropped (3.0 names a license by `name` and `url`).
//!
//! `same_api` checks the result still describes the same operations and schemas.

use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Marks a property as another name of the property it names.
const ALIAS: &str = "x-alias-of";

/// The 3.0 rendition of a 3.1 document. Errors name a 3.1 construct with no rule here, so a
/// new one in the contract stops the build instead of reaching the client half-translated.
pub fn downgrade(doc: &Value) -> Result<Value, String> {
    let mut out = doc.clone();
    let root = out.as_object_mut().ok_or("the document is not an object")?;
    root.insert("openapi".into(), json!("3.0.3"));
    if let Some(license) = root.get_mut("info").and_then(|i| i.get_mut("license")) {
        license.as_object_mut().map(|l| l.remove("identifier"));
    }
    for (key, value) in root.iter_mut() {
        if key == "components" {
            for (section, entries) in value.as_object_mut().into_iter().flatten() {
                if section == "schemas" {
                    for (name, schema) in entries.as_object_mut().into_iter().flatten() {
                        downgrade_schema(schema).map_err(|e| format!("{name}: {e}"))?;
                    }
                } else {
                    downgrade_schemas_within(entries)?;
                }
            }
        } else {
            downgrade_schemas_within(value)?;
        }
    }
    Ok(out)
}

/// Outside `components/schemas`, schemas are the values of `schema` keys (parameters, headers,
/// media types).
fn downgrade_schemas_within(value: &mut Value) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(content)) = map.get_mut("content") {
                *content = std::mem::take(content)
                    .into_iter()
                    .map(|(media, v)| (json_media(&media), v))
                    .collect();
            }
            map.iter_mut().try_for_each(|(key, v)| {
                if key == "schema" {
                    downgrade_schema(v)
                } else {
                    downgrade_schemas_within(v)
                }
            })
        }
        Value::Array(items) => items.iter_mut().try_for_each(downgrade_schemas_within),
        _ => Ok(()),
    }
}

/// The media type a 3.0 generator reads a JSON body of.
fn json_media(media: &str) -> String {
    if media.ends_with("+json") {
        "application/json".into()
    } else {
        media.into()
    }
}

fn downgrade_schema(schema: &mut Value) -> Result<(), String> {
    let Some(map) = schema.as_object_mut() else {
        return Ok(()); // `true`/`false` schemas, e.g. additionalProperties
    };
    if map.contains_key("$ref") {
        map.retain(|key, _| key == "$ref");
        return Ok(());
    }
    map.remove("not");
    if let Some(Value::Array(types)) = map.get("type") {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        let nullable = kept.len() < types.len();
        match kept.as_slice() {
            [one] => map.insert("type".into(), one.clone()),
            _ => return Err(format!("type {types:?}: 3.0 has one type per schema")),
        };
        if nullable {
            map.insert("nullable".into(), json!(true));
        }
    }
    if map.get("type").is_some_and(|t| t == "null") {
        return Err("a lone `type: 'null'` outside a oneOf/anyOf".into());
    }
    for keyword in ["oneOf", "anyOf"] {
        let Some(Value::Array(branches)) = map.remove(keyword) else {
            continue;
        };
        let is_null = |b: &Value| b.get("type").is_some_and(|t| t == "null");
        let nullable = branches.iter().any(is_null);
        let mut kept: Vec<Value> = branches.into_iter().filter(|b| !is_null(b)).collect();
        if nullable {
            map.insert("nullable".into(), json!(true));
        }
        if kept.len() == 1 && nullable {
            map.insert("allOf".into(), Value::Array(vec![kept.remove(0)]));
        } else {
            map.insert(keyword.into(), Value::Array(kept));
        }
    }
    if let Some(value) = map.remove("const") {
        map.insert("enum".into(), json!([value]));
    }
    if let Some(Value::Array(mut examples)) = map.remove("examples")
        && !examples.is_empty()
    {
        map.insert("example".into(), examples.swap_remove(0));
    }
    for keyword in ["allOf", "oneOf", "anyOf"] {
        for branch in map.get_mut(keyword).and_then(Value::as_array_mut).into_iter().flatten() {
            downgrade_schema(branch)?;
        }
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.retain(|_, property| property.get(ALIAS).is_none());
    }
    for (name, property) in map
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        downgrade_schema(property).map_err(|e| format!("{name}: {e}"))?;
    }
    for keyword in ["items", "additionalProperties"] {
        if let Some(inner) = map.get_mut(keyword) {
            downgrade_schema(inner)?;
        }
    }
    Ok(())
}

/// Both documents describe the same operations (path, method, operationId, parameters, request
/// body, response codes and their content types) and the same named schemas (properties and
/// required fields; aliases aside; JSON media types as one). Returns every difference.
pub fn same_api(a: &Value, b: &Value) -> Result<(), Vec<String>> {
    let (left, right) = (outline(a), outline(b));
    let mut differences: Vec<String> = left.symmetric_difference(&right).cloned().collect();
    if left.iter().filter(|line| line.starts_with("operation ")).count() == 0 {
        differences.push("no operation at all".into());
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(differences)
    }
}

/// One line per fact `same_api` compares.
fn outline(doc: &Value) -> BTreeSet<String> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let mut lines = BTreeSet::new();
    let resolve = |v: &Value| -> Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => doc.pointer(r.trim_start_matches('#')).cloned().unwrap_or(Value::Null),
            None => v.clone(),
        }
    };
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let shared = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"].as_str().unwrap_or("(no operationId)");
            let at = format!("{method} {path} {id}");
            lines.insert(format!("operation {at}"));
            let own = op
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for p in shared.iter().chain(&own).map(resolve) {
                let (name, place) = (p["name"].as_str().unwrap_or("?"), p["in"].as_str().unwrap_or("?"));
                lines.insert(format!("parameter {at} {name} in {place}"));
            }
            if let Some(body) = op.get("requestBody").map(resolve) {
                for media in body["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(m, _)| json_media(m))
                {
                    lines.insert(format!("body {at} {media} required={}", body["required"]));
                }
            }
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                let response = resolve(response);
                let media: Vec<String> = response["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(m, _)| json_media(m))
                    .collect();
                lines.insert(format!("response {at} {status} {media:?}"));
            }
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        lines.insert(format!("schema {name}"));
        for (property, _) in schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, p)| p.get(ALIAS).is_none())
        {
            lines.insert(format!("property {name}.{property}"));
        }
        for required in schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            lines.insert(format!("required {name}.{required}"));
        }
    }
    lines
}

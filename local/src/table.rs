//! Creates the local table from the template's definition, so local and test tables have the
//! deployed keys and indexes.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde_norway::Value;

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("the template's table definition is unusable: {0}")]
    Definition(String),
    #[error("DynamoDB: {0}")]
    Dynamo(String),
}

fn def(msg: impl Into<String>) -> TableError {
    TableError::Definition(msg.into())
}

fn text<'a>(v: &'a Value, key: &str) -> Result<&'a str, TableError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| def(format!("missing {key}")))
}

fn key_schema(v: &Value) -> Result<Vec<KeySchemaElement>, TableError> {
    v.get("KeySchema")
        .and_then(Value::as_sequence)
        .ok_or_else(|| def("missing KeySchema"))?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName")?)
                .key_type(KeyType::from(text(k, "KeyType")?))
                .build()
                .map_err(|e| def(e.to_string()))
        })
        .collect()
}

/// Creates `name` from the template's table `Properties` unless it exists. Returns whether it created it.
pub async fn ensure_table(client: &Client, name: &str, properties: &Value) -> Result<bool, TableError> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => return Ok(false),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) => {}
        Err(e) => return Err(TableError::Dynamo(format!("{e:?}"))),
    }
    let attributes = properties
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .ok_or_else(|| def("missing AttributeDefinitions"))?
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(text(a, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(text(a, "AttributeType")?))
                .build()
                .map_err(|e| def(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = properties
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .map(|list| {
            list.iter()
                .map(|g| {
                    let projection = g
                        .get("Projection")
                        .and_then(|p| p.get("ProjectionType"))
                        .and_then(Value::as_str)
                        .unwrap_or("ALL");
                    GlobalSecondaryIndex::builder()
                        .index_name(text(g, "IndexName")?)
                        .set_key_schema(Some(key_schema(g)?))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::from(projection))
                                .build(),
                        )
                        .build()
                        .map_err(|e| def(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let stream = properties
        .get("StreamSpecification")
        .map(|spec| {
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(text(spec, "StreamViewType")?))
                .build()
                .map_err(|e| def(e.to_string()))
        })
        .transpose()?;
    client
        .create_table()
        .table_name(name)
        .set_stream_specification(stream)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(properties)?))
        .set_global_secondary_indexes(indexes)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(|e| TableError::Dynamo(format!("{e:?}")))?;
    if let Some(ttl) = properties.get("TimeToLiveSpecification") {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(text(ttl, "AttributeName")?)
            .enabled(ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(true))
            .build()
            .map_err(|e| def(e.to_string()))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| TableError::Dynamo(format!("{e:?}")))?;
    }
    Ok(true)
}

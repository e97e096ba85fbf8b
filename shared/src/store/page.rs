//! A page of a Query, and the key it continues from (the `page_token`'s content at the edge).

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// DynamoDB's LastEvaluatedKey: where the next page starts.
pub type Key = HashMap<String, AttributeValue>;

/// One page of a list.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Key>,
}

//! What `make model` takes from `make bench`: each route's measured capacity and the size of each
//! kind of item, as DynamoDB counts item sizes (attribute names and values, in bytes), written
//! to `bench/capacity.json`.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// An item's size as DynamoDB bills it: each attribute's name plus its value (strings and binary
/// by length, numbers about one byte per two digits plus one, lists and maps 3 bytes plus one per
/// element plus their elements).
pub fn item_bytes(item: &HashMap<String, AttributeValue>) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_bytes(value))
        .sum()
}

fn value_bytes(value: &AttributeValue) -> u64 {
    match value {
        AttributeValue::S(s) => s.len() as u64,
        AttributeValue::N(n) => {
            let digits = n.chars().filter(char::is_ascii_digit).count() as u64;
            digits.div_ceil(2) + 1
        }
        AttributeValue::B(b) => b.as_ref().len() as u64,
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_bytes(v)).sum::<u64>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() as u64 + value_bytes(v))
                .sum::<u64>()
        }
        AttributeValue::Ss(set) => set.iter().map(|s| s.len() as u64).sum(),
        AttributeValue::Ns(set) => set.len() as u64 * 21,
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len() as u64).sum(),
        _ => 0,
    }
}

/// The kind of an item, by its key's shape (`shared::store::keys`).
fn kind(item: &HashMap<String, AttributeValue>) -> Option<&'static str> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str);
    let (pk, sk) = (text("pk")?, text("sk")?);
    Some(match () {
        _ if sk == "CUSTOMER" => "customer",
        _ if sk == "NUMBER" => "customer_number",
        _ if pk.starts_with("USER#") => "user_customer_link",
        _ if pk.contains("#CRM_EVENTS") => "crm_event",
        _ if pk.starts_with("IDEMPOTENCY#") => "idempotency_record",
        _ if sk.starts_with("CUSTOMER_ADDRESS#") => "customer_address",
        _ if sk.starts_with("SOCIAL_MEDIA_HANDLE#") => "social_media_handle",
        _ if sk.starts_with("TAX_RESIDENCE#") => "tax_residence",
        _ if sk.starts_with("CREDIT_LIMIT_ORDER#") => "credit_limit_order",
        _ => return None,
    })
}

/// The largest item of each kind in `table`, and the firehose index entry of the largest customer
/// key (the table's and the index's key attributes: what a keys-only index holds).
pub async fn item_sizes(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut sizes = BTreeMap::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("scan for item sizes: {e:?}"))?;
        for item in out.items.unwrap_or_default() {
            let Some(kind) = kind(&item) else { continue };
            let size = sizes.entry(kind.to_owned()).or_insert(0);
            *size = (*size).max(item_bytes(&item));
            if kind == "customer" {
                let keys: HashMap<String, AttributeValue> = item
                    .into_iter()
                    .filter(|(k, _)| ["pk", "sk", "firehose_pk", "firehose_sk"].contains(&k.as_str()))
                    .collect();
                let entry = sizes.entry("firehose_entry".to_owned()).or_insert(0);
                *entry = (*entry).max(item_bytes(&keys));
            }
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(sizes);
        }
    }
}

#[derive(Serialize)]
pub struct RouteCapacity {
    pub route: String,
    pub rcu: f64,
    pub wcu: f64,
    pub trips: usize,
}

#[derive(Serialize)]
pub struct Capacity {
    pub written: String,
    pub item_bytes: BTreeMap<String, u64>,
    pub routes: Vec<RouteCapacity>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_names_and_values() {
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("CUSTOMER#1".into())),
            ("version".to_owned(), AttributeValue::N("12".into())),
            ("ok".to_owned(), AttributeValue::Bool(true)),
            (
                "m".to_owned(),
                AttributeValue::M(HashMap::from([("a".to_owned(), AttributeValue::S("xy".into()))])),
            ),
        ]);
        // pk 2+10, version 7+2, ok 2+1, m 1+(3+1+1+2)
        assert_eq!(item_bytes(&item), 12 + 9 + 3 + 8);
        assert_eq!(kind(&item), None, "no sort key");
    }
}

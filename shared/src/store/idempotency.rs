//! `Idempotency-Key` records: a create's answer, stored as one more item of the create's own
//! transaction (conditional on the key being new), so a resource never exists without its record or
//! the reverse, and replayed to a retry with the same key and request for 24 hours.
//!
//! A record is keyed by caller and key, not by customer, so every create also writes a pointer to
//! it in the customer's partition. The erasure follows the pointers and leaves each record erased:
//! no answer and no request digest (a digest of a few personal values can be guessed), only the
//! fact that the key named an erased customer, so its replay is 404 like every other write.

use super::error::{StoreError, StoreResult, internal, sdk_error};
use super::keys::{self, EXPIRES_AT, ItemKey, PK};
use super::{Part, Store};
use crate::domain::ids::{CustomerId, UserId};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use ring::digest;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// How long an answer is kept for replays.
pub const TTL_SECONDS: u64 = 24 * 60 * 60;

/// A create's answer, as sent and as replayed: status, extra headers and JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// How a create's answer is made from what it created.
pub type Respond<'a, T> = &'a (dyn Fn(&T) -> StoreResult<Answer> + Send + Sync);

/// What a store create needs to record its answer in its own transaction.
pub type Record<'a, T> = Option<(&'a Idempotency, Respond<'a, T>)>;

/// An `Idempotency-Key` request: the caller's key and a digest of the request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    key: ItemKey,
    request_hash: String,
}

#[derive(Serialize, Deserialize)]
struct RecordItem {
    pk: String,
    sk: String,
    expires_at: u64,
    /// Both absent once the customer the answer named was erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<Answer>,
}

/// The pointer to a record in its customer's partition. It has no version or audit attributes,
/// so the stream's history ignores it.
#[derive(Serialize, Deserialize)]
struct PointerItem {
    pk: String,
    sk: String,
    expires_at: u64,
}

fn hex_digest(parts: &[&[u8]]) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in parts {
        // Length-prefixed, so that no two different requests hash alike.
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds since the epoch, as TTL attributes hold them.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Idempotency {
    /// The `user`'s `key`, for the request made of `request` (method, path, body...): keys belong
    /// to their caller, and are stored only as digests.
    pub fn new(user: &UserId, key: &[u8], request: &[&[u8]]) -> Self {
        Self {
            key: keys::idempotency(user, &hex_digest(&[key])),
            request_hash: hex_digest(request),
        }
    }

    /// The record's Put, for the create's transaction: it fails if the key is in use. And the
    /// pointer to it in `customer`'s partition, which the erasure follows.
    fn record(&self, table: &str, customer: &CustomerId, answer: &Answer) -> StoreResult<[TransactWriteItem; 2]> {
        let expires_at = now() + TTL_SECONDS;
        let item = RecordItem {
            pk: self.key.pk.clone(),
            sk: self.key.sk.clone(),
            expires_at,
            request_hash: Some(self.request_hash.clone()),
            answer: Some(answer.clone()),
        };
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(serde_dynamo::to_item(&item).map_err(internal)?))
            // DynamoDB deletes expired items late: an expired record counts as absent.
            .condition_expression(format!("attribute_not_exists({PK}) OR {EXPIRES_AT} < :now"))
            .expression_attribute_values(":now", AttributeValue::N(now().to_string()))
            .build()
            .map_err(internal)?;
        let pointer_key = keys::customer_idempotency(customer, &self.key);
        let pointer = PointerItem {
            pk: pointer_key.pk,
            sk: pointer_key.sk,
            expires_at,
        };
        let pointer = Put::builder()
            .table_name(table)
            .set_item(Some(serde_dynamo::to_item(&pointer).map_err(internal)?))
            .build()
            .map_err(internal)?;
        Ok([
            TransactWriteItem::builder().put(pointer).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
    }
}

impl Store {
    /// The stored answer for this key: `None` when the key is new, a conflict when it was used for
    /// another request.
    pub async fn replay(&self, idem: &Idempotency) -> StoreResult<Option<Answer>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(idem.key.to_map()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        let Some(item) = out.item else { return Ok(None) };
        let record: RecordItem = serde_dynamo::from_item(item).map_err(internal)?;
        if record.expires_at < now() {
            return Ok(None);
        }
        let (Some(request_hash), Some(answer)) = (record.request_hash, record.answer) else {
            // The answer named a customer that was erased since.
            return Err(StoreError::NotFound("customer"));
        };
        if request_hash != idem.request_hash {
            return Err(StoreError::Conflict(
                "this Idempotency-Key was used for another request".into(),
            ));
        }
        Ok(Some(answer))
    }

    /// The transaction parts that record `created`'s answer, which names `customer`, when the
    /// request has a key: the pointer, then the record (last, as `Tx::Failed` expects).
    pub(crate) fn record_item<T>(
        &self,
        record: Record<'_, T>,
        created: &T,
        customer: &CustomerId,
    ) -> StoreResult<Vec<(Part, TransactWriteItem)>> {
        let Some((idem, respond)) = record else {
            return Ok(Vec::new());
        };
        let parts = idem.record(self.table(), customer, &respond(created)?)?;
        Ok(parts.into_iter().map(|put| (Part::IdempotencyKey, put)).collect())
    }

    /// Leaves the record a customer's pointer points to (sort key `pointer_sk`) erased: its
    /// answer and request digest gone, its expiry kept. An expired record stays expired.
    pub(crate) async fn erase_record(&self, pointer_sk: &str, expires_at: u64) -> StoreResult<()> {
        let Some(key) = keys::idempotency_of_pointer(pointer_sk) else {
            return Err(internal("an idempotency pointer that names no record"));
        };
        let erased = RecordItem {
            pk: key.pk,
            sk: key.sk,
            expires_at,
            request_hash: None,
            answer: None,
        };
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(serde_dynamo::to_item(&erased).map_err(internal)?))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_separate_parts() {
        assert_ne!(hex_digest(&[b"ab", b"c"]), hex_digest(&[b"a", b"bc"]));
        assert_eq!(hex_digest(&[b"x"]).len(), 64);
    }

    #[test]
    fn keys_belong_to_their_caller() {
        let a = Idempotency::new(&UserId::parse("a").unwrap(), b"k", &[b"POST", b"/x"]);
        let b = Idempotency::new(&UserId::parse("b").unwrap(), b"k", &[b"POST", b"/x"]);
        assert_ne!(a.key, b.key);
        assert_eq!(a.request_hash, b.request_hash);
    }
}

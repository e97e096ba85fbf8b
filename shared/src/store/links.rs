//! User customer links: one item per (user, bank, customer) in the user's partition.

use super::error::{StoreError, StoreResult, internal, sdk_error};
use super::idempotency::Record;
use super::keys::{self, PK, SK};
use super::page::{Key, Page};
use super::{Part, Store, Tx, put_new, versioned};
use crate::domain::customer::Customer;
use crate::domain::ids::{BankId, CustomerId, UserId};
use crate::domain::link::UserCustomerLink;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Serialize, Deserialize)]
struct LinkItem {
    pk: String,
    sk: String,
    bank_id: BankId,
    #[serde(flatten)]
    link: UserCustomerLink,
}

impl Store {
    /// Links a user to a customer that must exist at `bank`; one link per (user, customer).
    pub async fn create_link(
        &self,
        bank: &BankId,
        link: &UserCustomerLink,
        record: Record<'_, UserCustomerLink>,
    ) -> StoreResult<()> {
        let key = keys::user_customer_link(&link.user_id, bank, &link.customer_id);
        let item = LinkItem {
            pk: key.pk,
            sk: key.sk,
            bank_id: bank.clone(),
            link: link.clone(),
        };
        let mut parts = vec![
            (Part::Customer, self.customer_exists(bank, &link.customer_id)?),
            (Part::Link, put_new(self.table(), &item)?),
        ];
        parts.extend(self.record_item(record, link)?);
        match self.transact(parts).await {
            Ok(()) => Ok(()),
            Err(Tx::Failed(Part::IdempotencyKey)) => Err(StoreError::KeyInUse),
            Err(Tx::Failed(Part::Customer)) => Err(StoreError::NotFound("customer")),
            Err(Tx::Failed(_)) => Err(StoreError::Conflict(
                "the user is already linked to this customer".into(),
            )),
            Err(Tx::Error(e)) => Err(e),
        }
    }

    pub async fn is_linked(&self, user: &UserId, bank: &BankId, customer: &CustomerId) -> StoreResult<bool> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(keys::user_customer_link(user, bank, customer).to_map()))
            .projection_expression("pk")
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out.item.is_some())
    }

    /// The customers linked to a user, at every bank or at one: a Query of the user's links, then
    /// one BatchGetItem of their customers (two sequential round trips).
    pub async fn linked_customers(
        &self,
        user: &UserId,
        bank: Option<&BankId>,
        limit: i32,
        start: Option<Key>,
    ) -> StoreResult<Page<Customer>> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression(format!("{PK} = :pk AND begins_with({SK}, :prefix)"))
            .expression_attribute_values(":pk", AttributeValue::S(keys::user_links_pk(user)))
            .expression_attribute_values(":prefix", AttributeValue::S(keys::user_links_prefix(bank)));
        let (raw, next) = self.query_page(query, limit, start, &[PK, SK]).await?;
        let links: Vec<LinkItem> = raw
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(internal))
            .collect::<Result<_, _>>()?;
        let ids: Vec<CustomerId> = links.iter().map(|l| l.link.customer_id).collect();
        let mut found = self.batch_get_customers(&ids).await?;
        // In link order; a customer that no longer exists is left out.
        let items = ids.iter().filter_map(|id| found.remove(id)).collect();
        Ok(Page { items, next })
    }

    async fn batch_get_customers(&self, ids: &[CustomerId]) -> StoreResult<HashMap<CustomerId, Customer>> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().map(|id| keys::customer(id).to_map()).collect()))
                    .build()
                    .map_err(internal)?,
            );
            let mut backoff = Duration::from_millis(20);
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(self.table(), request)
                    .send()
                    .await
                    .map_err(sdk_error)?;
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(self.table())
                    .unwrap_or_default()
                {
                    let c: Customer = versioned(item)?.item;
                    found.insert(c.id, c);
                }
                // Unprocessed keys come back under throttling: retry them with a short backoff.
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(self.table()))
                    .filter(|k| !k.keys.is_empty());
                if pending.is_some() {
                    if backoff > Duration::from_secs(1) {
                        return Err(StoreError::Unavailable);
                    }
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
        Ok(found)
    }
}

//! A customer's export: one Query of the customer's partition (its records, the copies of its
//! links and CRM events, and its history entries, in key order), a page at a time. Key order is the
//! export's order (docs/export.md): links by user id, as their copies are keyed `LINKED#<user>`.

use super::error::internal;
use super::keys::{self, ChildKind, PK, SK};
use super::page::Key;
use super::{Item, Store, StoreResult};
use crate::domain::export::ExportCollections;
use crate::domain::ids::CustomerId;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;

fn parsed<T: DeserializeOwned>(item: Item, into: &mut Vec<T>) -> StoreResult<()> {
    into.push(serde_dynamo::from_item(item).map_err(internal)?);
    Ok(())
}

impl Store {
    /// Up to `limit` items of the customer's partition from `start`, sorted into their
    /// collections, and where the next page starts. The customer item and deletions' markers are read past (the customer is read
    /// beside it). It does not check the customer: callers run it beside the access check.
    pub async fn export_page(
        &self,
        customer: &CustomerId,
        limit: i32,
        start: Option<Key>,
    ) -> StoreResult<(ExportCollections, Option<Key>)> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression(format!("{PK} = :pk"))
            .expression_attribute_values(":pk", AttributeValue::S(keys::customer_pk(customer)));
        let (items, next) = self.query_page(query, limit, start, &[PK, SK]).await?;
        let mut c = ExportCollections::default();
        for item in items {
            let sk = match item.get(SK) {
                Some(AttributeValue::S(sk)) => sk.clone(),
                _ => return Err(internal("an item without its sort key")),
            };
            let kind = |k: ChildKind| sk.starts_with(k.prefix());
            if kind(ChildKind::CustomerAddress) {
                parsed(item, &mut c.customer_addresses)?;
            } else if kind(ChildKind::SocialMediaHandle) {
                parsed(item, &mut c.social_media_handles)?;
            } else if kind(ChildKind::TaxResidence) {
                parsed(item, &mut c.tax_residences)?;
            } else if kind(ChildKind::CreditLimitOrder) {
                parsed(item, &mut c.credit_limit_orders)?;
            } else if sk.starts_with(keys::LINKED_PREFIX) {
                parsed(item, &mut c.user_customer_links)?;
            } else if sk.starts_with(keys::CRM_EVENT_COPY_PREFIX) {
                parsed(item, &mut c.crm_events)?;
            } else if sk.starts_with(keys::HISTORY_PREFIX) {
                c.history.push(super::history::entry_of_item(item)?);
            }
        }
        Ok((c, next))
    }
}

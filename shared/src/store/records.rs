//! Items that belong to one customer (addresses, social media handles, tax residences, credit limit
//! orders): stored under the customer's partition, in creation order, each with its bank and a
//! version. Every operation is one round trip:
//!
//! - create: a transaction of "the customer exists at this bank" and "the child is new", so a child
//!   never creates or resurrects a customer;
//! - read and list: a GetItem or Query, run in parallel with the caller's access check
//!   (`access::readable_children`);
//! - update: one conditional write on the child's own bank and existence;
//! - delete: a transaction of the conditional delete and its marker (who deleted it).
//!
//! Every write stores its [`Audit`] on the item.

use super::error::internal;
use super::error::{StoreError, StoreResult, sdk_error};
use super::idempotency::Record;
use super::keys::{self, ChildKind, PK, SK};
use super::page::{Key, Page};
use super::{BANK_ID, Part, Store, Tx, VERSION, Versioned, Versions, put_new, versioned};
use crate::domain::audit::Audit;
use crate::domain::credit_limit_order::CreditLimitOrder;
use crate::domain::customer_address::CustomerAddress;
use crate::domain::ids::{BankId, CustomerId};
use crate::domain::patch::Patch;
use crate::domain::social_media_handle::SocialMediaHandle;
use crate::domain::tax_residence::TaxResidence;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A kind of item stored under a customer.
pub trait Child: Serialize + DeserializeOwned + Send + Sync {
    const KIND: ChildKind;
    /// What a 404 calls it.
    const NAME: &'static str;
    /// The child's id, the last part of its sort key.
    fn id(&self) -> String;
}

#[derive(Serialize)]
struct ChildItem<'a, T> {
    pk: String,
    sk: String,
    bank_id: BankId,
    version: u64,
    #[serde(flatten)]
    child: &'a T,
    #[serde(flatten)]
    audit: &'a Audit,
}

impl Store {
    /// Adds a child to a customer that must exist at `bank`.
    pub async fn create_child<T: Child>(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        child: T,
        record: Record<'_, T>,
        audit: &Audit,
    ) -> StoreResult<Versioned<T>> {
        let key = keys::child(customer, T::KIND, child.id());
        let item = ChildItem {
            pk: key.pk,
            sk: key.sk,
            bank_id: bank.clone(),
            version: 1,
            child: &child,
            audit,
        };
        let mut parts = vec![
            (Part::Customer, self.customer_exists(bank, customer)?),
            (Part::Record, put_new(self.table(), &item)?),
        ];
        parts.extend(self.record_item(record, &child, customer)?);
        match self.transact(parts).await {
            Ok(()) => Ok(Versioned {
                item: child,
                version: 1,
            }),
            Err(Tx::Failed(Part::IdempotencyKey)) => Err(StoreError::KeyInUse),
            Err(Tx::Failed(Part::Customer)) => Err(StoreError::NotFound("customer")),
            Err(Tx::Failed(_)) => Err(StoreError::Conflict(format!("the {} already exists", T::NAME))),
            Err(Tx::Error(e)) => Err(e),
        }
    }

    /// A page of a customer's children of one kind, oldest first. It does not check the customer:
    /// callers run it beside the access check (`access::readable_children`).
    pub async fn children<T: Child>(
        &self,
        customer: &CustomerId,
        limit: i32,
        start: Option<Key>,
    ) -> StoreResult<Page<Versioned<T>>> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression(format!("{PK} = :pk AND begins_with({SK}, :prefix)"))
            .expression_attribute_values(":pk", AttributeValue::S(keys::customer_pk(customer)))
            .expression_attribute_values(":prefix", AttributeValue::S(T::KIND.prefix().to_owned()));
        let (items, next) = self.query_page(query, limit, start, &[PK, SK]).await?;
        let items = items.into_iter().map(versioned).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }

    /// One child of a customer of `bank`; 404 when missing, another customer's or another bank's.
    pub async fn child<T: Child>(&self, bank: &BankId, customer: &CustomerId, id: &str) -> StoreResult<Versioned<T>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(keys::child(customer, T::KIND, id).to_map()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        match out.item {
            Some(item) if matches!(item.get(BANK_ID), Some(AttributeValue::S(b)) if b == bank.as_str()) => {
                versioned(item)
            }
            _ => Err(StoreError::NotFound(T::NAME)),
        }
    }

    /// Applies `patch` to an existing child; never creates one.
    pub async fn update_child<T: Child>(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        id: &str,
        patch: &Patch,
        audit: &Audit,
        if_match: Option<&Versions>,
    ) -> StoreResult<Versioned<T>> {
        let key = keys::child(customer, T::KIND, id);
        versioned(
            self.update_versioned(key, bank, patch, audit, if_match, T::NAME)
                .await?,
        )
    }

    /// Deletes one child; 404 when it is not there (so a second delete is a 404). In the same
    /// transaction it writes the deletion's marker (`keys::deletion`): who deleted it, in which
    /// request, when; the changes function reads it to name the deleter in the history.
    pub async fn delete_child<T: Child>(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        id: &str,
        audit: &Audit,
        if_match: Option<&Versions>,
    ) -> StoreResult<()> {
        let key = keys::child(customer, T::KIND, id);
        let mut condition = format!("attribute_exists({PK}) AND {BANK_ID} = :bank");
        let mut values = HashMap::from([(":bank".to_owned(), AttributeValue::S(bank.to_string()))]);
        if let Some(versions) = if_match {
            condition.push_str(&format!(" AND {}", versions.condition(VERSION, &mut values)));
        }
        let delete = Delete::builder()
            .table_name(self.table())
            .set_key(Some(key.to_map()))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(internal)?;
        let parts = vec![
            (Part::Record, TransactWriteItem::builder().delete(delete).build()),
            (Part::DeletionMarker, self.deletion_marker(&key, audit)?),
        ];
        match self.transact(parts).await {
            Ok(()) => Ok(()),
            // Missing or another bank's (404), or there at another version (412).
            Err(Tx::Failed(_)) => match self.child::<T>(bank, customer, id).await {
                Ok(_) => Err(StoreError::VersionMismatch),
                Err(e) => Err(e),
            },
            Err(Tx::Error(e)) => Err(e),
        }
    }
}

impl Child for CustomerAddress {
    const KIND: ChildKind = ChildKind::CustomerAddress;
    const NAME: &'static str = "customer address";

    fn id(&self) -> String {
        self.customer_address_id.to_string()
    }
}

impl Child for SocialMediaHandle {
    const KIND: ChildKind = ChildKind::SocialMediaHandle;
    const NAME: &'static str = "social media handle";

    fn id(&self) -> String {
        self.social_media_handle_id.to_string()
    }
}

impl Child for TaxResidence {
    const KIND: ChildKind = ChildKind::TaxResidence;
    const NAME: &'static str = "tax residence";

    fn id(&self) -> String {
        self.tax_residence_id.to_string()
    }
}

impl Child for CreditLimitOrder {
    const KIND: ChildKind = ChildKind::CreditLimitOrder;
    const NAME: &'static str = "credit limit order";
    fn id(&self) -> String {
        self.credit_limit_order_id.to_string()
    }
}

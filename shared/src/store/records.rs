//! Items that belong to one customer (addresses, social media handles, tax residences, credit limit
//! orders): stored under the customer's partition, in creation order, each with its bank and a
//! version. Every operation is one round trip:
//!
//! - create: a transaction of "the customer exists at this bank" and "the child is new", so a child
//!   never creates or resurrects a customer;
//! - read and list: a GetItem or Query, run in parallel with the caller's access check
//!   (`access::readable_children`);
//! - update: one conditional write on the child's own bank and existence;
//! - delete: two, the audit stamped on the item (so the stream's last image of it names who
//!   deleted it), then the delete of exactly that stamped version.
//!
//! Every write stores its [`Audit`] on the item.

use super::error::{StoreError, StoreResult, sdk_error};
use super::idempotency::Record;
use super::keys::{self, ChildKind, PK, SK};
use super::page::{Key, Page};
use super::{BANK_ID, Part, REQUEST_ID, Store, Tx, VERSION, Versioned, Versions, audit_sets, put_new, versioned};
use crate::domain::audit::Audit;
use crate::domain::credit_limit_order::CreditLimitOrder;
use crate::domain::customer_address::CustomerAddress;
use crate::domain::ids::{BankId, CustomerId};
use crate::domain::patch::Patch;
use crate::domain::social_media_handle::SocialMediaHandle;
use crate::domain::tax_residence::TaxResidence;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
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

/// Attempts of a delete whose item a concurrent update changed between its two writes.
const DELETE_ATTEMPTS: usize = 5;

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
        parts.extend(self.record_item(record, &child)?);
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

    /// Deletes one child; 404 when it is not there (so a second delete is a 404). The audit is
    /// stamped first, without a new version (a stamp is not a change of the record), then exactly
    /// the stamped version is deleted; an update in between makes it start again (412 with
    /// `If-Match`, whose version is then gone).
    pub async fn delete_child<T: Child>(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        id: &str,
        audit: &Audit,
        if_match: Option<&Versions>,
    ) -> StoreResult<()> {
        let key = keys::child(customer, T::KIND, id);
        for _ in 0..DELETE_ATTEMPTS {
            let version = self.stamp(&key, bank, audit, if_match, T::NAME).await?;
            let request = self
                .client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key.to_map()))
                .condition_expression("#v = :version AND #request = :request")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_names("#request", REQUEST_ID)
                .expression_attribute_values(":version", AttributeValue::N(version.to_string()))
                .expression_attribute_values(":request", AttributeValue::S(audit.request_id.clone()));
            match request.send().await {
                Ok(_) => return Ok(()),
                Err(err) => match err.as_service_error() {
                    // Updated (or deleted) since the stamp: the next stamp tells which.
                    Some(DeleteItemError::ConditionalCheckFailedException(_)) => continue,
                    _ => return Err(sdk_error(err)),
                },
            }
        }
        Err(StoreError::Conflict(format!(
            "the {} is changing concurrently, retry",
            T::NAME
        )))
    }

    /// Writes the audit onto an existing item of `bank` (of a version `if_match` accepts) and
    /// returns its version.
    async fn stamp(
        &self,
        key: &keys::ItemKey,
        bank: &BankId,
        audit: &Audit,
        if_match: Option<&Versions>,
        what: &'static str,
    ) -> StoreResult<u64> {
        let mut names = HashMap::from([("#bank".to_owned(), BANK_ID.to_owned())]);
        let mut values = HashMap::from([(":bank".to_owned(), AttributeValue::S(bank.to_string()))]);
        let mut sets = Vec::new();
        audit_sets(audit, &mut sets, &mut names, &mut values)?;
        let mut condition = format!("attribute_exists({PK}) AND #bank = :bank");
        if let Some(versions) = if_match {
            names.insert("#v".to_owned(), VERSION.to_owned());
            condition.push_str(&format!(" AND {}", versions.condition("#v", &mut values)));
        }
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key.to_map()))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => super::version_of(&out.attributes.unwrap_or_default()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(e)) => {
                    Err(super::condition_failure(e.item.as_ref(), bank, what))
                }
                _ => Err(sdk_error(err)),
            },
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

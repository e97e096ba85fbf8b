//! Items that belong to one customer (addresses, social media handles, tax residences, credit limit
//! orders): stored under the customer's partition, in creation order, each with its bank and a
//! version. Every operation is one round trip:
//!
//! - create: a transaction of "the customer exists at this bank" and "the child is new", so a child
//!   never creates or resurrects a customer;
//! - read and list: a GetItem or Query, run in parallel with the caller's access check
//!   (`access::readable_children`);
//! - update and delete: one conditional write on the child's own bank and existence.

use crate::error::ApiError;
use crate::idempotency::Record;
use crate::ids::{BankId, CustomerId};
use crate::keys::{self, ChildKind, PK, SK};
use crate::page::{Key, Page};
use crate::store::{
    BANK_ID, Patch, RECORD_INDEX, Store, Tx, VERSION, Versioned, Versions, internal, sdk_error, versioned,
};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
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
}

impl Store {
    /// Adds a child to a customer that must exist at `bank`.
    pub async fn create_child<T: Child>(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        child: T,
        record: Record<'_, T>,
    ) -> Result<Versioned<T>, ApiError> {
        let key = keys::child(customer, T::KIND, child.id());
        let item = ChildItem {
            pk: key.pk,
            sk: key.sk,
            bank_id: bank.clone(),
            version: 1,
            child: &child,
        };
        let customer_exists = ConditionCheck::builder()
            .table_name(self.table())
            .set_key(Some(keys::customer(customer).to_map()))
            .condition_expression(format!("attribute_exists({PK}) AND {BANK_ID} = :bank"))
            .expression_attribute_values(":bank", AttributeValue::S(bank.to_string()))
            .build()
            .map_err(internal)?;
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(serde_dynamo::to_item(&item).map_err(internal)?))
            .condition_expression(format!("attribute_not_exists({PK}) AND attribute_not_exists({SK})"))
            .build()
            .map_err(internal)?;
        let mut items = vec![
            TransactWriteItem::builder().condition_check(customer_exists).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        items.extend(self.record_item(record, &child)?);
        match self.transact(items).await {
            Ok(()) => Ok(Versioned {
                item: child,
                version: 1,
            }),
            Err(Tx::Failed(RECORD_INDEX)) => Err(ApiError::KeyInUse),
            Err(Tx::Failed(0)) => Err(ApiError::NotFound("customer")),
            Err(Tx::Failed(_)) => Err(ApiError::Conflict(format!("the {} already exists", T::NAME))),
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
    ) -> Result<Page<Versioned<T>>, ApiError> {
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
    pub async fn child<T: Child>(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        id: &str,
    ) -> Result<Versioned<T>, ApiError> {
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
            _ => Err(ApiError::NotFound(T::NAME)),
        }
    }

    /// Applies `patch` to an existing child; never creates one.
    pub async fn update_child<T: Child>(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        id: &str,
        patch: &Patch,
        if_match: Option<&Versions>,
    ) -> Result<Versioned<T>, ApiError> {
        let key = keys::child(customer, T::KIND, id);
        versioned(self.update_versioned(key, bank, patch, if_match, T::NAME).await?)
    }

    /// Deletes one child; 404 when it is not there (so a second delete is a 404).
    pub async fn delete_child<T: Child>(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        id: &str,
        if_match: Option<&Versions>,
    ) -> Result<(), ApiError> {
        let mut condition = format!("attribute_exists({PK}) AND {BANK_ID} = :bank");
        let mut values = HashMap::from([(":bank".to_owned(), AttributeValue::S(bank.to_string()))]);
        if let Some(versions) = if_match {
            condition.push_str(&format!(" AND {}", versions.condition(VERSION, &mut values)));
        }
        let request = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(keys::child(customer, T::KIND, id).to_map()))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match request.condition_expression(condition).send().await {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(e)) => {
                    Err(crate::store::condition_failure(e.item.as_ref(), bank, T::NAME))
                }
                _ => Err(sdk_error(err)),
            },
        }
    }
}

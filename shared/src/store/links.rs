//! User customer links: one item per (user, bank, customer) in the user's partition.

use super::error::{StoreError, StoreResult, internal, sdk_error};
use super::idempotency::Record;
use super::keys::{self, PK, SK};
use super::page::{Key, Page};
use super::{Part, Store, Tx, put_new};
use crate::domain::audit::Audit;
use crate::domain::customer::Customer;
use crate::domain::ids::{BankId, CustomerId, UserId};
use crate::domain::link::UserCustomerLink;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct LinkItem {
    pk: String,
    sk: String,
    bank_id: BankId,
    #[serde(flatten)]
    link: UserCustomerLink,
}

/// A link as written: with the audit of its creation.
#[derive(Serialize)]
struct NewLinkItem<'a> {
    #[serde(flatten)]
    item: &'a LinkItem,
    #[serde(flatten)]
    audit: &'a Audit,
}

impl Store {
    /// Links a user to a customer that must exist at `bank`; one link per (user, customer).
    pub async fn create_link(
        &self,
        bank: &BankId,
        link: &UserCustomerLink,
        record: Record<'_, UserCustomerLink>,
        audit: &Audit,
    ) -> StoreResult<()> {
        let key = keys::user_customer_link(&link.user_id, bank, &link.customer_id);
        let item = LinkItem {
            pk: key.pk,
            sk: key.sk,
            bank_id: bank.clone(),
            link: link.clone(),
        };
        // The copy in the customer's partition: what finds a customer's links (its export). It
        // carries no audit and no version, so the stream's history ignores it.
        let copy_key = keys::customer_link(&link.customer_id, &link.user_id);
        let copy = LinkItem {
            pk: copy_key.pk,
            sk: copy_key.sk,
            bank_id: bank.clone(),
            link: link.clone(),
        };
        let mut parts = vec![
            (Part::Customer, self.customer_exists(bank, &link.customer_id)?),
            (Part::Link, put_new(self.table(), &NewLinkItem { item: &item, audit })?),
            (Part::Link, put_new(self.table(), &copy)?),
        ];
        parts.extend(self.record_item(record, link, &link.customer_id)?);
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
}

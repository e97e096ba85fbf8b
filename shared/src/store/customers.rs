//! Customers: the customer item (with its firehose index entry) and its number's uniqueness record.

use super::error::{StoreError, StoreResult, internal, sdk_error};
use super::idempotency::Record;
use super::keys::{self, FIREHOSE, FIREHOSE_PK, FIREHOSE_SK, GSI1, GSI1PK, GSI1SK, PK, SK};
use super::merge::{Merge, Source};
use super::page::{Key, Page};
use super::{ERASED_AT, Part, Read, Store, Tx, VERSION, Versioned, Versions, audit_sets, put_new, versioned};
use crate::domain::audit::Audit;
use crate::domain::customer::{Customer, NewCustomer};
use crate::domain::ids::{BankId, CustomerId, CustomerNumber};
use crate::domain::patch::Patch;
use crate::domain::timestamp::Timestamp;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Serialize)]
struct CustomerItem<'a> {
    pk: String,
    sk: String,
    firehose_pk: String,
    firehose_sk: String,
    version: u64,
    created_at: Timestamp,
    dependants: i32,
    dob_of_dependents: Vec<Timestamp>,
    #[serde(flatten)]
    customer: &'a Customer,
    #[serde(flatten)]
    audit: &'a Audit,
}

#[derive(Serialize, Deserialize)]
struct NumberItem {
    pk: String,
    sk: String,
    customer_id: CustomerId,
}

/// The firehose's query.
#[derive(Debug, Clone)]
pub struct BankCustomersQuery {
    pub descending: bool,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub limit: i32,
    pub offset: u32,
    pub start: Option<Key>,
}

/// How many times a server-chosen customer number is redrawn after a collision, and a number
/// change is read again after a concurrent one.
const NUMBER_ATTEMPTS: usize = 5;

impl Store {
    /// Writes the customer and its number's uniqueness record in one transaction.
    pub async fn create_customer(
        &self,
        mut new: NewCustomer,
        record: Record<'_, Customer>,
        audit: &Audit,
    ) -> StoreResult<Customer> {
        let created_at = Timestamp::now();
        for _ in 0..NUMBER_ATTEMPTS {
            let customer = &new.customer;
            let item = CustomerItem {
                pk: keys::customer(&customer.id).pk,
                sk: keys::customer(&customer.id).sk,
                firehose_pk: keys::bank_customers(&customer.bank_id, self.shards().of(&customer.id)),
                firehose_sk: keys::bank_customers_sort(created_at, &customer.id),
                version: 1,
                created_at,
                dependants: new.dob_of_dependents.len() as i32,
                dob_of_dependents: new.dob_of_dependents.clone(),
                customer,
                audit,
            };
            let number = self.number_put(&customer.bank_id, &customer.customer_number, &customer.id)?;
            let mut parts = vec![
                (Part::Customer, put_new(self.table(), &item)?),
                (Part::NewNumber, number),
            ];
            parts.extend(self.record_item(record, customer, &customer.id)?);
            match self.transact(parts).await {
                Ok(()) => return Ok(new.customer),
                Err(Tx::Failed(Part::IdempotencyKey)) => return Err(StoreError::KeyInUse),
                Err(Tx::Failed(Part::NewNumber)) if !new.number_given => {
                    new.customer.customer_number = CustomerNumber::generate();
                }
                Err(Tx::Failed(Part::NewNumber)) => return Err(number_taken(&new.customer.customer_number)),
                Err(Tx::Failed(_)) => return Err(StoreError::Conflict("the customer already exists".into())),
                Err(Tx::Error(e)) => return Err(e),
            }
        }
        Err(StoreError::Unavailable)
    }

    pub async fn get_customer(&self, id: &CustomerId, read: Read) -> StoreResult<Option<Versioned<Customer>>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(keys::customer(id).to_map()))
            .consistent_read(read == Read::Latest)
            .send()
            .await
            .map_err(sdk_error)?;
        // An erased customer's tombstone is no customer.
        out.item
            .filter(|item| !item.contains_key(ERASED_AT))
            .map(versioned)
            .transpose()
    }

    /// A customer of `bank`, or 404 (a customer of another bank does not exist here).
    pub async fn customer_at(&self, bank: &BankId, id: &CustomerId, read: Read) -> StoreResult<Versioned<Customer>> {
        match self.get_customer(id, read).await? {
            Some(c) if &c.item.bank_id == bank => Ok(c),
            _ => Err(StoreError::NotFound("customer")),
        }
    }

    /// Applies `patch` to an existing customer of `bank`; never creates one.
    pub async fn update_customer(
        &self,
        bank: &BankId,
        id: &CustomerId,
        patch: &Patch,
        audit: &Audit,
        if_match: Option<&Versions>,
    ) -> StoreResult<Versioned<Customer>> {
        let item = self
            .update_versioned(keys::customer(id), bank, patch, audit, if_match, "customer")
            .await?;
        versioned(item)
    }

    /// Moves a customer to a new number, keeping numbers unique per bank: one read, then one
    /// transaction that updates the customer, frees the old number and claims the new one.
    ///
    /// Without `If-Match` the change is conditioned on the number alone, not on the version: a
    /// concurrent PUT of another field cannot make it fail. Only a concurrent number change can,
    /// and then it reads again and retries (last write wins), so 409 always means a taken number.
    pub async fn set_customer_number(
        &self,
        bank: &BankId,
        id: &CustomerId,
        number: &CustomerNumber,
        audit: &Audit,
        if_match: Option<&Versions>,
    ) -> StoreResult<Versioned<Customer>> {
        for _ in 0..NUMBER_ATTEMPTS {
            let current = self.customer_at(bank, id, Read::Latest).await?;
            if if_match.is_some_and(|v| !v.contains(current.version)) {
                return Err(StoreError::VersionMismatch);
            }
            let old = &current.item.customer_number;
            if old == number {
                return Ok(current);
            }
            match self
                .transact(self.number_change(bank, &current, number, audit, if_match)?)
                .await
            {
                // Read back: other fields may have changed beside it, and the ETag must be the
                // version this answer shows.
                Ok(()) => return self.customer_at(bank, id, Read::Latest).await,
                // Taken: by another customer, or by this one through a concurrent identical change,
                // which the loop's next read answers as done.
                // (with If-Match that concurrent change means another version: 412).
                Err(Tx::Failed(Part::NewNumber)) => {
                    let now = self.customer_at(bank, id, Read::Latest).await?;
                    return match (&now.item.customer_number == number, if_match) {
                        (true, None) => Ok(now),
                        (true, Some(_)) => Err(StoreError::VersionMismatch),
                        (false, _) => Err(number_taken(number)),
                    };
                }
                // Changed by someone else between our read and write.
                Err(Tx::Failed(_)) if if_match.is_some() => return Err(StoreError::VersionMismatch),
                Err(Tx::Failed(_)) => continue,
                Err(Tx::Error(e)) => return Err(e),
            }
        }
        // Nothing was written: the caller may simply retry.
        Err(StoreError::Conflict(
            "the customer's number is changing concurrently, retry".into(),
        ))
    }

    /// The transaction of a number change. The number item is keyed by the number's case-folded
    /// form: a change of case alone keeps it and only updates the customer.
    fn number_change(
        &self,
        bank: &BankId,
        current: &Versioned<Customer>,
        number: &CustomerNumber,
        audit: &Audit,
        if_match: Option<&Versions>,
    ) -> StoreResult<Vec<(Part, TransactWriteItem)>> {
        let id = &current.item.id;
        let old = &current.item.customer_number;
        let mut values = HashMap::from([
            (":new".to_owned(), AttributeValue::S(number.to_string())),
            (":old".to_owned(), AttributeValue::S(old.to_string())),
            (":one".to_owned(), AttributeValue::N("1".into())),
        ]);
        let mut condition = "customer_number = :old".to_owned();
        if let Some(versions) = if_match {
            condition.push_str(&format!(" AND {}", versions.condition("#v", &mut values)));
        }
        let mut names = HashMap::from([("#v".to_owned(), VERSION.to_owned())]);
        let mut sets = vec!["customer_number = :new".to_owned(), "#v = #v + :one".to_owned()];
        audit_sets(audit, &mut sets, &mut names, &mut values)?;
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(keys::customer(id).to_map()))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(internal)?;
        let mut parts = vec![(Part::Customer, TransactWriteItem::builder().update(update).build())];
        if keys::customer_number(bank, old) == keys::customer_number(bank, number) {
            return Ok(parts);
        }
        let free_old = Delete::builder()
            .table_name(self.table())
            .set_key(Some(keys::customer_number(bank, old).to_map()))
            .condition_expression("customer_id = :id")
            .expression_attribute_values(":id", AttributeValue::S(id.to_string()))
            .build()
            .map_err(internal)?;
        parts.push((Part::OldNumber, TransactWriteItem::builder().delete(free_old).build()));
        parts.push((Part::NewNumber, self.number_put(bank, number, id)?));
        Ok(parts)
    }

    fn number_put(&self, bank: &BankId, number: &CustomerNumber, id: &CustomerId) -> StoreResult<TransactWriteItem> {
        let key = keys::customer_number(bank, number);
        let item = NumberItem {
            pk: key.pk,
            sk: key.sk,
            customer_id: *id,
        };
        put_new(self.table(), &item)
    }

    /// A bank's customers in creation order: the keys from every shard of the firehose index (and
    /// the legacy index) in one parallel round, merged, then the customers in one parallel round of
    /// BatchGetItems. `offset` skips keys only.
    pub async fn bank_customers(&self, bank: &BankId, q: &BankCustomersQuery) -> StoreResult<Page<Customer>> {
        let mut sources: Vec<Source> = self
            .shards()
            .all()
            .map(|shard| Source {
                index: Some(FIREHOSE),
                pk_attr: FIREHOSE_PK,
                sk_attr: FIREHOSE_SK,
                pk: keys::bank_customers(bank, shard),
            })
            .collect();
        sources.push(Source {
            index: Some(GSI1),
            pk_attr: GSI1PK,
            sk_attr: GSI1SK,
            pk: keys::legacy_bank_customers(bank),
        });
        // A token of a page read before sharding holds the legacy index's sort key.
        let after = q
            .start
            .as_ref()
            .map(|key| key.get(FIREHOSE_SK).or_else(|| key.get(GSI1SK)))
            .map(|value| match value {
                Some(AttributeValue::S(sk)) => Ok(sk.clone()),
                _ => Err(internal("a firehose page token has no sort key")),
            })
            .transpose()?;
        let merge = Merge {
            sources,
            // `~` sorts after every id character, so a bound on time includes that whole instant.
            lower: q.from.map(Timestamp::sortable),
            upper: q.to.map(|to| format!("{}~", to.sortable())),
            descending: q.descending,
            after,
            projection: Some(&[PK, SK]),
        };
        let page = self.merged(&merge, q.offset as usize, q.limit as usize).await?;
        let ids = page
            .items
            .iter()
            .map(|(_, item)| match item.get(PK).and_then(|pk| pk.as_s().ok()) {
                Some(pk) => keys::customer_id_of(pk).ok_or_else(|| internal("a firehose entry is not a customer")),
                None => Err(internal("a firehose entry has no key")),
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let mut found = self.batch_get_customers(&ids).await?;
        let next = page.next(FIREHOSE_SK);
        // In index order; a customer removed since the index was read is left out.
        let items = ids.iter().filter_map(|id| found.remove(id)).collect();
        Ok(Page { items, next })
    }

    /// Customers by id, in one parallel round of BatchGetItems of at most 100 keys each. Missing
    /// customers are absent from the answer.
    pub(crate) async fn batch_get_customers(&self, ids: &[CustomerId]) -> StoreResult<HashMap<CustomerId, Customer>> {
        let batches = ids
            .chunks(100)
            .map(|chunk| self.batch_get(chunk.iter().map(keys::customer)));
        let mut found = HashMap::new();
        for items in futures::future::try_join_all(batches).await? {
            for item in items.into_iter().filter(|item| !item.contains_key(ERASED_AT)) {
                let customer: Customer = versioned(item)?.item;
                found.insert(customer.id, customer);
            }
        }
        Ok(found)
    }
}

fn number_taken(number: &CustomerNumber) -> StoreError {
    StoreError::Conflict(format!("customer number {number} is already used at this bank"))
}

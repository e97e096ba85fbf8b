//! The DynamoDB store: items through `serde_dynamo`, keys from `keys`, conditions and transactions
//! for existence and uniqueness. Every method is at most one sequential round trip unless noted.

use crate::customer::{Customer, NewCustomer};
use crate::error::ApiError;
use crate::idempotency::Record;
use crate::ids::{BankId, CustomerId, CustomerNumber, UserId};
use crate::keys::{self, GSI1, GSI1PK, GSI1SK, PK, SK};
use crate::link::UserCustomerLink;
use crate::page::{Key, Page};
use crate::timestamp::Timestamp;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

/// A raw DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// Attributes every versioned item of a bank has.
pub(crate) const BANK_ID: &str = "bank_id";
pub(crate) const VERSION: &str = "version";

/// Attribute updates of one item: `(attribute path, value)`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Patch {
    pub sets: Vec<(Vec<&'static str>, AttributeValue)>,
}

impl Patch {
    pub fn set(&mut self, path: &[&'static str], value: impl Serialize) -> Result<(), ApiError> {
        let value = serde_dynamo::to_attribute_value(value).map_err(internal)?;
        self.sets.push((path.to_vec(), value));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

/// The versions a conditional write accepts: the strong entity tags of an `If-Match` list. Empty
/// when none of them can match (weak or foreign tags), so the write is refused (412) if the item
/// exists. `None` where a write takes one means any version (no `If-Match`, or `*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions(Vec<u64>);

impl Versions {
    pub fn new(versions: Vec<u64>) -> Self {
        Self(versions)
    }

    pub fn contains(&self, version: u64) -> bool {
        self.0.contains(&version)
    }

    /// The condition on the version attribute named `name`, its values added to `values`.
    pub(crate) fn condition(&self, name: &str, values: &mut HashMap<String, AttributeValue>) -> String {
        if self.0.is_empty() {
            // No version is 0 (items start at 1): the condition fails on an existing item.
            values.insert(":expected0".into(), AttributeValue::N("0".into()));
            return format!("{name} = :expected0");
        }
        let placeholders: Vec<String> = (0..self.0.len()).map(|i| format!(":expected{i}")).collect();
        for (placeholder, version) in placeholders.iter().zip(&self.0) {
            values.insert(placeholder.clone(), AttributeValue::N(version.to_string()));
        }
        format!("{name} IN ({})", placeholders.join(", "))
    }
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
}

/// An item with the version that `ETag`/`If-Match` compare.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub item: T,
    pub version: u64,
}

#[derive(Serialize)]
struct CustomerItem<'a> {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    version: u64,
    created_at: Timestamp,
    dependants: i32,
    dob_of_dependents: Vec<Timestamp>,
    #[serde(flatten)]
    customer: &'a Customer,
}

#[derive(Serialize, Deserialize)]
struct NumberItem {
    pk: String,
    sk: String,
    customer_id: CustomerId,
}

#[derive(Serialize, Deserialize)]
struct LinkItem {
    pk: String,
    sk: String,
    bank_id: BankId,
    #[serde(flatten)]
    link: UserCustomerLink,
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

/// A create's transaction is its two items, then the `Idempotency-Key` record when there is one.
pub(crate) const RECORD_INDEX: usize = 2;

/// How many times a server-chosen customer number is redrawn after a collision, and a number
/// change is read again after a concurrent one.
const NUMBER_ATTEMPTS: usize = 5;

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Opens connections to DynamoDB (TCP, TLS, credentials, endpoint) with parallel GetItems of a
    /// key that no item has, as many as a request makes at once (a linked user's list: the link,
    /// the customer and the page), so that the first request finds them open. A failure is only
    /// logged: the function still starts, and its requests answer 503 until DynamoDB is back.
    pub async fn connect(&self) {
        let read = || {
            self.client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(keys::connect().to_map()))
                .projection_expression(PK)
                .send()
        };
        let (a, b, c) = tokio::join!(read(), read(), read());
        if let Some(Err(err)) = [a, b, c].into_iter().find(Result::is_err) {
            let err = sdk_error(err);
            tracing::warn!(error = %err, "could not connect to DynamoDB during init");
        }
    }

    // ----- customers -----

    /// Writes the customer and its number's uniqueness record in one transaction.
    pub async fn create_customer(
        &self,
        mut new: NewCustomer,
        record: Record<'_, Customer>,
    ) -> Result<Customer, ApiError> {
        let created_at = Timestamp::now();
        for _ in 0..NUMBER_ATTEMPTS {
            let customer = &new.customer;
            let item = CustomerItem {
                pk: keys::customer(&customer.id).pk,
                sk: keys::customer(&customer.id).sk,
                gsi1pk: keys::bank_customers(&customer.bank_id),
                gsi1sk: keys::bank_customers_sort(created_at, &customer.id),
                version: 1,
                created_at,
                dependants: new.dob_of_dependents.len() as i32,
                dob_of_dependents: new.dob_of_dependents.clone(),
                customer,
            };
            let number = self.number_put(&customer.bank_id, &customer.customer_number, &customer.id)?;
            let mut items = vec![put_new(&self.table, to_item(&item)?)?, number];
            items.extend(self.record_item(record, customer)?);
            match self.transact(items).await {
                Ok(()) => return Ok(new.customer),
                Err(Tx::Failed(RECORD_INDEX)) => return Err(ApiError::KeyInUse),
                Err(Tx::Failed(1)) if !new.number_given => {
                    new.customer.customer_number = CustomerNumber::generate();
                }
                Err(Tx::Failed(1)) => return Err(number_taken(&new.customer.customer_number)),
                Err(Tx::Failed(_)) => return Err(ApiError::Conflict("the customer already exists".into())),
                Err(Tx::Error(e)) => return Err(e),
            }
        }
        Err(ApiError::Unavailable)
    }

    pub async fn get_customer(&self, id: &CustomerId, read: Read) -> Result<Option<Versioned<Customer>>, ApiError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::customer(id).to_map()))
            .consistent_read(read == Read::Latest)
            .send()
            .await
            .map_err(sdk_error)?;
        out.item.map(versioned).transpose()
    }

    /// A customer of `bank`, or 404 (a customer of another bank does not exist here).
    pub async fn customer_at(
        &self,
        bank: &BankId,
        id: &CustomerId,
        read: Read,
    ) -> Result<Versioned<Customer>, ApiError> {
        match self.get_customer(id, read).await? {
            Some(c) if &c.item.bank_id == bank => Ok(c),
            _ => Err(ApiError::NotFound("customer")),
        }
    }

    /// Applies `patch` to an existing customer of `bank`; never creates one.
    pub async fn update_customer(
        &self,
        bank: &BankId,
        id: &CustomerId,
        patch: &Patch,
        if_match: Option<&Versions>,
    ) -> Result<Versioned<Customer>, ApiError> {
        let item = self
            .update_versioned(keys::customer(id), bank, patch, if_match, "customer")
            .await?;
        versioned(item)
    }

    /// One UpdateItem of an item of `bank` that must exist: sets the patch's attributes, bumps the
    /// version (checked against `if_match`) and returns the new item. 404 when the item is missing
    /// or belongs to another bank, 412 when only the version differs.
    pub(crate) async fn update_versioned(
        &self,
        key: keys::ItemKey,
        bank: &BankId,
        patch: &Patch,
        if_match: Option<&Versions>,
        what: &'static str,
    ) -> Result<Item, ApiError> {
        let mut names = HashMap::from([
            ("#bank".to_owned(), BANK_ID.to_owned()),
            ("#v".to_owned(), VERSION.to_owned()),
        ]);
        let mut values = HashMap::from([
            (":bank".to_owned(), AttributeValue::S(bank.to_string())),
            (":one".to_owned(), AttributeValue::N("1".into())),
        ]);
        let mut sets = vec!["#v = #v + :one".to_owned()];
        for (i, (path, value)) in patch.sets.iter().enumerate() {
            let mut parts = Vec::new();
            for (j, name) in path.iter().enumerate() {
                let placeholder = format!("#f{i}_{j}");
                names.insert(placeholder.clone(), (*name).to_owned());
                parts.push(placeholder);
            }
            values.insert(format!(":v{i}"), value.clone());
            sets.push(format!("{} = :v{i}", parts.join(".")));
        }
        let mut condition = format!("attribute_exists({PK}) AND #bank = :bank");
        if let Some(versions) = if_match {
            condition.push_str(&format!(" AND {}", versions.condition("#v", &mut values)));
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
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
            Ok(out) => Ok(out.attributes.unwrap_or_default()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(e)) => {
                    Err(condition_failure(e.item.as_ref(), bank, what))
                }
                _ => Err(sdk_error(err)),
            },
        }
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
        if_match: Option<&Versions>,
    ) -> Result<Versioned<Customer>, ApiError> {
        for _ in 0..NUMBER_ATTEMPTS {
            let current = self.customer_at(bank, id, Read::Latest).await?;
            if if_match.is_some_and(|v| !v.contains(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            let old = &current.item.customer_number;
            if old == number {
                return Ok(current);
            }
            match self
                .transact(self.number_change(bank, &current, number, if_match)?)
                .await
            {
                // Read back: other fields may have changed beside it, and the ETag must be the
                // version this answer shows.
                Ok(()) => return self.customer_at(bank, id, Read::Latest).await,
                Err(Tx::Failed(NumberChange::CLAIM_NEW)) => return Err(number_taken(number)),
                // Changed by someone else between our read and write.
                Err(Tx::Failed(_)) if if_match.is_some() => return Err(ApiError::PreconditionFailed),
                Err(Tx::Failed(_)) => continue,
                Err(Tx::Error(e)) => return Err(e),
            }
        }
        Err(ApiError::Unavailable)
    }

    /// The transaction of a number change. The number item is keyed by the number's case-folded
    /// form: a change of case alone keeps it and only updates the customer.
    fn number_change(
        &self,
        bank: &BankId,
        current: &Versioned<Customer>,
        number: &CustomerNumber,
        if_match: Option<&Versions>,
    ) -> Result<Vec<TransactWriteItem>, ApiError> {
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
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::customer(id).to_map()))
            .update_expression("SET customer_number = :new, #v = #v + :one")
            .condition_expression(condition)
            .expression_attribute_names("#v", VERSION)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(internal)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        if keys::customer_number(bank, old) == keys::customer_number(bank, number) {
            return Ok(items);
        }
        let free_old = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(keys::customer_number(bank, old).to_map()))
            .condition_expression("customer_id = :id")
            .expression_attribute_values(":id", AttributeValue::S(id.to_string()))
            .build()
            .map_err(internal)?;
        items.push(TransactWriteItem::builder().delete(free_old).build());
        items.push(self.number_put(bank, number, id)?);
        Ok(items)
    }

    fn number_put(
        &self,
        bank: &BankId,
        number: &CustomerNumber,
        id: &CustomerId,
    ) -> Result<TransactWriteItem, ApiError> {
        let key = keys::customer_number(bank, number);
        let item = NumberItem {
            pk: key.pk,
            sk: key.sk,
            customer_id: *id,
        };
        put_new(&self.table, to_item(&item)?)
    }

    /// A bank's customers in creation order, from the firehose index.
    pub async fn bank_customers(&self, bank: &BankId, q: &BankCustomersQuery) -> Result<Page<Customer>, ApiError> {
        let mut condition = "#pk = :pk".to_owned();
        let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(keys::bank_customers(bank)))]);
        // `~` sorts after every id character, so a bound on time includes that whole instant.
        match (q.from, q.to) {
            (Some(from), Some(to)) => {
                condition.push_str(" AND #sk BETWEEN :from AND :to");
                values.insert(":from".into(), AttributeValue::S(from.sortable()));
                values.insert(":to".into(), AttributeValue::S(format!("{}~", to.sortable())));
            }
            (Some(from), None) => {
                condition.push_str(" AND #sk >= :from");
                values.insert(":from".into(), AttributeValue::S(from.sortable()));
            }
            (None, Some(to)) => {
                condition.push_str(" AND #sk <= :to");
                values.insert(":to".into(), AttributeValue::S(format!("{}~", to.sortable())));
            }
            (None, None) => {}
        }
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression(&condition)
            .expression_attribute_names("#pk", GSI1PK)
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!q.descending);
        let query = if condition.contains("#sk") {
            query.expression_attribute_names("#sk", GSI1SK)
        } else {
            query
        };

        let mut start = q.start.clone();
        // `offset` skips items without returning them: read only their keys.
        let mut to_skip = q.offset as i32;
        while to_skip > 0 {
            let out = query
                .clone()
                .limit(to_skip.min(1000))
                .projection_expression(format!("#pk, {GSI1SK}, {PK}, {SK}"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            to_skip -= out.count;
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                });
            }
        }

        let (raw, next) = self
            .query_page(query, q.limit, start, &[PK, SK, GSI1PK, GSI1SK])
            .await?;
        let items = raw
            .into_iter()
            .map(|item| versioned(item).map(|c| c.item))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }

    // ----- user customer links -----

    /// Links a user to a customer that must exist at `bank`; one link per (user, customer).
    pub async fn create_link(
        &self,
        bank: &BankId,
        link: &UserCustomerLink,
        record: Record<'_, UserCustomerLink>,
    ) -> Result<(), ApiError> {
        let key = keys::user_customer_link(&link.user_id, bank, &link.customer_id);
        let item = LinkItem {
            pk: key.pk,
            sk: key.sk,
            bank_id: bank.clone(),
            link: link.clone(),
        };
        let customer_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(keys::customer(&link.customer_id).to_map()))
            .condition_expression("attribute_exists(pk) AND bank_id = :bank")
            .expression_attribute_values(":bank", AttributeValue::S(bank.to_string()))
            .build()
            .map_err(internal)?;
        let mut items = vec![
            TransactWriteItem::builder().condition_check(customer_exists).build(),
            put_new(&self.table, to_item(&item)?)?,
        ];
        items.extend(self.record_item(record, link)?);
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(Tx::Failed(RECORD_INDEX)) => Err(ApiError::KeyInUse),
            Err(Tx::Failed(0)) => Err(ApiError::NotFound("customer")),
            Err(Tx::Failed(_)) => Err(ApiError::Conflict("the user is already linked to this customer".into())),
            Err(Tx::Error(e)) => Err(e),
        }
    }

    pub async fn is_linked(&self, user: &UserId, bank: &BankId, customer: &CustomerId) -> Result<bool, ApiError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
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
    ) -> Result<Page<Customer>, ApiError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
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

    async fn batch_get_customers(&self, ids: &[CustomerId]) -> Result<HashMap<CustomerId, Customer>, ApiError> {
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
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(sdk_error)?;
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    let c: Customer = versioned(item)?.item;
                    found.insert(c.id, c);
                }
                // Unprocessed keys come back under throttling: retry them with a short backoff.
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
                if pending.is_some() {
                    if backoff > Duration::from_secs(1) {
                        return Err(ApiError::Unavailable);
                    }
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
        Ok(found)
    }
}

impl Store {
    /// One page of a Query: up to `limit` items, and the key to continue from when there are more.
    /// It asks for one item more than the page holds, so the last page never carries a token that
    /// leads to an empty one, and keeps reading when DynamoDB stops a response short at 1 MB.
    /// `key_attributes` are the table's and the queried index's key attributes.
    pub(crate) async fn query_page(
        &self,
        query: QueryFluentBuilder,
        limit: i32,
        mut start: Option<Key>,
        key_attributes: &[&str],
    ) -> Result<(Vec<Item>, Option<Key>), ApiError> {
        let want = limit as usize + 1;
        let mut items = Vec::new();
        loop {
            let out = query
                .clone()
                .limit((want - items.len()) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() || items.len() >= want {
                break;
            }
        }
        Ok(split_page(items, limit as usize, key_attributes))
    }
}

/// Keeps the first `limit` items; when there were more, the next page starts after the last kept
/// one, whose key (the table's and the index's attributes in `key_attributes`) is the token.
/// Why a write's condition failed: the item is there, at this bank, so only the version can have
/// differed (412); otherwise it is missing or another bank's (404).
pub(crate) fn condition_failure(old: Option<&Item>, bank: &BankId, what: &'static str) -> ApiError {
    match old.and_then(|item| item.get(BANK_ID)) {
        Some(AttributeValue::S(b)) if b == bank.as_str() => ApiError::PreconditionFailed,
        _ => ApiError::NotFound(what),
    }
}

fn split_page(mut items: Vec<Key>, limit: usize, key_attributes: &[&str]) -> (Vec<Key>, Option<Key>) {
    if items.len() <= limit {
        return (items, None);
    }
    items.truncate(limit);
    let next = items.last().map(|last| {
        key_attributes
            .iter()
            .filter_map(|a| last.get(*a).map(|v| ((*a).to_owned(), v.clone())))
            .collect()
    });
    (items, next)
}

/// A stored object and its version. The object's type ignores the key and bookkeeping attributes,
/// so it is read straight from the item: a `flatten` wrapper would buffer every attribute first,
/// which `perf` showed as the largest cost of a GET after the SDK's own.
pub(crate) fn versioned<T: DeserializeOwned>(item: Item) -> Result<Versioned<T>, ApiError> {
    let version = item
        .get(VERSION)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| internal("a stored item has no version"))?;
    Ok(Versioned {
        item: serde_dynamo::from_item(item).map_err(internal)?,
        version,
    })
}

fn to_item<T: Serialize>(value: &T) -> Result<HashMap<String, AttributeValue>, ApiError> {
    serde_dynamo::to_item(value).map_err(internal)
}

/// A put that fails if the key is taken.
fn put_new(table: &str, item: HashMap<String, AttributeValue>) -> Result<TransactWriteItem, ApiError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(format!("attribute_not_exists({PK}) AND attribute_not_exists({SK})"))
        .build()
        .map_err(internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn number_taken(number: &CustomerNumber) -> ApiError {
    ApiError::Conflict(format!("customer number {number} is already used at this bank"))
}

/// How fresh a single-item read must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Strongly consistent, at twice the RCU: where a client must see its own writes (a resource it
    /// just created or changed, with its ETag) and where a write depends on what is read.
    Latest,
    /// Eventually consistent: beside a Query, whose answer is eventually consistent anyway.
    Eventual,
}

/// The items of a number change's transaction, by position.
struct NumberChange;

impl NumberChange {
    const CLAIM_NEW: usize = 2;
}

/// How a transaction failed.
pub(crate) enum Tx {
    /// The condition of the item at this index failed (the last such item when several did).
    Failed(usize),
    Error(ApiError),
}

/// Attempts of a transaction that collides with a concurrent one on the same items.
const TX_ATTEMPTS: u32 = 6;

impl Store {
    /// One TransactWriteItems. A collision with a concurrent transaction (not a failed condition)
    /// is retried after a short, jittered pause, so that racing writers end as one success and
    /// clean condition failures rather than spurious errors.
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Tx> {
        for attempt in 1..=TX_ATTEMPTS {
            let err = match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let reasons = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    Some(e.cancellation_reasons().to_vec())
                }
                _ => None,
            };
            match reasons {
                Some(reasons) => {
                    // The last failed condition: a create's Idempotency-Key record comes last, and
                    // when it failed the request is a replay whatever else failed with it.
                    if let Some(i) = reasons.iter().rposition(|r| r.code() == Some("ConditionalCheckFailed")) {
                        return Err(Tx::Failed(i));
                    }
                    let conflict = reasons.iter().any(|r| r.code() == Some("TransactionConflict"));
                    if !conflict {
                        return Err(Tx::Error(sdk_error(err)));
                    }
                    if attempt == TX_ATTEMPTS {
                        return Err(Tx::Error(ApiError::Conflict(
                            "a concurrent request changed the same data, retry".into(),
                        )));
                    }
                }
                None if err.code() == Some("TransactionConflictException") && attempt < TX_ATTEMPTS => {}
                None => return Err(Tx::Error(sdk_error(err))),
            }
            let mut jitter = [0u8; 1];
            crate::ids::random(&mut jitter);
            tokio::time::sleep(Duration::from_millis(
                5 * u64::from(attempt) + u64::from(jitter[0] % 20),
            ))
            .await;
        }
        Err(Tx::Error(ApiError::Unavailable))
    }
}

pub(crate) fn internal(err: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(err.to_string())
}

/// Throttling and an unreachable or slow DynamoDB are 503 (the SDK has already retried);
/// anything else is a real fault. Only the error's kind, code and message are kept: an SDK error's
/// `Debug` can carry the raw response, and with it a customer's data.
pub fn sdk_error<E: ProvideErrorMetadata, R>(err: SdkError<E, R>) -> ApiError {
    const RETRYABLE: &[&str] = &[
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    ];
    let kind = match &err {
        SdkError::ConstructionFailure(_) => "construction failure",
        SdkError::TimeoutError(_) => "timeout",
        SdkError::DispatchFailure(_) => "dispatch failure",
        SdkError::ResponseError(_) => "unreadable response",
        SdkError::ServiceError(_) => "service error",
        _ => "error",
    };
    let code = err.code().unwrap_or("-").to_owned();
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            tracing::warn!(kind, "DynamoDB unavailable");
            crate::metrics::count("DynamoDbUnavailable", &[]);
            ApiError::Unavailable
        }
        _ if RETRYABLE.contains(&code.as_str()) => {
            tracing::warn!(code, "DynamoDB throttled");
            crate::metrics::count("DynamoDbThrottled", &[]);
            ApiError::Unavailable
        }
        _ => ApiError::Internal(format!("DynamoDB {kind}: {code}: {}", err.message().unwrap_or("-"))),
    }
}

//! The permission rules of docs/contract.md where they need the store: staff of a bank read and write its
//! customers; a linked user reads a linked customer; anything else under a bank is 403, and a
//! customer of another bank is 404.

use crate::domain::customer::Customer;
use crate::domain::ids::{BankId, CustomerId};
use crate::http::caller::{Caller, Granted, Scope};
use crate::http::error::ApiError;
use crate::http::page::ListQuery;
use crate::store::page::Page;
use crate::store::records::Child;
use crate::store::{Read, Store, Versioned};

/// A customer of `bank` the caller may read. For a non-staff caller the link and the customer
/// are read in parallel: one round trip either way.
pub async fn readable_customer(
    store: &Store,
    caller: &Caller,
    bank: &BankId,
    id: &CustomerId,
    read: Read,
) -> Result<Versioned<Customer>, ApiError> {
    caller.require(Scope::Read)?;
    if caller.is_staff(bank) {
        return Ok(store.customer_at(bank, id, read).await?);
    }
    let (customer, linked) = tokio::join!(
        store.customer_at(bank, id, read),
        store.is_linked(&caller.user_id, bank, id)
    );
    if !linked? {
        return Err(ApiError::Forbidden(
            "the caller is neither staff of this bank nor linked to this customer",
        ));
    }
    Ok(customer?)
}

/// A customer of `bank` the caller may write: write scope and staff, checked before any read.
pub async fn writable_customer(
    store: &Store,
    caller: &Caller,
    bank: &BankId,
    id: &CustomerId,
) -> Result<Versioned<Customer>, ApiError> {
    caller.require_write(bank)?;
    Ok(store.customer_at(bank, id, Read::Latest).await?)
}

/// For routes without a bank in the path: the customer's own bank decides, and a customer the
/// caller may not write is 404 (its existence is not disclosed). With the customer comes the proof
/// that the caller may write it, which reading the body needs.
pub async fn writable_customer_anywhere(
    store: &Store,
    caller: &Caller,
    id: &CustomerId,
) -> Result<(Versioned<Customer>, Granted), ApiError> {
    caller.require(Scope::Write)?;
    match store.get_customer(id, Read::Latest).await? {
        Some(c) if caller.is_staff(&c.item.bank_id) => Ok((c, Granted::new(&caller.user_id))),
        _ => Err(ApiError::NotFound("customer")),
    }
}

/// A page of a customer's children and the customer, for a caller who may read the customer. The
/// access check and the Query run in parallel: one round trip.
pub async fn readable_children<T: Child>(
    store: &Store,
    caller: &Caller,
    bank: &BankId,
    id: &CustomerId,
    list: &ListQuery<'_>,
) -> Result<(Versioned<Customer>, Page<Versioned<T>>), ApiError> {
    let granted = caller.require(Scope::Read)?;
    let page = match list.request(&granted) {
        Ok(page) => page,
        // A linked user's access is only known from the store: it answers first (403/404), and
        // only a caller who may read the customer learns what is wrong with the page.
        Err(bad_page) => {
            readable_customer(store, caller, bank, id, Read::Eventual).await?;
            return Err(bad_page);
        }
    };
    // Both run to completion so that the access check's answer (403/404) always wins. The Query is
    // eventually consistent, so the check beside it need not be stronger.
    let (customer, children) = tokio::join!(
        readable_customer(store, caller, bank, id, Read::Eventual),
        store.children::<T>(id, page.limit, page.start)
    );
    Ok((customer?, children?))
}

/// One child of a customer the caller may read, fetched beside the access check.
pub async fn readable_child<T: Child>(
    store: &Store,
    caller: &Caller,
    bank: &BankId,
    id: &CustomerId,
    child: &str,
) -> Result<(Versioned<Customer>, Versioned<T>), ApiError> {
    let (customer, child) = tokio::join!(
        readable_customer(store, caller, bank, id, Read::Latest),
        store.child::<T>(bank, id, child)
    );
    Ok((customer?, child?))
}

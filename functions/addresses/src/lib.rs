//! Customer addresses: add (by customer id alone), list, update and delete.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use shared::domain::customer_address::{AddressList, CreateAddressBody, CustomerAddress, UpdateAddressBody};
use shared::domain::ids::{BankId, CustomerAddressId, CustomerId};
use shared::http::access;
use shared::http::body::{Body, PathParams, QueryParams};
use shared::http::caller::Caller;
use shared::http::etag::{etag, etag_text, if_match};
use shared::http::idempotency::{self, Answer, Create};
use shared::http::page::LIST_LIMITS;
use shared::http::router::PublicPrefix;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    const ADDRESSES: &str = "/v1/banks/{BankID}/customers/{CustomerID}/addresses";
    let routes = Router::new()
        .route("/v1/customers/{CustomerID}/address", post(create))
        .route(ADDRESSES, get(list))
        .route(
            &format!("{ADDRESSES}/{{CustomerAddressID}}"),
            put(update).delete(delete),
        )
        .with_state(state);
    shared::http::router::finish(routes)
}

fn address_path(path: &PathParams) -> ApiResult<(BankId, CustomerId, CustomerAddressId)> {
    let (bank, customer) = path.bank_and_customer()?;
    Ok((bank, customer, path.get("CustomerAddressID", CustomerAddressId::parse)?))
}

/// A page token continues only this customer's addresses at this bank.
fn page_scope(bank: &BankId, customer: &CustomerId) -> String {
    format!("customer_addresses/{bank}/{customer}")
}

async fn create(
    State(app): State<AppState>,
    path: PathParams,
    PublicPrefix(prefix): PublicPrefix,
    Create { caller, body, idem }: Create,
) -> ApiResult<Response> {
    let id = path.get("CustomerID", CustomerId::parse)?;
    // No bank in the path: the customer's own bank decides, before the body is read.
    let (customer, granted) = access::writable_customer_anywhere(&app.store, &caller, &id).await?;
    let bank = customer.item.bank_id;
    let address = body.json::<CreateAddressBody>(&granted)?.validate(id)?;
    let respond = |a: &CustomerAddress| {
        let location = format!(
            "{prefix}/v1/banks/{bank}/customers/{id}/addresses/{}",
            a.customer_address_id
        );
        Answer::json(
            StatusCode::CREATED,
            &[(header::LOCATION, location), (header::ETAG, etag_text(1))],
            a,
        )
    };
    let (store, bank, id, audit) = (&app.store, &bank, &id, &caller.audit());
    idempotency::once(store, idem.as_ref(), &respond, |record| async move {
        store
            .create_child(bank, id, address, record, audit)
            .await
            .map(|c| c.item)
    })
    .await
}

async fn list(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    query: QueryParams,
) -> ApiResult<Json<AddressList>> {
    let (bank, customer) = path.bank_and_customer()?;
    let list = app.pages.list(&query, page_scope(&bank, &customer), LIST_LIMITS);
    let (_, page) = access::readable_children::<CustomerAddress>(&app.store, &caller, &bank, &customer, &list).await?;
    Ok(Json(AddressList {
        addresses: page.items.into_iter().map(|a| a.item).collect(),
        next_page_token: list.next_token(page.next.as_ref())?,
    }))
}

async fn update(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let (bank, customer, id) = address_path(&path)?;
    let granted = caller.require_write(&bank)?;
    let patch = body
        .json::<UpdateAddressBody>(&granted)?
        .into_patch(&bank, &customer, &id)?;
    let updated = app
        .store
        .update_child::<CustomerAddress>(
            &bank,
            &customer,
            &id.to_string(),
            &patch,
            &caller.audit(),
            if_match(&headers)?.as_ref(),
        )
        .await?;
    Ok((StatusCode::OK, [etag(updated.version)], Json(updated.item)).into_response())
}

async fn delete(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let (bank, customer, id) = address_path(&path)?;
    caller.require_write(&bank)?;
    app.store
        .delete_child::<CustomerAddress>(
            &bank,
            &customer,
            &id.to_string(),
            &caller.audit(),
            if_match(&headers)?.as_ref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

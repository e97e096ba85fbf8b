//! Customers: create, read by id and by number, the eight updates, the caller's linked customers,
//! and a customer's history, export, legal hold and erasure.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;
use shared::domain::change::{HistoryList, Resource};
use shared::domain::credit_limit_order::Refusal;
use shared::domain::customer::{
    CreateCustomerBody, CreateCustomerResponse, Customer, CustomerEnvelope, CustomerList, CustomerUpdate, UpdateBranch,
    UpdateCreditLimit, UpdateCreditRating, UpdateData, UpdateEmail, UpdateIdentity, UpdateMobileNumber, UpdateNumber,
};
use shared::domain::export::{CustomerExport, EXPORT_VERSION};
use shared::domain::ids::{BankId, CustomerNumber};
use shared::domain::lifecycle::{LegalHoldEnvelope, PlaceLegalHoldBody};
use shared::domain::timestamp::Timestamp;
use shared::http::access;
use shared::http::body::{Body, PathParams, QueryParams};
use shared::http::caller::{Caller, Scope};
use shared::http::etag::{etag, etag_text, if_match};
use shared::http::idempotency::{self, Answer, Create};
use shared::http::page::{LIST_LIMITS, Limits};
use shared::http::router::PublicPrefix;
use shared::metrics;
use shared::store::history::HistoryQuery;
use shared::store::{Read, Versioned};
use shared::{ApiError, ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    const CUSTOMER: &str = "/v1/banks/{BankID}/customers/{CustomerID}";
    let routes = Router::new()
        .route("/v1/customers", post(create))
        .route("/v1/users/current/customers", get(linked_customers))
        .route("/v1/banks/{BankID}/customers", get(linked_customers_at_bank))
        .route(CUSTOMER, get(get_by_id).delete(erase))
        .route(
            &format!("{CUSTOMER}/customer-number/{{CustomerNumber}}"),
            get(get_by_number),
        )
        .route(&format!("{CUSTOMER}/branch"), put(update::<UpdateBranch>))
        .route(&format!("{CUSTOMER}/credit-limit"), put(update_credit_limit))
        .route(
            &format!("{CUSTOMER}/credit-rating-and-source"),
            put(update::<UpdateCreditRating>),
        )
        .route(&format!("{CUSTOMER}/email"), put(update::<UpdateEmail>))
        .route(&format!("{CUSTOMER}/identity"), put(update::<UpdateIdentity>))
        .route(&format!("{CUSTOMER}/mobile-number"), put(update::<UpdateMobileNumber>))
        .route(&format!("{CUSTOMER}/data"), put(update::<UpdateData>))
        .route(&format!("{CUSTOMER}/number"), put(update_number))
        .route(&format!("{CUSTOMER}/history"), get(history))
        .route(&format!("{CUSTOMER}/export"), get(export))
        .route(
            &format!("{CUSTOMER}/legal-hold"),
            put(place_legal_hold).delete(lift_legal_hold),
        )
        .with_state(state);
    shared::http::router::finish(routes)
}

/// A customer with its ETag.
fn customer_response(status: StatusCode, c: Versioned<Customer>, wrap: bool) -> Response {
    let tag = etag(c.version);
    if wrap {
        (status, [tag], Json(CustomerEnvelope { customer: c.item })).into_response()
    } else {
        (status, [tag], Json(c.item)).into_response()
    }
}

async fn create(
    State(app): State<AppState>,
    PublicPrefix(prefix): PublicPrefix,
    Create { caller, body, idem }: Create,
) -> ApiResult<Response> {
    let granted = caller.require(Scope::Write)?;
    let parsed = body.json::<CreateCustomerBody>(&granted)?;
    // Staff of the named bank only; a caller without rights learns nothing from validation.
    if let Some(bank) = parsed.bank_id.as_deref().and_then(|b| BankId::parse(b).ok()) {
        caller.require_staff(&bank)?;
    }
    let new = parsed.validate()?;
    caller.require_staff(&new.customer.bank_id)?;
    if !new.starts_without_credit() {
        return Err(Refusal::NoOrder.into());
    }
    let respond = |c: &Customer| {
        let location = format!("{prefix}/v1/banks/{}/customers/{}", c.bank_id, c.id);
        let created = CreateCustomerResponse {
            customer_id: c.id,
            bank_id: c.bank_id.clone(),
        };
        Answer::json(
            StatusCode::CREATED,
            &[(header::LOCATION, location), (header::ETAG, etag_text(1))],
            &created,
        )
    };
    let (store, audit) = (&app.store, &caller.audit());
    idempotency::once(store, idem.as_ref(), &respond, |record| async move {
        let customer = store.create_customer(new, record, audit).await?;
        metrics::count("CustomersCreated", &[]);
        Ok(customer)
    })
    .await
}

async fn get_by_id(State(app): State<AppState>, caller: Caller, path: PathParams) -> ApiResult<Response> {
    let (bank, id) = path.bank_and_customer()?;
    let customer = access::readable_customer(&app.store, &caller, &bank, &id, Read::Latest).await?;
    Ok(customer_response(StatusCode::OK, customer, false))
}

async fn get_by_number(State(app): State<AppState>, caller: Caller, path: PathParams) -> ApiResult<Response> {
    let (bank, id) = path.bank_and_customer()?;
    let number = path.get("CustomerNumber", CustomerNumber::parse)?;
    let customer = access::readable_customer(&app.store, &caller, &bank, &id, Read::Latest).await?;
    // Numbers are unique per bank, so "this customer has this number" is the whole lookup.
    if !customer.item.customer_number.is_same(number.as_str()) {
        return Err(ApiError::NotFound("customer"));
    }
    Ok(customer_response(StatusCode::OK, customer, false))
}

async fn update<B: CustomerUpdate + DeserializeOwned>(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let (bank, id) = path.bank_and_customer()?;
    let granted = caller.require_write(&bank)?;
    let patch = body.json::<B>(&granted)?.into_patch(&bank, &id)?;
    let updated = app
        .store
        .update_customer(&bank, &id, &patch, &caller.audit(), if_match(&headers)?.as_ref())
        .await?;
    Ok(customer_response(StatusCode::OK, updated, true))
}

/// Lowers a credit limit; raising one takes an approved credit limit order (four eyes).
async fn update_credit_limit(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let (bank, id) = path.bank_and_customer()?;
    let granted = caller.require_write(&bank)?;
    let limit = body.json::<UpdateCreditLimit>(&granted)?.into_limit(&bank, &id)?;
    let updated = app
        .store
        .set_credit_limit(&bank, &id, &limit, &caller.audit(), if_match(&headers)?.as_ref())
        .await?;
    Ok(customer_response(StatusCode::OK, updated, true))
}

async fn update_number(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let (bank, id) = path.bank_and_customer()?;
    let granted = caller.require_write(&bank)?;
    let number = body.json::<UpdateNumber>(&granted)?.into_number(&bank, &id)?;
    let updated = app
        .store
        .set_customer_number(&bank, &id, &number, &caller.audit(), if_match(&headers)?.as_ref())
        .await?;
    Ok(customer_response(StatusCode::OK, updated, true))
}

async fn linked_customers(
    State(app): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<CustomerList>> {
    list_linked(&app, &caller, None, &query).await
}

async fn linked_customers_at_bank(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    query: QueryParams,
) -> ApiResult<Json<CustomerList>> {
    let bank = path.get("BankID", BankId::parse)?;
    list_linked(&app, &caller, Some(&bank), &query).await
}

/// Any caller with the read scope may list the customers linked to them.
async fn list_linked(
    app: &AppState,
    caller: &Caller,
    bank: Option<&BankId>,
    query: &QueryParams,
) -> ApiResult<Json<CustomerList>> {
    let granted = caller.require(Scope::Read)?;
    // A token continues only this list at this bank (or at every bank); the list binds it to the user.
    let scope = format!("linked-customers/{}", bank.map(BankId::as_str).unwrap_or("*"));
    let list = app.pages.list(query, scope, LIST_LIMITS);
    let request = list.request(&granted)?;
    let page = app
        .store
        .linked_customers(&caller.user_id, bank, request.limit, request.start)
        .await?;
    let next_page_token = list.next_token(page.next.as_ref())?;
    Ok(Json(CustomerList {
        customers: page.items,
        next_page_token,
    }))
}

/// Who changed what: staff of the bank only (a linked user reads the customer, not its audit
/// trail), newest first.
async fn history(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    query: QueryParams,
) -> ApiResult<Json<HistoryList>> {
    let (bank, id) = path.bank_and_customer()?;
    caller.require(Scope::Read)?;
    let granted = caller.require_staff(&bank)?;
    let resource = query
        .get("resource")
        .map(|r| {
            Resource::parse(r).ok_or_else(|| {
                let names: Vec<&str> = Resource::ALL.iter().map(|r| r.name()).collect();
                ApiError::field("resource", format!("must be one of {}", names.join(", ")))
            })
        })
        .transpose()?;
    let (from, to) = query.window()?;
    // The token continues only this customer's history with the same filters, for the same user.
    let scope = format!(
        "history/{bank}/{id}/{}/{}/{}",
        resource.map_or("", Resource::name),
        from.map(|t| t.sortable()).unwrap_or_default(),
        to.map(|t| t.sortable()).unwrap_or_default()
    );
    let list = app.pages.list(&query, scope, LIST_LIMITS);
    let request = list.request(&granted)?;
    let q = HistoryQuery {
        resource,
        from,
        to,
        limit: request.limit,
        start: request.start,
    };
    // A customer of another bank, or none, has no history here (404).
    let (customer, page) = tokio::join!(
        app.store.customer_at(&bank, &id, Read::Eventual),
        app.store.history(&id, &q)
    );
    customer?;
    let page = page?;
    Ok(Json(HistoryList {
        history: page.items,
        next_page_token: list.next_token(page.next.as_ref())?,
    }))
}

/// Items of the customer's partition per export page: each is a few KB at most (the API's field
/// limits), so a page stays far below Lambda's 6 MB answer.
const EXPORT_LIMITS: Limits = Limits { default: 200, max: 500 };

async fn export(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    query: QueryParams,
) -> ApiResult<Json<CustomerExport>> {
    let (bank, id) = path.bank_and_customer()?;
    caller.require(Scope::Read)?;
    let granted = caller.require_staff(&bank)?;
    // The token continues only this customer's export, for the same user.
    let list = app.pages.list(&query, format!("export/{bank}/{id}"), EXPORT_LIMITS);
    let request = list.request(&granted)?;
    let (customer, page) = tokio::join!(
        app.store.customer_at(&bank, &id, Read::Latest),
        app.store.export_page(&id, request.limit, request.start)
    );
    let customer = customer?;
    let (collections, next) = page?;
    Ok(Json(CustomerExport {
        export_version: EXPORT_VERSION,
        exported_at: Timestamp::now(),
        customer: customer.item,
        collections,
        next_page_token: list.next_token(next.as_ref())?,
    }))
}

/// Erases the customer (or finishes an interrupted erasure): 204, then 404 for good.
async fn erase(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let (bank, id) = path.bank_and_customer()?;
    caller.require_write(&bank)?;
    app.store
        .erase_customer(&bank, &id, &caller.audit(), if_match(&headers)?.as_ref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn place_legal_hold(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    body: Body,
) -> ApiResult<Json<LegalHoldEnvelope>> {
    let (bank, id) = path.bank_and_customer()?;
    let granted = caller.require_approve(&bank)?;
    let hold = body
        .json::<PlaceLegalHoldBody>(&granted)?
        .validate(caller.user_id.clone())?;
    app.store.place_legal_hold(&bank, &id, &hold).await?;
    Ok(Json(LegalHoldEnvelope { legal_hold: hold }))
}

async fn lift_legal_hold(State(app): State<AppState>, caller: Caller, path: PathParams) -> ApiResult<StatusCode> {
    let (bank, id) = path.bank_and_customer()?;
    caller.require_approve(&bank)?;
    app.store.lift_legal_hold(&bank, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Credit limit orders: a bank's staff record a customer's credit limit request; staff and linked
//! users read them; staff with `customer.approve` other than its maker approve or reject it.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use shared::domain::credit_limit_order::{
    ApproveCreditLimitOrderBody, CreateCreditLimitOrderBody, CreateCreditLimitOrderResponse, CreditLimitOrder,
    CreditLimitOrderEnvelope, CreditLimitOrderList, Outcome, RejectCreditLimitOrderBody,
};
use shared::domain::ids::{CreditLimitOrderId, UserId};
use shared::http::access;
use shared::http::body::{Body, PathParams, QueryParams};
use shared::http::caller::{Caller, Granted};
use shared::http::etag::{etag, etag_text};
use shared::http::idempotency::{self, Answer, Create};
use shared::http::page::LIST_LIMITS;
use shared::http::router::PublicPrefix;
use shared::store::Versioned;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    const CUSTOMER: &str = "/v1/banks/{BankID}/customers/{CustomerID}";
    let routes = Router::new()
        .route(&format!("{CUSTOMER}/credit_limit/requests"), get(list).post(create))
        .route(
            &format!("{CUSTOMER}/credit_limit/request/{{RequestID}}"),
            get(get_by_id),
        )
        .route(
            &format!("{CUSTOMER}/credit_limit/request/{{RequestID}}/approval"),
            post(approve),
        )
        .route(
            &format!("{CUSTOMER}/credit_limit/request/{{RequestID}}/rejection"),
            post(reject),
        )
        .with_state(state);
    shared::http::router::finish(routes)
}

async fn create(
    State(app): State<AppState>,
    path: PathParams,
    PublicPrefix(prefix): PublicPrefix,
    Create { caller, body, idem }: Create,
) -> ApiResult<Response> {
    let (bank, customer) = path.bank_and_customer()?;
    let granted = caller.require_write(&bank)?;
    let order =
        body.json::<CreateCreditLimitOrderBody>(&granted)?
            .validate(&bank, &customer, caller.user_id.clone())?;
    let respond = |o: &CreditLimitOrder| {
        let id = o.credit_limit_order_id;
        let location = format!("{prefix}/v1/banks/{bank}/customers/{customer}/credit_limit/request/{id}");
        let created = CreateCreditLimitOrderResponse {
            credit_limit_order_id: id,
        };
        Answer::json(
            StatusCode::CREATED,
            &[(header::LOCATION, location), (header::ETAG, etag_text(1))],
            &created,
        )
    };
    let (store, bank, customer, audit) = (&app.store, &bank, &customer, &caller.audit());
    idempotency::once(store, idem.as_ref(), &respond, |record| async move {
        store
            .create_child(bank, customer, order, record, audit)
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
) -> ApiResult<Json<CreditLimitOrderList>> {
    let (bank, customer) = path.bank_and_customer()?;
    // A token continues only this customer's orders at this bank.
    let list = app
        .pages
        .list(&query, format!("credit_limit_orders/{bank}/{customer}"), LIST_LIMITS);
    let (_, page) = access::readable_children::<CreditLimitOrder>(&app.store, &caller, &bank, &customer, &list).await?;
    let next_page_token = list.next_token(page.next.as_ref())?;
    Ok(Json(CreditLimitOrderList {
        result: page.items.into_iter().map(|o| o.item).collect(),
        next_page_token,
    }))
}

async fn get_by_id(State(app): State<AppState>, caller: Caller, path: PathParams) -> ApiResult<Response> {
    let (bank, customer) = path.bank_and_customer()?;
    let id = path.get("RequestID", CreditLimitOrderId::parse)?;
    let (_, order) =
        access::readable_child::<CreditLimitOrder>(&app.store, &caller, &bank, &customer, &id.to_string()).await?;
    Ok((
        [etag(order.version)],
        Json(CreditLimitOrderEnvelope {
            credit_limit_order: order.item,
        }),
    )
        .into_response())
}

async fn approve(State(app): State<AppState>, path: PathParams, request: Create) -> ApiResult<Response> {
    decide(&app, &path, request, |body, granted, checker| {
        Ok(body.json::<ApproveCreditLimitOrderBody>(granted)?.validate(checker)?)
    })
    .await
}

async fn reject(State(app): State<AppState>, path: PathParams, request: Create) -> ApiResult<Response> {
    decide(&app, &path, request, |body, granted, checker| {
        Ok(body.json::<RejectCreditLimitOrderBody>(granted)?.validate(checker)?)
    })
    .await
}

/// A decision, checked as a bank checks it: the caller's right (403), the order (404), its state
/// and maker (409, 403), and only then the body (400). A retry with the decision's
/// `Idempotency-Key` gets the first answer, although the order is decided by then.
async fn decide(
    app: &AppState,
    path: &PathParams,
    Create { caller, body, idem }: Create,
    outcome: impl FnOnce(&Body, &Granted, UserId) -> ApiResult<Outcome>,
) -> ApiResult<Response> {
    let (bank, customer) = path.bank_and_customer()?;
    let granted = caller.require_approve(&bank)?;
    let id = path.get("RequestID", CreditLimitOrderId::parse)?;
    let store = &app.store;
    if let Some(answer) = idempotency::replayed(store, idem.as_ref()).await? {
        return Ok(answer);
    }
    let read = store
        .child::<CreditLimitOrder>(&bank, &customer, &id.to_string())
        .await?;
    read.item.decidable_by(&caller.user_id)?;
    let outcome = outcome(&body, &granted, caller.user_id.clone())?;
    let respond = |order: &Versioned<CreditLimitOrder>| {
        Answer::json(
            StatusCode::OK,
            &[(header::ETAG, etag_text(order.version))],
            &CreditLimitOrderEnvelope {
                credit_limit_order: order.item.clone(),
            },
        )
    };
    let (bank, customer, audit) = (&bank, &customer, &caller.audit());
    idempotency::once(store, idem.as_ref(), &respond, |record| {
        store.decide_credit_limit_order(bank, customer, read, outcome, record, audit)
    })
    .await
}

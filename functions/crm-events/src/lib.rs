//! CRM events: a bank's staff record and list their contacts with the bank's customers. Only staff
//! see them: they are the bank's records, not the customer's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use shared::domain::crm_event::{CreateCrmEventBody, CrmEvent, CrmEventList};
use shared::domain::ids::BankId;
use shared::http::body::{PathParams, QueryParams};
use shared::http::caller::{Caller, Scope};
use shared::http::idempotency::{self, Answer, Create};
use shared::http::page::LIST_LIMITS;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/v1/banks/{BankID}/crm-events", get(list).post(create))
        .with_state(state);
    shared::http::router::finish(routes)
}

async fn create(
    State(app): State<AppState>,
    path: PathParams,
    Create { caller, body, idem }: Create,
) -> ApiResult<Response> {
    let bank = path.get("BankID", BankId::parse)?;
    let granted = caller.require_write(&bank)?;
    let new = body.json::<CreateCrmEventBody>(&granted)?.validate(&bank)?;
    let respond = |e: &CrmEvent| Answer::json(StatusCode::CREATED, &[], e);
    let (store, audit) = (&app.store, caller.audit());
    idempotency::once(store, idem.as_ref(), &respond, |record| {
        store.create_crm_event(&bank, &new, record, &audit)
    })
    .await
}

async fn list(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    query: QueryParams,
) -> ApiResult<Json<CrmEventList>> {
    let bank = path.get("BankID", BankId::parse)?;
    caller.require(Scope::Read)?;
    let granted = caller.require_staff(&bank)?;
    // A token continues only this bank's list.
    let list = app.pages.list(&query, format!("crm_events/{bank}"), LIST_LIMITS);
    let request = list.request(&granted)?;
    let page = app.store.crm_events(&bank, request.limit, request.start).await?;
    let next_page_token = list.next_token(page.next.as_ref())?;
    Ok(Json(CrmEventList {
        crm_events: page.items,
        has_more: next_page_token.is_some(),
        next_page_token,
    }))
}

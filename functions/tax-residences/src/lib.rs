//! Tax residences: add one to a customer (an addition to the seed), list a customer's, delete one.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{delete, get};
use shared::domain::ids::TaxResidenceId;
use shared::domain::tax_residence::{CreateTaxResidenceBody, TaxResidence, TaxResidenceList};
use shared::http::access;
use shared::http::body::{PathParams, QueryParams};
use shared::http::caller::Caller;
use shared::http::etag::{etag_text, if_match};
use shared::http::idempotency::{self, Answer, Create};
use shared::http::page::LIST_LIMITS;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    const CUSTOMER: &str = "/v1/banks/{BankID}/customers/{CustomerID}";
    let routes = Router::new()
        .route(&format!("{CUSTOMER}/tax-residences"), get(list).post(create))
        // The seed's spelling differs from the list's: `tax_residencies`.
        .route(
            &format!("{CUSTOMER}/tax_residencies/{{TaxResidenceID}}"),
            delete(remove),
        )
        .with_state(state);
    shared::http::router::finish(routes)
}

async fn create(
    State(app): State<AppState>,
    path: PathParams,
    Create { caller, body, idem }: Create,
) -> ApiResult<Response> {
    let (bank, id) = path.bank_and_customer()?;
    let granted = caller.require_write(&bank)?;
    let residence = body.json::<CreateTaxResidenceBody>(&granted)?.validate(&bank, &id)?;
    let respond = |t: &TaxResidence| Answer::json(StatusCode::CREATED, &[(header::ETAG, etag_text(1))], t);
    // 404 unless the customer exists at this bank, in the same transaction as the write.
    let (store, bank, id, audit) = (&app.store, &bank, &id, &caller.audit());
    idempotency::once(store, idem.as_ref(), &respond, |record| async move {
        store
            .create_child(bank, id, residence, record, audit)
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
) -> ApiResult<Json<TaxResidenceList>> {
    let (bank, id) = path.bank_and_customer()?;
    // A token continues only this customer's tax residences at this bank.
    let list = app
        .pages
        .list(&query, format!("tax_residences/{bank}/{id}"), LIST_LIMITS);
    let (_, page) = access::readable_children::<TaxResidence>(&app.store, &caller, &bank, &id, &list).await?;
    let next_page_token = list.next_token(page.next.as_ref())?;
    Ok(Json(TaxResidenceList {
        result: page.items.into_iter().map(|r| r.item).collect(),
        next_page_token,
    }))
}

async fn remove(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let (bank, id) = path.bank_and_customer()?;
    let residence = path.get("TaxResidenceID", TaxResidenceId::parse)?;
    caller.require_write(&bank)?;
    // The key is under this customer and the condition names this bank: another customer's or
    // another bank's residence is a 404, like a missing one.
    app.store
        .delete_child::<TaxResidence>(
            &bank,
            &id,
            &residence.to_string(),
            &caller.audit(),
            if_match(&headers)?.as_ref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Social media handles: add one to a customer (a route without a bank: the customer's own bank
//! decides) and list a customer's handles.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use shared::domain::ids::{BankId, CustomerId};
use shared::domain::social_media_handle::{
    AddSocialMediaHandleBody, AddSocialMediaHandleResponse, SocialMediaHandle, SocialMediaHandleCheck,
    SocialMediaHandleList,
};
use shared::http::access;
use shared::http::body::{PathParams, QueryParams};
use shared::http::caller::Caller;
use shared::http::idempotency::{self, Answer, Create};
use shared::http::page::LIST_LIMITS;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/v1/customers/{CustomerID}/social_media_handles", post(add))
        .route(
            "/v1/banks/{BankID}/customers/{CustomerID}/social_media_handles",
            get(list),
        )
        .with_state(state);
    shared::http::router::finish(routes)
}

async fn add(
    State(app): State<AppState>,
    path: PathParams,
    Create { caller, body, idem }: Create,
) -> ApiResult<Response> {
    let id = path.get("CustomerID", CustomerId::parse)?;
    // Before the body: a caller who may not write the customer learns nothing from validation.
    let (customer, granted) = access::writable_customer_anywhere(&app.store, &caller, &id).await?;
    let handle = body
        .json::<AddSocialMediaHandleBody>(&granted)?
        .validate(&id, &customer.item)?;
    let respond = |h: &SocialMediaHandle| {
        let added = AddSocialMediaHandleResponse {
            success: "true".into(),
            social_media_handle_id: h.social_media_handle_id,
        };
        Answer::json(StatusCode::CREATED, &[], &added)
    };
    let (store, bank) = (&app.store, &customer.item.bank_id);
    let (id, audit) = (&id, &caller.audit());
    idempotency::once(store, idem.as_ref(), &respond, |record| async move {
        store
            .create_child(bank, id, handle, record, audit)
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
) -> ApiResult<Json<SocialMediaHandleList>> {
    let bank = path.get("BankID", BankId::parse)?;
    let id = path.get("CustomerID", CustomerId::parse)?;
    // A token continues only this customer's handles at this bank.
    let list = app
        .pages
        .list(&query, format!("social_media_handles/{bank}/{id}"), LIST_LIMITS);
    let (customer, page) =
        access::readable_children::<SocialMediaHandle>(&app.store, &caller, &bank, &id, &list).await?;
    let next_page_token = list.next_token(page.next.as_ref())?;
    // The customer number is the customer's current one, not a copy taken when the handle was added.
    let checks = page
        .items
        .into_iter()
        .map(|h| SocialMediaHandleCheck::new(h.item, &customer.item))
        .collect();
    Ok(Json(SocialMediaHandleList {
        checks,
        next_page_token,
    }))
}

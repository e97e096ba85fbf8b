//! User customer links: a bank's staff grant a user read access to one of its customers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use shared::body::{Body, PathParams};
use shared::caller::Caller;
use shared::ids::BankId;
use shared::link::{CreateLinkBody, UserCustomerLink};
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/v1/banks/{BankID}/user_customer_links", post(create))
        .with_state(state);
    shared::http::finish(routes)
}

async fn create(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    body: Body,
) -> ApiResult<(StatusCode, Json<UserCustomerLink>)> {
    let bank = path.get("BankID", BankId::parse)?;
    caller.require_write(&bank)?;
    let link = body.json::<CreateLinkBody>()?.validate(&bank)?;
    app.store.create_link(&bank, &link).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

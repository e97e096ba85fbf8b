//! User customer links: a bank's staff grant a user read access to one of its customers.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use shared::domain::ids::BankId;
use shared::domain::link::{CreateLinkBody, UserCustomerLink};
use shared::http::body::PathParams;
use shared::http::idempotency::{self, Answer, Create};
use shared::metrics;
use shared::{ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/v1/banks/{BankID}/user_customer_links", post(create))
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
    let link = body.json::<CreateLinkBody>(&granted)?.validate(&bank)?;
    let respond = |l: &UserCustomerLink| Answer::json(StatusCode::CREATED, &[], l);
    let (store, audit) = (&app.store, &caller.audit());
    idempotency::once(store, idem.as_ref(), &respond, |record| async move {
        store.create_link(&bank, &link, record, audit).await?;
        metrics::count("LinksCreated", &[]);
        Ok(link)
    })
    .await
}

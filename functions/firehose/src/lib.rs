//! The firehose: every customer of a bank, sorted by creation time, for the bank's own systems.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use shared::domain::customer::CustomerList;
use shared::domain::ids::BankId;
use shared::domain::timestamp::Timestamp;
use shared::http::body::{PathParams, QueryParams};
use shared::http::caller::{Caller, Scope};
use shared::http::page::{Limits, PageRequest};
use shared::store::customers::BankCustomersQuery;
use shared::{ApiError, ApiResult, AppState};

/// The firehose pages larger than other lists.
pub const FIREHOSE_LIMITS: Limits = Limits { default: 50, max: 500 };
pub const MAX_OFFSET: i64 = 10_000;

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/v1/banks/{BankID}/firehose/customers", get(firehose))
        .with_state(state);
    shared::http::router::finish(routes)
}

async fn firehose(
    State(app): State<AppState>,
    caller: Caller,
    path: PathParams,
    query: QueryParams,
) -> ApiResult<Json<CustomerList>> {
    let bank = path.get("BankID", BankId::parse)?;
    caller.require(Scope::Firehose)?;
    let granted = caller.require_staff(&bank)?;

    let descending = match query.get("sort_direction").map(str::to_ascii_uppercase).as_deref() {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(_) => return Err(ApiError::field("sort_direction", "must be ASC or DESC")),
    };
    let (from, to) = query.window()?;
    let offset = query.int("offset", 0..=MAX_OFFSET)?.unwrap_or(0) as u32;
    // The token is bound to the bank and to the ordering and window it was issued for.
    let scope = format!(
        "firehose/{bank}/{}/{}/{}",
        if descending { "DESC" } else { "ASC" },
        from.map(Timestamp::sortable).unwrap_or_default(),
        to.map(Timestamp::sortable).unwrap_or_default()
    );
    let list = app.pages.list(&query, scope, FIREHOSE_LIMITS);
    let PageRequest { limit, start } = list.request(&granted)?;
    if start.is_some() && offset > 0 {
        return Err(ApiError::field("offset", "cannot be combined with page_token"));
    }
    let q = BankCustomersQuery {
        descending,
        from,
        to,
        limit,
        offset,
        start,
    };
    let page = app.store.bank_customers(&bank, &q).await?;
    let next_page_token = list.next_token(page.next.as_ref())?;
    Ok(Json(CustomerList {
        customers: page.items,
        next_page_token,
    }))
}

//! Each group seeds the items its events name, through the real store.

mod addresses;
mod credit_limit_orders;
mod crm_events;
mod customers;
mod social_media;
mod tax_residences;

pub async fn seed_groups(state: &shared::AppState) {
    customers::seed(state).await;
    addresses::seed(state).await;
    social_media::seed(state).await;
    tax_residences::seed(state).await;
    credit_limit_orders::seed(state).await;
    crm_events::seed(state).await;
}

/// The audit of the fixtures' writes.
pub fn audit() -> shared::domain::audit::Audit {
    shared::domain::audit::Audit::tool("events-seed", "fixture")
}

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

/// A fixture customer with a fixed id, through the real store.
pub async fn customer(state: &shared::AppState, bank: &str, id: &str, number: &str, name: &str) {
    let body = serde_json::json!({
        "bank_id": bank,
        "customer_number": number,
        "legal_name": name,
        "email": format!("{}@example.com", number.to_ascii_lowercase()),
        // Granted before (a fixture writes through the store): the sample events lower it.
        "credit_limit": {"cur": "EUR", "num": "10000.00"},
    });
    let mut new =
        shared::http::body::parse_json::<shared::domain::customer::CreateCustomerBody>(body.to_string().as_bytes())
            .and_then(|b| b.validate().map_err(shared::ApiError::from))
            .expect("a valid fixture customer");
    new.customer.id = shared::domain::ids::CustomerId::parse(id).expect("fixture id");
    state
        .store
        .create_customer(new, None, &audit())
        .await
        .expect("seed a customer");
}

/// The audit of the fixtures' writes.
pub fn audit() -> shared::domain::audit::Audit {
    shared::domain::audit::Audit::tool("events-seed", "fixture")
}

//! Fixture items that this group's events refer to by id: one credit limit order of customer
//! ...001 at bank-1, read by id (also through customer ...002, where it is a 404).

use shared::AppState;
use shared::domain::credit_limit_order::CreateCreditLimitOrderBody;
use shared::domain::ids::{BankId, CreditLimitOrderId, CustomerId};

pub const ORDER: &str = "0190a0b0-0000-7000-8000-0000000000c1";
const BANK: &str = "bank-1";
const CUSTOMER: &str = "0190a0b0-0000-7000-8000-000000000001";

pub async fn seed(state: &AppState) {
    let bank = BankId::parse(BANK).expect("fixture bank");
    let customer = CustomerId::parse(CUSTOMER).expect("fixture customer");
    let body = serde_json::json!({
        "requested_current_rate_amount1": "5000.00",
        "requested_current_rate_amount2": "7500.00",
        "requested_current_valid_end_date": "2026-12-31",
        "current_credit_documentation": "salary statements 2025",
    });
    let mut order = shared::http::body::parse_json::<CreateCreditLimitOrderBody>(body.to_string().as_bytes())
        .and_then(|b| b.validate(&bank, &customer).map_err(shared::ApiError::from))
        .expect("a valid fixture order");
    order.credit_limit_order_id = CreditLimitOrderId::parse(ORDER).expect("fixture id");
    state
        .store
        .create_child(&bank, &customer, order, None, &super::audit())
        .await
        .expect("seed a credit limit order");
}

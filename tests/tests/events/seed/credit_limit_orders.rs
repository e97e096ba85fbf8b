//! Fixture items that this group's events refer to by id, all of customer ...001 at bank-1: the
//! order read by id (also through customer ...002, where it is a 404) and approved; one to reject;
//! one that the events' staff member requested (four eyes: they may not decide it); one already
//! rejected.

use shared::AppState;
use shared::domain::credit_limit_order::{CreateCreditLimitOrderBody, RejectCreditLimitOrderBody};
use shared::domain::ids::{BankId, CreditLimitOrderId, CustomerId, UserId};

pub const ORDER: &str = "0190a0b0-0000-7000-8000-0000000000c1";
const TO_REJECT: &str = "0190a0b0-0000-7000-8000-0000000000c2";
const OWN: &str = "0190a0b0-0000-7000-8000-0000000000c3";
const DECIDED: &str = "0190a0b0-0000-7000-8000-0000000000c4";
const BANK: &str = "bank-1";
const CUSTOMER: &str = "0190a0b0-0000-7000-8000-000000000001";
/// The staff member of the events' tokens.
const EVENTS_STAFF: &str = "staff-bank-1";

pub async fn seed(state: &AppState) {
    let bank = BankId::parse(BANK).expect("fixture bank");
    let customer = CustomerId::parse(CUSTOMER).expect("fixture customer");
    let body = serde_json::json!({
        "requested_current_rate_amount1": "5000.00",
        "requested_current_rate_amount2": "7500.00",
        "requested_current_valid_end_date": "2026-12-31",
        "current_credit_documentation": "salary statements 2025",
    });
    let maker = super::audit().changed_by;
    for (id, maker) in [
        (ORDER, maker.clone()),
        (TO_REJECT, maker.clone()),
        (OWN, UserId::parse(EVENTS_STAFF).expect("fixture user")),
        (DECIDED, maker),
    ] {
        let mut order = shared::http::body::parse_json::<CreateCreditLimitOrderBody>(body.to_string().as_bytes())
            .and_then(|b| b.validate(&bank, &customer, maker).map_err(shared::ApiError::from))
            .expect("a valid fixture order");
        order.credit_limit_order_id = CreditLimitOrderId::parse(id).expect("fixture id");
        state
            .store
            .create_child(&bank, &customer, order, None, &super::audit())
            .await
            .expect("seed a credit limit order");
    }
    let checker = UserId::parse("events-checker").expect("fixture user");
    let rejection = RejectCreditLimitOrderBody { reason: None }
        .validate(checker.clone())
        .expect("a valid rejection");
    let read = state
        .store
        .child(&bank, &customer, DECIDED)
        .await
        .expect("the fixture order");
    state
        .store
        .decide_credit_limit_order(
            &bank,
            &customer,
            read,
            rejection,
            None,
            &shared::domain::audit::Audit::new(checker, "fixture"),
        )
        .await
        .expect("seed a decision");
}

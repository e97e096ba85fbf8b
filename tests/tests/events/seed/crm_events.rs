//! Fixture items that this group's events refer to: one CRM event of customer ...002 at bank-1,
//! so the bank's list is never empty.

use shared::AppState;
use shared::domain::crm_event::CreateCrmEventBody;
use shared::domain::ids::{BankId, CrmEventId};

pub const EVENT: &str = "0190a0b0-0000-7000-8000-0000000000e1";
const BANK: &str = "bank-1";

pub async fn seed(state: &AppState) {
    let bank = BankId::parse(BANK).expect("fixture bank");
    let body = serde_json::json!({
        "customer_id": "0190a0b0-0000-7000-8000-000000000002",
        "category": "meeting",
        "detail": "annual review",
        "channel": "branch",
        "scheduled_date": "2025-11-20T10:00:00Z",
        "actual_date": "2025-11-20T10:05:00Z",
        "result": "completed",
    });
    let mut new = shared::http::body::parse_json::<CreateCrmEventBody>(body.to_string().as_bytes())
        .and_then(|b| b.validate(&bank).map_err(shared::ApiError::from))
        .expect("a valid fixture event");
    new.id = CrmEventId::parse(EVENT).expect("fixture id");
    state
        .store
        .create_crm_event(&bank, &new, None, &super::audit())
        .await
        .expect("seed a CRM event");
}

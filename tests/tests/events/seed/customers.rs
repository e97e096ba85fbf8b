//! Fixture customers of bank-1 that this group's lifecycle events change, apart from the ones
//! every group reads: ...004 to erase, ...005 under a legal hold (its erasure is refused), ...006
//! under a legal hold that an event lifts.

use shared::AppState;
use shared::domain::ids::{BankId, CustomerId};
use shared::domain::lifecycle::PlaceLegalHoldBody;

const BANK: &str = "bank-1";
const TO_ERASE: &str = "0190a0b0-0000-7000-8000-000000000004";
const HELD: &str = "0190a0b0-0000-7000-8000-000000000005";
const HOLD_TO_LIFT: &str = "0190a0b0-0000-7000-8000-000000000006";

pub async fn seed(state: &AppState) {
    let bank = BankId::parse(BANK).expect("fixture bank");
    for (id, number) in [(TO_ERASE, "C-0004"), (HELD, "C-0005"), (HOLD_TO_LIFT, "C-0006")] {
        super::customer(state, BANK, id, number, "Lifecycle Fixture").await;
    }
    let hold = serde_json::json!({"reason": "AML review 2026-117", "until": "2999-01-01T00:00:00Z"});
    for id in [HELD, HOLD_TO_LIFT] {
        let hold = shared::http::body::parse_json::<PlaceLegalHoldBody>(hold.to_string().as_bytes())
            .and_then(|b| b.validate(super::audit().changed_by).map_err(shared::ApiError::from))
            .expect("a valid fixture hold");
        state
            .store
            .place_legal_hold(&bank, &CustomerId::parse(id).expect("fixture id"), &hold)
            .await
            .expect("seed a legal hold");
    }
}

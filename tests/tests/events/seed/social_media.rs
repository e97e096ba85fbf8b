//! Fixture items that this group's events refer to by id: two handles of bank-1's customer ...001,
//! so its list has more than one page at `limit=1` whatever the other events add.

use shared::AppState;
use shared::domain::ids::{BankId, CustomerId, SocialMediaHandleId};
use shared::domain::social_media_handle::SocialMediaHandle;
use shared::domain::timestamp::Timestamp;

const BANK: &str = "bank-1";
const CUSTOMER: &str = "0190a0b0-0000-7000-8000-000000000001";
/// id, type, handle.
const HANDLES: [(&str, &str, &str); 2] = [
    ("0190a0b0-0000-7000-8000-000000000b01", "twitter", "@ada"),
    ("0190a0b0-0000-7000-8000-000000000b02", "github", "ada-lovelace"),
];

pub async fn seed(state: &AppState) {
    let bank = BankId::parse(BANK).expect("fixture bank");
    let customer = CustomerId::parse(CUSTOMER).expect("fixture customer");
    for (id, kind, handle) in HANDLES {
        let handle = SocialMediaHandle {
            social_media_handle_id: SocialMediaHandleId::parse(id).expect("fixture id"),
            kind: kind.into(),
            handle: handle.into(),
            date_added: Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            },
            date_activated: None,
        };
        state
            .store
            .create_child(&bank, &customer, handle, None, &super::audit())
            .await
            .expect("seed a social media handle");
    }
}

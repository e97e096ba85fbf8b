//! Fixture items that this group's events refer to by id.
//!
//! Customer ...001 (bank-1) has three addresses: ...0a1, which the update events change (never
//! delete), ...0a2, which only delete-address.json deletes, and ...0a4, which nothing touches, so
//! that a page of one always has a next page. Customer ...003 (bank-2) has ...0a3, which the
//! cross-bank events aim at and nothing changes.

use shared::AppState;
use shared::domain::customer_address::CreateAddressBody;
use shared::domain::ids::{BankId, CustomerAddressId, CustomerId};
use shared::http::body::parse_json;

const ADDRESSES: [(&str, &str, &str, &str); 4] = [
    (
        "bank-1",
        "0190a0b0-0000-7000-8000-000000000001",
        "0190a0b0-0000-7000-8000-0000000000a1",
        r#"{"line_1": "12 St James's Square", "city": "London", "postcode": "SW1Y 4JH", "country_code": "GB", "tags": ["home"], "status": "current"}"#,
    ),
    (
        "bank-1",
        "0190a0b0-0000-7000-8000-000000000001",
        "0190a0b0-0000-7000-8000-0000000000a2",
        r#"{"line_1": "1 Old Road", "city": "Bath", "country_code": "GB", "tags": ["previous"], "status": "moved"}"#,
    ),
    (
        "bank-1",
        "0190a0b0-0000-7000-8000-000000000001",
        "0190a0b0-0000-7000-8000-0000000000a4",
        r#"{"line_1": "Via Roma 1", "city": "Milano", "country_code": "IT", "tags": ["work"]}"#,
    ),
    (
        "bank-2",
        "0190a0b0-0000-7000-8000-000000000003",
        "0190a0b0-0000-7000-8000-0000000000a3",
        r#"{"line_1": "Bletchley Park", "city": "Milton Keynes", "country_code": "GB"}"#,
    ),
];

pub async fn seed(state: &AppState) {
    for (bank, customer, id, body) in ADDRESSES {
        let customer = CustomerId::parse(customer).expect("fixture customer");
        let mut address = parse_json::<CreateAddressBody>(body.as_bytes())
            .and_then(|b| b.validate(customer).map_err(shared::ApiError::from))
            .expect("a valid fixture address");
        address.customer_address_id = CustomerAddressId::parse(id).expect("fixture address id");
        state
            .store
            .create_child(
                &BankId::parse(bank).expect("fixture bank"),
                &customer,
                address,
                None,
                &super::audit(),
            )
            .await
            .expect("seed an address");
    }
}

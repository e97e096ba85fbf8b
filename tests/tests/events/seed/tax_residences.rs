//! Fixture items that this group's events refer to by id, both of bank-1's customer ...001:
//! ...c01 stays (listed, and asked for under another customer), ...c02 is what the delete event
//! deletes, which no other event names.

use shared::AppState;
use shared::domain::ids::{BankId, CustomerId, TaxResidenceId};
use shared::domain::tax_residence::TaxResidence;

const BANK: &str = "bank-1";
const CUSTOMER: &str = "0190a0b0-0000-7000-8000-000000000001";
/// id, domain, tax number.
const RESIDENCES: [(&str, &str, &str); 2] = [
    ("0190a0b0-0000-7000-8000-000000000c01", "GB", "AB 12 34 56 C"),
    ("0190a0b0-0000-7000-8000-000000000c02", "DE", "12/345/67890"),
];

pub async fn seed(state: &AppState) {
    let bank = BankId::parse(BANK).expect("fixture bank");
    let customer = CustomerId::parse(CUSTOMER).expect("fixture customer");
    for (id, domain, tax_number) in RESIDENCES {
        let residence = TaxResidence {
            domain: domain.into(),
            tax_number: tax_number.into(),
            tax_residence_id: TaxResidenceId::parse(id).expect("fixture id"),
        };
        state
            .store
            .create_child(&bank, &customer, residence, None, &super::audit())
            .await
            .expect("seed a tax residence");
    }
}

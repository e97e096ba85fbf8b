//! User customer links: which users may read which customers without being staff.

use crate::domain::ids::{BankId, CustomerId, UserCustomerLinkId, UserId};
use crate::domain::timestamp::Timestamp;
use crate::domain::validate::Check;
use crate::domain::validate::Invalid;
use serde::{Deserialize, Serialize};

/// The seed's CreateUserCustomerLinkResponse, which is also what is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCustomerLink {
    pub user_customer_link_id: UserCustomerLinkId,
    pub customer_id: CustomerId,
    pub user_id: UserId,
    pub date_inserted: Timestamp,
    pub is_active: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateLinkBody {
    pub bank_id: Option<String>,
    pub user_id: Option<String>,
    pub customer_id: Option<String>,
}

impl CreateLinkBody {
    pub fn validate(self, bank: &BankId) -> Result<UserCustomerLink, Invalid> {
        let mut check = Check::default();
        check.same_as_path("bank_id", self.bank_id.as_deref(), bank, BankId::parse);
        let user_id = check.required("user_id", self.user_id.as_deref(), UserId::parse);
        let customer_id = check.required("customer_id", self.customer_id.as_deref(), CustomerId::parse);
        check.finish()?;
        let (Some(user_id), Some(customer_id)) = (user_id, customer_id) else {
            return Err(Invalid::field("body", "validated fields missing"));
        };
        Ok(UserCustomerLink {
            user_customer_link_id: UserCustomerLinkId::new(),
            customer_id,
            user_id,
            date_inserted: Timestamp::now(),
            is_active: true,
        })
    }
}

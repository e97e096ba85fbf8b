//! A customer's data export: everything the API holds under the customer, in a documented and
//! versioned document (`docs/export.md`), in pages so that a customer with many records stays
//! within API Gateway's and Lambda's response limits.

use crate::domain::change::HistoryEntry;
use crate::domain::credit_limit_order::CreditLimitOrder;
use crate::domain::crm_event::CrmEvent;
use crate::domain::customer::Customer;
use crate::domain::customer_address::CustomerAddress;
use crate::domain::link::UserCustomerLink;
use crate::domain::social_media_handle::SocialMediaHandle;
use crate::domain::tax_residence::TaxResidence;
use crate::domain::timestamp::Timestamp;
use serde::Serialize;

/// The format's version: a change of a field's meaning or a removal gives a new one; added
/// fields and collections do not.
pub const EXPORT_VERSION: u32 = 1;

/// A customer's records, links and history, one page of them.
#[derive(Debug, Default, Serialize)]
pub struct ExportCollections {
    pub customer_addresses: Vec<CustomerAddress>,
    pub social_media_handles: Vec<SocialMediaHandle>,
    pub tax_residences: Vec<TaxResidence>,
    pub credit_limit_orders: Vec<CreditLimitOrder>,
    pub user_customer_links: Vec<UserCustomerLink>,
    pub crm_events: Vec<CrmEvent>,
    /// Newest last (the other collections: oldest first).
    pub history: Vec<HistoryEntry>,
}

/// One page of the export: the customer on every page, and the collections' items of this page.
#[derive(Debug, Serialize)]
pub struct CustomerExport {
    pub export_version: u32,
    pub exported_at: Timestamp,
    pub customer: Customer,
    #[serde(flatten)]
    pub collections: ExportCollections,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

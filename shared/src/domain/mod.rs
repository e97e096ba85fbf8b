//! The domain: the seed's objects (customer, its records, links, CRM events), the requests that
//! create and change them, and their validation. Nothing here knows of DynamoDB or HTTP.

pub mod audit;
pub mod change;
pub mod credit_limit_order;
pub mod crm_event;
pub mod customer;
pub mod customer_address;
pub mod export;
pub mod ids;
pub mod lifecycle;
pub mod link;
pub mod patch;
pub mod social_media_handle;
pub mod tax_residence;
pub mod timestamp;
pub mod validate;

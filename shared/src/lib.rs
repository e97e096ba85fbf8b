//! The domain, validation, errors, caller identity, pagination and DynamoDB store shared by every
//! function of the Customer API.

pub mod access;
pub mod body;
pub mod caller;
pub mod child;
pub mod config;
pub mod credit_limit_order;
pub mod crm_event;
pub mod customer;
pub mod customer_address;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod keys;
pub mod link;
pub mod metrics;
pub mod page;
pub mod social_media_handle;
pub mod store;
pub mod tax_residence;
pub mod timestamp;
pub mod validate;

pub use config::AppState;
pub use error::{ApiError, ApiResult};

//! The domain, validation, errors, caller identity, pagination and DynamoDB store shared by every
//! function of the Customer API.

pub mod access;
pub mod body;
pub mod caller;
pub mod config;
pub mod customer;
pub mod error;
pub mod http;
pub mod ids;
pub mod keys;
pub mod link;
pub mod page;
pub mod store;
pub mod timestamp;
pub mod validate;

pub use config::AppState;
pub use error::{ApiError, ApiResult};

//! What every function of the Customer API shares, in three layers (each uses only the ones above it):
//!
//! - `domain`: the seed's objects, their requests and validation; no AWS, no HTTP;
//! - `store`: DynamoDB (keys, items, conditions, transactions), with its own error type;
//! - `http`: the edge (extractors, the caller and its permissions, pagination tokens,
//!   idempotent creates, problem+json, the access log), mapping both layers' errors to problems.
//!
//! `config` wires them together for a function's init; `metrics` is the one way to emit a metric.

pub mod config;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod store;

pub use config::AppState;
pub use http::error::{ApiError, ApiResult};

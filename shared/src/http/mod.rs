//! The HTTP edge: what turns API Gateway's requests into domain input and store calls, and their
//! outcomes into answers. Both lower layers' errors become problems here (`error`).

pub mod access;
pub mod body;
pub mod caller;
pub mod error;
pub mod etag;
pub mod idempotency;
pub mod page;
pub mod router;

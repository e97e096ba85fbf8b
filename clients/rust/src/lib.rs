//! Rust client of the Customer API, generated at build time by progenitor from the contract
//! (`docs/openapi.yaml`, through its 3.0 rendition: `build/openapi30.rs`), so it always matches
//! the API it is built with. Every operation is a method of [`Client`] named after its
//! `operationId` in snake case, with a builder for its parameters and body; answers are
//! [`ResponseValue`]s (status, headers such as `ETag`, the typed body), and error answers are
//! [`Error::ErrorResponse`] holding the RFC 9457 [`types::Problem`].
//!
//! ```no_run
//! use customer_api_client::{Client, types};
//!
//! # async fn example(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let mut auth = reqwest::header::HeaderMap::new();
//! auth.insert("authorization", format!("Bearer {token}").parse()?);
//! let http = reqwest::Client::builder().default_headers(auth).build()?;
//! let api = Client::new_with_client("http://127.0.0.1:3000", http);
//! let new = types::CreateCustomerRequest::builder().bank_id("demo-bank").legal_name("Ada Lovelace");
//! let created = api.create_customer().body(new).send().await?.into_inner();
//! let customer = api.get_customer_by_customer_id().bank_id("demo-bank").customer_id(created.customer_id).send().await?;
//! println!("{} at version {:?}", customer.legal_name, customer.headers().get("etag"));
//! # Ok(())
//! # }
//! ```

// Generated code: the workspace's lints are for code we write.
#[allow(clippy::all, clippy::pedantic, unused, missing_docs)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

pub use generated::*;

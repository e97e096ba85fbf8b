//! Integration tests of the authorizer: real keys, real signed JWTs, the real verifier.

mod common;
mod config;
mod jwks_url;
mod local_keys;
mod tokens;

/// The local API's dev-key module, compiled into this test crate so that its own unit tests run
/// here and its tokens are checked against the real verifier (see `local_keys`).
#[allow(dead_code)]
#[path = "../../../../local/src/keys.rs"]
mod keys;

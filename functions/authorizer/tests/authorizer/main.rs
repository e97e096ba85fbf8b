//! Integration tests of the authorizer: real keys, real signed JWTs, the real verifier.

mod common;
mod config;
mod jwks_url;
mod tokens;

//! The whole API over HTTP through local-api, with real signed tokens, against DynamoDB Local.

mod auth;
mod common;
mod customers;
mod firehose;
mod links;

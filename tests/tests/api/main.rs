//! The whole API over HTTP through local-api, with real signed tokens, against DynamoDB Local.

mod addresses;
mod audit;
mod auth;
mod common;
mod connect;
mod credit_limit_orders;
mod crm_events;
mod customers;
mod decisions;
mod edges;
mod erasure;
mod export;
mod firehose;
mod history;
mod hostile;
mod iam;
mod idempotency;
mod lambda_service;
mod links;
mod page_tokens;
mod races;
mod scale;
mod social_media;
mod tax_residences;

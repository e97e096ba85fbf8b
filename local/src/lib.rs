//! `local-api`: the Customer API on one machine, without Docker or AWS. It plays API Gateway from
//! `template.yaml` (routes, TOKEN authorizer, gateway responses), creates the table from the
//! template's definition in DynamoDB Local, and runs the real authorizer and routers in-process.

pub mod docs;
pub mod gateway;
pub mod keys;
pub mod seed;
pub mod table;
pub mod template;

use authorizer::{Authorizer, Config};
use shared::AppState;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error(transparent)]
    Table(#[from] table::TableError),
    #[error(transparent)]
    Gateway(#[from] gateway::GatewayError),
    #[error(transparent)]
    Keys(#[from] keys::DevKeysError),
    #[error("authorizer: {0}")]
    Authorizer(String),
}

/// The project's `template.yaml` (`LOCAL_TEMPLATE` overrides).
pub fn template_path() -> PathBuf {
    std::env::var_os("LOCAL_TEMPLATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
}

/// Builds the whole local API for `state`'s table, creating the table if it is absent. Tokens are
/// checked against the dev keys' JWKS, with the local issuer and audience.
pub async fn build(
    template: template::Template,
    dev_keys: &keys::DevKeys,
    state: &AppState,
) -> Result<axum::Router, LocalError> {
    table::ensure_table(state.store.client(), state.store.table(), &template.table).await?;
    let config = Config::with_inline_jwks(keys::LOCAL_ISSUER, keys::LOCAL_AUDIENCE, dev_keys.jwks_json());
    let authorizer = Authorizer::from_config(config)
        .await
        .map_err(|e| LocalError::Authorizer(e.to_string()))?;
    Ok(gateway::Gateway::new(template, authorizer, state)?.into_router())
}

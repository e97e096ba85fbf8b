//! Configuration read once at init: a function with missing or bad configuration fails before it
//! serves, with a message naming the variable.

use crate::page::PageTokens;
use crate::store::Store;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use std::time::Duration;

/// What every handler needs, built once per Lambda instance.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub pages: PageTokens,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {0} is invalid: {1}")]
    Invalid(&'static str, String),
}

/// Bounded time for every DynamoDB call: a dead endpoint becomes a 503 quickly, never a hang.
pub fn sdk_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build()
}

/// The standard retry mode: exponential backoff with jitter, three attempts.
pub fn sdk_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

fn var(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(name)),
    }
}

impl AppState {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        page_secret: &[u8],
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            store: Store::new(client, table),
            pages: PageTokens::new(page_secret).map_err(|e| ConfigError::Invalid("PAGE_TOKEN_SECRET", e))?,
        })
    }

    /// From `TABLE_NAME` and `PAGE_TOKEN_SECRET`, with the SDK's own environment.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let table = var("TABLE_NAME")?;
        let secret = var("PAGE_TOKEN_SECRET")?;
        Self::new(dynamodb_client().await?, table, secret.as_bytes())
    }
}

/// The DynamoDB client from the SDK's environment (region, credentials), with bounded timeouts and
/// standard retries. `DYNAMODB_ENDPOINT`, when set and not empty, points it at DynamoDB Local; the
/// template declares it empty so that `sam local invoke --env-vars` can override it.
pub async fn dynamodb_client() -> Result<aws_sdk_dynamodb::Client, ConfigError> {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").ok();
    dynamodb_client_for(endpoint.as_deref()).await
}

/// The same client for an explicit endpoint (`None` or empty: the real DynamoDB).
pub async fn dynamodb_client_for(endpoint: Option<&str>) -> Result<aws_sdk_dynamodb::Client, ConfigError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(sdk_timeouts())
        .retry_config(sdk_retries());
    if let Some(endpoint) = endpoint.map(str::trim).filter(|e| !e.is_empty()) {
        loader = loader.endpoint_url(endpoint);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(ConfigError::Missing("AWS_REGION"));
    }
    Ok(aws_sdk_dynamodb::Client::new(&config))
}

/// JSON logs for CloudWatch: one object per line, level from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline_client() -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    #[test]
    fn a_short_page_token_secret_fails_at_init_naming_the_variable() {
        let err = AppState::new(offline_client(), "table", b"too short")
            .err()
            .expect("refused");
        assert!(err.to_string().contains("PAGE_TOKEN_SECRET"), "{err}");
        assert!(AppState::new(offline_client(), "table", &[7; 32]).is_ok());
    }

    #[test]
    fn missing_variables_are_named() {
        assert_eq!(
            ConfigError::Missing("TABLE_NAME").to_string(),
            "environment variable TABLE_NAME is required"
        );
        // A name no environment sets.
        assert!(matches!(
            var("CUSTOMER_API_TEST_UNSET_VARIABLE"),
            Err(ConfigError::Missing(_))
        ));
    }
}

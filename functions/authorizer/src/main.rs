//! Lambda entry point of the REST API TOKEN authorizer.

use authorizer::{ApiGatewayCustomAuthorizerRequest, Authorizer};
use lambda_runtime::{LambdaEvent, service_fn};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let authorizer = match Authorizer::from_env().await {
        Ok(authorizer) => authorizer,
        Err(error) => {
            tracing::error!(%error, "authorizer init failed");
            return Err(error.into());
        }
    };
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequest>| authorizer.authorize(event.payload),
    ))
    .await
}

/// JSON logs without ANSI colours; level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else info.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .ok()
            .filter(|level| !level.trim().is_empty())
            .unwrap_or_else(|| "info".to_owned());
        EnvFilter::try_new(level.trim().to_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"))
    });
    tracing_subscriber::fmt()
        .json()
        .with_ansi(false)
        .with_env_filter(filter)
        .with_target(false)
        .with_current_span(false)
        .init();
}

//! Lambda entry point of the REST API TOKEN authorizer.

use authorizer::{ApiGatewayCustomAuthorizerRequest, Authorizer};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::config::init_tracing();
    let authorizer = match Authorizer::from_env().await {
        Ok(authorizer) => authorizer,
        Err(error) => return Err(shared::config::init_failed(error).into()),
    };
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequest>| authorizer.authorize(event.payload),
    ))
    .await
}

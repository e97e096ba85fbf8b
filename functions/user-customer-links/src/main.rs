#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::config::init_tracing();
    let state = shared::AppState::from_env()
        .await
        .map_err(shared::config::init_failed)?;
    lambda_http::run(user_customer_links::router(state)).await
}

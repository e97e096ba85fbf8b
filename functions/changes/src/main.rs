use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::config::init_tracing();
    let changes = changes::Changes::from_env().map_err(shared::config::init_failed)?;
    let changes = &changes;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(changes.handle(event.payload).await)
    }))
    .await
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::logging::init_lambda();
    let publisher = publish_post_events::Publisher::from_env(&shared::aws::load_sdk_config().await?)?;
    let publisher = &publisher;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<publish_post_events::Event>| {
            publish_post_events::handle(publisher, event.payload)
        },
    ))
    .await
}

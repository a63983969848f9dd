#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::logging::init_lambda();
    let secrets = aws_sdk_secretsmanager::Client::new(&shared::aws::load_sdk_config().await?);
    let responder = signing_key::Responder::new()?;
    let (secrets, responder) = (&secrets, &responder);
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<signing_key::Request>| {
        signing_key::handle(secrets, responder, event.payload)
    }))
    .await
}

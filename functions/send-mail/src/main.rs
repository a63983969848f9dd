use shared::mail::Links;
use shared::store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::logging::init_lambda();
    let variable = |name: &'static str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let required = |name: &'static str| variable(name).ok_or(format!("{name} is not set"));
    let sdk_config = shared::aws::load_sdk_config().await?;
    let sender = send_mail::Sender {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk_config), required("TABLE_NAME")?),
        mailer: send_mail::SesMailer::new(
            aws_sdk_sesv2::Client::new(&sdk_config),
            required("MAIL_FROM")?,
            variable("SES_CONFIGURATION_SET"),
        ),
        links: Links::new(&required("APP_URL")?)?,
    };
    let sender = &sender;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<send_mail::Event>| {
        sender.handle(event.payload)
    }))
    .await
}

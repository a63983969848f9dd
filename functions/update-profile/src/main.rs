#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(update_profile::handle).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(forgot_password::handle).await
}

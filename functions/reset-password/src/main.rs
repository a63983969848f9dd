#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(reset_password::handle).await
}

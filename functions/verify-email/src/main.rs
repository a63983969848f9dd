#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(verify_email::handle).await
}

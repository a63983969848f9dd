#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(resend_verification::handle).await
}

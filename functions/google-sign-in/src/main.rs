#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run_issuing(google_sign_in::handle).await
}

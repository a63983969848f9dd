#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(refresh_token::handle).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(logout_all::handle).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(change_password::handle).await
}

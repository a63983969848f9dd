#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(revoke_session::handle).await
}

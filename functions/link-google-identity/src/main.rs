#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(link_google_identity::handle).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(list_user_posts::handle).await
}

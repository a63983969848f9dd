use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = shared::app::init_lambda().await?;
    lambda_http::run(service_fn(|req| refresh_token::handle(&app, req))).await
}

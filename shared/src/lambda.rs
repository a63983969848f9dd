//! The one entry point of every function's `main`: init once per sandbox, then answer
//! each event with the handler, its errors rendered by [`respond`].
use std::convert::Infallible;
use std::future::Future;

use lambda_http::{Body, Request, Response, service_fn};

use crate::app::App;
use crate::config::Config;
use crate::error::ApiError;
use crate::http::respond;
use crate::store::DynamoStore;

/// Runs `handler` as a Lambda function on DynamoDB. A configuration error is logged and
/// ends the process with a non-zero status, so the sandbox never serves half-configured.
pub async fn run<H, F>(handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static App<DynamoStore>, Request) -> F,
    F: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    // The app lives as long as the sandbox; leaking it lets every invocation borrow it.
    let app: &'static App<DynamoStore> = Box::leak(Box::new(init().await?));
    lambda_http::run(service_fn(move |req| {
        let answer = handler(app, req);
        async move { Ok::<_, Infallible>(respond(answer.await)) }
    }))
    .await
}

/// Logging, configuration and the DynamoDB client.
async fn init() -> Result<App<DynamoStore>, lambda_http::Error> {
    crate::allocator::return_large_blocks_to_the_os();
    crate::logging::init_lambda();
    let config = Config::from_env().inspect_err(|e| tracing::error!("refusing to start: {e}"))?;
    let sdk_config = crate::aws::load_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config);
    Ok(App::new(DynamoStore::new(client, config.table_name), config.token))
}

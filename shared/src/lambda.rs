//! The one entry point of every function's `main`: init once per sandbox, then answer
//! each event with the handler, its errors rendered by [`respond`].
use std::convert::Infallible;
use std::future::Future;

use lambda_http::{Body, Request, Response, service_fn};

use crate::app::App;
use crate::auth::TokenKeys;
use crate::auth::signing_keys::{PrivateJwkSet, PublicJwkSet};
use crate::config::{Config, KeySource};
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
    let app: &'static App<DynamoStore> =
        Box::leak(Box::new(init().await.inspect_err(|e| tracing::error!("refusing to start: {e}"))?));
    lambda_http::run(service_fn(move |req| {
        let answer = handler(app, req);
        async move { Ok::<_, Infallible>(respond(answer.await)) }
    }))
    .await
}

/// Logging, configuration, the token keys and the DynamoDB client.
async fn init() -> Result<App<DynamoStore>, lambda_http::Error> {
    crate::allocator::return_large_blocks_to_the_os();
    crate::logging::init_lambda();
    let config = Config::from_env()?;
    let sdk_config = crate::aws::load_sdk_config().await;
    let keys = token_keys(&config.keys, &sdk_config).await?;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config);
    Ok(App::new(DynamoStore::new(client, config.table_name), config.token, &keys)?)
}

/// The function's token keys: the private set from Secrets Manager where tokens are
/// issued (one call at init), the public set from the environment where they are only
/// verified (no call at all), none on a public route.
async fn token_keys(source: &KeySource, sdk_config: &aws_config::SdkConfig) -> Result<TokenKeys, lambda_http::Error> {
    if let Some(secret_id) = &source.signing_key_secret_id {
        let secrets = aws_sdk_secretsmanager::Client::new(sdk_config);
        let value = secrets.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
            format!("reading SIGNING_KEY_SECRET_ID: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(e))
        })?;
        let set = PrivateJwkSet::from_json(value.secret_string().unwrap_or_default())
            .map_err(|e| format!("SIGNING_KEY_SECRET_ID: {e}"))?;
        return Ok(TokenKeys::signing(set));
    }
    match &source.public_jwks {
        Some(json) => {
            Ok(TokenKeys::verifying(PublicJwkSet::from_json(json).map_err(|e| format!("TOKEN_PUBLIC_JWKS: {e}"))?))
        }
        None => Ok(TokenKeys::default()),
    }
}

//! The one entry point of every function's `main`: init once per sandbox, then answer
//! each event with the handler, its errors rendered by [`respond`].
use std::convert::Infallible;
use std::future::Future;

use lambda_http::{Body, Request, Response, service_fn};

use crate::app::App;
use crate::auth::signing_keys::{PrivateJwkSet, PublicJwkSet};
use crate::auth::{TokenKeys, TokenService};
use crate::config::{Config, KeySource, TokenConfig};
use crate::error::ApiError;
use crate::google::GoogleSignIn;
use crate::http::respond;
use crate::store::DynamoStore;

/// Runs `handler` as a Lambda function on DynamoDB, holding the public keys its
/// environment gives (`TOKEN_PUBLIC_JWKS`) or none. A configuration error is logged and
/// ends the process with a non-zero status, so the sandbox never serves half-configured.
pub async fn run<H, F>(handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static App<DynamoStore>, Request) -> F,
    F: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    serve(init(Keys::Verifying).await, handler).await
}

/// [`run`] for the functions that issue tokens: they also read the private signing key
/// from Secrets Manager (`SIGNING_KEY_SECRET_ID`), while the runtime waits for the first
/// event. Kept apart so that no other bootstrap even links the Secrets Manager client.
pub async fn run_issuing<H, F>(handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static App<DynamoStore>, Request) -> F,
    F: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    serve(init(Keys::Issuing).await, handler).await
}

/// Which keys a function holds.
enum Keys {
    Verifying,
    Issuing,
}

async fn serve<H, F>(app: Result<App<DynamoStore>, lambda_http::Error>, handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static App<DynamoStore>, Request) -> F,
    F: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    // The app lives as long as the sandbox; leaking it lets every invocation borrow it.
    let app: &'static App<DynamoStore> =
        Box::leak(Box::new(app.inspect_err(|e| tracing::error!("refusing to start: {e}"))?));
    lambda_http::run(service_fn(move |req| {
        let answer = handler(app, req);
        async move { Ok::<_, Infallible>(respond(answer.await)) }
    }))
    .await
}

/// Logging, configuration, the token keys, the DynamoDB client and Google sign-in.
async fn init(keys: Keys) -> Result<App<DynamoStore>, lambda_http::Error> {
    crate::allocator::return_large_blocks_to_the_os();
    crate::logging::init_lambda();
    let config = Config::from_env()?;
    let sdk_config = crate::aws::load_sdk_config().await?;
    let tokens = match keys {
        Keys::Issuing => signing_key_on_its_way(&config.keys, &sdk_config, config.token)?,
        Keys::Verifying => TokenService::new(config.token, &public_keys(&config.keys)?)?,
    };
    let client = aws_sdk_dynamodb::Client::new(&sdk_config);
    let app = App::new(DynamoStore::new(client, config.table_name), tokens);
    Ok(app.with_google(GoogleSignIn::new(config.google)).with_account_rules(config.accounts))
}

/// A token service whose private set is read from Secrets Manager in the background: the
/// first request's own work (hashing, reads) overlaps the read, and only what a token must
/// answer waits for the key (`TokenService::ready_to_issue`). A key that cannot be read or used ends the process, as a
/// configuration error at init does, so the sandbox never issues without it.
fn signing_key_on_its_way(
    source: &KeySource,
    sdk_config: &aws_config::SdkConfig,
    token: TokenConfig,
) -> Result<TokenService, lambda_http::Error> {
    let secret_id = source.signing_key_secret_id.clone().ok_or("SIGNING_KEY_SECRET_ID is not set")?;
    let secrets = aws_sdk_secretsmanager::Client::new(sdk_config);
    let (tokens, arrival) = TokenService::awaiting_signing_key(token)?;
    tokio::spawn(async move {
        let delivered = read_signing_keys(&secrets, &secret_id)
            .await
            .and_then(|set| arrival.deliver(&set).map_err(|e| format!("SIGNING_KEY_SECRET_ID: {e}")));
        if let Err(e) = delivered {
            tracing::error!("refusing to start: {e}");
            std::process::exit(1);
        }
    });
    Ok(tokens)
}

/// The private set at `secret_id`: one call.
async fn read_signing_keys(secrets: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<PrivateJwkSet, String> {
    let value = secrets.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        format!("reading SIGNING_KEY_SECRET_ID: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(e))
    })?;
    PrivateJwkSet::from_json(value.secret_string().unwrap_or_default())
        .map_err(|e| format!("SIGNING_KEY_SECRET_ID: {e}"))
}

/// The public set from the environment (no call at all), or none on a public route. A
/// function that does not issue tokens is never given the private key's secret.
fn public_keys(source: &KeySource) -> Result<TokenKeys, lambda_http::Error> {
    if source.signing_key_secret_id.is_some() {
        return Err("SIGNING_KEY_SECRET_ID is set, but this function does not issue tokens".into());
    }
    match &source.public_jwks {
        Some(json) => {
            Ok(TokenKeys::verifying(PublicJwkSet::from_json(json).map_err(|e| format!("TOKEN_PUBLIC_JWKS: {e}"))?))
        }
        None => Ok(TokenKeys::default()),
    }
}

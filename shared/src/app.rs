//! What every handler is given: the store and the keys, built once at init.
use crate::auth::TokenService;
use crate::config::{Config, TokenConfig};
use crate::cursor::CursorCodec;
use crate::store::{DynamoStore, Store};

pub struct App<S> {
    pub store: S,
    pub tokens: TokenService,
    pub cursors: CursorCodec,
}

impl<S: Store> App<S> {
    pub fn new(store: S, token_config: TokenConfig) -> Self {
        let cursors = CursorCodec::new(&token_config.secret);
        Self { store, tokens: TokenService::new(token_config), cursors }
    }
}

/// Init for a Lambda function: logging, configuration and the DynamoDB client, once per
/// sandbox. A configuration error is logged and ends the process with a non-zero status.
pub async fn init_lambda() -> Result<App<DynamoStore>, lambda_http::Error> {
    crate::memory::return_large_blocks_to_the_os();
    crate::logging::init_lambda();
    let config = Config::from_env().inspect_err(|e| tracing::error!("refusing to start: {e}"))?;
    let sdk_config = crate::aws::load_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config);
    Ok(App::new(DynamoStore::new(client, config.table_name), config.token))
}

//! What every handler is given: the store and the keys, built once per sandbox.
use crate::auth::signing_keys::KeySetError;
use crate::auth::{TokenKeys, TokenService};
use crate::config::TokenConfig;
use crate::store::Store;

pub struct App<S> {
    pub store: S,
    pub tokens: TokenService,
}

impl<S: Store> App<S> {
    pub fn new(store: S, token_config: TokenConfig, keys: &TokenKeys) -> Result<Self, KeySetError> {
        Ok(Self { store, tokens: TokenService::new(token_config, keys)? })
    }
}

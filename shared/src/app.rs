//! What every handler is given: the store and the keys, built once per sandbox.
use crate::auth::TokenService;
use crate::config::TokenConfig;
use crate::store::Store;

pub struct App<S> {
    pub store: S,
    pub tokens: TokenService,
}

impl<S: Store> App<S> {
    pub fn new(store: S, token_config: TokenConfig) -> Self {
        Self { store, tokens: TokenService::new(token_config) }
    }
}

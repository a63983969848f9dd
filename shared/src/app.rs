//! What every handler is given: the store, the keys and Google sign-in, built once per sandbox.
use crate::auth::signing_keys::KeySetError;
use crate::auth::{TokenKeys, TokenService};
use crate::config::TokenConfig;
use crate::google::GoogleSignIn;
use crate::store::Store;

pub struct App<S> {
    pub store: S,
    pub tokens: TokenService,
    /// Off unless [`App::with_google`] configures it.
    pub google: GoogleSignIn,
}

impl<S: Store> App<S> {
    pub fn new(store: S, token_config: TokenConfig, keys: &TokenKeys) -> Result<Self, KeySetError> {
        Ok(Self { store, tokens: TokenService::new(token_config, keys)?, google: GoogleSignIn::default() })
    }

    pub fn with_google(self, google: GoogleSignIn) -> Self {
        Self { google, ..self }
    }
}

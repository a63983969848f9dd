//! What every handler is given: the store, the keys, Google sign-in and the account rules, built once per sandbox.
use crate::auth::signing_keys::KeySetError;
use crate::auth::{TokenKeys, TokenService};
use crate::config::{AccountRules, TokenConfig};
use crate::google::GoogleSignIn;
use crate::store::Store;

pub struct App<S> {
    pub store: S,
    pub tokens: TokenService,
    /// Off unless [`App::with_google`] configures it.
    pub google: GoogleSignIn,
    /// None unless [`App::with_account_rules`] sets them.
    pub accounts: AccountRules,
}

impl<S: Store> App<S> {
    pub fn new(store: S, token_config: TokenConfig, keys: &TokenKeys) -> Result<Self, KeySetError> {
        Ok(Self {
            store,
            tokens: TokenService::new(token_config, keys)?,
            google: GoogleSignIn::default(),
            accounts: AccountRules::default(),
        })
    }

    pub fn with_google(self, google: GoogleSignIn) -> Self {
        Self { google, ..self }
    }

    pub fn with_account_rules(self, accounts: AccountRules) -> Self {
        Self { accounts, ..self }
    }
}

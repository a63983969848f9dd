//! What every handler is given: the store, the keys, Google sign-in and the account rules, built once per sandbox.
use crate::auth::TokenService;
use crate::config::AccountRules;
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
    pub fn new(store: S, tokens: TokenService) -> Self {
        Self { store, tokens, google: GoogleSignIn::default(), accounts: AccountRules::default() }
    }

    pub fn with_google(self, google: GoogleSignIn) -> Self {
        Self { google, ..self }
    }

    pub fn with_account_rules(self, accounts: AccountRules) -> Self {
        Self { accounts, ..self }
    }
}

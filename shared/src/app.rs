//! What every handler is given: the store and the keys, built once per sandbox.
use crate::auth::TokenService;
use crate::config::TokenConfig;
use crate::cursor::CursorCodec;
use crate::store::Store;

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

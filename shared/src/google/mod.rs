//! Sign in with Google: a Google ID token (what Google Identity Services hands a page as
//! `credential`) verified as strictly as our own access tokens, against Google's published
//! keys, which each sandbox fetches and caches. Nothing here touches the store or HTTP
//! requests: it answers who the token says the person is, or why it is refused.
mod id_token;
mod jwks_fetch;
mod key_cache;

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::DecodingKey;

pub use id_token::{GOOGLE_ISSUERS, GoogleIdentity};
pub use jwks_fetch::FETCH_TIMEOUT;
pub use key_cache::UNKNOWN_KID_REFETCH_INTERVAL;

use crate::config::GoogleConfig;
use crate::https::HttpsClient;
use id_token::IdTokenRules;
use key_cache::{KeyCache, Lookup};

#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    #[error("Google sign-in is not configured (GOOGLE_CLIENT_IDS is empty)")]
    NotConfigured,
    /// The token is not a valid Google ID token for us; the reason is for the log.
    #[error("Google ID token refused: {0}")]
    Rejected(String),
    #[error("Google's signing keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

/// Verifies Google ID tokens for one deployment; built once per sandbox.
pub struct GoogleSignIn {
    /// `None` when no client ID is configured: Google sign-in is off.
    rules: Option<IdTokenRules>,
    jwks_url: String,
    keys: tokio::sync::Mutex<KeyCache>,
    /// Made at the first fetch, so that no other function pays for loading root certificates.
    client: OnceLock<HttpsClient>,
}

impl Default for GoogleSignIn {
    /// Off.
    fn default() -> Self {
        Self::new(GoogleConfig::default())
    }
}

impl GoogleSignIn {
    pub fn new(config: GoogleConfig) -> Self {
        Self {
            rules: (!config.client_ids.is_empty()).then(|| IdTokenRules::new(&config.client_ids)),
            jwks_url: config.jwks_url,
            keys: tokio::sync::Mutex::default(),
            client: OnceLock::new(),
        }
    }

    /// Whether Google sign-in is configured (any client ID).
    pub fn enabled(&self) -> bool {
        self.rules.is_some()
    }

    /// Who `credential` says the person is, if it is a valid Google ID token for us now.
    pub async fn verify(&self, credential: &str) -> Result<GoogleIdentity, GoogleError> {
        let rules = self.rules.as_ref().ok_or(GoogleError::NotConfigured)?;
        let kid = IdTokenRules::key_id(credential)?;
        let key = self.key(&kid).await?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| GoogleError::Rejected(e.to_string()))?;
        rules.verify(credential, &key, now.as_secs())
    }

    /// Google's key `kid`, from the cache or a fetch. Fetches are one at a time: a token
    /// that waited on another's fetch finds its answer in the cache.
    async fn key(&self, kid: &str) -> Result<DecodingKey, GoogleError> {
        let mut cache = self.keys.lock().await;
        let lookup = match cache.lookup(kid, Instant::now()) {
            Lookup::Fetch => {
                let fetched = jwks_fetch::fetch(self.client()?, &self.jwks_url)
                    .await
                    .map_err(|reason| GoogleError::KeysUnavailable(format!("{}: {reason}", self.jwks_url)))?;
                cache.store(fetched, kid, Instant::now());
                cache.get(kid)
            }
            lookup => lookup,
        };
        match lookup {
            Lookup::Found(key) => Ok(key),
            _ => Err(GoogleError::Rejected(format!("kid {kid:?} is not one of Google's keys"))),
        }
    }

    fn client(&self) -> Result<&HttpsClient, GoogleError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = crate::https::client().map_err(|e| GoogleError::KeysUnavailable(e.to_string()))?;
        Ok(self.client.get_or_init(|| client))
    }
}

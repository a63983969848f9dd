//! A stand-in for Google in tests: throwaway RSA keys (`tests/data/google-test-keys.json`)
//! that sign ID tokens as Google's would, and a local JWKS server publishing any of them.
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::DecodingKey;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::GoogleConfig;

/// The OAuth client ID the tests configure and sign tokens for.
pub const TEST_GOOGLE_CLIENT_ID: &str = "test-client.apps.googleusercontent.com";

#[derive(Deserialize)]
struct TestKey {
    kid: String,
    n: String,
    e: String,
    pkcs8: String,
}

#[derive(Deserialize)]
struct TestKeyFile {
    keys: Vec<TestKey>,
}

/// The test keys, by index: 0 is the one a test publishes first, 1 the one rotated in.
pub struct GoogleTestKeys {
    keys: Vec<TestKey>,
}

impl GoogleTestKeys {
    pub fn load() -> Self {
        let file: TestKeyFile = serde_json::from_str(include_str!("../../../tests/data/google-test-keys.json"))
            .unwrap_or_else(|e| panic!("tests/data/google-test-keys.json: {e}"));
        Self { keys: file.keys }
    }

    pub fn kid(&self, index: usize) -> &str {
        &self.keys[index].kid
    }

    pub fn decoding_key(&self, index: usize) -> DecodingKey {
        let key = &self.keys[index];
        DecodingKey::from_rsa_components(&key.n, &key.e).unwrap_or_else(|e| panic!("test key {}: {e}", key.kid))
    }

    /// An RS256 signature of `message` by key `index`.
    pub fn sign_raw(&self, index: usize, message: &[u8]) -> Vec<u8> {
        let der = STANDARD.decode(&self.keys[index].pkcs8).unwrap_or_else(|e| panic!("test key: {e}"));
        let pair = RsaKeyPair::from_pkcs8(&der).unwrap_or_else(|e| panic!("test key: {e}"));
        let mut signature = vec![0; pair.public().modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
            .unwrap_or_else(|e| panic!("signing: {e}"));
        signature
    }

    /// The JWK Set publishing keys `indices`, as Google's endpoint does.
    pub fn jwks(&self, indices: &[usize]) -> Value {
        let keys: Vec<Value> = indices
            .iter()
            .map(|&i| {
                let key = &self.keys[i];
                json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": key.kid, "n": key.n, "e": key.e})
            })
            .collect();
        json!({ "keys": keys })
    }

    /// An ID token with `claims`, signed by key `index` under Google's header.
    pub fn id_token(&self, index: usize, claims: &Value) -> String {
        self.token_with_header(index, &json!({"alg": "RS256", "kid": self.kid(index), "typ": "JWT"}), claims)
    }

    /// A token with any header, signed (RS256) by key `index` whatever the header says.
    pub fn token_with_header(&self, index: usize, header: &Value, claims: &Value) -> String {
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = self.sign_raw(index, signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// The claims of a valid ID token issued now for [`TEST_GOOGLE_CLIENT_ID`], with a
/// verified email.
pub fn google_claims(sub: &str, email: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "iss": "https://accounts.google.com",
        "azp": TEST_GOOGLE_CLIENT_ID,
        "aud": TEST_GOOGLE_CLIENT_ID,
        "sub": sub,
        "email": email,
        "email_verified": true,
        "name": "Ada Lovelace",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 3_600,
    })
}

#[derive(Default)]
struct Published {
    indices: Vec<usize>,
    cache_control: Option<String>,
    failing: bool,
    fetches: usize,
}

/// A local JWKS endpoint standing in for Google's, on a loopback port, until dropped.
pub struct FakeGoogle {
    pub jwks_url: String,
    published: Arc<Mutex<Published>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeGoogle {
    /// Serves keys `indices` with `Cache-Control: public, max-age=3600`.
    pub async fn start(indices: &[usize]) -> Self {
        let published = Arc::new(Mutex::new(Published {
            indices: indices.to_vec(),
            cache_control: Some("public, max-age=3600".into()),
            ..Published::default()
        }));
        let state = Arc::clone(&published);
        let keys = Arc::new(GoogleTestKeys::load());
        let app = axum::Router::new().route(
            "/oauth2/v3/certs",
            axum::routing::get(move || {
                let (state, keys) = (Arc::clone(&state), Arc::clone(&keys));
                async move {
                    let mut published = state.lock().unwrap_or_else(PoisonError::into_inner);
                    published.fetches += 1;
                    let mut headers = HeaderMap::new();
                    if published.failing {
                        return (StatusCode::SERVICE_UNAVAILABLE, headers, String::new());
                    }
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    if let Some(value) = published.cache_control.as_deref().and_then(|v| HeaderValue::from_str(v).ok())
                    {
                        headers.insert(CACHE_CONTROL, value);
                    }
                    (StatusCode::OK, headers, keys.jwks(&published.indices).to_string())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let jwks_url = format!("http://{}/oauth2/v3/certs", listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { jwks_url, published, server }
    }

    fn with_published<T>(&self, change: impl FnOnce(&mut Published) -> T) -> T {
        change(&mut self.published.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Publishes keys `indices` from now on (a rotation).
    pub fn publish(&self, indices: &[usize]) {
        self.with_published(|p| p.indices = indices.to_vec());
    }

    pub fn set_cache_control(&self, value: Option<&str>) {
        self.with_published(|p| p.cache_control = value.map(str::to_owned));
    }

    /// Makes every fetch answer 503 (or serve again).
    pub fn set_failing(&self, failing: bool) {
        self.with_published(|p| p.failing = failing);
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.with_published(|p| p.fetches)
    }

    /// Google sign-in for [`TEST_GOOGLE_CLIENT_ID`], with keys from this server.
    pub fn config(&self) -> GoogleConfig {
        GoogleConfig { client_ids: vec![TEST_GOOGLE_CLIENT_ID.to_owned()], jwks_url: self.jwks_url.clone() }
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        self.server.abort();
    }
}

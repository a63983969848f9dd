//! HS256 access tokens: issued at signup and login, verified by every protected route.
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::config::TokenConfig;

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 30;

/// The claims of an access token. `name` carries the display name so that writing a post
/// needs no extra read; a token lives at most `TOKEN_TTL_SECONDS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub iat: u64,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    pub iss: String,
    pub aud: String,
    pub jti: String,
}

/// A freshly issued token and its lifetime in seconds.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token rejected: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("system clock is before 1970")]
    Clock,
    /// A function configured without the key (its route neither verifies nor issues tokens).
    #[error("this function holds no token key")]
    NoKey,
}

/// Issues and verifies tokens with keys derived once at init, if the function has them.
#[derive(Clone)]
pub struct TokenService {
    keys: Option<(EncodingKey, DecodingKey)>,
    validation: Validation,
    config: TokenConfig,
}

impl TokenService {
    pub fn new(config: TokenConfig) -> Self {
        super::jwt_hmac::install();
        let mut validation = Validation::new(Algorithm::HS256);
        // Pinned to HS256 (Validation::new lists only it), so `none`, HS512, RS256… fail.
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let keys = config.secret.as_ref().map(|s| (EncodingKey::from_secret(s), DecodingKey::from_secret(s)));
        Self { keys, validation, config }
    }

    pub fn issue(&self, user_id: &str, display_name: &str) -> Result<AccessToken, TokenError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|_| TokenError::Clock)?.as_secs();
        let ttl = self.config.ttl.as_secs();
        let claims = Claims {
            sub: user_id.to_owned(),
            name: display_name.to_owned(),
            iat: now,
            exp: now + ttl,
            nbf: None,
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            jti: ulid::Ulid::generate().to_string(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, self.encoding()?)?;
        Ok(AccessToken { token, expires_in: ttl })
    }

    /// A new refresh token, expiring `REFRESH_TTL_SECONDS` after `at`.
    pub fn new_refresh_token(
        &self,
        at: time::OffsetDateTime,
    ) -> Result<super::NewRefreshToken, super::RandomnessError> {
        super::NewRefreshToken::generate(at + self.config.refresh_ttl)
    }

    /// When a session started at `at` ends, however often it is refreshed.
    pub fn session_ends_at(&self, at: time::OffsetDateTime) -> time::OffsetDateTime {
        at + self.config.session_max
    }

    pub fn refresh_ttl_seconds(&self) -> u64 {
        self.config.refresh_ttl.as_secs()
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let decoding = &self.keys.as_ref().ok_or(TokenError::NoKey)?.1;
        Ok(decode::<Claims>(token, decoding, &self.validation)?.claims)
    }

    fn encoding(&self) -> Result<&EncodingKey, TokenError> {
        self.keys.as_ref().map(|(encoding, _)| encoding).ok_or(TokenError::NoKey)
    }

    /// Signs arbitrary claims with this service's key: for tests and fixtures only.
    #[doc(hidden)]
    pub fn sign_claims<T: Serialize>(&self, header: &Header, claims: &T) -> Result<String, TokenError> {
        Ok(encode(header, claims, self.encoding()?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;
    use std::time::Duration;

    fn config(secret: &str) -> TokenConfig {
        TokenConfig {
            secret: Some(secret.as_bytes().to_vec()),
            ttl: Duration::from_secs(3600),
            refresh_ttl: Duration::from_secs(86_400),
            session_max: Duration::from_secs(30 * 86_400),
            issuer: "blog-api".into(),
            audience: "blog-api-clients".into(),
        }
    }

    fn service() -> TokenService {
        TokenService::new(config("test-secret-that-is-at-least-32-bytes-long"))
    }

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    fn claims() -> serde_json::Value {
        json!({"sub": "U1", "name": "Ada", "iat": now(), "exp": now() + 600,
               "iss": "blog-api", "aud": "blog-api-clients", "jti": "J1"})
    }

    fn signed(claims: serde_json::Value) -> String {
        service().sign_claims(&Header::new(Algorithm::HS256), &claims).unwrap()
    }

    #[test]
    fn a_service_without_the_key_neither_issues_nor_verifies() {
        let keyless = TokenService::new(TokenConfig { secret: None, ..config("unused") });
        assert!(matches!(keyless.issue("U1", "Ada"), Err(TokenError::NoKey)));
        let token = service().issue("U1", "Ada").unwrap().token;
        assert!(matches!(keyless.verify(&token), Err(TokenError::NoKey)));
    }

    #[test]
    fn issued_token_round_trips_with_all_claims() {
        let service = service();
        let issued = service.issue("U1", "Ada").unwrap();
        assert_eq!(issued.expires_in, 3600);
        let claims = service.verify(&issued.token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.name.as_str()), ("U1", "Ada"));
        assert_eq!(claims.exp - claims.iat, 3600);
        assert_eq!((claims.iss.as_str(), claims.aud.as_str()), ("blog-api", "blog-api-clients"));
        assert!(!claims.jti.is_empty());
        assert_ne!(claims.jti, service.verify(&service.issue("U1", "Ada").unwrap().token).unwrap().jti);
    }

    #[test]
    fn well_formed_claims_verify() {
        assert!(service().verify(&signed(claims())).is_ok());
    }

    #[test]
    fn tampered_or_foreign_tokens_are_rejected() {
        let good = signed(claims());
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();

        let wrong_secret = TokenService::new(config("another-secret-that-is-32-bytes-or-more"))
            .sign_claims(&Header::new(Algorithm::HS256), &claims())
            .unwrap();
        let hs512 = service().sign_claims(&Header::new(Algorithm::HS512), &claims()).unwrap();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let alg_none = format!("{none_header}.{}.", parts[1]);
        let mut forged = claims();
        forged["sub"] = json!("U2");
        parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
        let tampered = parts.join(".");

        for bad in [wrong_secret, hs512, alg_none, tampered, "garbage".into(), String::new()] {
            assert!(service().verify(&bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn claim_rules_are_enforced() {
        let with = |key: &str, value: serde_json::Value| {
            let mut c = claims();
            c[key] = value;
            signed(c)
        };
        let without = |key: &str| {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(key);
            signed(c)
        };
        let rejected = [
            ("expired beyond leeway", with("exp", json!(now() - LEEWAY_SECONDS - 5))),
            ("nbf in the future", with("nbf", json!(now() + 600))),
            ("wrong issuer", with("iss", json!("someone-else"))),
            ("wrong audience", with("aud", json!("someone-else"))),
            ("exp as a string", with("exp", json!((now() + 600).to_string()))),
            ("missing exp", without("exp")),
            ("missing sub", without("sub")),
            ("missing iss", without("iss")),
            ("missing aud", without("aud")),
        ];
        for (case, token) in rejected {
            assert!(service().verify(&token).is_err(), "accepted: {case}");
        }
        // Within the leeway is still fine, and so is an nbf in the past.
        assert!(service().verify(&with("exp", json!(now() - 5))).is_ok());
        assert!(service().verify(&with("nbf", json!(now() - 5))).is_ok());
    }
}

//! The rules a Google ID token must meet, checked as strictly as our own access tokens:
//! RS256 with a key of Google's (by `kid`), Google as `iss`, one of our OAuth client IDs as
//! `aud`, numeric `exp`/`iat`/`nbf` within a small leeway, and a `sub`.
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::GoogleError;
use crate::auth::token::LEEWAY_SECONDS;

/// Google writes `iss` either way.
pub const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];
/// Google's `sub` is at most 255 ASCII characters; it becomes part of a store key.
const SUB_MAX_CHARS: usize = 255;

/// Who a verified ID token says the person is. `sub` is the identity; the email is only a
/// claim about it, to be trusted only when `email_verified`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleIdentity {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// The claims read from a token. Times are `u64`, so a string `exp` or `iat` fails to
/// parse, which refuses the token.
#[derive(Deserialize)]
struct IdTokenClaims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<EmailVerified>,
    #[serde(default)]
    name: Option<String>,
    iat: u64,
    #[expect(dead_code, reason = "jsonwebtoken checks it; declared so a string exp fails to parse")]
    exp: u64,
    #[serde(default)]
    #[expect(dead_code, reason = "jsonwebtoken checks it; declared so a string nbf fails to parse")]
    nbf: Option<u64>,
}

/// Google's tokens carry a boolean; older ones a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum EmailVerified {
    Flag(bool),
    Text(String),
}

impl EmailVerified {
    fn is_true(&self) -> bool {
        match self {
            Self::Flag(flag) => *flag,
            Self::Text(text) => text == "true",
        }
    }
}

/// The checks for one deployment's client IDs.
#[derive(Clone)]
pub struct IdTokenRules {
    validation: Validation,
}

impl IdTokenRules {
    pub fn new(client_ids: &[String]) -> Self {
        crate::auth::jwt_crypto::install();
        // Validation::new lists RS256 alone: `none`, HS256 (say, signed with the public key)
        // and every other algorithm fail.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&GOOGLE_ISSUERS);
        validation.set_audience(client_ids);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        Self { validation }
    }

    /// The `kid` of the key that signed `token`, from its header, which must say RS256.
    pub fn key_id(token: &str) -> Result<String, GoogleError> {
        let header = decode_header(token).map_err(|e| GoogleError::Rejected(format!("header: {e}")))?;
        if header.alg != Algorithm::RS256 {
            return Err(GoogleError::Rejected(format!("alg {:?}", header.alg)));
        }
        header.kid.ok_or_else(|| GoogleError::Rejected("no kid".to_owned()))
    }

    /// The identity in `token`, signed by `key`, if every rule holds at `now` (Unix seconds).
    pub fn verify(&self, token: &str, key: &DecodingKey, now: u64) -> Result<GoogleIdentity, GoogleError> {
        let claims = decode::<IdTokenClaims>(token, key, &self.validation)
            .map_err(|e| GoogleError::Rejected(e.to_string()))?
            .claims;
        if claims.iat > now + LEEWAY_SECONDS {
            return Err(GoogleError::Rejected("issued in the future".to_owned()));
        }
        let sub_ok = !claims.sub.is_empty()
            && claims.sub.len() <= SUB_MAX_CHARS
            && claims.sub.bytes().all(|b| b.is_ascii_graphic());
        if !sub_ok {
            return Err(GoogleError::Rejected("sub is not a Google account ID".to_owned()));
        }
        Ok(GoogleIdentity {
            sub: claims.sub,
            email: claims.email,
            email_verified: claims.email_verified.is_some_and(|v| v.is_true()),
            name: claims.name,
        })
    }
}

//! Access tokens: JWTs signed with Ed25519 (JWS `alg: EdDSA`, header `typ: at+jwt` as
//! RFC 9068 has it, and the signing key's `kid`), issued at signup and login and verified
//! by every protected route. Only the functions that issue tokens hold a private key;
//! every other one holds public keys alone, so none of them can mint a token.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use tokio::sync::SetOnce;

use super::signing_keys::{KeySetError, PrivateJwkSet, PublicJwkSet};
use crate::config::TokenConfig;

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 30;
/// The `typ` of an access token's header (RFC 9068): nothing else is taken for one.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The claims of an access token. `name` is the display name when it was issued, for
/// clients; `sid` names the session. A token lives at most `TOKEN_TTL_SECONDS`.
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
    /// The session (refresh-token family) the token was issued for; absent on tokens
    /// issued before sessions were listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
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
    #[error("token rejected: its header is not an access token's ({0})")]
    Header(String),
    #[error("system clock is before 1970")]
    Clock,
    /// A function without the key for this (its route neither verifies nor issues tokens).
    #[error("this function holds no key to {0} tokens")]
    NoKey(&'static str),
}

/// The keys a function holds: the private set where tokens are issued (the public keys
/// then come from it), the public set elsewhere, nothing on a public route.
#[derive(Debug, Clone, Default)]
pub struct TokenKeys {
    pub signing: Option<PrivateJwkSet>,
    pub public: PublicJwkSet,
}

impl TokenKeys {
    /// A function that issues tokens: its private set, and the public keys of it.
    pub fn signing(set: PrivateJwkSet) -> Self {
        Self { public: set.public(), signing: Some(set) }
    }

    /// A function that verifies tokens: public keys only.
    pub fn verifying(public: PublicJwkSet) -> Self {
        Self { signing: None, public }
    }
}

/// Issues and verifies tokens with the keys given once per sandbox.
#[derive(Clone)]
pub struct TokenService {
    /// The key that signs, where this function issues tokens: set at once, or once it
    /// arrives ([`TokenService::awaiting_signing_key`]).
    signer: Option<Arc<SetOnce<Signer>>>,
    verifiers: HashMap<String, DecodingKey>,
    public: PublicJwkSet,
    validation: Validation,
    config: TokenConfig,
}

/// The first private key of a set, by its `kid`: the one that signs.
#[derive(Clone)]
struct Signer {
    kid: String,
    key: EncodingKey,
}

impl Signer {
    fn first_of(set: &PrivateJwkSet) -> Result<Self, KeySetError> {
        let key = set.keys.first().ok_or(KeySetError::Empty)?;
        let (d, x) = key.halves()?;
        Ok(Self { kid: key.kid.clone(), key: super::jwt_crypto::encoding_key(&d, &x) })
    }
}

/// The signing key of a [`TokenService`] made before it was read: issuing a token waits
/// for [`SigningKeyArrival::deliver`], nothing else does.
pub struct SigningKeyArrival(Arc<SetOnce<Signer>>);

impl SigningKeyArrival {
    /// Makes the first key of `set` the one that signs. An unusable set is an error, and
    /// the service keeps waiting: the caller must not serve on.
    pub fn deliver(self, set: &PrivateJwkSet) -> Result<(), KeySetError> {
        // Only this value sets the cell, and `deliver` takes it: the cell is still empty.
        let _ = self.0.set(Signer::first_of(set)?);
        Ok(())
    }
}

impl TokenService {
    pub fn new(config: TokenConfig, keys: &TokenKeys) -> Result<Self, KeySetError> {
        super::jwt_crypto::install();
        let mut validation = Validation::new(Algorithm::EdDSA);
        // Pinned to EdDSA (Validation::new lists only it), so `none`, HS256, RS256… fail.
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let signer = keys.signing.as_ref().map(Signer::first_of).transpose()?;
        let mut verifiers = HashMap::new();
        for key in &keys.public.keys {
            let decoding =
                DecodingKey::from_ed_components(&key.x).map_err(|_| KeySetError::BadKey { kid: key.kid.clone() })?;
            if verifiers.insert(key.kid.clone(), decoding).is_some() {
                return Err(KeySetError::DuplicateKid(key.kid.clone()));
            }
        }
        let signer = signer.map(|signer| Arc::new(SetOnce::new_with(Some(signer))));
        Ok(Self { signer, verifiers, public: keys.public.clone(), validation, config })
    }

    /// A service that issues tokens with a key read after it is made, and verifies none
    /// (the functions that issue tokens check no access token). A token waits for the key
    /// until the returned arrival delivers it: a cold start's first request does its own
    /// work (hashing, the store) while the key is on its way.
    pub fn awaiting_signing_key(config: TokenConfig) -> Result<(Self, SigningKeyArrival), KeySetError> {
        let mut service = Self::new(config, &TokenKeys::default())?;
        let arrival = Arc::new(SetOnce::new());
        service.signer = Some(Arc::clone(&arrival));
        Ok((service, SigningKeyArrival(arrival)))
    }

    /// An access token for `user_id`'s session `session_id`.
    pub async fn issue(&self, user_id: &str, display_name: &str, session_id: &str) -> Result<AccessToken, TokenError> {
        let signer = self.signer().await?;
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
            sid: Some(session_id.to_owned()),
        };
        Ok(AccessToken { token: sign(signer, &claims)?, expires_in: ttl })
    }

    /// Waits until a token can be issued (the signing key is here): a write that a token
    /// must answer waits for this first, so nothing is stored that cannot be answered.
    pub async fn ready_to_issue(&self) -> Result<(), TokenError> {
        self.signer().await.map(|_| ())
    }

    async fn signer(&self) -> Result<&Signer, TokenError> {
        Ok(self.signer.as_ref().ok_or(TokenError::NoKey("issue"))?.wait().await)
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

    /// The public keys this service verifies with, as `GET /.well-known/jwks.json` serves them.
    pub fn public_keys(&self) -> &PublicJwkSet {
        &self.public
    }

    pub fn refresh_ttl_seconds(&self) -> u64 {
        self.config.refresh_ttl.as_secs()
    }

    /// The claims of an access token: `typ: at+jwt`, EdDSA, signed by a key of ours
    /// (its `kid`), within its lifetime, for our issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if self.verifiers.is_empty() {
            return Err(TokenError::NoKey("verify"));
        }
        let header = decode_header(token)?;
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) || header.alg != Algorithm::EdDSA {
            return Err(TokenError::Header(format!("typ {:?}, alg {:?}", header.typ, header.alg)));
        }
        let kid = header.kid.ok_or_else(|| TokenError::Header("no kid".into()))?;
        let key = self.verifiers.get(&kid).ok_or_else(|| TokenError::Header(format!("unknown kid {kid:?}")))?;
        Ok(decode::<Claims>(token, key, &self.validation)?.claims)
    }

    /// Signs `claims` as an access token with the signing key, if it is there.
    pub fn sign_claims<T: Serialize>(&self, claims: &T) -> Result<String, TokenError> {
        let signer = self.signer.as_ref().and_then(|cell| cell.get()).ok_or(TokenError::NoKey("issue"))?;
        sign(signer, claims)
    }
}

fn sign<T: Serialize>(signer: &Signer, claims: &T) -> Result<String, TokenError> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header.kid = Some(signer.kid.clone());
    Ok(encode(&header, claims, &signer.key)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::signing_keys::PrivateJwk;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;
    use std::time::Duration;

    fn config() -> TokenConfig {
        TokenConfig {
            ttl: Duration::from_secs(3600),
            refresh_ttl: Duration::from_secs(86_400),
            session_max: Duration::from_secs(30 * 86_400),
            issuer: "blog-api".into(),
            audience: "blog-api-clients".into(),
        }
    }

    fn keys(kids: &[&str]) -> PrivateJwkSet {
        PrivateJwkSet { keys: kids.iter().map(|kid| PrivateJwk::generate(kid).unwrap()).collect() }
    }

    fn signer(set: &PrivateJwkSet) -> TokenService {
        TokenService::new(config(), &TokenKeys::signing(set.clone())).unwrap()
    }

    fn verifier(set: &PrivateJwkSet) -> TokenService {
        TokenService::new(config(), &TokenKeys::verifying(set.public())).unwrap()
    }

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    fn claims() -> serde_json::Value {
        json!({"sub": "U1", "name": "Ada", "iat": now(), "exp": now() + 600,
               "iss": "blog-api", "aud": "blog-api-clients", "jti": "J1"})
    }

    /// A token with any header, signed by `sign` over the signing input: forgeries.
    fn assembled(header: serde_json::Value, claims: &serde_json::Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sign(input.as_bytes())))
    }

    #[tokio::test]
    async fn issued_tokens_are_eddsa_at_jwt_with_the_signing_kid_and_round_trip() {
        let set = keys(&["k1"]);
        let issued = signer(&set).issue("U1", "Ada", "S1").await.unwrap();
        let header = decode_header(&issued.token).unwrap();
        assert_eq!(
            (header.alg, header.typ.as_deref(), header.kid.as_deref()),
            (Algorithm::EdDSA, Some("at+jwt"), Some("k1"))
        );
        let claims = verifier(&set).verify(&issued.token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.name.as_str(), claims.exp - claims.iat), ("U1", "Ada", 3600));
        assert_eq!((claims.iss.as_str(), claims.aud.as_str()), ("blog-api", "blog-api-clients"));
    }

    #[tokio::test]
    async fn a_verifier_cannot_issue_and_a_function_without_keys_does_neither() {
        let set = keys(&["k1"]);
        assert!(matches!(verifier(&set).issue("U1", "Ada", "S1").await, Err(TokenError::NoKey("issue"))));
        let keyless = TokenService::new(config(), &TokenKeys::default()).unwrap();
        let token = signer(&set).issue("U1", "Ada", "S1").await.unwrap().token;
        assert!(matches!(keyless.verify(&token), Err(TokenError::NoKey("verify"))));
    }

    #[tokio::test]
    async fn after_a_rotation_the_new_key_signs_and_the_old_still_verifies() {
        let before = keys(&["old"]);
        let old_token = signer(&before).issue("U1", "Ada", "S1").await.unwrap().token;
        let after = before.rotated("new", 1).unwrap();
        let new_token = signer(&after).issue("U1", "Ada", "S1").await.unwrap().token;
        assert_eq!(decode_header(&new_token).unwrap().kid.as_deref(), Some("new"));
        for token in [&old_token, &new_token] {
            assert!(verifier(&after).verify(token).is_ok());
        }
        // Once the old key is dropped from the set, its tokens no longer verify.
        let later = after.rotated("newer", 0).unwrap();
        assert!(verifier(&later).verify(&old_token).is_err());
    }

    #[tokio::test]
    async fn forged_and_foreign_tokens_are_rejected() {
        let set = keys(&["k1"]);
        let verifier = verifier(&set);
        let good = signer(&set).issue("U1", "Ada", "S1").await.unwrap().token;
        let stranger = signer(&keys(&["k1"])).issue("U1", "Ada", "S1").await.unwrap().token;
        let other_kid = signer(&keys(&["k2"])).issue("U1", "Ada", "S1").await.unwrap().token;
        let hs256_with_public_key =
            assembled(json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1"}), &claims(), |input| {
                use hmac::{KeyInit, Mac};
                let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(set.keys[0].x.as_bytes()).unwrap();
                mac.update(input);
                mac.finalize().into_bytes().to_vec()
            });
        let alg_none = assembled(json!({"alg": "none", "typ": "at+jwt", "kid": "k1"}), &claims(), |_| Vec::new());
        let pair = set.keys[0].key_pair().unwrap();
        let sign = |input: &[u8]| pair.sign(input).as_ref().to_vec();
        let plain_jwt = assembled(json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"}), &claims(), sign);
        let no_typ = assembled(json!({"alg": "EdDSA", "kid": "k1"}), &claims(), sign);
        let no_kid = assembled(json!({"alg": "EdDSA", "typ": "at+jwt"}), &claims(), sign);
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let mut forged = claims();
        forged["sub"] = json!("U2");
        parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
        let tampered = parts.join(".");
        let bad = [stranger, other_kid, hs256_with_public_key, alg_none, plain_jwt, no_typ, no_kid, tampered];
        for token in bad.into_iter().chain(["garbage".into(), String::new()]) {
            assert!(verifier.verify(&token).is_err(), "accepted {token}");
        }
        let well_formed = assembled(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "k1"}), &claims(), sign);
        assert!(verifier.verify(&well_formed).is_ok(), "the forgery helper itself makes valid tokens");
    }

    #[test]
    fn claim_rules_are_enforced() {
        let set = keys(&["k1"]);
        let (signer, verifier) = (signer(&set), verifier(&set));
        let with = |key: &str, value: serde_json::Value| {
            let mut c = claims();
            c[key] = value;
            signer.sign_claims(&c).unwrap()
        };
        let without = |key: &str| {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(key);
            signer.sign_claims(&c).unwrap()
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
            assert!(verifier.verify(&token).is_err(), "accepted: {case}");
        }
        // Within the leeway is still fine, and so is an nbf in the past.
        assert!(verifier.verify(&with("exp", json!(now() - 5))).is_ok());
        assert!(verifier.verify(&with("nbf", json!(now() - 5))).is_ok());
    }

    #[tokio::test]
    async fn a_token_waits_for_a_signing_key_that_arrives_later() {
        let set = keys(&["k1"]);
        let (service, arrival) = TokenService::awaiting_signing_key(config()).unwrap();
        assert!(matches!(service.sign_claims(&claims()), Err(TokenError::NoKey("issue"))), "no key yet");
        let waiting = tokio::spawn({
            let service = service.clone();
            async move { service.issue("U1", "Ada", "S1").await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a token was issued before its key arrived");
        arrival.deliver(&set).unwrap();
        let token = waiting.await.unwrap().unwrap().token;
        assert_eq!(verifier(&set).verify(&token).unwrap().sub, "U1");
    }

    #[tokio::test]
    async fn an_unusable_signing_key_is_refused_and_nothing_is_issued() {
        let (service, arrival) = TokenService::awaiting_signing_key(config()).unwrap();
        let mut set = keys(&["k1"]);
        set.keys[0].x = keys(&["k1"]).keys[0].x.clone();
        assert!(matches!(arrival.deliver(&set), Err(KeySetError::BadKey { .. })));
        assert!(matches!(service.sign_claims(&claims()), Err(TokenError::NoKey("issue"))));
    }
}

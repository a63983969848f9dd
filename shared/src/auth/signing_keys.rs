//! Ed25519 signing keys as JWK Sets (RFC 7517, RFC 8037): the private set the issuing
//! functions load (its first key signs), and the public set every verifier is given.
//! An Ed25519 private key is 32 random bytes (RFC 8032); ring derives the public half.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

use super::RandomnessError;

const KEY_TYPE: &str = "OKP";
const CURVE: &str = "Ed25519";

/// One private key as a JWK: `d` the private key, `x` the public one, both base64url.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateJwk {
    pub kty: String,
    pub crv: String,
    pub kid: String,
    pub x: String,
    pub d: String,
}

impl std::fmt::Debug for PrivateJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateJwk").field("kid", &self.kid).field("x", &self.x).field("d", &"<redacted>").finish()
    }
}

/// The private JWK Set: what `SIGNING_KEY_SECRET_ID`'s secret and local-api's
/// `signing-keys.json` hold. The first key signs; the others only still verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateJwkSet {
    pub keys: Vec<PrivateJwk>,
}

/// One public key as a JWK, as `GET /.well-known/jwks.json` and `TOKEN_PUBLIC_JWKS` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub kid: String,
    pub x: String,
    #[serde(rename = "use")]
    pub key_use: String,
    pub alg: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwkSet {
    pub keys: Vec<PublicJwk>,
}

impl PublicJwkSet {
    /// Parses and checks a public set: at least one key, each an Ed25519 public key of
    /// the right length, no id twice.
    pub fn from_json(json: &str) -> Result<Self, KeySetError> {
        let set: Self = parse(json)?;
        check_keys(
            &set.keys,
            |key| &key.kid,
            |key| {
                let x = URL_SAFE_NO_PAD.decode(&key.x).ok();
                let sound = key.kty == KEY_TYPE && key.crv == CURVE && x.is_some_and(|x| x.len() == 32);
                if sound { Ok(()) } else { Err(KeySetError::BadKey { kid: key.kid.clone() }) }
            },
        )?;
        Ok(set)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeySetError {
    #[error("the key set is not a JWK Set of the expected shape: {0}")]
    Malformed(String),
    #[error("the key set holds no key")]
    Empty,
    #[error("key {kid:?} is not an Ed25519 key pair whose halves match")]
    BadKey { kid: String },
    #[error("two keys share the id {0:?}")]
    DuplicateKid(String),
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, KeySetError> {
    serde_json::from_str(json).map_err(|e| KeySetError::Malformed(e.to_string()))
}

/// The rules every key set obeys: at least one key, each sound by `check`, no id twice.
fn check_keys<K>(
    keys: &[K],
    kid: impl Fn(&K) -> &String,
    check: impl Fn(&K) -> Result<(), KeySetError>,
) -> Result<(), KeySetError> {
    if keys.is_empty() {
        return Err(KeySetError::Empty);
    }
    let mut kids = std::collections::HashSet::new();
    for key in keys {
        check(key)?;
        if !kids.insert(kid(key)) {
            return Err(KeySetError::DuplicateKid(kid(key).clone()));
        }
    }
    Ok(())
}

impl PrivateJwk {
    /// A new key with id `kid`, from 32 bytes of the operating system's CSPRNG.
    pub fn generate(kid: &str) -> Result<Self, RandomnessError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| RandomnessError::new(e.to_string()))?;
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|e| RandomnessError::new(format!("an Ed25519 seed was refused: {e}")))?;
        Ok(Self {
            kty: KEY_TYPE.into(),
            crv: CURVE.into(),
            kid: kid.into(),
            x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            d: URL_SAFE_NO_PAD.encode(seed),
        })
    }

    /// `d` and `x` as bytes, checked: the right type and curve, and `x` the public half of `d`.
    pub fn halves(&self) -> Result<(Vec<u8>, Vec<u8>), KeySetError> {
        let bad = || KeySetError::BadKey { kid: self.kid.clone() };
        if self.kty != KEY_TYPE || self.crv != CURVE {
            return Err(bad());
        }
        let d = URL_SAFE_NO_PAD.decode(&self.d).map_err(|_| bad())?;
        let x = URL_SAFE_NO_PAD.decode(&self.x).map_err(|_| bad())?;
        Ed25519KeyPair::from_seed_and_public_key(&d, &x).map_err(|_| bad())?;
        Ok((d, x))
    }

    /// The key pair, checked as [`PrivateJwk::halves`] says.
    pub fn key_pair(&self) -> Result<Ed25519KeyPair, KeySetError> {
        let (d, x) = self.halves()?;
        Ed25519KeyPair::from_seed_and_public_key(&d, &x).map_err(|_| KeySetError::BadKey { kid: self.kid.clone() })
    }

    pub fn public(&self) -> PublicJwk {
        PublicJwk {
            kty: self.kty.clone(),
            crv: self.crv.clone(),
            kid: self.kid.clone(),
            x: self.x.clone(),
            key_use: "sig".into(),
            alg: "EdDSA".into(),
        }
    }
}

impl PrivateJwkSet {
    /// Parses and checks a private set: at least one key, each a matching Ed25519 pair,
    /// no id twice.
    pub fn from_json(json: &str) -> Result<Self, KeySetError> {
        let set: Self = parse(json)?;
        check_keys(&set.keys, |key| &key.kid, |key| key.halves().map(drop))?;
        Ok(set)
    }

    /// The set with a new signing key `kid` first, keeping the `keep` most recent older
    /// keys, which go on verifying the tokens they signed until those expire.
    pub fn rotated(&self, kid: &str, keep: usize) -> Result<Self, RandomnessError> {
        let mut keys = vec![PrivateJwk::generate(kid)?];
        keys.extend(self.keys.iter().take(keep).cloned());
        Ok(Self { keys })
    }

    pub fn public(&self) -> PublicJwkSet {
        PublicJwkSet { keys: self.keys.iter().map(PrivateJwk::public).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_matching_ed25519_pairs_and_only_public_halves_are_published() {
        let set = PrivateJwkSet { keys: vec![PrivateJwk::generate("k1").unwrap()] };
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(PrivateJwkSet::from_json(&json).unwrap(), set);
        assert_eq!(URL_SAFE_NO_PAD.decode(&set.keys[0].d).unwrap().len(), 32);
        let public = serde_json::to_string(&set.public()).unwrap();
        assert!(!public.contains(&set.keys[0].d) && !public.contains("\"d\""), "{public}");
        assert!(public.contains("\"use\":\"sig\"") && public.contains("\"alg\":\"EdDSA\""), "{public}");
        assert!(!format!("{set:?}").contains(&set.keys[0].d), "Debug hides d");
    }

    #[test]
    fn sets_that_are_not_sound_are_refused() {
        let a = PrivateJwk::generate("a").unwrap();
        let b = PrivateJwk::generate("b").unwrap();
        let mismatched = PrivateJwk { x: b.x.clone(), ..a.clone() };
        let wrong_curve = PrivateJwk { crv: "X25519".into(), ..a.clone() };
        let cases = [
            (PrivateJwkSet { keys: vec![] }, KeySetError::Empty),
            (PrivateJwkSet { keys: vec![mismatched] }, KeySetError::BadKey { kid: "a".into() }),
            (PrivateJwkSet { keys: vec![wrong_curve] }, KeySetError::BadKey { kid: "a".into() }),
            (PrivateJwkSet { keys: vec![a.clone(), a.clone()] }, KeySetError::DuplicateKid("a".into())),
        ];
        for (set, expected) in cases {
            assert_eq!(PrivateJwkSet::from_json(&serde_json::to_string(&set).unwrap()).unwrap_err(), expected);
        }
        assert!(matches!(PrivateJwkSet::from_json("{\"keys\": 1}"), Err(KeySetError::Malformed(_))));
    }

    #[test]
    fn public_sets_are_checked_like_private_ones() {
        let set = PrivateJwkSet { keys: vec![PrivateJwk::generate("a").unwrap()] }.public();
        assert_eq!(PublicJwkSet::from_json(&serde_json::to_string(&set).unwrap()).unwrap(), set);
        let short = PublicJwk { x: "AAAA".into(), ..set.keys[0].clone() };
        for (bad, expected) in [
            (PublicJwkSet { keys: vec![] }, KeySetError::Empty),
            (PublicJwkSet { keys: vec![short] }, KeySetError::BadKey { kid: "a".into() }),
            (
                PublicJwkSet { keys: vec![set.keys[0].clone(), set.keys[0].clone()] },
                KeySetError::DuplicateKid("a".into()),
            ),
        ] {
            assert_eq!(PublicJwkSet::from_json(&serde_json::to_string(&bad).unwrap()).unwrap_err(), expected);
        }
    }

    #[test]
    fn rotation_puts_the_new_key_first_and_keeps_the_recent_ones() {
        let first = PrivateJwkSet { keys: vec![PrivateJwk::generate("2026-01").unwrap()] };
        let second = first.rotated("2026-02", 2).unwrap();
        let third = second.rotated("2026-03", 1).unwrap();
        let kids: Vec<&str> = third.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["2026-03", "2026-02"]);
        assert_eq!(third.keys[1], second.keys[0]);
    }
}

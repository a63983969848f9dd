//! jsonwebtoken's cryptography, reduced to the HMAC family.
//!
//! jsonwebtoken's `rust_crypto` provider links RSA, ECDSA and EdDSA into every binary
//! (chosen at run time from the token header, so the linker cannot drop them), although
//! we only ever sign and accept HS256. This provider hands jsonwebtoken the same RustCrypto
//! `hmac` and `sha2` crates the cursors already use, and nothing else: the bootstraps are
//! smaller and an RS256 or ES256 token cannot reach an asymmetric code path at all.
//! HS384 and HS512 stay signable so the tests can prove such tokens are refused.
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error as SignatureError, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Sha256, Sha384, Sha512};

static PROVIDER: CryptoProvider =
    CryptoProvider { signer_factory, verifier_factory, key_utils: KeyUtils::new_unimplemented() };

/// Makes this the process's provider. Idempotent: every `TokenService::new` calls it.
pub fn install() {
    // Err only means a provider is installed already, and only this module installs one.
    let _ = PROVIDER.install_default();
}

/// One keyed HMAC for one algorithm: signs, and verifies in constant time.
enum HmacKey {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
}

impl HmacKey {
    fn new(algorithm: Algorithm, secret: &[u8]) -> Result<Self> {
        let invalid = |_| ErrorKind::InvalidKeyFormat;
        Ok(match algorithm {
            Algorithm::HS256 => Self::Hs256(KeyInit::new_from_slice(secret).map_err(invalid)?),
            Algorithm::HS384 => Self::Hs384(KeyInit::new_from_slice(secret).map_err(invalid)?),
            Algorithm::HS512 => Self::Hs512(KeyInit::new_from_slice(secret).map_err(invalid)?),
            _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
        })
    }

    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Hs256(_) => Algorithm::HS256,
            Self::Hs384(_) => Algorithm::HS384,
            Self::Hs512(_) => Algorithm::HS512,
        }
    }
}

fn mac<M: Mac + Clone>(key: &M, message: &[u8]) -> M {
    let mut mac = key.clone();
    mac.update(message);
    mac
}

impl Signer<Vec<u8>> for HmacKey {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, SignatureError> {
        Ok(match self {
            Self::Hs256(key) => mac(key, message).finalize().into_bytes().to_vec(),
            Self::Hs384(key) => mac(key, message).finalize().into_bytes().to_vec(),
            Self::Hs512(key) => mac(key, message).finalize().into_bytes().to_vec(),
        })
    }
}

impl Verifier<Vec<u8>> for HmacKey {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), SignatureError> {
        match self {
            Self::Hs256(key) => mac(key, message).verify_slice(signature),
            Self::Hs384(key) => mac(key, message).verify_slice(signature),
            Self::Hs512(key) => mac(key, message).verify_slice(signature),
        }
        .map_err(|_| SignatureError::new())
    }
}

impl JwtSigner for HmacKey {
    fn algorithm(&self) -> Algorithm {
        HmacKey::algorithm(self)
    }
}

impl JwtVerifier for HmacKey {
    fn algorithm(&self) -> Algorithm {
        HmacKey::algorithm(self)
    }
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Ok(Box::new(HmacKey::new(*algorithm, key.as_bytes())?))
}

fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    Ok(Box::new(HmacKey::new(*algorithm, key.try_get_as_bytes()?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    const KEY: &[u8] = b"Jefe";
    const DATA: &[u8] = b"what do ya want for nothing?";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn matches_the_rfc_4231_vectors() {
        let cases = [
            (Algorithm::HS256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (
                Algorithm::HS512,
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
        ];
        for (algorithm, expected) in cases {
            let key = HmacKey::new(algorithm, KEY).unwrap();
            let tag = key.try_sign(DATA).unwrap();
            assert_eq!(hex(&tag), expected);
            assert!(key.verify(DATA, &tag).is_ok());
            let mut flipped = tag.clone();
            flipped[0] ^= 1;
            assert!(key.verify(DATA, &flipped).is_err());
            assert!(key.verify(DATA, &tag[..tag.len() - 1].to_vec()).is_err());
        }
    }

    #[test]
    fn refuses_every_non_hmac_algorithm() {
        for algorithm in [Algorithm::RS256, Algorithm::ES256, Algorithm::PS256, Algorithm::EdDSA] {
            assert!(HmacKey::new(algorithm, KEY).is_err(), "{algorithm:?}");
        }
    }
}

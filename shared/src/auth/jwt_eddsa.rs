//! jsonwebtoken's cryptography, reduced to Ed25519 (JWS `alg: EdDSA`) on ring.
//!
//! jsonwebtoken's own providers link RSA, ECDSA and HMAC into every binary (chosen at run
//! time from the token header, so the linker cannot drop them), although we only ever sign
//! and accept EdDSA. This provider knows EdDSA alone, on `ring`, which rustls already
//! brings: a token of any other algorithm cannot reach any other code path at all.
//!
//! jsonwebtoken hands a key's bytes to the provider untouched: an [`EncodingKey`] here
//! holds the JWK's `d` then `x` (ring checks one against the other), a [`DecodingKey`] the
//! public `x` (from `DecodingKey::from_ed_components`).
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error as SignatureError, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};

static PROVIDER: CryptoProvider =
    CryptoProvider { signer_factory, verifier_factory, key_utils: KeyUtils::new_unimplemented() };

/// Ed25519 private and public keys are 32 bytes each (RFC 8032).
const KEY_BYTES: usize = 32;

/// Makes this the process's provider. Idempotent: every `TokenService::new` calls it.
pub fn install() {
    // Err only means a provider is installed already, and only this module installs one.
    let _ = PROVIDER.install_default();
}

/// The bytes an [`EncodingKey`] of this provider holds: `d` then `x`.
pub fn encoding_key(d: &[u8], x: &[u8]) -> EncodingKey {
    EncodingKey::from_ed_der(&[d, x].concat())
}

struct Ed25519Signer(Ed25519KeyPair);

struct Ed25519Verifier(Vec<u8>);

impl Signer<Vec<u8>> for Ed25519Signer {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, SignatureError> {
        Ok(self.0.sign(message).as_ref().to_vec())
    }
}

impl Verifier<Vec<u8>> for Ed25519Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), SignatureError> {
        UnparsedPublicKey::new(&ED25519, &self.0).verify(message, signature).map_err(|_| SignatureError::new())
    }
}

impl JwtSigner for Ed25519Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

impl JwtVerifier for Ed25519Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if *algorithm != Algorithm::EdDSA {
        return Err(ErrorKind::UnsupportedAlgorithm.into());
    }
    let (d, x) = key.as_bytes().split_at_checked(KEY_BYTES).ok_or(ErrorKind::InvalidKeyFormat)?;
    let pair = Ed25519KeyPair::from_seed_and_public_key(d, x).map_err(|_| ErrorKind::InvalidKeyFormat)?;
    Ok(Box::new(Ed25519Signer(pair)))
}

fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *algorithm != Algorithm::EdDSA {
        return Err(ErrorKind::UnsupportedAlgorithm.into());
    }
    let x = key.try_get_as_bytes()?;
    if x.len() != KEY_BYTES {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(Ed25519Verifier(x.to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    // RFC 8032, section 7.1, TEST 2: a one-byte message.
    const D: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
    const X: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    const SIGNATURE: &str = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

    #[test]
    fn matches_the_rfc_8032_vector() {
        let signer = signer_factory(&Algorithm::EdDSA, &encoding_key(&hex(D), &hex(X))).unwrap();
        assert_eq!(signer.try_sign(&[0x72]).unwrap(), hex(SIGNATURE));
        let public = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(hex(X))).unwrap();
        let verifier = verifier_factory(&Algorithm::EdDSA, &public).unwrap();
        assert!(verifier.verify(&[0x72], &hex(SIGNATURE)).is_ok());
        assert!(verifier.verify(&[0x73], &hex(SIGNATURE)).is_err());
    }

    #[test]
    fn no_other_algorithm_and_no_mismatched_key_is_usable() {
        let key = encoding_key(&hex(D), &hex(X));
        for algorithm in [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256] {
            assert!(signer_factory(&algorithm, &key).is_err(), "{algorithm:?}");
            assert!(verifier_factory(&algorithm, &DecodingKey::from_secret(b"k")).is_err(), "{algorithm:?}");
        }
        let mut wrong_x = hex(X);
        wrong_x[0] ^= 1;
        assert!(signer_factory(&Algorithm::EdDSA, &encoding_key(&hex(D), &wrong_x)).is_err());
        assert!(verifier_factory(&Algorithm::EdDSA, &DecodingKey::from_secret(b"short")).is_err());
    }
}

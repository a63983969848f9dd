//! jsonwebtoken's cryptography, reduced to what we use, on ring: Ed25519 (JWS `alg:
//! EdDSA`) to sign and verify our access tokens, and RSA PKCS#1 v1.5 with SHA-256 (`RS256`)
//! to verify Google's ID tokens, never to sign.
//!
//! jsonwebtoken's own providers link RSA signing, ECDSA and HMAC into every binary (chosen
//! at run time from the token header, so the linker cannot drop them). This one knows the
//! two algorithms alone, on `ring`, which rustls already brings; and each caller still pins
//! its own (`Validation` lists one algorithm, and the key's family must match it).
//!
//! jsonwebtoken hands a key's bytes to the provider untouched: an [`EncodingKey`] here
//! holds the JWK's `d` then `x` (ring checks one against the other), an Ed25519
//! [`DecodingKey`] the public `x` (from `DecodingKey::from_ed_components`), an RSA one its
//! modulus and exponent (from `DecodingKey::from_rsa_components`).
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error as SignatureError, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature::{ED25519, Ed25519KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey};

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

/// An RSA public key: modulus and exponent, big-endian.
struct Rs256Verifier {
    n: Vec<u8>,
    e: Vec<u8>,
}

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

impl Verifier<Vec<u8>> for Rs256Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), SignatureError> {
        // Moduli of 2048 to 8192 bits only: ring refuses anything weaker.
        RsaPublicKeyComponents { n: &self.n, e: &self.e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            .map_err(|_| SignatureError::new())
    }
}

impl JwtVerifier for Rs256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
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
    match (algorithm, key.family(), key.kind()) {
        (Algorithm::EdDSA, AlgorithmFamily::Ed, DecodingKeyKind::SecretOrDer(x)) if x.len() == KEY_BYTES => {
            Ok(Box::new(Ed25519Verifier(x.clone())))
        }
        (Algorithm::RS256, AlgorithmFamily::Rsa, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            Ok(Box::new(Rs256Verifier { n: n.clone(), e: e.clone() }))
        }
        (Algorithm::EdDSA | Algorithm::RS256, _, _) => Err(ErrorKind::InvalidKeyFormat.into()),
        _ => Err(ErrorKind::UnsupportedAlgorithm.into()),
    }
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
        let ed25519 = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(hex(X))).unwrap();
        assert!(verifier_factory(&Algorithm::RS256, &ed25519).is_err(), "an RS256 token never meets an Ed25519 key");
        assert!(signer_factory(&Algorithm::RS256, &key).is_err(), "RSA only verifies");
    }

    #[test]
    fn verifies_rs256_signatures_made_by_an_rsa_key() {
        let issuer = crate::testing::GoogleTestKeys::load();
        let message = b"header.payload";
        let signature = issuer.sign_raw(0, message);
        let verifier = verifier_factory(&Algorithm::RS256, &issuer.decoding_key(0)).unwrap();
        assert!(verifier.verify(message, &signature).is_ok());
        assert!(verifier.verify(b"header.payloaD", &signature).is_err());
        let other = verifier_factory(&Algorithm::RS256, &issuer.decoding_key(1)).unwrap();
        assert!(other.verify(message, &signature).is_err(), "another key's signature fails");
        let weak = DecodingKey::from_rsa_raw_components(&[0xc5; 128], &[1, 0, 1]);
        let weak = verifier_factory(&Algorithm::RS256, &weak).unwrap();
        assert!(weak.verify(message, &signature).is_err(), "a 1024-bit modulus is refused");
    }
}

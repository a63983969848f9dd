//! Fetching Google's JWK Set: one GET, bounded in time and size, its RSA signing keys
//! read with jsonwebtoken's JWK types, and its freshness from `Cache-Control: max-age`.
use std::collections::HashMap;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};

use super::key_cache::FetchedKeys;
use crate::https::HttpsClient;

/// A fetch that takes longer fails: the sign-in answers 503 well within the function's timeout.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// Google's set is a few kilobytes; a larger answer is not one.
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Freshness when the answer states none.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// However long the answer says, keys are fetched again within a day.
const MAX_MAX_AGE: Duration = Duration::from_secs(86_400);

pub async fn fetch(client: &HttpsClient, url: &str) -> Result<FetchedKeys, String> {
    let request = hyper::Request::get(url).body(Full::new(Bytes::new())).map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(FETCH_TIMEOUT, async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let max_age = response.headers().get(hyper::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).map(max_age);
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES).collect().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((status, max_age.flatten(), body.to_bytes()))
    })
    .await
    .map_err(|_| format!("no answer within {FETCH_TIMEOUT:?}"))??;
    let (status, max_age, body) = response;
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    let keys = rsa_signing_keys(&body)?;
    Ok(FetchedKeys { keys, max_age: max_age.unwrap_or(DEFAULT_MAX_AGE).min(MAX_MAX_AGE) })
}

/// The RS256 signing keys of a JWK Set, by `kid`; keys for anything else are skipped.
fn rsa_signing_keys(body: &[u8]) -> Result<HashMap<String, DecodingKey>, String> {
    let set: JwkSet = serde_json::from_slice(body).map_err(|e| format!("not a JWK Set: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in set.keys {
        let common = &jwk.common;
        let for_rs256 = matches!(common.key_algorithm, None | Some(KeyAlgorithm::RS256));
        let for_signing = matches!(common.public_key_use, None | Some(PublicKeyUse::Signature));
        if let (AlgorithmParameters::RSA(rsa), Some(kid), true, true) =
            (&jwk.algorithm, &common.key_id, for_rs256, for_signing)
        {
            let key = DecodingKey::from_rsa_components(&rsa.n, &rsa.e).map_err(|e| format!("key {kid}: {e}"))?;
            keys.insert(kid.clone(), key);
        }
    }
    if keys.is_empty() {
        return Err("the JWK Set holds no RS256 signing key".to_owned());
    }
    Ok(keys)
}

/// `max-age` of a `Cache-Control` value, if it states one.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let (name, value) = directive.trim().split_once('=')?;
        name.trim().eq_ignore_ascii_case("max-age").then(|| value.trim().parse().ok().map(Duration::from_secs))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("public, max-age=19850, must-revalidate, no-transform"), Some(Duration::from_secs(19_850)));
        assert_eq!(max_age("Max-Age = 0"), Some(Duration::ZERO));
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }

    #[test]
    fn only_rs256_signing_keys_with_a_kid_are_kept() {
        let n = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "good", "n": n, "e": "AQAB"},
            {"kty": "RSA", "n": n, "e": "AQAB", "kid": "no-alg-or-use"},
            {"kty": "RSA", "alg": "RS256", "use": "enc", "kid": "encryption", "n": n, "e": "AQAB"},
            {"kty": "RSA", "alg": "RS512", "kid": "other-alg", "n": n, "e": "AQAB"},
            {"kty": "RSA", "alg": "RS256", "n": n, "e": "AQAB"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        ]});
        let mut kids: Vec<String> = rsa_signing_keys(body.to_string().as_bytes()).unwrap().into_keys().collect();
        kids.sort();
        assert_eq!(kids, ["good", "no-alg-or-use"]);
        assert!(rsa_signing_keys(br#"{"keys": []}"#).is_err());
        assert!(rsa_signing_keys(b"<html>").is_err());
    }
}

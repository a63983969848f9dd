//! Google ID tokens: every rule of `shared::google` against a local JWKS server and test
//! keys, and the key cache (fetches counted on the server).
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use shared::config::GoogleConfig;
use shared::google::{GoogleError, GoogleSignIn};
use shared::testing::{FakeGoogle, GoogleTestKeys, TEST_GOOGLE_CLIENT_ID, google_claims};

fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

#[tokio::test]
async fn a_valid_token_names_the_google_account() {
    let google = FakeGoogle::start(&[0]).await;
    let sign_in = GoogleSignIn::new(google.config());
    let keys = GoogleTestKeys::load();
    let identity = sign_in.verify(&keys.id_token(0, &google_claims("1234567890", "ada@example.com"))).await.unwrap();
    assert_eq!(identity.sub, "1234567890");
    assert_eq!(identity.email.as_deref(), Some("ada@example.com"));
    assert!(identity.email_verified);
    assert_eq!(identity.name.as_deref(), Some("Ada Lovelace"));

    let plain_issuer = with(google_claims("1", "a@example.com"), json!({"iss": "accounts.google.com"}));
    assert!(sign_in.verify(&keys.id_token(0, &plain_issuer)).await.is_ok(), "both of Google's issuer spellings");
    let unverified = with(google_claims("1", "a@example.com"), json!({"email_verified": "false"}));
    assert!(!sign_in.verify(&keys.id_token(0, &unverified)).await.unwrap().email_verified);
    let second_client = GoogleConfig {
        client_ids: vec!["other.apps.googleusercontent.com".into(), TEST_GOOGLE_CLIENT_ID.into()],
        ..google.config()
    };
    let token = keys.id_token(0, &google_claims("1", "a@example.com"));
    assert!(GoogleSignIn::new(second_client).verify(&token).await.is_ok(), "any configured client ID");
}

#[tokio::test]
async fn every_broken_rule_refuses_the_token() {
    let google = FakeGoogle::start(&[0]).await;
    let sign_in = GoogleSignIn::new(google.config());
    let keys = GoogleTestKeys::load();
    let valid = || google_claims("1234567890", "ada@example.com");
    let header = |alg: &str| json!({"alg": alg, "kid": keys.kid(0), "typ": "JWT"});
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());

    let unsigned = format!("{}.{}.", encode(&header("none")), encode(&valid()));
    let hs256_input = format!("{}.{}", encode(&header("HS256")), encode(&valid()));
    let jwks = keys.jwks(&[0]);
    let public_key_as_secret = jwks["keys"][0]["n"].as_str().unwrap().as_bytes();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(public_key_as_secret).unwrap();
    mac.update(hs256_input.as_bytes());
    let hs256 = format!("{hs256_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    let other_key_signed = keys.token_with_header(1, &header("RS256"), &valid());
    let unknown_kid = keys.token_with_header(0, &json!({"alg": "RS256", "kid": "not-google"}), &valid());
    let no_kid = keys.token_with_header(0, &json!({"alg": "RS256"}), &valid());
    let mut tampered = keys.id_token(0, &valid());
    let payload_starts = tampered.find('.').unwrap() + 1;
    tampered.replace_range(payload_starts..payload_starts + 4, &encode(&json!({"sub": "2"}))[..4]);

    let cases: Vec<(&str, String)> = vec![
        ("alg none", unsigned),
        ("HS256 signed with the public key", hs256),
        ("RS256 by a key that is not the kid's", other_key_signed),
        ("unknown kid", unknown_kid),
        ("no kid", no_kid),
        ("tampered payload", tampered),
        ("garbage", "not.a.token".into()),
        ("empty", String::new()),
        ("wrong audience", keys.id_token(0, &with(valid(), json!({"aud": "someone-else.apps.googleusercontent.com"})))),
        ("wrong issuer", keys.id_token(0, &with(valid(), json!({"iss": "https://evil.example"})))),
        ("expired", keys.id_token(0, &with(valid(), json!({"exp": now() - 120})))),
        ("string exp", keys.id_token(0, &with(valid(), json!({"exp": (now() + 3600).to_string()})))),
        ("no exp", keys.id_token(0, &with(valid(), json!({"exp": null})))),
        ("string iat", keys.id_token(0, &with(valid(), json!({"iat": now().to_string()})))),
        ("no iat", keys.id_token(0, &with(valid(), json!({"iat": null})))),
        ("issued in the future", keys.id_token(0, &with(valid(), json!({"iat": now() + 600})))),
        ("not valid yet", keys.id_token(0, &with(valid(), json!({"nbf": now() + 600})))),
        ("string nbf", keys.id_token(0, &with(valid(), json!({"nbf": now().to_string()})))),
        ("missing sub", keys.id_token(0, &with(valid(), json!({"sub": null})))),
        ("empty sub", keys.id_token(0, &with(valid(), json!({"sub": ""})))),
        ("sub with a control character", keys.id_token(0, &with(valid(), json!({"sub": "12\n34"})))),
        ("numeric sub", keys.id_token(0, &with(valid(), json!({"sub": 1234})))),
    ];
    for (case, token) in cases {
        match sign_in.verify(&token).await {
            Err(GoogleError::Rejected(_)) => {}
            other => panic!("{case}: {other:?}"),
        }
    }
    assert!(sign_in.verify(&keys.id_token(0, &valid())).await.is_ok(), "and the valid token still passes");
}

#[tokio::test]
async fn without_client_ids_google_sign_in_is_off() {
    let google = FakeGoogle::start(&[0]).await;
    let off = GoogleSignIn::new(GoogleConfig { client_ids: vec![], ..google.config() });
    let token = GoogleTestKeys::load().id_token(0, &google_claims("1", "a@example.com"));
    assert!(matches!(off.verify(&token).await, Err(GoogleError::NotConfigured)));
    assert_eq!(google.fetches(), 0);
}

#[tokio::test]
async fn keys_are_cached_for_their_max_age_and_a_rotation_is_picked_up() {
    let google = FakeGoogle::start(&[0]).await;
    let sign_in = GoogleSignIn::new(google.config());
    let keys = GoogleTestKeys::load();
    let by = |index| keys.id_token(index, &google_claims("1", "a@example.com"));
    sign_in.verify(&by(0)).await.unwrap();
    sign_in.verify(&by(0)).await.unwrap();
    assert_eq!(google.fetches(), 1, "cached for max-age=3600");

    google.publish(&[0, 1]);
    sign_in.verify(&by(1)).await.unwrap();
    assert_eq!(google.fetches(), 2, "a new kid refetches at once");
    let unknown = keys.token_with_header(0, &json!({"alg": "RS256", "kid": "made-up"}), &google_claims("1", "a@x.co"));
    assert!(matches!(sign_in.verify(&unknown).await, Err(GoogleError::Rejected(_))));
    assert_eq!(google.fetches(), 3, "an unknown kid refetches once before refusal");
    for _ in 0..3 {
        assert!(matches!(sign_in.verify(&unknown).await, Err(GoogleError::Rejected(_))));
    }
    google.publish(&[1]);
    assert!(sign_in.verify(&by(0)).await.is_ok(), "the cache still holds key 0 until it goes stale");
    assert_eq!(google.fetches(), 3, "unknown kids refetch at most once per interval");

    let uncached = FakeGoogle::start(&[0]).await;
    uncached.set_cache_control(Some("no-cache, max-age=0"));
    let sign_in = GoogleSignIn::new(uncached.config());
    sign_in.verify(&by(0)).await.unwrap();
    sign_in.verify(&by(0)).await.unwrap();
    assert_eq!(uncached.fetches(), 2, "max-age=0 is fetched every time");
}

#[tokio::test]
async fn unreachable_keys_are_a_distinct_error() {
    let google = FakeGoogle::start(&[0]).await;
    google.set_failing(true);
    let sign_in = GoogleSignIn::new(google.config());
    let token = GoogleTestKeys::load().id_token(0, &google_claims("1", "a@example.com"));
    assert!(matches!(sign_in.verify(&token).await, Err(GoogleError::KeysUnavailable(_))));
    google.set_failing(false);
    assert!(sign_in.verify(&token).await.is_ok(), "and it recovers with the server");

    let closed = GoogleConfig { jwks_url: "http://127.0.0.1:9/certs".into(), ..google.config() };
    assert!(matches!(GoogleSignIn::new(closed).verify(&token).await, Err(GoogleError::KeysUnavailable(_))));
}

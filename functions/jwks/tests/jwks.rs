use lambda_http::http::StatusCode;
use shared::testing::{TestRequest, body_json, call, dev_signing_keys, in_memory_app};

#[tokio::test]
async fn serves_the_public_keys_and_nothing_private() {
    let app = in_memory_app();
    let response = call(jwks::handle, &app, TestRequest::new("GET", "/.well-known/jwks.json").http_api()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let body = body_json(&response);
    let expected = serde_json::to_value(dev_signing_keys().public()).unwrap();
    assert_eq!(body, expected);
    assert_eq!(body["keys"][0]["alg"], "EdDSA");
    for key in dev_signing_keys().keys {
        assert!(!body.to_string().contains(&key.d), "no private key");
    }
    // A token issued by the app verifies with a key from the set, by its kid.
    let token = app.tokens.issue("01USER", "Ada", "01SESSION").await.unwrap().token;
    let kid = token.split('.').next().map(|h| {
        use base64::Engine;
        let header: serde_json::Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
        header["kid"].as_str().unwrap().to_owned()
    });
    assert!(body["keys"].as_array().unwrap().iter().any(|k| k["kid"].as_str() == kid.as_deref()));
}

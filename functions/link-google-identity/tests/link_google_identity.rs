//! `POST /me/identities/google` on the embedded store, with a local stand-in for Google's keys.
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::testing::{
    GoogleTestKeys, TestRequest, body_json, call, google_app, google_claims, in_memory_app, user_with_token,
};

fn link_request(bearer: Option<&str>, credential: &str) -> lambda_http::Request {
    let request = TestRequest::new("POST", "/me/identities/google").json(&json!({ "credential": credential }));
    match bearer {
        Some(token) => request.bearer(token).http_api(),
        None => request.http_api(),
    }
}

fn token(claims: &Value) -> String {
    GoogleTestKeys::load().id_token(0, claims)
}

#[tokio::test]
async fn links_a_google_account_to_the_signed_in_one_once() {
    let (app, _google) = google_app().await;
    let (ada, bearer) = user_with_token(&app, "ada@example.com", "Ada").await;
    // The Google account's email need not be the account's: holding it is what counts.
    let credential = token(&google_claims("7", "ada.personal@gmail.com"));
    let linked = call(link_google_identity::handle, &app, link_request(Some(&bearer), &credential)).await;
    assert_eq!(linked.status(), StatusCode::OK);
    assert_eq!(linked.headers()["cache-control"], "no-store");
    let user = &body_json(&linked)["user"];
    assert_eq!(
        (user["id"].as_str(), &user["sign_in_methods"]),
        (Some(ada.id.as_str()), &json!(["password", "google"]))
    );
    let again = call(link_google_identity::handle, &app, link_request(Some(&bearer), &credential)).await;
    assert_eq!((again.status(), body_json(&again)["user"].clone()), (StatusCode::OK, user.clone()), "idempotent");
    let me = call(me::handle, &app, TestRequest::new("GET", "/me").bearer(&bearer).http_api()).await;
    assert_eq!(body_json(&me)["user"]["sign_in_methods"], json!(["password", "google"]));

    let (_, grace) = user_with_token(&app, "grace@example.com", "Grace").await;
    let taken = call(link_google_identity::handle, &app, link_request(Some(&grace), &credential)).await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&taken)["error"]["code"], "identity_taken");
}

#[tokio::test]
async fn it_needs_a_login_a_valid_credential_and_google_sign_in_on() {
    let (app, _google) = google_app().await;
    let (_, bearer) = user_with_token(&app, "ada@example.com", "Ada").await;
    let credential = token(&google_claims("8", "ada@example.com"));
    let anonymous = call(link_google_identity::handle, &app, link_request(None, &credential)).await;
    assert_eq!(
        (anonymous.status(), body_json(&anonymous)["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("unauthorized"))
    );
    let mut claims = google_claims("8", "ada@example.com");
    claims["aud"] = json!("other.apps.googleusercontent.com");
    let refused = call(link_google_identity::handle, &app, link_request(Some(&bearer), &token(&claims))).await;
    assert_eq!(
        (refused.status(), body_json(&refused)["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_credentials"))
    );

    let off = in_memory_app();
    let (_, off_bearer) = user_with_token(&off, "ada@example.com", "Ada").await;
    let disabled = call(link_google_identity::handle, &off, link_request(Some(&off_bearer), &credential)).await;
    assert_eq!(
        (disabled.status(), body_json(&disabled)["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("google_sign_in_disabled"))
    );
}

use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::auth::hash_password;
use shared::model::{Credentials, Identity, Secret, User, now};
use shared::store::{IdentityStore, LoginStore, PostStore, Rotation, UserStore};
use shared::testing::{
    GoogleTestKeys, TestRequest, body_json, call, google_app, google_claims, in_memory_app, new_session, password_user,
    present_refresh_token, stored_post,
};

const PASSWORD: &str = "correct horse battery staple";

fn delete_me(bearer: &str, body: &Value) -> lambda_http::Request {
    TestRequest::new("DELETE", "/me").bearer(bearer).json(body).http_api()
}

fn code(response: &lambda_http::Response<lambda_http::Body>) -> Value {
    body_json(response)["error"]["code"].clone()
}

/// An account with `PASSWORD`, and an access token of a session of it.
async fn account<S: shared::store::Store>(app: &shared::app::App<S>, email: &str) -> (User, Value) {
    let user = password_user(email, "Ada", now());
    let password_hash = Some(hash_password(Secret::from(PASSWORD)).await.unwrap());
    app.store.create_user(&Credentials { user: user.clone(), password_hash }, None).await.unwrap();
    let session = new_session(app, &user, None).await;
    (user, session)
}

fn bearer(session: &Value) -> &str {
    session["access_token"].as_str().unwrap()
}

#[tokio::test]
async fn the_password_deletes_the_account_and_everything_it_owns() {
    let app = in_memory_app();
    let (ada, session) = account(&app, "ada@example.com").await;
    let post = stored_post(&app, &ada, "Soon gone").await;
    let wrong = call(delete_account::handle, &app, delete_me(bearer(&session), &json!({ "password": "not it" }))).await;
    assert_eq!((wrong.status(), code(&wrong)), (StatusCode::UNAUTHORIZED, json!("invalid_credentials")));
    assert!(app.store.get_user(&ada.id).await.unwrap().is_some(), "a wrong password deletes nothing");

    let deleted =
        call(delete_account::handle, &app, delete_me(bearer(&session), &json!({ "password": PASSWORD }))).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.store.get_user(&ada.id).await.unwrap(), None);
    assert_eq!(app.store.login_state("ada@example.com", &[], None).await.unwrap().credentials, None);
    assert_eq!(app.store.get_post(&post.id).await.unwrap(), None);
    assert_eq!(present_refresh_token(&app, &session).await, Rotation::Refused);
    let again = call(delete_account::handle, &app, delete_me(bearer(&session), &json!({ "password": PASSWORD }))).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "the token outlives its account, which is gone");
}

#[tokio::test]
async fn a_wrong_password_counts_as_a_failed_login() {
    let app = in_memory_app();
    let (_, session) = account(&app, "ada@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = call(delete_account::handle, &app, delete_me(bearer(&session), &json!({ "password": "nope" })));
        statuses.push(response.await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
}

#[tokio::test]
async fn a_google_account_is_deleted_with_a_fresh_credential_of_its_own() {
    let (app, _google) = google_app().await;
    let (ada, session) = account(&app, "ada@example.com").await;
    app.store.link_identity(&ada, &Identity::google("71")).await.unwrap();
    let keys = GoogleTestKeys::load();
    let someone_else = keys.id_token(0, &google_claims("72", "other@gmail.com"));
    let refused =
        call(delete_account::handle, &app, delete_me(bearer(&session), &json!({ "credential": someone_else }))).await;
    assert_eq!((refused.status(), code(&refused)), (StatusCode::UNAUTHORIZED, json!("invalid_credentials")));

    let own = keys.id_token(0, &google_claims("71", "ada@gmail.com"));
    let deleted = call(delete_account::handle, &app, delete_me(bearer(&session), &json!({ "credential": own }))).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.store.user_by_identity(&Identity::google("71")).await.unwrap(), None);
}

#[tokio::test]
async fn a_proof_is_required_and_only_one() {
    let app = in_memory_app();
    let (_, session) = account(&app, "ada@example.com").await;
    for body in [json!({}), json!({ "password": PASSWORD, "credential": "x" }), json!({ "credential": "" })] {
        let response = call(delete_account::handle, &app, delete_me(bearer(&session), &body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let anonymous = TestRequest::new("DELETE", "/me").json(&json!({ "password": PASSWORD })).http_api();
    assert_eq!(call(delete_account::handle, &app, anonymous).await.status(), StatusCode::UNAUTHORIZED);
}

use lambda_http::http::StatusCode;
use serde_json::json;
use shared::auth::throttle::AttemptCounter;
use shared::auth::verify_password;
use shared::model::{MailRequest, Secret};
use shared::store::{LoginStore, Rotation};
use shared::testing::{
    TestRequest, body_json, call, deliver_now, in_memory_app, new_session, present_refresh_token, token_in,
    user_with_token,
};

const NEW_PASSWORD: &str = "a brand new passphrase";

fn reset(token: &str, new_password: &str) -> lambda_http::Request {
    TestRequest::new("POST", "/password/reset")
        .json(&json!({ "token": token, "new_password": new_password }))
        .http_api()
}

fn code(response: &lambda_http::Response<lambda_http::Body>) -> serde_json::Value {
    body_json(response)["error"]["code"].clone()
}

#[tokio::test]
async fn the_mailed_link_sets_a_new_password_once_and_ends_every_session() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let sessions = [new_session(&app, &ada, None).await, new_session(&app, &ada, None).await];
    let message = deliver_now(&app.store, &MailRequest::ResetPassword { email: ada.email.clone() }).await;
    let token = token_in(&message);

    let weak = call(reset_password::handle, &app, reset(&token, "password123")).await;
    assert_eq!((weak.status(), code(&weak)), (StatusCode::UNPROCESSABLE_ENTITY, json!("validation_failed")));

    let response = call(reset_password::handle, &app, reset(&token, NEW_PASSWORD)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let login = app.store.login_state("ada@example.com", &[], None).await.unwrap().credentials.unwrap();
    assert!(verify_password(Secret::from(NEW_PASSWORD), login.password_hash).await.unwrap());
    assert!(login.user.email_verified, "the link reached the address");
    for session in &sessions {
        assert_eq!(present_refresh_token(&app, session).await, Rotation::Refused, "every session ended");
    }

    let again = call(reset_password::handle, &app, reset(&token, "yet another passphrase")).await;
    assert_eq!((again.status(), code(&again)), (StatusCode::BAD_REQUEST, json!("invalid_token")));
}

#[tokio::test]
async fn a_reset_clears_the_accounts_lockout() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let lockout = AttemptCounter::Account { email: ada.email.clone() };
    app.store.reserve_attempt(&lockout, None, shared::model::now()).await.unwrap();
    let message = deliver_now(&app.store, &MailRequest::ResetPassword { email: ada.email.clone() }).await;
    assert_eq!(call(reset_password::handle, &app, reset(&token_in(&message), NEW_PASSWORD)).await.status(), 204);
    let state = app.store.login_state(&ada.email, std::slice::from_ref(&lockout), None).await.unwrap();
    assert_eq!(state.attempts_on(&lockout), None);
}

#[tokio::test]
async fn other_tokens_are_refused_before_any_work() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let verification = deliver_now(&app.store, &MailRequest::VerifyEmail { user_id: ada.id.clone() }).await;
    for token in [token_in(&verification), "never-mailed".to_owned()] {
        let response = call(reset_password::handle, &app, reset(&token, NEW_PASSWORD)).await;
        assert_eq!((response.status(), code(&response)), (StatusCode::BAD_REQUEST, json!("invalid_token")), "{token}");
    }
    let missing = TestRequest::new("POST", "/password/reset").json(&json!({ "new_password": NEW_PASSWORD })).http_api();
    let response = call(reset_password::handle, &app, missing).await;
    assert_eq!(body_json(&response)["error"]["details"][0]["field"], "token");
}

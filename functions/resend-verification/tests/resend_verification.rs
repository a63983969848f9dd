use lambda_http::http::{StatusCode, header};
use shared::model::{Credentials, MAIL_INTERVAL, MailRequest, now};
use shared::store::{MailStore, UserStore};
use shared::testing::{
    TestRequest, body_json, call, deliver_now, in_memory_app, password_user, token_in, user_with_token,
};

fn resend(token: &str) -> lambda_http::Request {
    TestRequest::new("POST", "/email/verify/resend").bearer(token).http_api()
}

#[tokio::test]
async fn asks_for_a_new_link_at_most_once_an_interval() {
    let app = in_memory_app();
    // Signed up long enough ago that signup's own message is outside the interval.
    let created_at = now() - MAIL_INTERVAL - time::Duration::seconds(1);
    let user = password_user("ada@example.com", "Ada", created_at);
    app.store.create_user(&Credentials { user: user.clone(), password_hash: None }, None).await.unwrap();
    let token = app.tokens.issue(&user.id, "Ada", "01SESSION").await.unwrap().token;

    let response = call(resend_verification::handle, &app, resend(&token)).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(body_json(&response)["status"], "sending");

    let too_soon = call(resend_verification::handle, &app, resend(&token)).await;
    assert_eq!(too_soon.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body_json(&too_soon)["error"]["code"], "too_many_requests");
    let wait = MAIL_INTERVAL.whole_seconds().to_string();
    assert_eq!(too_soon.headers()[header::RETRY_AFTER].to_str().unwrap(), wait);
}

#[tokio::test]
async fn a_verified_email_needs_no_link_and_a_token_is_required() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let message = deliver_now(&app.store, &MailRequest::VerifyEmail { user_id: ada.id.clone() }).await;
    app.store.verify_email(&shared::auth::mailed_token_hash(&token_in(&message)), now()).await.unwrap().unwrap();
    let response = call(resend_verification::handle, &app, resend(&token)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&response)["error"]["code"], "email_already_verified");

    let anonymous = TestRequest::new("POST", "/email/verify/resend").http_api();
    assert_eq!(call(resend_verification::handle, &app, anonymous).await.status(), StatusCode::UNAUTHORIZED);
}

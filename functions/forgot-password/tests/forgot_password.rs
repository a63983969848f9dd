use lambda_http::http::{StatusCode, header};
use serde_json::json;
use shared::mail::{Delivery, deliver};
use shared::model::{Credentials, MailRequest, SignInMethod, User, new_id, now};
use shared::store::UserStore;
use shared::testing::{
    RecordingMailer, TestRequest, body_json, call, deliver_now, in_memory_app, test_links, token_in, user_with_token,
};

fn forgot(email: &str, address: &str) -> lambda_http::Request {
    TestRequest::new("POST", "/password/forgot").json(&json!({ "email": email })).source_ip(address).http_api()
}

#[tokio::test]
async fn known_and_unknown_emails_get_the_same_answer_and_only_an_account_gets_mail() {
    let app = in_memory_app();
    user_with_token(&app, "ada@example.com", "Ada").await;
    let known = call(forgot_password::handle, &app, forgot(" ADA@example.com ", "198.51.100.1")).await;
    let unknown = call(forgot_password::handle, &app, forgot("nobody@example.com", "198.51.100.1")).await;
    for response in [&known, &unknown] {
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(body_json(response), json!({ "status": "sending" }));
    }
    let headers = |response: &lambda_http::Response<lambda_http::Body>| {
        response.headers().iter().map(|(name, value)| (name.clone(), value.clone())).collect::<Vec<_>>()
    };
    assert_eq!(headers(&known), headers(&unknown), "nothing tells them apart");

    let message = deliver_now(&app.store, &MailRequest::ResetPassword { email: "ada@example.com".into() }).await;
    assert_eq!((message.to.as_str(), message.subject.as_str()), ("ada@example.com", "Reset your password"));
    assert!(message.link.0.starts_with("http://127.0.0.1:3000/#/reset-password?token="));
    assert_eq!(token_in(&message).len(), 43);
    let mailer = RecordingMailer::default();
    let nobody = MailRequest::ResetPassword { email: "nobody@example.com".into() };
    let delivery = deliver(&app.store, &mailer, &test_links(), &nobody, now()).await.unwrap();
    assert_eq!(delivery, Delivery::NotNeeded("no account has this email"));
    assert!(mailer.sent().is_empty());
}

#[tokio::test]
async fn one_email_is_asked_for_once_a_minute_and_one_address_ten_times_an_hour() {
    let app = in_memory_app();
    assert_eq!(call(forgot_password::handle, &app, forgot("ada@example.com", "198.51.100.2")).await.status(), 202);
    let again = call(forgot_password::handle, &app, forgot("ada@example.com", "198.51.100.3")).await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body_json(&again)["error"]["code"], "too_many_requests");
    assert_eq!(again.headers()[header::RETRY_AFTER], "60");
    for i in 0..9 {
        let response = call(forgot_password::handle, &app, forgot(&format!("u{i}@example.com"), "198.51.100.2")).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "request {}", i + 2);
    }
    let eleventh = call(forgot_password::handle, &app, forgot("u10@example.com", "198.51.100.2")).await;
    assert_eq!(eleventh.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(eleventh.headers().contains_key(header::RETRY_AFTER));
    let elsewhere = call(forgot_password::handle, &app, forgot("u10@example.com", "198.51.100.4")).await;
    assert_eq!(elsewhere.status(), StatusCode::ACCEPTED, "another address has its own limit");
}

#[tokio::test]
async fn a_malformed_email_is_a_validation_error() {
    let app = in_memory_app();
    for body in [json!({}), json!({ "email": "not-an-email" })] {
        let request = TestRequest::new("POST", "/password/forgot").json(&body).http_api();
        let response = call(forgot_password::handle, &app, request).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
}

#[tokio::test]
async fn an_account_without_a_password_gets_no_reset_link() {
    let app = in_memory_app();
    let created_at = now();
    let user = User {
        id: new_id(created_at),
        email: "google-only@example.com".into(),
        display_name: "Grace".into(),
        created_at,
        sign_in_methods: [SignInMethod::Google].into(),
        email_verified: true,
    };
    app.store.create_user(&Credentials { user, password_hash: None }, None).await.unwrap();
    let mailer = RecordingMailer::default();
    let request = MailRequest::ResetPassword { email: "google-only@example.com".into() };
    let delivery = deliver(&app.store, &mailer, &test_links(), &request, now()).await.unwrap();
    assert_eq!(delivery, Delivery::NotNeeded("the account signs in with Google alone"));
    assert!(mailer.sent().is_empty());
}

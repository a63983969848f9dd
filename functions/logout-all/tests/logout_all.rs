use lambda_http::http::StatusCode;
use shared::store::Rotation;
use shared::testing::{
    TestRequest, access_token, call, in_memory_app, new_session, present_refresh_token, user_with_token,
};

#[tokio::test]
async fn ends_every_session_of_the_account_and_only_those() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let (grace, _) = user_with_token(&app, "grace@example.com", "Grace").await;
    let sessions = [new_session(&app, &ada, None).await, new_session(&app, &ada, None).await];
    let graces = new_session(&app, &grace, None).await;
    let request = TestRequest::new("POST", "/logout/all").bearer(access_token(&sessions[0])).http_api();
    let response = call(logout_all::handle, &app, request).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.body().is_empty());
    for session in &sessions {
        assert_eq!(present_refresh_token(&app, session).await, Rotation::Refused, "this one included");
    }
    assert!(matches!(present_refresh_token(&app, &graces).await, Rotation::Rotated { .. }));
    // Repeating it is harmless.
    let again = TestRequest::new("POST", "/logout/all").bearer(access_token(&sessions[1])).http_api();
    assert_eq!(call(logout_all::handle, &app, again).await.status(), StatusCode::NO_CONTENT);
}

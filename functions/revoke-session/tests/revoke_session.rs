use lambda_http::http::StatusCode;
use shared::app::App;
use shared::model::now;
use shared::store::{EmbeddedStore, Rotation, SessionStore};
use shared::testing::{
    TestRequest, access_token, body_json, call, in_memory_app, new_session, present_refresh_token, user_with_token,
};

fn revoke(id: &str, token: &str) -> lambda_http::Request {
    TestRequest::new("DELETE", "/me/sessions/{id}").path_param("id", id).bearer(token).http_api()
}

async fn session_ids(app: &App<EmbeddedStore>, user_id: &str) -> Vec<String> {
    app.store.list_sessions(user_id, now()).await.unwrap().into_iter().map(|s| s.id).collect()
}

#[tokio::test]
async fn ends_one_of_the_callers_sessions_and_no_one_elses() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let (grace, _) = user_with_token(&app, "grace@example.com", "Grace").await;
    let lost_phone = new_session(&app, &ada, Some("Phone")).await;
    let laptop = new_session(&app, &ada, Some("Laptop")).await;
    let graces = new_session(&app, &grace, None).await;
    let ada_sessions = session_ids(&app, &ada.id).await;
    let grace_session = session_ids(&app, &grace.id).await.remove(0);

    let response = call(revoke_session::handle, &app, revoke(&ada_sessions[0], access_token(&laptop))).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.body().is_empty());
    assert_eq!(present_refresh_token(&app, &lost_phone).await, Rotation::Refused);
    assert_eq!(session_ids(&app, &ada.id).await, [ada_sessions[1].clone()]);

    // Someone else's session, an ended one, and ids that are none: all 404, nothing changes.
    for id in [grace_session.as_str(), ada_sessions[0].as_str(), "01KAQZ8Y4M1W2X3V5T6R7P8N9Z", "not-an-id"] {
        let response = call(revoke_session::handle, &app, revoke(id, access_token(&laptop))).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
        assert_eq!(body_json(&response)["error"]["code"], "not_found");
    }
    assert!(matches!(present_refresh_token(&app, &graces).await, Rotation::Rotated { .. }));
    assert!(matches!(present_refresh_token(&app, &laptop).await, Rotation::Rotated { .. }));
}

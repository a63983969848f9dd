use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::testing::{TestRequest, access_token, body_json, call, in_memory_app, new_session, user_with_token};

fn list(token: &str) -> lambda_http::Request {
    TestRequest::new("GET", "/me/sessions").bearer(token).http_api()
}

#[tokio::test]
async fn lists_the_accounts_sessions_and_marks_the_callers() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let (grace, _) = user_with_token(&app, "grace@example.com", "Grace").await;
    let phone = new_session(&app, &ada, Some("Phone/1.0")).await;
    let laptop = new_session(&app, &ada, Some("Laptop/2.0")).await;
    new_session(&app, &grace, Some("Grace's")).await;
    let response = call(list_sessions::handle, &app, list(access_token(&laptop))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let sessions = body_json(&response)["sessions"].as_array().unwrap().clone();
    let agents: Vec<&Value> = sessions.iter().map(|s| &s["user_agent"]).collect();
    assert_eq!(agents, [&json!("Phone/1.0"), &json!("Laptop/2.0")], "oldest first, this account's only");
    let current: Vec<&Value> = sessions.iter().map(|s| &s["current"]).collect();
    assert_eq!(current, [&json!(false), &json!(true)]);
    for session in &sessions {
        let mut fields: Vec<&str> = session.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["created_at", "current", "id", "last_used_at", "user_agent"]);
    }
    // From the other session, that one is current.
    let response = call(list_sessions::handle, &app, list(access_token(&phone))).await;
    assert_eq!(body_json(&response)["sessions"][0]["current"], true);
}

#[tokio::test]
async fn a_token_from_before_sessions_were_listed_marks_none_current() {
    let app = in_memory_app();
    let (ada, token_without_a_stored_session) = user_with_token(&app, "ada@example.com", "Ada").await;
    new_session(&app, &ada, None).await;
    let response = call(list_sessions::handle, &app, list(&token_without_a_stored_session)).await;
    let body = body_json(&response);
    assert_eq!(body["sessions"][0]["current"], false);
    assert_eq!(body["sessions"][0]["user_agent"], Value::Null, "no User-Agent sent");
}

use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::store::{LoginStore, PostStore, UserStore};
use shared::testing::{TestRequest, body_json, call, in_memory_app, stored_post, user_with_token};

fn rename(token: &str, body: &Value) -> lambda_http::Request {
    TestRequest::new("PATCH", "/me").bearer(token).json(body).http_api()
}

#[tokio::test]
async fn renames_the_account_everywhere_it_is_read_and_new_posts_carry_the_name() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let earlier = stored_post(&app, &ada, "Before the rename").await;
    let response =
        call(update_profile::handle, &app, rename(&token, &json!({"display_name": "  Ada Lovelace "}))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let user = &body_json(&response)["user"];
    assert_eq!((user["id"].as_str(), user["display_name"].as_str()), (Some(ada.id.as_str()), Some("Ada Lovelace")));
    assert_eq!(user["email"], "ada@example.com");
    // The profile (GET /me) and the login record (what login answers with) both changed.
    assert_eq!(app.store.get_user(&ada.id).await.unwrap().unwrap().display_name, "Ada Lovelace");
    let login = app.store.login_state("ada@example.com", &[], None).await.unwrap();
    assert_eq!(login.credentials.unwrap().user.display_name, "Ada Lovelace");
    // A post written before keeps the name it was published under; a new one has the new name.
    let kept = app.store.get_post(&earlier.id).await.unwrap().unwrap();
    assert_eq!(kept.author.display_name, "Ada");
    let new_post = TestRequest::new("POST", "/posts").bearer(&token).json(&json!({"title": "After", "body": "."}));
    let created = call(create_post::handle, &app, new_post.http_api()).await;
    assert_eq!(body_json(&created)["post"]["author"]["display_name"], "Ada Lovelace");
}

#[tokio::test]
async fn a_name_is_checked_as_at_signup_and_an_unknown_account_is_404() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    for body in [
        json!({}),
        json!({"display_name": "   "}),
        json!({"display_name": "A\u{202E}da"}),
        json!({"display_name": "x".repeat(51)}),
    ] {
        let response = call(update_profile::handle, &app, rename(&token, &body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body_json(&response)["error"]["details"][0]["field"], "display_name");
    }
    assert_eq!(app.store.get_user(&ada.id).await.unwrap().unwrap().display_name, "Ada", "nothing changed");
    let stranger = app.tokens.issue("01KAQZ8Y4M1W2X3V5T6R7P8N9B", "Nobody", "01SESSION").await.unwrap().token;
    let response = call(update_profile::handle, &app, rename(&stranger, &json!({"display_name": "Somebody"}))).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

use lambda_http::http::StatusCode;
use serde_json::json;
use shared::auth::mailed_token_hash;
use shared::model::{MailRequest, now};
use shared::store::{MailStore, PostStore};
use shared::testing::{TestRequest, body_json, call, deliver_now, in_memory_app, token_in, user_with_token};

fn new_post(token: &str) -> TestRequest {
    TestRequest::new("POST", "/posts")
        .bearer(token)
        .json(&json!({"title": "  Hello  ", "body": "First post.\nTwo lines."}))
}

#[tokio::test]
async fn creates_the_post_as_the_token_holder() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let response = call(create_post::handle, &app, new_post(&token).http_api()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let post = &body_json(&response)["post"];
    assert_eq!(post["title"], "Hello");
    assert_eq!(post["body"], "First post.\nTwo lines.");
    assert_eq!(post["author"], json!({"id": ada.id, "display_name": "Ada"}));
    assert_eq!(response.headers()["location"], format!("/posts/{}", post["id"].as_str().unwrap()));
    assert_eq!(app.store.list_posts(10, None).await.unwrap().posts.len(), 1);
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_safe() {
    let app = in_memory_app();
    let token = user_with_token(&app, "ada@example.com", "Ada").await.1;
    let first = call(create_post::handle, &app, new_post(&token).header("idempotency-key", "retry-1").http_api()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    // The same post, spelled differently as JSON, is the same request.
    let retry = TestRequest::new("POST", "/posts")
        .bearer(&token)
        .header("idempotency-key", "retry-1")
        .header("content-type", "application/json")
        .raw_body(r#"{ "body" : "First post.\nTwo lines.", "title": "  Hello  " }"#);
    let retried = call(create_post::handle, &app, retry.http_api()).await;
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(retried.headers()["idempotent-replayed"], "true");
    assert_eq!(retried.headers()["location"], first.headers()["location"]);
    assert_eq!(body_json(&retried), body_json(&first));
    assert_eq!(app.store.list_posts(10, None).await.unwrap().posts.len(), 1);

    let grace = user_with_token(&app, "grace@example.com", "Grace").await.1;
    let other_user =
        call(create_post::handle, &app, new_post(&grace).header("idempotency-key", "retry-1").http_api()).await;
    assert_ne!(body_json(&other_user)["post"]["id"], body_json(&first)["post"]["id"]);
    assert_eq!(app.store.list_posts(10, None).await.unwrap().posts.len(), 2);
}

#[tokio::test]
async fn a_key_repeated_with_another_body_is_422_and_stores_nothing() {
    let app = in_memory_app();
    let token = user_with_token(&app, "ada@example.com", "Ada").await.1;
    let first = call(create_post::handle, &app, new_post(&token).header("idempotency-key", "k").http_api()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let other = TestRequest::new("POST", "/posts")
        .bearer(&token)
        .header("idempotency-key", "k")
        .json(&json!({"title": "Changed my mind", "body": "?"}));
    let refused = call(create_post::handle, &app, other.http_api()).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(&refused)["error"]["code"], "idempotency_key_mismatch");
    assert_eq!(app.store.list_posts(10, None).await.unwrap().posts.len(), 1);
}

#[tokio::test]
async fn repeating_the_key_of_a_deleted_post_is_409_and_stores_nothing() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let first = call(create_post::handle, &app, new_post(&token).header("idempotency-key", "once").http_api()).await;
    assert_eq!(first.headers()["etag"], "\"1\"");
    let id = body_json(&first)["post"]["id"].as_str().unwrap().to_owned();
    app.store.delete_post(&id, &ada.id, &shared::model::Precondition::Any).await.unwrap();
    let retried = call(create_post::handle, &app, new_post(&token).header("idempotency-key", "once").http_api()).await;
    assert_eq!(retried.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&retried)["error"]["code"], "idempotency_key_reused");
    assert!(app.store.list_posts(10, None).await.unwrap().posts.is_empty());
}

#[tokio::test]
async fn a_bad_idempotency_key_is_422() {
    let app = in_memory_app();
    let token = user_with_token(&app, "ada@example.com", "Ada").await.1;
    for key in ["", &"k".repeat(129)] {
        let response =
            call(create_post::handle, &app, new_post(&token).header("idempotency-key", key).http_api()).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{key:?}");
        assert_eq!(body_json(&response)["error"]["details"][0]["field"], "Idempotency-Key");
    }
    assert!(app.store.list_posts(10, None).await.unwrap().posts.is_empty());
}

#[tokio::test]
async fn invalid_posts_are_422_and_store_nothing() {
    let app = in_memory_app();
    let token = user_with_token(&app, "ada@example.com", "Ada").await.1;
    let req = TestRequest::new("POST", "/posts")
        .bearer(&token)
        .json(&json!({"title": "   ", "body": "x".repeat(shared::model::POST_BODY_BYTES.end() + 1)}));
    let response = call(create_post::handle, &app, req.http_api()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = body_json(&response);
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["title", "body"]);
    assert!(app.store.list_posts(10, None).await.unwrap().posts.is_empty());
}

#[tokio::test]
async fn a_post_carries_its_authors_name_as_it_is_now_and_a_deleted_author_cannot_post() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    shared::store::UserStore::rename_user(&app.store, &ada.id, "Ada Lovelace").await.unwrap();
    let response = call(create_post::handle, &app, new_post(&token).http_api()).await;
    assert_eq!(body_json(&response)["post"]["author"]["display_name"], "Ada Lovelace", "not the token's old name");
    let stranger = app.tokens.issue("01KAQZ8Y4M1W2X3V5T6R7P8N9B", "Nobody", "01SESSION").await.unwrap().token;
    let response = call(create_post::handle, &app, new_post(&stranger).http_api()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.store.list_posts(10, None).await.unwrap().posts.len(), 1);
}

#[tokio::test]
async fn a_deployment_may_require_a_verified_email_to_post() {
    let app = in_memory_app().with_account_rules(shared::config::AccountRules { require_verified_email: true });
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let refused = call(create_post::handle, &app, new_post(&token).http_api()).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(&refused)["error"]["code"], "email_not_verified");
    assert!(app.store.list_posts(10, None).await.unwrap().posts.is_empty());

    let message = deliver_now(&app.store, &MailRequest::VerifyEmail { user_id: ada.id.clone() }).await;
    app.store.verify_email(&mailed_token_hash(&token_in(&message)), now()).await.unwrap().unwrap();
    let allowed = call(create_post::handle, &app, new_post(&token).http_api()).await;
    assert_eq!(allowed.status(), StatusCode::CREATED);
}

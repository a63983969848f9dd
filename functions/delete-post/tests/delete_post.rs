use lambda_http::http::StatusCode;
use shared::store::PostStore;
use shared::testing::{TestRequest, body_json, call, in_memory_app, stored_post, user_with_token};

fn delete(id: &str, token: &str) -> TestRequest {
    TestRequest::new("DELETE", "/posts/{id}").path_param("id", id).bearer(token)
}

#[tokio::test]
async fn the_author_deletes_and_a_second_delete_is_404() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let post = stored_post(&app, &ada, "Short-lived").await;
    let response = call(delete_post::handle, &app, delete(&post.id, &token).http_api()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.body().is_empty());
    assert_eq!(app.store.get_post(&post.id).await.unwrap(), None);
    assert!(app.store.list_posts(10, None).await.unwrap().posts.is_empty());
    let again = call(delete_post::handle, &app, delete(&post.id, &token).http_api()).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(&again)["error"]["code"], "not_found");
}

#[tokio::test]
async fn someone_else_gets_403_and_the_post_stays() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let (_, grace_token) = user_with_token(&app, "grace@example.com", "Grace").await;
    let post = stored_post(&app, &ada, "Ada's secret title").await;
    let response = call(delete_post::handle, &app, delete(&post.id, &grace_token).http_api()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(&response)["error"]["code"], "forbidden");
    assert!(!String::from_utf8_lossy(response.body().as_ref()).contains("secret"), "no post content in a 403");
    assert_eq!(app.store.get_post(&post.id).await.unwrap(), Some(post));
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_a_current_one_deletes() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let post = stored_post(&app, &ada, "Versioned").await;
    for stale in ["\"2\"", "W/\"1\"", "1"] {
        let response =
            call(delete_post::handle, &app, delete(&post.id, &token).header("if-match", stale).http_api()).await;
        assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED, "{stale}");
        assert_eq!(body_json(&response)["error"]["code"], "precondition_failed");
    }
    assert!(app.store.get_post(&post.id).await.unwrap().is_some());
    let response =
        call(delete_post::handle, &app, delete(&post.id, &token).header("if-match", "\"1\"").http_api()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_bad_token_deletes_nothing() {
    // Every kind of bad token is 401 on every protected route (local-api/tests/every_route.rs).
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let post = stored_post(&app, &ada, "Kept").await;
    let response = call(delete_post::handle, &app, delete(&post.id, &format!("{token}x")).http_api()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(app.store.get_post(&post.id).await.unwrap().is_some());
}

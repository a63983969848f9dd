use lambda_http::http::StatusCode;
use shared::model::{Precondition, new_id, now};
use shared::store::PostStore;
use shared::testing::{
    TestRequest, body_json, call, in_memory_app, stored_post, unreachable_dynamo_app, user_with_token,
};

fn get(id: &str) -> TestRequest {
    TestRequest::new("GET", "/posts/{id}").path_param("id", id)
}

#[tokio::test]
async fn returns_the_post_with_its_etag_in_every_payload_version() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let post = stored_post(&app, &ada, "Hello").await;
    let response = call(get_post::handle, &app, get(&post.id).http_api()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let body = body_json(&response);
    assert_eq!(body["post"], serde_json::to_value(&post).unwrap());
    assert_eq!((body["post"]["version"].as_u64(), body["post"]["updated_at"].is_null()), (Some(1), true));
}

#[tokio::test]
async fn a_deleted_post_is_exactly_like_one_that_never_existed() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let post = stored_post(&app, &ada, "Gone soon").await;
    app.store.delete_post(&post.id, &ada.id, &Precondition::Any).await.unwrap();
    let deleted = call(get_post::handle, &app, get(&post.id).http_api()).await;
    let never = call(get_post::handle, &app, get(&new_id(now())).http_api()).await;
    assert_eq!(deleted.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(&deleted)["error"]["code"], "not_found");
    assert_eq!(deleted.body(), never.body());
    assert_eq!(deleted.headers(), never.headers());
}

#[tokio::test]
async fn malformed_ids_are_404_without_reaching_the_store() {
    // The unreachable store would answer 503: a 404 proves the store was not asked.
    let app = unreachable_dynamo_app();
    let long = "0".repeat(3000);
    for id in ["nope", "01kaqz8y4m1w2x3v5t6r7p8n9b", "01KAQZ8Y4M1W2X3V5T6R7P8N9", &long, "%2e%2e"] {
        let response = call(get_post::handle, &app, get(id).http_api()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
    }
    let response = call(get_post::handle, &app, get(&new_id(now())).http_api()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "a well-formed id does reach the store");
}

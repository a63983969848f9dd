use std::sync::Arc;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::model::{new_id, now};
use shared::store::PostStore;
use shared::testing::{TestRequest, body_json, call, in_memory_app, stored_post, user_with_token};

fn patch(id: &str, token: &str, body: &Value) -> TestRequest {
    TestRequest::new("PATCH", "/posts/{id}").path_param("id", id).bearer(token).json(body)
}

fn code(response: &Response<Body>) -> Value {
    body_json(response)["error"]["code"].clone()
}

#[tokio::test]
async fn the_author_edits_and_the_version_moves_on() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let post = stored_post(&app, &ada, "Draft").await;
    let response =
        call(update_post::handle, &app, patch(&post.id, &token, &json!({"title": "  Final  "})).http_api()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let edited = &body_json(&response)["post"];
    assert_eq!((edited["title"].as_str(), edited["body"].as_str()), (Some("Final"), Some(post.body.as_str())));
    assert_eq!((edited["version"].as_u64(), edited["updated_at"].is_string()), (Some(2), true));
    assert_eq!(
        edited["created_at"],
        serde_json::to_value(post.created_at.format(&time::format_description::well_known::Rfc3339).unwrap()).unwrap()
    );
    let merge_patch = patch(&post.id, &token, &json!({"body": "New body", "title": null}))
        .header("content-type", "application/merge-patch+json")
        .http_api();
    let response = call(update_post::handle, &app, merge_patch).await;
    assert_eq!(response.status(), StatusCode::OK);
    let stored = app.store.get_post(&post.id).await.unwrap().unwrap();
    assert_eq!((stored.title.as_str(), stored.body.as_str(), stored.version), ("Final", "New body", 3));
}

#[tokio::test]
async fn if_match_must_name_the_current_version() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let post = stored_post(&app, &ada, "v1").await;
    let with_if_match = |value: &str, title: &str| {
        patch(&post.id, &token, &json!({"title": title})).header("if-match", value).http_api()
    };
    assert_eq!(call(update_post::handle, &app, with_if_match("\"1\"", "v2")).await.status(), StatusCode::OK);
    for stale in ["\"1\"", "W/\"2\"", "2", "\"3\", \"4\"", ""] {
        let response = call(update_post::handle, &app, with_if_match(stale, "lost")).await;
        assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED, "{stale:?}");
        assert_eq!(code(&response), "precondition_failed");
    }
    assert_eq!(call(update_post::handle, &app, with_if_match("\"1\", \"2\"", "v3")).await.status(), StatusCode::OK);
    assert_eq!(call(update_post::handle, &app, with_if_match("*", "v4")).await.status(), StatusCode::OK);
    let too_many = vec!["\"4\""; 21].join(",");
    let response = call(update_post::handle, &app, with_if_match(&too_many, "lost")).await;
    assert_eq!((response.status(), code(&response)), (StatusCode::UNPROCESSABLE_ENTITY, json!("validation_failed")));
    let stored = app.store.get_post(&post.id).await.unwrap().unwrap();
    assert_eq!((stored.title.as_str(), stored.version), ("v4", 4));
}

#[tokio::test]
async fn racing_edits_of_one_version_lose_nothing_silently() {
    let app = Arc::new(in_memory_app());
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let post = stored_post(&app, &ada, "v1").await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (app, req) = (Arc::clone(&app), patch(&post.id, &token, &json!({"title": format!("Edit {i}")})));
            tokio::spawn(
                async move { call(update_post::handle, &app, req.header("if-match", "\"1\"").http_api()).await },
            )
        })
        .collect();
    let mut statuses = Vec::new();
    let mut winner = None;
    for task in tasks {
        let response = task.await.unwrap();
        if response.status() == StatusCode::OK {
            winner = Some(body_json(&response)["post"]["title"].clone());
        }
        statuses.push(response.status().as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412, 412, 412, 412, 412, 412, 412]);
    let stored = app.store.get_post(&post.id).await.unwrap().unwrap();
    assert_eq!((Some(json!(stored.title)), stored.version), (winner, 2));
}

#[tokio::test]
async fn someone_else_gets_403_without_the_post() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let (_, grace_token) = user_with_token(&app, "grace@example.com", "Grace").await;
    let post = stored_post(&app, &ada, "Ada's secret title").await;
    for if_match in ["\"1\"", "\"9\""] {
        let req = patch(&post.id, &grace_token, &json!({"title": "Grace's now"})).header("if-match", if_match);
        let response = call(update_post::handle, &app, req.http_api()).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "403 comes before 412");
        assert_eq!(code(&response), "forbidden");
        let text = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        assert!(!text.contains("secret") && response.headers().get("etag").is_none(), "{text}");
    }
    assert_eq!(app.store.get_post(&post.id).await.unwrap(), Some(post));
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = in_memory_app();
    let (_, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    for id in [new_id(now()), "not-an-id".to_owned()] {
        let response = call(update_post::handle, &app, patch(&id, &token, &json!({"title": "t"})).http_api()).await;
        assert_eq!((response.status(), code(&response)), (StatusCode::NOT_FOUND, json!("not_found")), "{id}");
    }
}

#[tokio::test]
async fn bodies_are_validated_like_a_new_post() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    let post = stored_post(&app, &ada, "Untouched").await;
    let cases = [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"title": null, "body": null}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"title": "   "}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"body": "b".repeat(shared::model::POST_BODY_BYTES.end() + 1)}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"title": "t\u{0}"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"title": 5}), StatusCode::BAD_REQUEST),
        (json!([]), StatusCode::BAD_REQUEST),
    ];
    for (body, status) in cases {
        let response = call(update_post::handle, &app, patch(&post.id, &token, &body).http_api()).await;
        assert_eq!(response.status(), status, "{body}");
    }
    let text_plain = patch(&post.id, &token, &json!({"title": "t"})).header("content-type", "text/plain");
    assert_eq!(
        call(update_post::handle, &app, text_plain.http_api()).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(app.store.get_post(&post.id).await.unwrap(), Some(post));
}

use std::collections::HashSet;

use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::app::App;
use shared::model::{Author, Post};
use shared::store::{EmbeddedStore, PostStore};
use shared::testing::{TestRequest, body_json, call, in_memory_app};

async fn app_with_posts(count: usize) -> App<EmbeddedStore> {
    let app = in_memory_app();
    let start = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    for i in 0..count {
        let created_at = start + time::Duration::seconds(i as i64);
        let post = Post::new(
            format!("Post {i}"),
            "body".into(),
            Author { id: "01USER".into(), display_name: "Ada".into() },
            created_at,
        );
        app.store.create_post(&post, None).await.unwrap();
    }
    app
}

async fn get(app: &App<EmbeddedStore>, req: TestRequest) -> (StatusCode, Value) {
    let response = call(list_posts::handle, app, req.http_api()).await;
    (response.status(), body_json(&response))
}

fn page(limit: usize, cursor: Option<&str>) -> TestRequest {
    let req = TestRequest::new("GET", "/posts").query("limit", &limit.to_string());
    match cursor {
        Some(cursor) => req.query("cursor", cursor),
        None => req,
    }
}

#[tokio::test]
async fn empty_listing_has_no_cursor() {
    let (status, body) = get(&in_memory_app(), TestRequest::new("GET", "/posts")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"posts": [], "next_cursor": null}));
}

#[tokio::test]
async fn paging_returns_every_post_once_newest_first_and_ends_with_null() {
    for (count, limit, expected_pages) in [(25, 10, 3), (20, 10, 2), (3, 100, 1), (1, 1, 1)] {
        let app = app_with_posts(count).await;
        let (mut seen, mut titles, mut pages, mut cursor) = (HashSet::new(), Vec::new(), 0, None::<String>);
        loop {
            let (status, body) = get(&app, page(limit, cursor.as_deref())).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            for post in body["posts"].as_array().unwrap() {
                assert!(seen.insert(post["id"].as_str().unwrap().to_owned()), "duplicate {post}");
                titles.push(post["title"].as_str().unwrap().to_owned());
            }
            match body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!((seen.len(), pages), (count, expected_pages), "{count} posts, limit {limit}");
        let newest_first: Vec<String> = (0..count).rev().map(|i| format!("Post {i}")).collect();
        assert_eq!(titles, newest_first);
    }
}

#[tokio::test]
async fn default_limit_is_20() {
    let app = app_with_posts(25).await;
    let response = call(list_posts::handle, &app, TestRequest::new("GET", "/posts").http_api()).await;
    let body = body_json(&response);
    assert_eq!(body["posts"].as_array().unwrap().len(), 20);
    assert!(body["next_cursor"].is_string());
}

#[tokio::test]
async fn bad_cursor_is_400_and_bad_limit_422() {
    let app = app_with_posts(3).await;
    let (_, first) = get(&app, page(1, None)).await;
    let good = first["next_cursor"].as_str().unwrap().to_owned();
    // Another listing's cursor for the same post, and one whose position is no post id.
    let position = shared::cursor::decode("posts", &good).unwrap();
    let other_listing = shared::cursor::encode("posts-by:01KAQZ8Y4M1W2X3V5T6R7P8N9B", &position);
    let not_an_id = shared::cursor::encode("posts", "../../etc");
    for cursor in ["not-a-cursor", "", &other_listing, &not_an_id] {
        let (status, body) = get(&app, TestRequest::new("GET", "/posts").query("cursor", cursor)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_cursor")),
            "{cursor}"
        );
    }
    for limit in ["0", "101", "abc"] {
        let (status, body) = get(&app, TestRequest::new("GET", "/posts").query("limit", limit)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{limit}");
        assert_eq!(body["error"]["details"][0]["field"], "limit");
    }
}

#[tokio::test]
async fn a_bad_cursor_never_reaches_the_store() {
    // The unreachable store answers 503 to anything that reaches it.
    let app = shared::testing::unreachable_dynamo_app();
    let bad = TestRequest::new("GET", "/posts").query("cursor", "forged.cursor");
    assert_eq!(call(list_posts::handle, &app, bad.http_api()).await.status(), StatusCode::BAD_REQUEST);
}

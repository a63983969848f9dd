use lambda_http::http::StatusCode;
use serde_json::Value;
use shared::app::App;
use shared::model::{Author, Post, User, new_id, now};
use shared::store::{EmbeddedStore, PostStore};
use shared::testing::{TestRequest, body_json, call, in_memory_app, user_with_token};

fn listing(author_id: &str) -> TestRequest {
    TestRequest::new("GET", "/users/{id}/posts").path_param("id", author_id)
}

async fn get(app: &App<EmbeddedStore>, req: TestRequest) -> (StatusCode, Value) {
    let response = call(list_user_posts::handle, app, req.http_api()).await;
    (response.status(), body_json(&response))
}

/// `count` posts by `user`, one second apart, oldest first.
async fn posts_by(app: &App<EmbeddedStore>, user: &User, count: i64, offset: i64) -> Vec<String> {
    let start = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    let mut ids = Vec::new();
    for i in 0..count {
        let author = Author { id: user.id.clone(), display_name: user.display_name.clone() };
        let post =
            Post::new(format!("Post {i}"), "body".into(), author, start + time::Duration::seconds(2 * i + offset));
        app.store.create_post(&post, None).await.unwrap();
        ids.push(post.id);
    }
    ids
}

#[tokio::test]
async fn pages_through_one_authors_posts_newest_first() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let (grace, _) = user_with_token(&app, "grace@example.com", "Grace").await;
    let mut adas = posts_by(&app, &ada, 5, 0).await;
    posts_by(&app, &grace, 5, 1).await;
    adas.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut req = listing(&ada.id).query("limit", "2");
        if let Some(cursor) = &cursor {
            req = req.query("cursor", cursor);
        }
        let (status, page) = get(&app, req).await;
        assert_eq!(status, StatusCode::OK);
        for post in page["posts"].as_array().unwrap() {
            assert_eq!(post["author"]["id"], ada.id.as_str());
            seen.push(post["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, adas);
}

#[tokio::test]
async fn a_cursor_works_only_for_the_listing_that_issued_it() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let (grace, _) = user_with_token(&app, "grace@example.com", "Grace").await;
    posts_by(&app, &ada, 3, 0).await;
    posts_by(&app, &grace, 3, 1).await;
    let (_, page) = get(&app, listing(&ada.id).query("limit", "1")).await;
    let adas_cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (status, body) = get(&app, listing(&grace.id).query("cursor", &adas_cursor)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_cursor")));
    let all = call(list_posts::handle, &app, TestRequest::new("GET", "/posts").query("limit", "1").http_api()).await;
    let all_cursor = body_json(&all)["next_cursor"].as_str().unwrap().to_owned();
    let (status, _) = get(&app, listing(&ada.id).query("cursor", &all_cursor)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a GET /posts cursor is refused here");
}

#[tokio::test]
async fn unknown_users_are_404_and_a_user_without_posts_is_an_empty_page() {
    let app = in_memory_app();
    let (quiet, _) = user_with_token(&app, "quiet@example.com", "Quiet").await;
    let (status, page) = get(&app, listing(&quiet.id)).await;
    assert_eq!(
        (status, page["posts"].as_array().map(Vec::len), page["next_cursor"].is_null()),
        (StatusCode::OK, Some(0), true)
    );
    for id in [new_id(now()), "nobody".to_owned()] {
        let (status, body) = get(&app, listing(&id)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{id}");
    }
    let (status, _) = get(&app, listing(&quiet.id).query("limit", "0")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

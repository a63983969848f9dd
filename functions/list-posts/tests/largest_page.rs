//! The largest page anyone can make `GET /posts?limit=100` answer still fits the platform:
//! posts at every size limit, made of the character JSON escapes worst (`"` becomes `\"`
//! in the page, and `\\\"` once the page is the body of Lambda's response document).
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use shared::http::PAGE_LIMIT;
use shared::model::{Author, DISPLAY_NAME_CHARS, PAGE_CONTENT_BYTES, POST_BODY_BYTES, Post, TITLE_CHARS};
use shared::store::PostStore;
use shared::testing::{TestRequest, call, in_memory_app};

/// Lambda refuses a function's response document past this size (synchronous invocation).
const LAMBDA_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// The response document Lambda returns to API Gateway for `response`, as the runtime
/// writes it: the body a JSON string inside it.
fn lambda_document(response: Response<Body>) -> String {
    let (parts, body) = response.into_parts();
    let mut document = ApiGatewayV2httpResponse::default();
    document.status_code = i64::from(parts.status.as_u16());
    document.headers = parts.headers;
    document.body = Some(body);
    serde_json::to_string(&document).unwrap()
}

#[tokio::test]
async fn the_largest_page_stays_well_under_lambdas_response_limit() {
    let app = in_memory_app();
    let worst = |chars: usize| "\"".repeat(chars);
    let author = Author { id: "01KAQZ8Y4M1W2X3V5T6R7P8N9B".into(), display_name: worst(*DISPLAY_NAME_CHARS.end()) };
    let start = time::macros::datetime!(2026-05-01 00:00:00 UTC);
    for i in 0..=*PAGE_LIMIT.end() {
        let created_at = start + time::Duration::seconds(i as i64);
        let post = Post::new(worst(*TITLE_CHARS.end()), worst(*POST_BODY_BYTES.end()), author.clone(), created_at);
        app.store.create_post(&post, None).await.unwrap();
    }
    let request = TestRequest::new("GET", "/posts").query("limit", &PAGE_LIMIT.end().to_string()).http_api();
    let response = call(list_posts::handle, &app, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let document = lambda_document(response);
    let page: serde_json::Value =
        serde_json::from_str(serde_json::from_str::<serde_json::Value>(&document).unwrap()["body"].as_str().unwrap())
            .unwrap();
    let posts = page["posts"].as_array().unwrap();
    assert!(!posts.is_empty() && page["next_cursor"].is_string(), "a full page, with more after it");
    let content: usize = posts
        .iter()
        .map(|p| {
            ["title", "body"].iter().map(|f| p[f].as_str().unwrap().len()).sum::<usize>() + author.display_name.len()
        })
        .sum();
    assert!(content <= PAGE_CONTENT_BYTES, "{content}");
    println!("largest page: {} posts, {} bytes as Lambda's response", posts.len(), document.len());
    assert!(document.len() < LAMBDA_RESPONSE_BYTES / 2, "{} bytes", document.len());
}

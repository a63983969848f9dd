//! Arbitrary requests to every route, through the same router as `cargo run -p local-api`
//! and so the same handlers as Lambda: never a 5xx, never a panic.
mod support;

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use serde_json::{Value, json};
use shared::testing::in_memory_app;

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
}

fn path() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec!["/signup", "/login", "/posts", "/posts/", "/", "/posts/01ABC", "/SIGNUP"]);
    let query = prop::sample::select(vec![
        "",
        "?limit=5",
        "?limit=0",
        "?limit=-1",
        "?limit=abc",
        "?cursor=x.y",
        "?cursor=%FF%00",
        "?limit=100&limit=1",
    ]);
    (fixed, query).prop_map(|(p, q)| format!("{p}{q}"))
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let text = prop::sample::select(vec!["a@b.co", "password123", "\u{0}", "\u{202E}x", "🦀", "", " ", "\u{200B}"]);
    let value = prop_oneof![
        text.prop_map(|s| json!(s)),
        Just(Value::Null),
        any::<i32>().prop_map(|n| json!(n)),
        Just(json!([])),
        Just(json!({})),
    ];
    let object = prop::collection::vec(
        (prop::sample::select(vec!["email", "password", "display_name", "title", "body"]), value),
        0..5,
    )
    .prop_map(|pairs| {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()).to_string().into_bytes()
    });
    prop_oneof![object, prop::collection::vec(any::<u8>(), 0..256)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_request_yields_a_server_error(
        method in method(),
        path in path(),
        content_type in prop::option::of(prop::sample::select(vec!["application/json", "text/plain", "application/json; charset=utf-8", "\u{7f}"])),
        authorization in prop::option::of(prop::sample::select(vec!["Bearer x", "Bearer ", "Basic YTpi", "bearer a.b.c"])),
        body in body(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let router = support::router(in_memory_app());
        let mut builder = Request::builder().method(method).uri(&path);
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        if let Some(auth) = authorization {
            builder = builder.header("authorization", auth);
        }
        let Ok(request) = builder.body(Body::from(body)) else { return Ok(()) };
        let (status, _) = runtime.block_on(support::send(&router, request));
        prop_assert!(!status.is_server_error(), "{method} {path} -> {status}");
    }
}

//! Property tests: arbitrary input to request parsing, validation and cursor decoding
//! never panics and never yields anything but a client error or a valid value.
use lambda_http::{Body, Request};
use proptest::prelude::*;
use serde_json::{Value, json};
use shared::cursor;
use shared::error::ApiError;
use shared::http::page_limit;
use shared::http::parse_json_body;
use shared::model::{CreatePostRequest, LoginRequest, POST_BODY_BYTES, SignupRequest, TITLE_CHARS, is_id};

fn request(content_type: Option<&str>, body: Vec<u8>) -> Request {
    let mut builder = lambda_http::http::Request::builder().method("POST").uri("/signup");
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder.body(Body::Binary(body)).unwrap()
}

fn assert_client_error(err: &ApiError) {
    assert!(err.status().is_client_error(), "{err:?} is {}", err.status());
}

/// Strings that stress validation: unicode edge cases mixed with ordinary text.
fn tricky_string() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "Ada",
        "@",
        ".",
        " ",
        "\u{0}",
        "\u{200B}",
        "\u{202E}",
        "\u{FEFF}",
        "🦀",
        "é",
        "\n",
        "\t",
        "example.com",
        "\u{7F}",
        "\"",
        "\\",
        "ß",
        "İ",
    ]);
    prop_oneof![prop::collection::vec(pieces, 0..40).prop_map(|p| p.concat()), any::<String>()]
}

/// Any JSON value a client could send for a field: strings, numbers, null, containers.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => tricky_string().prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => prop::collection::vec(tricky_string(), 0..3).prop_map(|v| json!(v)),
        1 => tricky_string().prop_map(|s| json!({"nested": s})),
    ]
}

fn object_with(fields: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((prop::sample::select(fields.to_vec()), field_value()), 0..5).prop_map(|pairs| {
        let map: serde_json::Map<String, Value> = pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        Value::Object(map).to_string().into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512), ct in prop::option::of("[ -~]{0,40}")) {
        if let Err(err) = parse_json_body::<SignupRequest>(&request(ct.as_deref(), body)) {
            assert_client_error(&err);
        }
    }

    #[test]
    fn signup_bodies_validate_or_are_client_errors(body in object_with(&["email", "password", "display_name", "extra"])) {
        match parse_json_body::<SignupRequest>(&request(Some("application/json"), body)).and_then(|body| body.validate().map_err(ApiError::from)) {
            Ok(account) => {
                prop_assert_eq!(account.email.clone(), account.email.trim().to_lowercase());
                prop_assert!(account.email.chars().count() <= 254 && account.email.matches('@').count() == 1);
                prop_assert!((8..=128).contains(&account.password.0.chars().count()));
                prop_assert!((1..=50).contains(&account.display_name.chars().count()));
                prop_assert!(!account.display_name.chars().any(char::is_control));
            }
            Err(err) => assert_client_error(&err),
        }
    }

    #[test]
    fn login_and_post_bodies_validate_or_are_client_errors(
        login in object_with(&["email", "password"]),
        post in object_with(&["title", "body"]),
    ) {
        if let Err(err) = parse_json_body::<LoginRequest>(&request(None, login)).and_then(|body| body.validate().map_err(ApiError::from)) {
            assert_client_error(&err);
        }
        match parse_json_body::<CreatePostRequest>(&request(None, post)).and_then(|body| body.validate().map_err(ApiError::from)) {
            Ok(post) => {
                prop_assert!(TITLE_CHARS.contains(&post.title.chars().count()));
                prop_assert!(POST_BODY_BYTES.contains(&post.body.len()));
            }
            Err(err) => assert_client_error(&err),
        }
    }

    #[test]
    fn deeply_nested_json_is_a_client_error(depth in 1usize..2000) {
        let body = format!("{{\"email\":{}{}}}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
        let result = parse_json_body::<SignupRequest>(&request(None, body));
        prop_assert!(matches!(result, Err(ApiError::MalformedJson(_))));
    }

    #[test]
    fn cursors_round_trip_and_nothing_else_decodes(id in any::<u128>(), junk in any::<String>()) {
        let position = ulid::Ulid(id).to_string();
        let cursor = cursor::encode("posts", &position);
        prop_assert_eq!(cursor::decode("posts", &cursor).unwrap(), position);
        prop_assert!(cursor::decode("other-listing", &cursor).is_err());
        match cursor::decode("posts", &junk) {
            Ok(decoded) => prop_assert!(is_id(&decoded), "only a post id ever comes out: {decoded:?}"),
            Err(err) => prop_assert!(matches!(err, ApiError::InvalidCursor)),
        }
    }

    #[test]
    fn page_limits_parse_or_are_client_errors(raw in any::<String>()) {
        match page_limit(Some(&raw)) {
            Ok(limit) => prop_assert!((1..=100).contains(&limit)),
            Err(err) => assert_client_error(&err),
        }
    }
}

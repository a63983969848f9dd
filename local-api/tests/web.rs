//! The blog page local-api serves: every file of `local-api/web/` at its own path, a
//! strict Content-Security-Policy, `config.json`, and the API's answers unchanged around it.
mod support;

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use local_api::web::{FILES, PageConfig, content_security_policy};
use serde_json::{Value, json};
use shared::testing::in_memory_app;
use tower::ServiceExt;

const WEB_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");

fn app(page: &PageConfig) -> Router {
    support::router(in_memory_app()).merge(local_api::web::router(page).unwrap())
}

fn local_page() -> PageConfig {
    PageConfig::same_origin(true, None, None)
}

async fn fetch(router: &Router, method: &str, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec())
}

/// The policy as directive → sources.
fn directives(policy: &str) -> BTreeMap<String, Vec<String>> {
    policy
        .split(';')
        .map(|d| {
            let mut words = d.split_whitespace().map(str::to_owned);
            (words.next().unwrap(), words.collect())
        })
        .collect()
}

#[tokio::test]
async fn the_page_is_served_at_the_root_under_a_strict_policy() {
    let router = app(&local_page());
    let (status, headers, body) = fetch(&router, "GET", "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(String::from_utf8(body).unwrap().contains(r#"<script type="module" src="app.js">"#));
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    let policy = directives(policy);
    let only = |directive: &str, sources: &[&str]| assert_eq!(policy[directive], sources, "{directive}");
    only("default-src", &["'none'"]);
    only("script-src", &["'self'"]);
    only("style-src", &["'self'"]);
    only("connect-src", &["'self'"]);
    only("frame-ancestors", &["'none'"]);
    only("base-uri", &["'none'"]);
    only("form-action", &["'none'"]);
    assert!(policy.values().flatten().all(|s| !s.starts_with("'unsafe") && s != "data:" && s != "*"), "{policy:?}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
}

#[tokio::test]
async fn every_file_of_the_folder_is_served_at_its_path_and_nothing_else() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(WEB_DIR)
        .unwrap()
        .map(|entry| format!("/{}", entry.unwrap().file_name().to_string_lossy()))
        .collect();
    let served: BTreeSet<String> = FILES.iter().map(|f| f.path.to_owned()).collect();
    assert_eq!(on_disk, served, "local-api/web/ and web::FILES disagree");
    let router = app(&local_page());
    for file in FILES {
        let (status, headers, body) = fetch(&router, "GET", file.path).await;
        assert_eq!(status, StatusCode::OK, "{}", file.path);
        assert_eq!(headers[header::CONTENT_TYPE], file.content_type, "{}", file.path);
        assert_eq!(body, std::fs::read(format!("{WEB_DIR}{}", file.path)).unwrap(), "{}", file.path);
        assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY), "{}", file.path);
        let (status, headers, _) = fetch(&router, "HEAD", file.path).await;
        assert_eq!((status, &headers[header::CONTENT_TYPE]), (StatusCode::OK, &file.content_type.parse().unwrap()));
    }
}

/// What the policy forbids is also absent from the source, and user text cannot become
/// markup: no API that parses HTML or runs strings as code is used anywhere.
#[test]
fn the_page_has_no_inline_code_and_never_parses_html() {
    let index = std::fs::read_to_string(format!("{WEB_DIR}/index.html")).unwrap();
    for (i, tag) in index.split("<script").skip(1).enumerate() {
        let open = &tag[..tag.find('>').unwrap()];
        assert!(open.contains("src="), "inline script #{i} in index.html");
        assert!(tag[tag.find('>').unwrap() + 1..].starts_with("</script>"), "script #{i} has a body");
    }
    let lower = index.to_lowercase();
    assert!(!lower.contains("<style") && !lower.contains(" style="), "inline style in index.html");
    assert!(!lower.split_whitespace().any(|w| w.starts_with("on") && w.contains('=')), "inline handler");
    for file in FILES.iter().filter(|f| f.path.ends_with(".js")) {
        let source = std::str::from_utf8(file.body).unwrap();
        for forbidden in
            ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "DOMParser"]
        {
            assert!(!source.contains(forbidden), "{} uses {forbidden}", file.path);
        }
    }
}

#[tokio::test]
async fn config_json_says_where_the_api_and_realtime_are() {
    let page = PageConfig::same_origin(true, Some("da2-local".into()), Some("id.apps.googleusercontent.com".into()));
    let (status, headers, body) = fetch(&app(&page), "GET", "/config.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let config: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        config,
        json!({
            "api_url": "/",
            "realtime_url": local_api::realtime::PATH,
            "realtime_http_endpoint": null,
            "realtime_key": "da2-local",
            "google_client_id": "id.apps.googleusercontent.com",
        })
    );
    let off = PageConfig::same_origin(false, Some("da2-local".into()), None);
    let (_, _, body) = fetch(&app(&off), "GET", "/config.json").await;
    let config: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((&config["realtime_url"], &config["realtime_key"]), (&Value::Null, &Value::Null));
}

#[test]
fn google_is_allowed_only_when_a_client_id_is_configured() {
    assert!(!content_security_policy(false).contains("google"));
    let with_google = directives(&content_security_policy(true));
    assert_eq!(with_google["script-src"], ["'self'", "https://accounts.google.com/gsi/client"]);
    assert_eq!(with_google["frame-src"], ["https://accounts.google.com/gsi/"]);
    assert_eq!(with_google["connect-src"], ["'self'", "https://accounts.google.com/gsi/"]);
    assert_eq!(with_google["default-src"], ["'none'"]);
}

#[tokio::test]
async fn the_api_answers_as_before_around_the_page() {
    let router = app(&local_page());
    for path in ["/nope", "/index.html/x", "/app", "/web/app.js"] {
        let (status, headers, body) = fetch(&router, "GET", path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{path}");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let (status, headers, body) = fetch(&router, "POST", "/").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[header::ALLOW], "GET, HEAD");
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"], "method_not_allowed");
    let (status, headers, _) = fetch(&router, "GET", "/posts").await;
    assert_eq!((status, &headers[header::CONTENT_TYPE]), (StatusCode::OK, &"application/json".parse().unwrap()));
    let routes = shared::template::routes().unwrap();
    for file in FILES {
        assert!(routes.iter().all(|r| r.path != file.path), "{} is also an API route", file.path);
    }
}

/// The stack's `PageConfig` output is a `config.json` with exactly the page's fields, each
/// the value of the output it stands for.
#[test]
fn the_stacks_page_config_output_is_the_pages_config_file() {
    use serde_yaml_ng::Value as Yaml;
    let template = shared::template::template().unwrap();
    let outputs = &template["Outputs"];
    let sub = |output: &str| -> String {
        let Yaml::Tagged(tagged) = &outputs[output]["Value"] else { panic!("{output} is not a !Sub") };
        assert_eq!(tagged.tag, "Sub", "{output}");
        match &tagged.value {
            Yaml::String(text) => text.clone(),
            Yaml::Sequence(parts) => parts[0].as_str().unwrap().to_owned(),
            other => panic!("{output}: {other:?}"),
        }
    };
    let config: Value = serde_json::from_str(&sub("PageConfig")).unwrap();
    let fields: BTreeSet<String> =
        serde_json::to_value(local_page()).unwrap().as_object().unwrap().keys().cloned().collect();
    assert_eq!(config.as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>(), fields);
    // The API's URL, or the CloudFront distribution's in front of it when there is one.
    assert_eq!(config["api_url"], "${PageApiUrl}");
    let Yaml::Tagged(page) = &outputs["PageConfig"]["Value"] else { unreachable!() };
    let Yaml::Tagged(choice) = &page.value[1]["PageApiUrl"] else { panic!("PageApiUrl is not an !If") };
    assert_eq!(choice.tag, "If");
    let sub_of = |value: &Yaml| match value {
        Yaml::Tagged(tagged) if tagged.tag == "Sub" => tagged.value.as_str().unwrap().to_owned(),
        other => panic!("not a !Sub: {other:?}"),
    };
    assert_eq!(choice.value[0], Yaml::String("HasCloudFrontDistribution".into()));
    assert_eq!((sub_of(&choice.value[1]), sub_of(&choice.value[2])), (sub("CloudFrontUrl"), sub("ApiUrl")));
    assert_eq!(config["realtime_url"], sub("RealtimeUrl"));
    assert_eq!(config["realtime_http_endpoint"], sub("RealtimeHttpEndpoint"));
    let Yaml::Tagged(key) = &outputs["RealtimeKey"]["Value"] else { panic!("RealtimeKey") };
    assert_eq!(config["realtime_key"], format!("${{{}}}", key.value.as_str().unwrap()));
    let google = serde_json::to_string(&page.value[1]["GoogleClientId"]).unwrap();
    assert!(google.contains("GoogleClientIds"), "google_client_id is not the first of GoogleClientIds: {google}");
}

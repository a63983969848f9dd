//! The blog page: plain HTML, CSS and JavaScript modules from `local-api/web/`, embedded in
//! the binary and served at their own paths (`/` is `index.html`), under a strict
//! Content-Security-Policy. `/config.json` tells the page where the API and the realtime
//! endpoint are; a static deployment ships the same files with its own `config.json`
//! (docs/web-page.md).
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::SetupError;

/// One file of the page.
pub struct WebFile {
    /// The path it is served at.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

macro_rules! web_files {
    ($($name:literal),* $(,)?) => {
        &[$(WebFile {
            path: concat!("/", $name),
            content_type: content_type($name),
            body: include_bytes!(concat!("../web/", $name)),
        }),*]
    };
}

/// Every file of `local-api/web/` (a test checks the folder and this list agree).
pub const FILES: &[WebFile] = web_files![
    "index.html",
    "style.css",
    "favicon.svg",
    "app.js",
    "api.js",
    "config.js",
    "dom.js",
    "session.js",
    "posts.js",
    "account.js",
    "realtime.js",
];

const fn content_type(name: &str) -> &'static str {
    match name.as_bytes() {
        [.., b'.', b'h', b't', b'm', b'l'] => "text/html; charset=utf-8",
        [.., b'.', b'c', b's', b's'] => "text/css; charset=utf-8",
        [.., b'.', b'j', b's'] => "text/javascript; charset=utf-8",
        [.., b'.', b's', b'v', b'g'] => "image/svg+xml",
        _ => panic!("a web file of a type local-api does not serve"),
    }
}

/// The page's own files only: no inline script or style, no other origin, no framing,
/// no `<base>`, no form posted anywhere (forms are sent by script).
const POLICY: &[(&str, &str)] = &[
    ("default-src", "'none'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self'"),
    ("connect-src", "'self'"),
    ("frame-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'none'"),
    ("frame-ancestors", "'none'"),
];

/// What Google Identity Services needs, as Google documents it, added only when a client
/// id is configured.
const GOOGLE_POLICY: &[(&str, &str)] = &[
    ("script-src", "https://accounts.google.com/gsi/client"),
    ("style-src", "https://accounts.google.com/gsi/style"),
    ("connect-src", "https://accounts.google.com/gsi/"),
    ("frame-src", "https://accounts.google.com/gsi/"),
];

/// The `Content-Security-Policy` of every file of the page.
pub fn content_security_policy(google: bool) -> String {
    POLICY
        .iter()
        .map(|(directive, own)| {
            let extra: Vec<&str> =
                GOOGLE_POLICY.iter().filter(|(d, _)| google && d == directive).map(|(_, s)| *s).collect();
            // 'none' must stand alone: extra sources replace it.
            let own = (extra.is_empty() || *own != "'none'").then_some(*own);
            let sources: Vec<&str> = own.into_iter().chain(extra).collect();
            format!("{directive} {}", sources.join(" "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `config.json`: where the page finds the API and the realtime endpoint (relative URLs are
/// resolved against the page), the realtime API key, and the Google client id, if any.
#[derive(Debug, Clone, Serialize)]
pub struct PageConfig {
    pub api_url: String,
    pub realtime_url: Option<String>,
    pub realtime_http_endpoint: Option<String>,
    pub realtime_key: Option<String>,
    pub google_client_id: Option<String>,
}

impl PageConfig {
    /// The page served by local-api itself: the API and realtime at its own origin.
    pub fn same_origin(realtime: bool, realtime_key: Option<String>, google_client_id: Option<String>) -> Self {
        Self {
            api_url: "/".into(),
            realtime_url: realtime.then(|| crate::realtime::PATH.into()),
            realtime_http_endpoint: None,
            realtime_key: realtime.then_some(realtime_key).flatten(),
            google_client_id,
        }
    }
}

/// The page's routes: each file at its path, `/` for `index.html`, and `/config.json`.
pub fn router(config: &PageConfig) -> Result<Router, SetupError> {
    let invalid = |value: String| SetupError::Invalid { what: "page setting", value };
    let policy = content_security_policy(config.google_client_id.is_some());
    let policy = HeaderValue::from_str(&policy).map_err(|_| invalid(policy))?;
    let config = serde_json::to_string(config).map_err(|e| invalid(e.to_string()))?;
    let serve = |content_type: &'static str, body: axum::body::Bytes| {
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, content_type)], body).into_response() }
        })
        .fallback(|| async { crate::method_not_allowed("GET, HEAD") })
    };
    let mut router = Router::new().route("/config.json", serve("application/json", config.into()));
    for file in FILES {
        router = router.route(file.path, serve(file.content_type, axum::body::Bytes::from_static(file.body)));
        if file.path == "/index.html" {
            router = router.route("/", serve(file.content_type, axum::body::Bytes::from_static(file.body)));
        }
    }
    let headers = [
        (header::CONTENT_SECURITY_POLICY, policy),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        // Revalidated on every load, so a new build is picked up at once.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    Ok(headers
        .into_iter()
        .fold(router, |router, (name, value)| router.layer(SetResponseHeaderLayer::overriding(name, value))))
}

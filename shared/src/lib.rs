//! Everything the blog's Lambda functions share, in layers (docs/architecture.md): the
//! domain (`model`); crypto and token rules (`auth`) and storage (`store`); the API's error
//! (`error`) and the per-sandbox `app`; the HTTP layer (`http`, `sessions`); and `lambda`,
//! the runner every function's `main` calls.
pub mod allocator;
pub mod app;
pub mod auth;
pub mod aws;
pub mod config;
pub mod cursor;
pub mod error;
pub mod google;
pub mod http;
pub mod https;
pub mod lambda;
pub mod logging;
pub mod mail;
pub mod model;
pub mod password_check;
pub mod realtime;
pub mod sessions;
pub mod store;
#[cfg(feature = "local")]
pub mod template;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod tls;

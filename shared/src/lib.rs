//! Everything the blog's Lambda functions share: configuration, auth (passwords and
//! tokens), the domain models and their validation, the store, and the HTTP layer
//! (request parsing, the JSON error envelope).
pub mod app;
pub mod auth;
pub mod aws;
pub mod config;
pub mod cursor;
pub mod error;
pub mod http;
#[cfg(feature = "local")]
pub mod local;
pub mod logging;
pub mod memory;
pub mod model;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

//! The HTTP layer: reading requests and writing responses, the same for Lambda and
//! local-api.
mod caching;
mod request;
mod response;

pub use caching::{PUBLIC_CACHE_CONTROL, public_response};
pub use request::*;
pub use response::*;

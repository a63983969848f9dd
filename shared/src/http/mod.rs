//! The HTTP layer: reading requests and writing responses, the same for Lambda and
//! local-api.
mod request;
mod response;

pub use request::*;
pub use response::*;

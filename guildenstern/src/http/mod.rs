//! The HTTP/1.1 server (RFC 9112) on the dispatchers.

mod accessors;
mod chunked;
pub(crate) mod config;
mod context;
pub(crate) mod date;
pub mod form;
pub(crate) mod framing;
pub(crate) mod head;
#[cfg(feature = "json")]
mod json;
mod request;
pub(crate) mod response;
mod server;
pub(crate) mod status;
mod target;

pub use accessors::*;
pub use config::{Content, HttpServer};
pub use context::Http;
pub use form::{form_fields, FormFields};
#[cfg(feature = "json")]
pub use json::reply_json;
pub use request::Request;
pub use response::Response;

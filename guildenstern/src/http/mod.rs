//! The HTTP/1.1 server (RFC 9112) on the dispatchers.

mod accessors;
mod chunked;
mod config;
mod context;
mod date;
pub(crate) mod form;
mod framing;
mod head;
mod request;
mod response;
mod server;
mod status;

pub use accessors::*;
pub use config::{Content, HttpServer};
pub use context::Http;
pub use form::{form_fields, FormFields};
pub use request::Request;
pub use response::Response;

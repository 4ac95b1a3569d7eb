//! `#[http_server(...)]`: turns a handler fn into a fn that returns the
//! configured `HttpServer` builder.
//!
//! The pipeline, the shared keys, the handler checks and the expansion are
//! the server attributes' common ones (`crate::common`); this module only
//! declares the HTTP keys (`args.rs`) and the words of its messages.

use proc_macro2::TokenStream;

use crate::common::{self, Spec};
use crate::paths;

use args::Args;

mod args;
#[cfg(test)]
mod tests;

/// The words of `#[http_server]`'s messages, and its builder.
const HTTP: Spec = Spec {
    attr: "http_server",
    port: 8080,
    example: "hello",
    context: "Http",
    context_type: paths::http_context,
    handler: "an HTTP handler",
    server: "an HTTP server",
    answer: "send the response with `reply`",
    needs_port: true,
    builder: paths::http_server,
};

/// Expands `#[http_server(attr)] item`.
///
/// On misuse the result is the compile errors followed by `item` unchanged.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    common::expand::<Args>(attr, item)
}

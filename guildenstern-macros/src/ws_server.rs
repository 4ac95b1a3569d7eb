//! `#[ws_server(...)]`: turns a receive callback into a fn that returns the
//! configured `WsServer` builder.
//!
//! The pipeline, the shared keys, the handler checks and the expansion are
//! the server attributes' common ones (`crate::common`); this module only
//! declares the WebSocket keys (`args.rs`) and the words of its messages.

use proc_macro2::TokenStream;

use crate::common::{self, Spec};
use crate::paths;

use args::Args;

mod args;
#[cfg(test)]
mod tests;

/// The words of `#[ws_server]`'s messages, and its builder.
const WS: Spec = Spec {
    attr: "ws_server",
    port: 9001,
    example: "echo",
    context: "Ws",
    context_type: paths::ws_context,
    handler: "a WebSocket handler",
    server: "a WebSocket server",
    answer: "answer with `reply_text` or `reply_binary`",
    needs_port: true,
    builder: paths::ws_server,
};

/// `#[ws_receive]`: `#[ws_server]` under the name the brief gives it, its
/// messages in its own name.
const WS_RECEIVE: Spec = Spec {
    attr: "ws_receive",
    ..WS
};

/// Expands `#[ws_server(attr)] item`.
///
/// On misuse the result is the compile errors followed by `item` unchanged.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    common::expand::<Args>(attr, item)
}

/// Expands `#[ws_receive(attr)] item`: the same keys and expansion as
/// `#[ws_server]`.
pub(crate) fn expand_receive(attr: TokenStream, item: TokenStream) -> TokenStream {
    common::expand_as::<Args>(&WS_RECEIVE, attr, item)
}

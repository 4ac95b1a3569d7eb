//! `#[ws_client(...)]`: turns a clientele's receive callback into a fn
//! that returns the configured `WsClientele` builder (client mode: no
//! port; the application starts it and connects).
//!
//! Same pipeline as the server attributes (`crate::common`); this module
//! declares the keys a clientele has and the words of its messages.

use proc_macro2::TokenStream;

use crate::common::{self, Spec};
use crate::paths;

use args::Args;

mod args;

/// The words of `#[ws_client]`'s messages, and its builder.
const CLIENT: Spec = Spec {
    attr: "ws_client",
    port: 0,
    example: "got",
    context: "Ws",
    context_type: paths::ws_context,
    handler: "a WebSocket client's receive callback",
    server: "a WebSocket clientele",
    answer: "answer with `reply_text` or `reply_binary`",
    needs_port: false,
    builder: paths::ws_clientele,
};

/// Expands `#[ws_client(attr)] item`.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    common::expand::<Args>(attr, item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::expansion;

    #[test]
    fn expands_onto_the_clientele_builder() {
        let out = expansion::<Args>(
            "threads = 2, max_message_bytes = 100, on_close = gone",
            "fn got() { count(); }",
        );
        let expected = quote::quote! {
            fn got() -> ::guildenstern::__private::WsClientele {
                fn __gs_handler() { count(); }
                ::guildenstern::__private::WsClientele::new(__gs_handler)
                    .threads({ const N: usize = ::guildenstern::__private::limits::threads(2); N })
                    .max_message_bytes(100)
                    .on_close(gone)
            }
        };
        assert_eq!(out, expected.to_string());
        let out = expansion::<Args>("", "fn got(cx: &mut Ws) {}");
        assert!(out.contains("WsClientele :: with_context"), "{out}");
    }
}

//! Every runtime path the generated code names, in one list.
//!
//! The expansion only ever reaches the runtime through
//! `::guildenstern::__private`, a `#[doc(hidden)]` module of the runtime crate
//! that re-exports what the macros need. Keeping the list here means a rename
//! in the runtime is a one-line change in the macro crate, and a reviewer can
//! see the whole contract at a glance.
//!
//! Each function takes the span the path should carry, so a failure to resolve
//! it (or a type error around it) is reported on the user's token.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

macro_rules! runtime_paths {
    ($( $(#[$doc:meta])* $fn_name:ident => $item:ident, )*) => {
        $(
            $(#[$doc])*
            pub(crate) fn $fn_name(span: Span) -> TokenStream {
                quote_spanned!(span=> ::guildenstern::__private::$item)
            }
        )*

        /// The item names behind every path above, for the tests.
        #[cfg(test)]
        pub(crate) const ALL: &[&str] = &[$(stringify!($item)),*];
    };
}

runtime_paths! {
    /// The HTTP server builder: `HttpServer::new(fn())`,
    /// `HttpServer::with_context(fn(&mut Http))` and one method per key.
    http_server => HttpServer,
    /// The WebSocket server builder: `WsServer::new(fn())`,
    /// `WsServer::with_context(fn(&mut Ws))` and one method per key.
    ws_server => WsServer,
    /// The WebSocket clientele builder: `WsClientele::new(fn())`,
    /// `WsClientele::with_context(fn(&mut Ws))` and one method per key.
    ws_clientele => WsClientele,
    /// The body mode enum: `NoBody`, `Compact`, `Streaming`.
    content => Content,
    /// The dispatcher enum: `Epoll`, `Portable`.
    dispatcher => Dispatcher,
    /// `log::LevelFilter`, re-exported so users need no `log` dependency.
    level_filter => LevelFilter,
    /// `std::time::Duration`, for the `*_ms` keys.
    duration => Duration,
    /// The bounds on options and their `const fn` checks.
    limits => limits,
    /// The HTTP handler's context type.
    http_context => Http,
    /// The WebSocket callbacks' context type.
    ws_context => Ws,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_absolute_and_private() {
        let span = Span::call_site();
        let rendered = [
            http_server(span),
            ws_server(span),
            ws_clientele(span),
            content(span),
            dispatcher(span),
            level_filter(span),
            duration(span),
            limits(span),
            http_context(span),
            ws_context(span),
        ]
        .map(|path| path.to_string().replace(' ', ""));
        for (path, item) in rendered.iter().zip(ALL) {
            assert_eq!(*path, format!("::guildenstern::__private::{item}"));
        }
        assert_eq!(rendered.len(), ALL.len());
    }
}

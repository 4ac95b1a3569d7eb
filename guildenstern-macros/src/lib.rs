//! Attribute macros of [guildenstern].
//!
//! Use them through the runtime crate (`use guildenstern::prelude::*;`), which
//! re-exports them; never depend on `guildenstern-macros` directly. The
//! macros only parse and check their arguments and then emit calls into the
//! runtime's builders, so everything they do can also be written by hand with
//! those builders.
//!
//! [guildenstern]: https://docs.rs/guildenstern

#![forbid(unsafe_code)]

use proc_macro::TokenStream;

mod common;
mod http_server;
mod paths;
mod ws_client;
mod ws_server;

/// Turns a handler fn into a fn that returns its configured HTTP server.
///
/// ```ignore
/// use guildenstern::prelude::*;
///
/// #[http_server(port = 8080, content = NoBody, threads = 4)]
/// fn hello() {
///     reply("hello world");
/// }
///
/// fn main() {
///     guildenstern::serve![hello];
/// }
/// ```
///
/// The handler has one of two shapes: `fn name()`, which reaches the request
/// in flight through the thread-local accessors (`reply`, `uri`, `header`,
/// …), or `fn name(cx: &mut Http)`, which gets the context explicitly. It is
/// a free, synchronous, non-generic function returning nothing. Its
/// attributes, doc comments and visibility are kept: afterwards `name()`
/// returns the server builder, ready for `guildenstern::serve!`.
///
/// # Keys
///
/// Each key may be given once and sets the builder method of the same name
/// (the `_ms` keys set the method without the suffix, in milliseconds). Only
/// `port` is required; every other setting has the runtime's default. A
/// numeric key takes an integer literal, checked here at compile time, or
/// a constant or any expression (`threads = WORKERS * 2`), which rustc
/// types and the server checks when it starts.
///
/// | key | value | builder call |
/// |-----|-------|--------------|
/// | `port` | 1 to 65535 | `.port(u16)` |
/// | `address` | IP address string, such as `"127.0.0.1"` | `.address(&str)` |
/// | `content` | `NoBody`, `Compact` or `Streaming` | `.content(Content)` |
/// | `headers` | header names, such as `["origin", "cookie"]` | `.headers(&[&str])` |
/// | `all_headers` | `true` or `false` | `.all_headers(bool)` |
/// | `parse_request_line` | `true` or `false` | `.parse_request_line(bool)` |
/// | `dispatcher` | `Epoll` or `Portable` | `.dispatcher(Dispatcher)` |
/// | `threads` | 1 to 4096 | `.threads(usize)` |
/// | `name` | string | `.name(&str)` |
/// | `log_level` | `Off`, `Error`, `Warn`, `Info`, `Debug` or `Trace` | `.log_level(LevelFilter)` |
/// | `max_connections` | at least 1 | `.max_connections(usize)` |
/// | `max_header_bytes` | at least 256 | `.max_header_bytes(usize)` |
/// | `max_headers` | 1 to 512 | `.max_headers(usize)` |
/// | `max_uri_bytes` | at least 1 | `.max_uri_bytes(usize)` |
/// | `max_body_bytes` | at least 1 | `.max_body_bytes(usize)` |
/// | `header_timeout_ms` | milliseconds | `.header_timeout(Duration)` |
/// | `body_timeout_ms` | milliseconds | `.body_timeout(Duration)` |
/// | `idle_timeout_ms` | milliseconds | `.idle_timeout(Duration)` |
/// | `send_timeout_ms` | milliseconds | `.send_timeout(Duration)` |
/// | `shutdown_grace_ms` | milliseconds | `.shutdown_grace(Duration)` |
/// | `on_close` | path to a function | `.on_close(path)` |
/// | `on_thread_start` | path to a function | `.on_thread_start(path)` |
/// | `on_thread_stop` | path to a function | `.on_thread_stop(path)` |
///
/// # Errors
///
/// Misuse is a compile error on the offending tokens, all of them in one
/// build: a key given twice, an unknown key, a value of the wrong kind or out
/// of range (port 0 included: that is client mode), a header name that is not
/// an RFC 9110 token, an address that is not an IP address, a missing `port`,
/// or an item that is not a handler of the shapes above. A context argument of
/// the wrong type is reported by rustc on that type.
#[proc_macro_attribute]
pub fn http_server(attr: TokenStream, item: TokenStream) -> TokenStream {
    http_server::expand(attr.into(), item.into()).into()
}

/// Turns a WebSocket receive callback into a fn that returns its configured
/// WebSocket server.
///
/// ```ignore
/// use guildenstern::prelude::*;
///
/// #[ws_server(port = 9001, max_message_bytes = 65536)]
/// fn echo() {
///     let _ = reply_text(&message_text());
/// }
///
/// fn main() {
///     guildenstern::serve![echo];
/// }
/// ```
///
/// The callback runs once per received message and has one of two shapes:
/// `fn name()`, which reaches the message and its connection through the
/// thread-local accessors (`message_text`, `reply_text`, …), or
/// `fn name(cx: &mut Ws)`, which gets the context explicitly. It is a free,
/// synchronous, non-generic function returning nothing. Its attributes, doc
/// comments and visibility are kept: afterwards `name()` returns the server
/// builder, ready for `guildenstern::serve!`.
///
/// # Keys
///
/// Each key may be given once and sets the builder method of the same name
/// (the `_ms` keys set the method without the suffix, in milliseconds). Only
/// `port` is required; every other setting has the runtime's default.
///
/// | key | value | builder call |
/// |-----|-------|--------------|
/// | `port` | 1 to 65535 | `.port(u16)` |
/// | `address` | IP address string, such as `"127.0.0.1"` | `.address(&str)` |
/// | `dispatcher` | `Epoll` or `Portable` | `.dispatcher(Dispatcher)` |
/// | `threads` | 1 to 4096 | `.threads(usize)` |
/// | `name` | string | `.name(&str)` |
/// | `log_level` | `Off`, `Error`, `Warn`, `Info`, `Debug` or `Trace` | `.log_level(LevelFilter)` |
/// | `max_connections` | at least 1 | `.max_connections(usize)` |
/// | `max_message_bytes` | at least 1 | `.max_message_bytes(usize)` |
/// | `max_header_bytes` | at least 256 | `.max_header_bytes(usize)` |
/// | `handshake_timeout_ms` | milliseconds | `.handshake_timeout(Duration)` |
/// | `send_timeout_ms` | milliseconds | `.send_timeout(Duration)` |
/// | `close_timeout_ms` | milliseconds | `.close_timeout(Duration)` |
/// | `ping_interval_ms` | milliseconds | `.ping_interval(Duration)` |
/// | `shutdown_grace_ms` | milliseconds | `.shutdown_grace(Duration)` |
/// | `on_upgrade` | path to a `fn(&UpgradeRequest) -> UpgradeAnswer` | `.on_upgrade(path)` |
/// | `after_upgrade` | path to a `fn()` | `.after_upgrade(path)` |
/// | `on_close` | path to a `fn(&Server, SocketId, CloseCause, Option<u16>, &str)` | `.on_close(path)` |
/// | `on_thread_start` | path to a `fn()` | `.on_thread_start(path)` |
/// | `on_thread_stop` | path to a `fn()` | `.on_thread_stop(path)` |
///
/// # Errors
///
/// Misuse is a compile error on the offending tokens, all of them in one
/// build: a key given twice, an unknown key, a value of the wrong kind or out
/// of range (port 0 included: that is client mode), an address that is not
/// an IP address, a missing `port`, or an item that is not a callback of the
/// shapes above. A context argument or a hook of the wrong type is reported
/// by rustc on that type or path. Bounds the runtime sets (`threads`,
/// `max_header_bytes`, `max_headers`) are checked at compile time against
/// `guildenstern::limits`, the runtime's own definitions; the runtime checks
/// the rest when the server starts (timeouts longer than zero).
#[proc_macro_attribute]
pub fn ws_server(attr: TokenStream, item: TokenStream) -> TokenStream {
    ws_server::expand(attr.into(), item.into()).into()
}

/// `#[ws_server]` under a second name: `#[ws_receive(port = 5051)] fn chat()`
/// makes the WebSocket server whose receive callback is `chat`, with
/// exactly the keys, shapes and checks of [`macro@ws_server`] (its messages
/// name `#[ws_receive]`). One macro under two names: the attribute marks the
/// receive callback, and the server is built around it either way.
///
/// ```ignore
/// use guildenstern::prelude::*;
///
/// #[ws_receive(port = 5051)]
/// fn chat() {
///     let _ = reply_text(&message_text());
/// }
///
/// fn main() {
///     guildenstern::serve![chat];
/// }
/// ```
#[proc_macro_attribute]
pub fn ws_receive(attr: TokenStream, item: TokenStream) -> TokenStream {
    ws_server::expand_receive(attr.into(), item.into()).into()
}

/// Turns a WebSocket client's receive callback into a fn that returns its
/// configured clientele builder (`guildenstern::client::WsClientele`):
/// start it, then connect.
///
/// ```ignore
/// use guildenstern::prelude::*;
///
/// #[ws_client(threads = 2)]
/// fn got() {
///     println!("{}", message_text());
/// }
///
/// fn main() {
///     let clientele = got().start().expect("threads start");
///     let id = clientele.connect("ws://127.0.0.1:9001/").expect("connected");
///     let _ = clientele.send_text(id, "hello");
/// }
/// ```
///
/// The callback has the shapes of [`macro@ws_server`]'s. The keys are those
/// of `#[ws_server]` a client has use for: `dispatcher`, `threads`, `name`,
/// `log_level`, `max_connections`, `max_message_bytes`, `max_header_bytes`,
/// `handshake_timeout_ms`, `send_timeout_ms`, `close_timeout_ms`,
/// `ping_interval_ms`, `shutdown_grace_ms`, `on_close`, `on_thread_start`,
/// `on_thread_stop`; none is required. There is no `port` (a clientele
/// listens on none) and no upgrade hooks. Misuse is reported as for
/// `#[ws_server]`.
#[proc_macro_attribute]
pub fn ws_client(attr: TokenStream, item: TokenStream) -> TokenStream {
    ws_client::expand(attr.into(), item.into()).into()
}

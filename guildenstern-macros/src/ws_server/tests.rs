//! Unit tests of `#[ws_server]`: its own keys, and the shared conformance
//! tests (`crate::common::tests`) on its keys.

use super::*;
use crate::common::tests::{assert_reports, assert_reports_in_order, expansion, shared_tests};

shared_tests!(Args);

/// Every key, as the unknown-key error lists them.
macro_rules! key_list {
    () => {
        "`port`, `address`, `dispatcher`, `threads`, `name`, `log_level`, \
        `max_connections`, `max_message_bytes`, `max_header_bytes`, \
        `handshake_timeout_ms`, `send_timeout_ms`, `close_timeout_ms`, \
        `ping_interval_ms`, `shutdown_grace_ms`, `on_upgrade`, `after_upgrade`, \
        `on_close`, `on_thread_start`, `on_thread_stop`"
    };
}

const ECHO: &str = "fn echo() { let _ = reply_text(&message_text()); }";

#[test]
fn expands_both_shapes_onto_the_ws_builder() {
    let out = expansion::<Args>(
        "port = 9001",
        "/// Echoes.\n#[inline] pub fn echo() { let _ = reply_text(&message_text()); }",
    );
    let expected = quote::quote! {
        #[doc = " Echoes."]
        #[inline]
        pub fn echo() -> ::guildenstern::__private::WsServer {
            fn __gs_handler() { let _ = reply_text(&message_text()); }
            ::guildenstern::__private::WsServer::new(__gs_handler)
                .port(9001)
        }
    };
    assert_eq!(out, expected.to_string());

    let out = expansion::<Args>("port = 9001", "fn echo(cx: &mut Ws) { cx.reply(); }");
    let expected = quote::quote! {
        fn echo() -> ::guildenstern::__private::WsServer {
            fn __gs_handler(cx: &mut Ws) { cx.reply(); }
            {
                let handler: fn(&mut ::guildenstern::__private::Ws) = __gs_handler;
                ::guildenstern::__private::WsServer::with_context(handler)
            }
                .port(9001)
        }
    };
    assert_eq!(out, expected.to_string());
}

#[test]
fn expands_every_key_in_a_fixed_order() {
    let attr = r#"
        on_thread_stop = hooks::stop, on_thread_start = hooks::start, on_close = on_close,
        after_upgrade = greet, on_upgrade = crate::check_origin,
        shutdown_grace_ms = 0, ping_interval_ms = 4u64, close_timeout_ms = 3,
        send_timeout_ms = 2, handshake_timeout_ms = 1_000,
        max_header_bytes = 3, max_message_bytes = 2, max_connections = 1usize,
        log_level = Trace, name = "chat", threads = 8, dispatcher = Portable,
        address = "::1", port = 0x2329u16,
    "#;
    let expected = quote::quote! {
        fn echo() -> ::guildenstern::__private::WsServer {
            fn __gs_handler() { let _ = reply_text(&message_text()); }
            ::guildenstern::__private::WsServer::new(__gs_handler)
                .port(9001)
                .address("::1")
                .dispatcher(::guildenstern::__private::Dispatcher::Portable)
                .threads({ const N: usize = ::guildenstern::__private::limits::threads(8); N })
                .name("chat")
                .log_level(::guildenstern::__private::LevelFilter::Trace)
                .max_connections(1)
                .max_message_bytes(2)
                .max_header_bytes({ const N: usize = ::guildenstern::__private::limits::header_bytes(3); N })
                .handshake_timeout(::guildenstern::__private::Duration::from_millis(1000))
                .send_timeout(::guildenstern::__private::Duration::from_millis(2))
                .close_timeout(::guildenstern::__private::Duration::from_millis(3))
                .ping_interval(::guildenstern::__private::Duration::from_millis(4))
                .shutdown_grace(::guildenstern::__private::Duration::from_millis(0))
                .on_upgrade(crate::check_origin)
                .after_upgrade(greet)
                .on_close(on_close)
                .on_thread_start(hooks::start)
                .on_thread_stop(hooks::stop)
        }
    };
    assert_eq!(expansion::<Args>(attr, ECHO), expected.to_string());
}

#[test]
fn reports_each_ws_misuse_on_its_tokens() {
    #[rustfmt::skip]
    assert_reports::<Args>(&[
        // attribute: keys, with this attribute's words spelled out
        ("port = 1, bogus = 2", ECHO, &[(concat!("unknown key `bogus`; expected one of: ", key_list!()), "bogus")]),
        ("9001", ECHO, &[
            (concat!("expected one of: ", key_list!()), "9001"),
            ("`#[ws_server]` needs a port, as in `#[ws_server(port = 9001)]`", ""),
        ]),
        // The HTTP-only keys are unknown here.
        ("port = 1, content = NoBody", ECHO, &[(concat!("unknown key `content`; expected one of: ", key_list!()), "content")]),
        ("port = 1, headers = [\"origin\"]", ECHO, &[(concat!("unknown key `headers`; expected one of: ", key_list!()), "headers")]),
        ("port = 1, idle_timeout_ms = 5", ECHO, &[(concat!("unknown key `idle_timeout_ms`; expected one of: ", key_list!()), "idle_timeout_ms")]),
        ("port", ECHO, &[("`port` needs a value: a port number, as in `port = 9001`", "port")]),
        ("port = 0", ECHO, &[("port 0 is client mode, which a WebSocket server cannot use", "0")]),
        // attribute: wrong literal kinds
        ("port = 1, max_message_bytes = \"64k\"", ECHO, &[("`max_message_bytes` expects a number of bytes, as in `max_message_bytes = 65536`", "\"64k\"")]),
        ("port = 1, handshake_timeout_ms = 1.5", ECHO, &[("`handshake_timeout_ms` expects milliseconds, as in `handshake_timeout_ms = 10000`", "1.5")]),
        ("port = 1, close_timeout_ms = \"5s\"", ECHO, &[("`close_timeout_ms` expects milliseconds, as in `close_timeout_ms = 5000`", "\"5s\"")]),
        ("port = 1, ping_interval_ms = true", ECHO, &[("`ping_interval_ms` expects milliseconds, as in `ping_interval_ms = 30000`", "true")]),
        ("port = 1, on_upgrade = \"f\"", ECHO, &[("`on_upgrade` expects a path to a function, as in `on_upgrade = check_origin`", "\"f\"")]),
        ("port = 1, after_upgrade = 1", ECHO, &[("`after_upgrade` expects a path to a function, as in `after_upgrade = greet`", "1")]),
        // attribute: values
        ("port = 1, max_message_bytes = 0", ECHO, &[("`max_message_bytes` must be at least 1", "0")]),
        ("port = 1, max_message_bytes = -1", ECHO, &[("`max_message_bytes` cannot be negative", "-1")]),
        ("port = 1, handshake_timeout_ms = 5u32", ECHO, &[("`handshake_timeout_ms` takes a `u64`, not a `u32`", "5u32")]),
        ("port = 1, close_timeout_ms = 99999999999999999999999", ECHO, &[("`close_timeout_ms` = 99999999999999999999999 does not fit in a `u64`", "99999999999999999999999")]),
        ("port = 1, ping_interval_ms = -1", ECHO, &[("`ping_interval_ms` cannot be negative", "-1")]),
        // item, with this attribute's words spelled out
        ("port = 1", "struct Echo;", &[("`#[ws_server]` goes on a free function, as in `#[ws_server(port = 9001)] fn echo() { … }`", "struct Echo")]),
        ("port = 1", "async fn echo() {}", &[("a WebSocket handler is synchronous; remove `async`", "async")]),
        ("port = 1", "fn echo(cx: &mut Ws, n: u8) {}", &[("a WebSocket handler takes no argument, or one context argument as in `fn echo(cx: &mut Ws)`", "n: u8")]),
        ("port = 1", "fn echo() -> String { String::new() }", &[("a WebSocket handler returns nothing; answer with `reply_text` or `reply_binary` instead", "String")]),
        ("port = 1", "fn echo(&mut self) {}", &[("`#[ws_server]` goes on a free function, not a method; remove `self`", "&mut self")]),
    ]);
}

#[test]
fn one_build_reports_every_problem() {
    // The attribute's syntax, then its values, then the item.
    assert_reports_in_order::<Args>(
        "port = 0, content = NoBody, ping_interval_ms = \"x\", dispatcher = Kqueue, \
         max_message_bytes = 0, port = 2",
        "async fn echo<T>(a: T, b: T) -> u8 { 1 }",
        &[
            ("unknown key `content`; expected one of: ", "content"),
            ("`ping_interval_ms` expects milliseconds", "\"x\""),
            ("`port` is given more than once", "port"),
            ("port 0 is client mode", "0"),
            ("unknown dispatcher `Kqueue`", "Kqueue"),
            ("`max_message_bytes` must be at least 1", "0"),
            ("a WebSocket handler is synchronous", "async"),
            ("a WebSocket handler cannot be generic", "<T>"),
            ("a WebSocket handler takes no argument", "b: T"),
            ("a WebSocket handler returns nothing", "u8"),
        ],
    );
}

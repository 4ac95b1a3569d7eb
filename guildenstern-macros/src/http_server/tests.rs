//! Unit tests of `#[http_server]`: its own keys, and the shared conformance
//! tests (`crate::common::tests`) on its keys.

use super::args::{check_header_name, CONTENT_KINDS};
use super::*;
use crate::common::tests::{
    assert_reports, assert_reports_in_order, expansion, shared_tests, HELLO,
};

shared_tests!(Args);

/// Every key, as the unknown-key error lists them.
macro_rules! key_list {
    () => {
        "`port`, `address`, `content`, `headers`, `all_headers`, \
        `parse_request_line`, `dispatcher`, `threads`, `name`, `log_level`, \
        `max_connections`, `max_header_bytes`, `max_headers`, `max_uri_bytes`, \
        `max_body_bytes`, `header_timeout_ms`, `body_timeout_ms`, `idle_timeout_ms`, \
        `send_timeout_ms`, `shutdown_grace_ms`, `on_close`, `on_thread_start`, \
        `on_thread_stop`"
    };
}

#[test]
fn expands_every_key_in_a_fixed_order() {
    let attr = r#"
        on_thread_stop = hooks::stop, on_thread_start = hooks::start, on_close = on_close,
        shutdown_grace_ms = 0, send_timeout_ms = 4, idle_timeout_ms = 3u64,
        body_timeout_ms = 2, header_timeout_ms = 1_000,
        max_body_bytes = 5, max_uri_bytes = 4, max_headers = 3, max_header_bytes = 2,
        max_connections = 1usize, log_level = Trace, name = "api", threads = 8,
        dispatcher = Portable, parse_request_line = false, all_headers = true,
        headers = ["origin", "X-Forwarded-For",], content = Streaming,
        address = "::1", port = 0x1F90u16,
    "#;
    let expected = quote::quote! {
        fn hello() -> ::guildenstern::__private::HttpServer {
            fn __gs_handler() { reply("hi"); }
            ::guildenstern::__private::HttpServer::new(__gs_handler)
                .port(8080)
                .address("::1")
                .content(::guildenstern::__private::Content::Streaming)
                .headers(&["origin", "X-Forwarded-For"])
                .all_headers(true)
                .parse_request_line(false)
                .dispatcher(::guildenstern::__private::Dispatcher::Portable)
                .threads({ const N: usize = ::guildenstern::__private::limits::threads(8); N })
                .name("api")
                .log_level(::guildenstern::__private::LevelFilter::Trace)
                .max_connections(1)
                .max_header_bytes({ const N: usize = ::guildenstern::__private::limits::header_bytes(2); N })
                .max_headers({ const N: usize = ::guildenstern::__private::limits::max_headers(3); N })
                .max_uri_bytes(4)
                .max_body_bytes(5)
                .header_timeout(::guildenstern::__private::Duration::from_millis(1000))
                .body_timeout(::guildenstern::__private::Duration::from_millis(2))
                .idle_timeout(::guildenstern::__private::Duration::from_millis(3))
                .send_timeout(::guildenstern::__private::Duration::from_millis(4))
                .shutdown_grace(::guildenstern::__private::Duration::from_millis(0))
                .on_close(on_close)
                .on_thread_start(hooks::start)
                .on_thread_stop(hooks::stop)
        }
    };
    assert_eq!(expansion::<Args>(attr, HELLO), expected.to_string());
}

#[test]
fn accepts_every_content_kind_and_no_headers() {
    for choice in CONTENT_KINDS {
        let out = expansion::<Args>(&format!("port = 1, content = {choice}"), HELLO);
        assert!(out.contains(&format!("Content :: {choice}")), "{out}");
    }
    let out = expansion::<Args>("port = 65535, headers = []", HELLO);
    assert!(out.contains(". port (65535) . headers (& [])"), "{out}");
}

#[test]
fn reports_each_http_misuse_on_its_tokens() {
    #[rustfmt::skip]
    assert_reports::<Args>(&[
        // attribute: keys, with this attribute's words spelled out
        ("port = 1, bogus = 2", HELLO, &[(concat!("unknown key `bogus`; expected one of: ", key_list!()), "bogus")]),
        ("8080", HELLO, &[
            (concat!("expected one of: ", key_list!()), "8080"),
            ("`#[http_server]` needs a port, as in `#[http_server(port = 8080)]`", ""),
        ]),
        ("port = 1, max_message_bytes = 1", HELLO, &[(concat!("unknown key `max_message_bytes`; expected one of: ", key_list!()), "max_message_bytes")]),
        ("port = 0", HELLO, &[("port 0 is client mode, which an HTTP server cannot use", "0")]),
        ("port = 1", "fn hello(cx: &mut Http, n: u8) {}", &[("an HTTP handler takes no argument, or one context argument as in `fn hello(cx: &mut Http)`", "n: u8")]),
        ("port = 1", "fn hello() -> u8 { 1 }", &[("an HTTP handler returns nothing; send the response with `reply` instead", "u8")]),
        // attribute: wrong literal kinds
        ("port = 1, all_headers = 1", HELLO, &[("`all_headers` expects `true` or `false`", "1")]),
        ("port = 1, content = \"NoBody\"", HELLO, &[("`content` expects one of `NoBody`, `Compact`, `Streaming`", "\"NoBody\"")]),
        ("port = 1, content = Content::NoBody", HELLO, &[("`content` expects one of `NoBody`, `Compact`, `Streaming`", "Content::NoBody")]),
        ("port = 1, headers = \"origin\"", HELLO, &[("`headers` expects a list of header names, as in `headers = [\"origin\"]`", "\"origin\"")]),
        ("port = 1, headers = [origin]", HELLO, &[("`headers` expects a list of header names, as in `headers = [\"origin\"]`", "[origin]")]),
        ("port = 1, idle_timeout_ms = 1.5", HELLO, &[("`idle_timeout_ms` expects milliseconds, as in `idle_timeout_ms = 60000`", "1.5")]),
        // attribute: values
        ("port = 1, max_headers = 0", HELLO, &[("`max_headers` must be at least 1", "0")]),
        ("port = 1, max_body_bytes = 1u8", HELLO, &[("`max_body_bytes` takes a `usize`, not a `u8`", "1u8")]),
        ("port = 1, idle_timeout_ms = 5u32", HELLO, &[("`idle_timeout_ms` takes a `u64`, not a `u32`", "5u32")]),
        ("port = 1, content = Chunked", HELLO, &[("unknown content kind `Chunked`; expected one of `NoBody`, `Compact`, `Streaming`", "Chunked")]),
        ("port = 1, content = nobody", HELLO, &[("unknown content kind `nobody` (did you mean `NoBody`?); expected one of `NoBody`, `Compact`, `Streaming`", "nobody")]),
        ("port = 1, headers = [\"x y\"]", HELLO, &[("`x y` is not a header name: ' ' is not allowed (a field name is an RFC 9110 token)", "\"x y\"")]),
        ("port = 1, headers = [\"origin\", \"x:y\", \"\"]", HELLO, &[
            ("`x:y` is not a header name: ':' is not allowed (a field name is an RFC 9110 token)", "\"x:y\""),
            ("a header name cannot be empty", "\"\""),
        ]),
        ("port = 1, headers = [\"Origin\", \"origin\"]", HELLO, &[("header `origin` is listed twice", "\"origin\"")]),
        ("port = 1, headers = [\"été\"]", HELLO, &[("`\\u{e9}t\\u{e9}` is not a header name: 'é' is not allowed (a field name is an RFC 9110 token)", "\"été\"")]),
    ]);
}

#[test]
fn one_build_reports_every_problem() {
    // The attribute's syntax, then its values, then the item.
    assert_reports_in_order::<Args>(
        "port = 0, bogus = 1, threads = \"x\", content = Chunked, port = 2, headers = [\"\"]",
        "async fn hello<T>(a: T, b: T) -> u8 { 1 }",
        &[
            ("unknown key `bogus`; expected one of: ", "bogus"),
            ("`threads` expects a thread count", "\"x\""),
            ("`port` is given more than once", "port"),
            ("port 0 is client mode", "0"),
            ("unknown content kind `Chunked`", "Chunked"),
            ("a header name cannot be empty", "\"\""),
            ("an HTTP handler is synchronous", "async"),
            ("an HTTP handler cannot be generic", "<T>"),
            ("an HTTP handler takes no argument", "b: T"),
            ("an HTTP handler returns nothing", "u8"),
        ],
    );
}

#[test]
fn header_names_are_tokens() {
    for good in ["origin", "x-forwarded-for", "X_Y", "a!#$%&'*+-.^_`|~9"] {
        assert_eq!(check_header_name(good), Ok(()), "{good}");
    }
    for bad in ["", " x", "x:", "x\ty", "(x)", "a/b", "\"q\"", "é", "x\r\n"] {
        assert!(check_header_name(bad).is_err(), "{bad:?}");
    }
}

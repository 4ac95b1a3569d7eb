//! Unit tests of the whole pipeline: expansions as text, errors as
//! (message, the source text they point at).

use super::args::{check_header_name, CONTENT_KINDS, DISPATCHERS, LOG_LEVELS, MISSING_PORT};
use super::*;
use proc_macro2::TokenTree;

/// What a misuse must report: each error's message and the source text it
/// points at (empty for the call site).
type Expected = &'static [(&'static str, &'static str)];

fn tokens(src: &str) -> TokenStream {
    src.parse().expect("test source lexes")
}

/// Each error as (message, the source text it points at); the text is
/// empty for an error at the call site (the attribute itself).
fn errors(attr: &str, item: &str) -> Vec<(String, String)> {
    match try_expand(tokens(attr), tokens(item)) {
        Ok(out) => panic!("`{attr}` on `{item}` expanded to `{out}`"),
        Err(errors) => errors
            .into_iter()
            .map(|error| {
                (
                    error.to_string(),
                    error.span().source_text().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

fn expansion(attr: &str, item: &str) -> String {
    match try_expand(tokens(attr), tokens(item)) {
        Ok(out) => out.to_string(),
        Err(error) => panic!("`{attr}` on `{item}` failed: {error}"),
    }
}

/// The span of the first ident `name` in `tokens`, searching groups.
fn span_of(tokens: TokenStream, name: &str) -> Option<Span> {
    tokens.into_iter().find_map(|tree| match tree {
        TokenTree::Ident(ident) if ident == name => Some(ident.span()),
        TokenTree::Group(group) => span_of(group.stream(), name),
        _ => None,
    })
}

const HELLO: &str = "fn hello() { reply(\"hi\"); }";

/// Every key, as the unknown-key error lists them.
macro_rules! keys {
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
fn expands_the_argument_free_shape() {
    let out = expansion(
        "port = 8080, content = NoBody, threads = 4",
        "/// Says hi.\n#[inline] pub fn hello() { reply(\"hi\"); }",
    );
    let expected = quote! {
        #[doc = " Says hi."]
        #[inline]
        pub fn hello() -> ::guildenstern::__private::HttpServer {
            fn __gs_handler() { reply("hi"); }
            ::guildenstern::__private::HttpServer::new(__gs_handler)
                .port(8080)
                .content(::guildenstern::__private::Content::NoBody)
                .threads(4)
        }
    };
    assert_eq!(out, expected.to_string());
}

#[test]
fn expands_the_context_shape() {
    let out = expansion(
        "port = 8080",
        "pub(crate) fn hello(cx: &mut Http) -> () { cx.reply(); }",
    );
    let expected = quote! {
        pub(crate) fn hello() -> ::guildenstern::__private::HttpServer {
            fn __gs_handler(cx: &mut Http) -> () { cx.reply(); }
            ::guildenstern::__private::HttpServer::with_context(__gs_handler)
                .port(8080)
        }
    };
    assert_eq!(out, expected.to_string());
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
    let expected = quote! {
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
                .threads(8)
                .name("api")
                .log_level(::guildenstern::__private::LevelFilter::Trace)
                .max_connections(1)
                .max_header_bytes(2)
                .max_headers(3)
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
    assert_eq!(expansion(attr, HELLO), expected.to_string());
}

#[test]
fn accepts_every_level_kind_and_dispatcher() {
    for choice in CONTENT_KINDS {
        let out = expansion(&format!("port = 1, content = {choice}"), HELLO);
        assert!(out.contains(&format!("Content :: {choice}")), "{out}");
    }
    for choice in DISPATCHERS {
        let out = expansion(&format!("port = 1, dispatcher = {choice}"), HELLO);
        assert!(out.contains(&format!("Dispatcher :: {choice}")), "{out}");
    }
    for choice in LOG_LEVELS {
        let out = expansion(&format!("port = 1, log_level = {choice}"), HELLO);
        assert!(out.contains(&format!("LevelFilter :: {choice}")), "{out}");
    }
    for address in ["0.0.0.0", "127.0.0.1", "::", "fe80::1"] {
        let out = expansion(&format!("port = 1, address = \"{address}\""), HELLO);
        assert!(out.contains(&format!(". address (\"{address}\")")), "{out}");
    }
    let out = expansion("port = 65535, headers = []", HELLO);
    assert!(out.contains(". port (65535) . headers (& [])"), "{out}");
}

#[test]
fn accepts_values_in_invisible_groups() {
    // What `macro_rules!` hands over for `port = $port` with `$port:expr`.
    use proc_macro2::{Delimiter, Group};
    let invisible = |src: &str| TokenTree::Group(Group::new(Delimiter::None, tokens(src)));
    let mut attr = tokens("port =");
    attr.extend([invisible("8080")]);
    attr.extend(tokens(", content ="));
    attr.extend([invisible("Compact")]);
    let out = try_expand(attr, tokens(HELLO)).expect("valid").to_string();
    assert!(
        out.contains(
            ". port (8080) . content (:: guildenstern :: __private :: Content :: Compact)"
        ),
        "{out}"
    );
}

#[test]
fn type_errors_land_on_the_users_tokens() {
    let out = try_expand(
        tokens("port = 80, on_close = my::close"),
        tokens("fn hello(cx: &mut Http) {}"),
    )
    .expect("valid");
    let at = |name| span_of(out.clone(), name).and_then(|span| span.source_text());
    assert_eq!(at("with_context").as_deref(), Some("Http"));
    assert_eq!(at("on_close").as_deref(), Some("my::close"));
    assert_eq!(at("port").as_deref(), Some("port"));
    assert_eq!(at("__gs_handler").as_deref(), Some("hello"));
}

#[test]
fn on_error_emits_the_errors_and_the_untouched_item() {
    let item = "#[inline] pub fn hello(cx: &mut Http) -> u8 { reply(\"hi\"); 1 }";
    let out = expand(tokens("port = 0"), tokens(item)).to_string();
    assert!(out.starts_with(":: core :: compile_error !"), "{out}");
    assert!(out.ends_with(&tokens(item).to_string()), "{out}");
    assert_eq!(out.matches("compile_error").count(), 2, "{out}");
}

#[test]
fn reports_each_misuse_on_its_tokens() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, Expected)] = &[
        // attribute: keys
        ("port = 1, port = 2", HELLO, &[("`port` is given more than once", "port")]),
        ("port = 1, bogus = 2", HELLO, &[(concat!("unknown key `bogus`; expected one of: ", keys!()), "bogus")]),
        ("8080", HELLO, &[(concat!("expected one of: ", keys!()), "8080"), (MISSING_PORT, "")]),
        ("", HELLO, &[(MISSING_PORT, "")]),
        ("threads = 4", HELLO, &[(MISSING_PORT, "")]),
        ("port", HELLO, &[("`port` needs a value: a port number, as in `port = 8080`", "port")]),
        ("port =", HELLO, &[("`port` expects a port number, as in `port = 8080`", "=")]),
        ("port = 1 threads = 2", HELLO, &[("`port` expects a port number, as in `port = 8080`", "1 threads = 2")]),
        // attribute: wrong literal kinds
        ("port = \"8080\"", HELLO, &[("`port` expects a port number, as in `port = 8080`", "\"8080\"")]),
        ("port = -1", HELLO, &[("`port` cannot be negative", "-1")]),
        ("port = 1, threads = -4", HELLO, &[("`threads` cannot be negative", "-4")]),
        ("port = 1, threads = \"4\"", HELLO, &[("`threads` expects a thread count, as in `threads = 4`", "\"4\"")]),
        ("port = 1, name = api", HELLO, &[("`name` expects a string, as in `name = \"api\"`", "api")]),
        ("port = 1, all_headers = 1", HELLO, &[("`all_headers` expects `true` or `false`", "1")]),
        ("port = 1, content = \"NoBody\"", HELLO, &[("`content` expects one of `NoBody`, `Compact`, `Streaming`", "\"NoBody\"")]),
        ("port = 1, content = Content::NoBody", HELLO, &[("`content` expects one of `NoBody`, `Compact`, `Streaming`", "Content::NoBody")]),
        ("port = 1, headers = \"origin\"", HELLO, &[("`headers` expects a list of header names, as in `headers = [\"origin\"]`", "\"origin\"")]),
        ("port = 1, headers = [origin]", HELLO, &[("`headers` expects a list of header names, as in `headers = [\"origin\"]`", "[origin]")]),
        ("port = 1, on_close = \"f\"", HELLO, &[("`on_close` expects a path to a function, as in `on_close = log_close`", "\"f\"")]),
        ("port = 1, idle_timeout_ms = 1.5", HELLO, &[("`idle_timeout_ms` expects milliseconds, as in `idle_timeout_ms = 60000`", "1.5")]),
        // attribute: values
        ("port = 70000", HELLO, &[("port 70000 is out of range; a port is 1 to 65535", "70000")]),
        ("port = 99999999999999999999999", HELLO, &[("`port` = 99999999999999999999999 does not fit in a `u16`", "99999999999999999999999")]),
        ("port = 8080u32", HELLO, &[("`port` takes a `u16`, not a `u32`", "8080u32")]),
        ("port = 0", HELLO, &[("port 0 is client mode, which an HTTP server cannot use", "0")]),
        ("port = 1, threads = 0", HELLO, &[("`threads` must be at least 1", "0")]),
        ("port = 1, max_headers = 0", HELLO, &[("`max_headers` must be at least 1", "0")]),
        ("port = 1, max_body_bytes = 1u8", HELLO, &[("`max_body_bytes` takes a `usize`, not a `u8`", "1u8")]),
        ("port = 1, idle_timeout_ms = 5u32", HELLO, &[("`idle_timeout_ms` takes a `u64`, not a `u32`", "5u32")]),
        ("port = 1, address = \"localhost\"", HELLO, &[("`localhost` is not an IP address; `address` takes one such as \"0.0.0.0\", \"127.0.0.1\" or \"::1\"", "\"localhost\"")]),
        ("port = 1, content = Chunked", HELLO, &[("unknown content kind `Chunked`; expected one of `NoBody`, `Compact`, `Streaming`", "Chunked")]),
        ("port = 1, content = nobody", HELLO, &[("unknown content kind `nobody` (did you mean `NoBody`?); expected one of `NoBody`, `Compact`, `Streaming`", "nobody")]),
        ("port = 1, dispatcher = Mio", HELLO, &[("unknown dispatcher `Mio`; expected one of `Epoll`, `Portable`", "Mio")]),
        ("port = 1, log_level = Verbose", HELLO, &[("unknown log level `Verbose`; expected one of `Off`, `Error`, `Warn`, `Info`, `Debug`, `Trace`", "Verbose")]),
        ("port = 1, headers = [\"x y\"]", HELLO, &[("`x y` is not a header name: ' ' is not allowed (a field name is an RFC 9110 token)", "\"x y\"")]),
        ("port = 1, headers = [\"origin\", \"x:y\", \"\"]", HELLO, &[
            ("`x:y` is not a header name: ':' is not allowed (a field name is an RFC 9110 token)", "\"x:y\""),
            ("a header name cannot be empty", "\"\""),
        ]),
        ("port = 1, headers = [\"Origin\", \"origin\"]", HELLO, &[("header `origin` is listed twice", "\"origin\"")]),
        ("port = 1, headers = [\"été\"]", HELLO, &[("`\\u{e9}t\\u{e9}` is not a header name: 'é' is not allowed (a field name is an RFC 9110 token)", "\"été\"")]),
        // item
        ("port = 1", "struct Hello { x: u8 }", &[(NOT_A_FN, "struct Hello")]),
        ("port = 1", "enum Hello { A }", &[(NOT_A_FN, "enum Hello")]),
        ("port = 1", "impl Hello { fn hello() {} }", &[(NOT_A_FN, "impl Hello")]),
        ("port = 1", "static HELLO: u8 = 1;", &[(NOT_A_FN, "static HELLO")]),
        ("port = 1", "mod hello {}", &[(NOT_A_FN, "mod hello")]),
        ("port = 1", "async fn hello() {}", &[("an HTTP handler is synchronous; remove `async`", "async")]),
        ("port = 1", "const fn hello() {}", &[("an HTTP handler cannot be a `const fn`", "const")]),
        ("port = 1", "unsafe fn hello() {}", &[("an HTTP handler cannot be `unsafe`", "unsafe")]),
        ("port = 1", "extern \"C\" fn hello() {}", &[("an HTTP handler cannot have an `extern` ABI", "extern \"C\"")]),
        ("port = 1", "fn hello<T: Copy>() {}", &[("an HTTP handler cannot be generic", "<T: Copy>")]),
        ("port = 1", "fn hello<'a>(cx: &'a mut Http) {}", &[("an HTTP handler cannot be generic", "<'a>")]),
        ("port = 1", "fn hello() where u8: Copy {}", &[("an HTTP handler cannot have a `where` clause", "where u8: Copy")]),
        ("port = 1", "fn hello(&self) {}", &[("`#[http_server]` goes on a free function, not a method; remove `self`", "&self")]),
        ("port = 1", "fn hello(cx: &mut Http, n: u8) {}", &[("an HTTP handler takes no argument, or one context argument as in `fn hello(cx: &mut Http)`", "n: u8")]),
        ("port = 1", "fn hello(a: u8, b: u8, c: u8) {}", &[("an HTTP handler takes no argument, or one context argument as in `fn hello(cx: &mut Http)`", "b: u8, c: u8")]),
        ("port = 1", "fn hello() -> u8 { 1 }", &[("an HTTP handler returns nothing; send the response with `reply` instead", "u8")]),
        ("port = 1", "fn hello() -> Result<(), String> { Ok(()) }", &[("an HTTP handler returns nothing; send the response with `reply` instead", "Result<(), String>")]),
        ("port = 1", "fn hello(cx: u8, ...) {}", &[("an HTTP handler cannot be variadic", "...")]),
    ];
    for (attr, item, expected) in cases {
        let actual = errors(attr, item);
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(m, at)| (m.to_string(), at.to_string()))
            .collect();
        assert_eq!(actual, expected, "`#[http_server({attr})] {item}`");
    }
}

#[test]
fn a_duplicate_is_reported_on_the_second_key() {
    let attr = tokens("port = 1, threads = 2, port = 3");
    let error = try_expand(attr, tokens(HELLO)).expect_err("duplicate");
    assert_eq!(error.span().start().column, 23);
}

#[test]
fn one_build_reports_every_problem() {
    let actual = errors(
        "port = 0, bogus = 1, threads = \"x\", content = Chunked, port = 2, headers = [\"\"]",
        "async fn hello<T>(a: T, b: T) -> u8 { 1 }",
    );
    // The attribute's syntax, then its values, then the item.
    let expected = [
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
    ];
    assert_eq!(actual.len(), expected.len(), "{actual:#?}");
    for ((message, at), (prefix, expected_at)) in actual.iter().zip(expected) {
        assert!(
            message.starts_with(prefix),
            "{message:?} should start with {prefix:?}"
        );
        assert_eq!(at, expected_at, "{message}");
    }
}

#[test]
fn never_panics_on_odd_input() {
    let attrs = [
        "",
        ",",
        ",,",
        "port",
        "port =",
        "port = ,",
        "= 1",
        "port = 1,,",
        "port: 1",
        "(port = 1)",
        "port = [1]",
        "headers = [,]",
        "headers = [\"a\" \"b\"]",
        "port = 1; x",
        "port = 1, on_close = ::",
        "port = 1, on_close = a::<b, c>",
        "port = 1, content = r#NoBody",
        "port = 1, name = b\"x\"",
        "port = 1, name = \"x\"suffix",
        "port = 1, log_level = _",
        "r#port = 1",
        "port = 1, self = 2",
        "port = 1, 'a = 2",
    ];
    let items = [
        HELLO,
        "",
        "struct",
        "fn",
        "fn hello",
        "fn hello();",
        "extern { fn hello(); }",
        "impl X for Y {}",
        "trait T {}",
        "macro_rules! m { () => {} }",
        "type A = u8;",
        "#[a] #[b] fn hello(self: Box<Self>) {}",
        "fn hello((a, b): (u8, u8)) {}",
    ];
    for attr in attrs {
        for item in items {
            let _ = expand(tokens(attr), tokens(item));
        }
    }
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

//! What every server attribute's unit tests share: helpers that run the
//! whole pipeline (expansions as text, errors as (message, the source text
//! they point at)), and the conformance tests of the shared behaviour, which
//! each attribute runs on its own keys with [`shared_tests!`].
//!
//! Expected messages are templates: `{attr}`, `{port}`, `{example}`,
//! `{context}`, `{handler}`, `{server}` and `{answer}` stand for the
//! attribute's [`Spec`] words.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::quote;

use super::{expand, try_expand, Keys, Spec};

/// What a misuse must report: each error's message (a template) and the
/// source text it points at (empty for the call site).
pub(crate) type Expected = &'static [(&'static str, &'static str)];

/// A handler of the argument-free shape.
pub(crate) const HELLO: &str = "fn hello() { reply(\"hi\"); }";

pub(crate) fn tokens(src: &str) -> TokenStream {
    src.parse().expect("test source lexes")
}

/// Each error as (message, the source text it points at); the text is
/// empty for an error at the call site (the attribute itself).
pub(crate) fn errors<K: Keys>(attr: &str, item: &str) -> Vec<(String, String)> {
    match try_expand::<K>(tokens(attr), tokens(item)) {
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

pub(crate) fn expansion<K: Keys>(attr: &str, item: &str) -> String {
    match try_expand::<K>(tokens(attr), tokens(item)) {
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

/// `template` with the `{word}`s of `spec` filled in.
fn fill(template: &str, spec: &Spec) -> String {
    let Spec {
        attr,
        port,
        example,
        context,
        handler,
        server,
        answer,
        builder: _,
        context_type: _,
        needs_port: _,
    } = spec;
    template
        .replace("{attr}", attr)
        .replace("{port}", &port.to_string())
        .replace("{example}", example)
        .replace("{context}", context)
        .replace("{handler}", handler)
        .replace("{server}", server)
        .replace("{answer}", answer)
}

/// Each `(attr, item)` reports exactly the expected errors, in order.
pub(crate) fn assert_reports<K: Keys>(cases: &[(&str, &str, Expected)]) {
    for (attr, item, expected) in cases {
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(message, at)| (fill(message, &K::SPEC), at.to_string()))
            .collect();
        assert_eq!(
            errors::<K>(attr, item),
            expected,
            "`#[{}({attr})] {item}`",
            K::SPEC.attr
        );
    }
}

/// `(attr, item)` reports one error per expected (message prefix, source
/// text), in order.
pub(crate) fn assert_reports_in_order<K: Keys>(attr: &str, item: &str, expected: Expected) {
    let actual = errors::<K>(attr, item);
    assert_eq!(actual.len(), expected.len(), "{actual:#?}");
    for ((message, at), (prefix, expected_at)) in actual.iter().zip(expected) {
        let prefix = fill(prefix, &K::SPEC);
        assert!(
            message.starts_with(&prefix),
            "{message:?} should start with {prefix:?}"
        );
        assert_eq!(at, expected_at, "{message}");
    }
}

/// Declares, in the calling tests module, one `#[test]` per conformance
/// test below, run on the keys `$keys`.
macro_rules! shared_tests {
    (@each $keys:ty; $($test:ident,)*) => {
        $(
            #[test]
            fn $test() {
                $crate::common::tests::$test::<$keys>();
            }
        )*
    };
    ($keys:ty) => {
        /// The conformance tests every server attribute passes
        /// (`crate::common::tests`).
        mod shared {
            use super::*;

            $crate::common::tests::shared_tests!(@each $keys;
                expands_both_shapes,
                accepts_every_shared_value,
                accepts_values_in_invisible_groups,
                type_errors_land_on_the_users_tokens,
                on_error_a_bad_handler_stands_in_as_a_builder_fn,
                on_key_errors_the_handler_still_expands,
                a_closure_value_is_one_error,
                reports_each_shared_misuse_on_its_tokens,
                a_duplicate_is_reported_on_the_second_key,
                never_panics_on_odd_input,
            );
        }
    };
}

pub(crate) use shared_tests;

// ---------------------------------------------------------------------------
// Conformance tests
// ---------------------------------------------------------------------------

pub(crate) fn expands_both_shapes<K: Keys>() {
    let builder = (K::SPEC.builder)(Span::call_site());
    let out = expansion::<K>(
        "port = 8080, threads = 4",
        "/// Says hi.\n#[inline] pub fn hello() { reply(\"hi\"); }",
    );
    let expected = quote! {
        #[doc = " Says hi."]
        #[inline]
        pub fn hello() -> #builder {
            fn __gs_handler() { reply("hi"); }
            #builder::new(__gs_handler)
                .port(8080)
                .threads({ const N: usize = ::guildenstern::__private::limits::threads(4); N })
        }
    };
    assert_eq!(out, expected.to_string());

    let out = expansion::<K>(
        "port = 8080",
        "pub(crate) fn hello(cx: &mut Cx) -> () { cx.reply(); }",
    );
    let context = (K::SPEC.context_type)(Span::call_site());
    let expected = quote! {
        pub(crate) fn hello() -> #builder {
            fn __gs_handler(cx: &mut Cx) -> () { cx.reply(); }
            {
                let handler: fn(&mut #context) = __gs_handler;
                #builder::with_context(handler)
            }
                .port(8080)
        }
    };
    assert_eq!(out, expected.to_string());
}

pub(crate) fn accepts_every_shared_value<K: Keys>() {
    for choice in super::checks::DISPATCHERS {
        let out = expansion::<K>(&format!("port = 1, dispatcher = {choice}"), HELLO);
        assert!(out.contains(&format!("Dispatcher :: {choice}")), "{out}");
    }
    for choice in super::checks::LOG_LEVELS {
        let out = expansion::<K>(&format!("port = 1, log_level = {choice}"), HELLO);
        assert!(out.contains(&format!("LevelFilter :: {choice}")), "{out}");
    }
    for address in ["0.0.0.0", "127.0.0.1", "::", "fe80::1"] {
        let out = expansion::<K>(&format!("port = 1, address = \"{address}\""), HELLO);
        assert!(out.contains(&format!(". address (\"{address}\")")), "{out}");
    }
    let out = expansion::<K>("port = 65535u16, shutdown_grace_ms = 0", HELLO);
    assert!(
        out.contains(". port (65535) . shutdown_grace (:: guildenstern :: __private :: Duration :: from_millis (0))"),
        "{out}"
    );
}

pub(crate) fn accepts_values_in_invisible_groups<K: Keys>() {
    // What `macro_rules!` hands over for `port = $port` with `$port:expr`.
    let invisible = |src: &str| TokenTree::Group(Group::new(Delimiter::None, tokens(src)));
    let mut attr = tokens("port =");
    attr.extend([invisible("8080")]);
    attr.extend(tokens(", dispatcher ="));
    attr.extend([invisible("Portable")]);
    let out = try_expand::<K>(attr, tokens(HELLO))
        .expect("valid")
        .to_string();
    assert!(
        out.contains(
            ". port (8080) . dispatcher (:: guildenstern :: __private :: Dispatcher :: Portable)"
        ),
        "{out}"
    );
}

pub(crate) fn type_errors_land_on_the_users_tokens<K: Keys>() {
    let out = try_expand::<K>(
        tokens("port = 80, on_close = my::close"),
        tokens("fn hello(cx: &mut Cx) {}"),
    )
    .expect("valid");
    let at = |name| span_of(out.clone(), name).and_then(|span| span.source_text());
    assert_eq!(at("with_context").as_deref(), Some("Cx"));
    assert_eq!(at("on_close").as_deref(), Some("my::close"));
    assert_eq!(at("port").as_deref(), Some("port"));
    assert_eq!(at("__gs_handler").as_deref(), Some("hello"));
}

/// A fn that is no handler: the errors, then a fn of its name returning
/// the builder, so that `serve!` reports nothing more.
pub(crate) fn on_error_a_bad_handler_stands_in_as_a_builder_fn<K: Keys>() {
    let builder = (K::SPEC.builder)(Span::call_site());
    let item = "/// Doc.\n#[inline] pub fn hello(cx: &mut Cx) -> u8 { reply(\"hi\"); 1 }";
    let out = expand::<K>(tokens("port = 0"), tokens(item)).to_string();
    assert!(out.starts_with(":: core :: compile_error !"), "{out}");
    let stand_in = quote! {
        #[doc = " Doc."]
        #[allow(unreachable_code)]
        pub fn hello() -> #builder {
            ::core::unreachable!("a handler with compile errors")
        }
    };
    assert!(out.ends_with(&stand_in.to_string()), "{out}");
    assert_eq!(out.matches("compile_error").count(), 2, "{out}");
    // Not a fn at all: left as it is.
    let out = expand::<K>(tokens("port = 1"), tokens("struct S;")).to_string();
    assert!(out.ends_with("struct S ;"), "{out}");
}

/// A handler with a bad key: the error, then its expansion with the good keys.
pub(crate) fn on_key_errors_the_handler_still_expands<K: Keys>() {
    let builder = (K::SPEC.builder)(Span::call_site());
    let out = expand::<K>(tokens("port = 8080, bogus = 1"), tokens(HELLO)).to_string();
    assert!(out.starts_with(":: core :: compile_error !"), "{out}");
    let expansion = quote! {
        fn hello() -> #builder {
            fn __gs_handler() { reply("hi"); }
            #builder::new(__gs_handler).port(8080)
        }
    };
    assert!(out.ends_with(&expansion.to_string()), "{out}");
}

/// A closure where a function path is expected is one error, not one per
/// comma inside it; the keys after it are lost with it, the ones before not.
pub(crate) fn a_closure_value_is_one_error<K: Keys>() {
    let errors = errors::<K>(
        "port = 1, on_close = |s, id, c, m| drop((s, id, c, m))",
        HELLO,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].0.contains("not a closure"), "{errors:?}");
    assert!(errors[0].0.contains("`.on_close(…)`"), "{errors:?}");
}

const MISSING_PORT: &str = "`#[{attr}]` needs a port, as in `#[{attr}(port = {port})]`";
const NOT_A_FN: &str =
    "`#[{attr}]` goes on a free function, as in `#[{attr}(port = {port})] fn {example}() { … }`";
const PORT_EXPECTS: &str = "`port` expects a port number, as in `port = {port}`";
const ARGUMENTS: &str = "{handler} takes no argument, or one context argument as in \
                         `fn {example}(cx: &mut {context})`";
const RETURNS: &str = "{handler} returns nothing; {answer} instead";

/// The misuses of the shared keys and of the item.
pub(crate) fn reports_each_shared_misuse_on_its_tokens<K: Keys>() {
    #[rustfmt::skip]
    assert_reports::<K>(&[
        // attribute: keys
        ("port = 1, port = 2", HELLO, &[("`port` is given more than once", "port")]),
        ("", HELLO, &[(MISSING_PORT, "")]),
        ("threads = 4", HELLO, &[(MISSING_PORT, "")]),
        ("port", HELLO, &[("`port` needs a value: a port number, as in `port = {port}`", "port")]),
        ("port =", HELLO, &[(PORT_EXPECTS, "=")]),
        ("port = 1 threads = 2", HELLO, &[(PORT_EXPECTS, "1 threads = 2")]),
        // attribute: wrong literal kinds
        ("port = \"8080\"", HELLO, &[(PORT_EXPECTS, "\"8080\"")]),
        ("port = -1", HELLO, &[("`port` cannot be negative", "-1")]),
        ("port = 1, threads = -4", HELLO, &[("`threads` cannot be negative", "-4")]),
        ("port = 1, threads = \"4\"", HELLO, &[("`threads` expects a thread count, as in `threads = 4`", "\"4\"")]),
        ("port = 1, name = api", HELLO, &[("`name` expects a string, as in `name = \"api\"`", "api")]),
        ("port = 1, address = 127", HELLO, &[("`address` expects an IP address string, as in `address = \"127.0.0.1\"`", "127")]),
        ("port = 1, dispatcher = \"Epoll\"", HELLO, &[("`dispatcher` expects one of `Epoll`, `Portable`", "\"Epoll\"")]),
        ("port = 1, log_level = LevelFilter::Off", HELLO, &[("`log_level` expects one of `Off`, `Error`, `Warn`, `Info`, `Debug`, `Trace`", "LevelFilter::Off")]),
        ("port = 1, on_close = \"f\"", HELLO, &[("`on_close` expects a path to a function, as in `on_close = log_close`", "\"f\"")]),
        ("port = 1, on_thread_start = 1", HELLO, &[("`on_thread_start` expects a path to a function, as in `on_thread_start = init_worker`", "1")]),
        ("port = 1, send_timeout_ms = 1.5", HELLO, &[("`send_timeout_ms` expects milliseconds, as in `send_timeout_ms = 30000`", "1.5")]),
        // attribute: values
        ("port = 70000", HELLO, &[("port 70000 is out of range; a port is 1 to 65535", "70000")]),
        ("port = 99999999999999999999999", HELLO, &[("`port` = 99999999999999999999999 does not fit in a `u16`", "99999999999999999999999")]),
        ("port = 8080u32", HELLO, &[("`port` takes a `u16`, not a `u32`", "8080u32")]),
        ("port = 0", HELLO, &[("port 0 is client mode, which {server} cannot use", "0")]),
        ("port = 1, threads = 0", HELLO, &[("`threads` must be at least 1", "0")]),
        ("port = 1, max_connections = 0", HELLO, &[("`max_connections` must be at least 1", "0")]),
        ("port = 1, max_header_bytes = 1u8", HELLO, &[("`max_header_bytes` takes a `usize`, not a `u8`", "1u8")]),
        ("port = 1, shutdown_grace_ms = 5u32", HELLO, &[("`shutdown_grace_ms` takes a `u64`, not a `u32`", "5u32")]),
        ("port = 1, address = \"localhost\"", HELLO, &[("`localhost` is not an IP address; `address` takes one such as \"0.0.0.0\", \"127.0.0.1\" or \"::1\"", "\"localhost\"")]),
        ("port = 1, dispatcher = Mio", HELLO, &[("unknown dispatcher `Mio`; expected one of `Epoll`, `Portable`", "Mio")]),
        ("port = 1, dispatcher = epoll", HELLO, &[("unknown dispatcher `epoll` (did you mean `Epoll`?); expected one of `Epoll`, `Portable`", "epoll")]),
        ("port = 1, log_level = Verbose", HELLO, &[("unknown log level `Verbose`; expected one of `Off`, `Error`, `Warn`, `Info`, `Debug`, `Trace`", "Verbose")]),
        // item
        ("port = 1", "struct Hello { x: u8 }", &[(NOT_A_FN, "struct Hello")]),
        ("port = 1", "enum Hello { A }", &[(NOT_A_FN, "enum Hello")]),
        ("port = 1", "impl Hello { fn hello() {} }", &[(NOT_A_FN, "impl Hello")]),
        ("port = 1", "static HELLO: u8 = 1;", &[(NOT_A_FN, "static HELLO")]),
        ("port = 1", "mod hello {}", &[(NOT_A_FN, "mod hello")]),
        ("port = 1", "async fn hello() {}", &[("{handler} is synchronous; remove `async`", "async")]),
        ("port = 1", "const fn hello() {}", &[("{handler} cannot be a `const fn`", "const")]),
        ("port = 1", "unsafe fn hello() {}", &[("{handler} cannot be `unsafe`", "unsafe")]),
        ("port = 1", "extern \"C\" fn hello() {}", &[("{handler} cannot have an `extern` ABI", "extern \"C\"")]),
        ("port = 1", "fn hello<T: Copy>() {}", &[("{handler} cannot be generic", "<T: Copy>")]),
        ("port = 1", "fn hello<'a>(cx: &'a mut Cx) {}", &[("{handler} cannot be generic", "<'a>")]),
        ("port = 1", "fn hello() where u8: Copy {}", &[("{handler} cannot have a `where` clause", "where u8: Copy")]),
        ("port = 1", "fn hello(&self) {}", &[("`#[{attr}]` goes on a free function, not a method; remove `self`", "&self")]),
        ("port = 1", "fn hello(cx: &mut Cx, n: u8) {}", &[(ARGUMENTS, "n: u8")]),
        ("port = 1", "fn hello(a: u8, b: u8, c: u8) {}", &[(ARGUMENTS, "b: u8, c: u8")]),
        ("port = 1", "fn hello() -> u8 { 1 }", &[(RETURNS, "u8")]),
        ("port = 1", "fn hello() -> Result<(), String> { Ok(()) }", &[(RETURNS, "Result<(), String>")]),
        ("port = 1", "fn hello(cx: u8, ...) {}", &[("{handler} cannot be variadic", "...")]),
    ]);
}

pub(crate) fn a_duplicate_is_reported_on_the_second_key<K: Keys>() {
    let attr = tokens("port = 1, threads = 2, port = 3");
    let error = try_expand::<K>(attr, tokens(HELLO)).expect_err("duplicate");
    assert_eq!(error.span().start().column, 23);
}

pub(crate) fn never_panics_on_odd_input<K: Keys>() {
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
        "port = 1, dispatcher = r#Epoll",
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
            let _ = expand::<K>(tokens(attr), tokens(item));
        }
    }
}

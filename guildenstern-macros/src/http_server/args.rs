//! The attribute: `port = 8080, content = NoBody, …` parsed into [`Args`]
//! (keys as `syn` custom keywords picked with `lookahead1`), then validated
//! into the builder [`Call`]s of the expansion.
//!
//! A malformed entry is reported and skipped up to the next comma, so the
//! entries after it are still checked and one build shows every problem.

use std::net::IpAddr;

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{bracketed, Error, Ident, LitBool, LitInt, LitStr, Path, Token};

use super::{Arg, Call, Errors};
use crate::paths;

pub(super) const MISSING_PORT: &str =
    "`#[http_server]` needs a port, as in `#[http_server(port = 8080)]`";

pub(super) const CONTENT_KINDS: &[&str] = &["NoBody", "Compact", "Streaming"];
pub(super) const DISPATCHERS: &[&str] = &["Epoll", "Portable"];
pub(super) const LOG_LEVELS: &[&str] = &["Off", "Error", "Warn", "Info", "Debug", "Trace"];

// ---------------------------------------------------------------------------
// Parse
// ---------------------------------------------------------------------------

/// One key as written: where its keyword is, its name, and its value.
struct Setting<V> {
    /// The key's name, for messages.
    name: &'static str,
    /// The key's span: duplicates and builder calls are reported here.
    key: Span,
    value: V,
}

/// The `headers = ["origin", "x-y"]` value.
struct HeaderNames(Punctuated<LitStr, Token![,]>);

impl Parse for HeaderNames {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        bracketed!(content in input);
        Ok(Self(Punctuated::parse_terminated(&content)?))
    }
}

/// Declares the keys: one custom keyword each, one slot each in [`Args`],
/// and the `lookahead1` dispatch that parses an entry into its slot. The
/// string is the accepted form, used in messages.
macro_rules! keys {
    ($( $key:ident: $value:ty => $expected:literal, )*) => {
        /// The attribute's keys.
        mod kw {
            $( syn::custom_keyword!($key); )*
        }

        /// The attribute as written: each key at most once, each value of
        /// the right syntactic kind, nothing checked beyond that.
        #[derive(Default)]
        pub(super) struct Args {
            $( $key: Option<Setting<$value>>, )*
            /// Every key written, even with a bad value: a malformed `port`
            /// must not also be reported as a missing one.
            written: Vec<&'static str>,
        }

        impl Args {
            /// Parses one `key = value` entry into its slot.
            fn parse_entry(&mut self, input: ParseStream) -> syn::Result<()> {
                let lookahead = input.lookahead1();
                $(
                    if lookahead.peek(kw::$key) {
                        let key = input.parse::<kw::$key>()?.span;
                        let name = stringify!($key);
                        self.written.push(name);
                        return parse_setting(input, key, name, $expected, &mut self.$key);
                    }
                )*
                Err(unknown_key(input, lookahead.error()))
            }
        }
    };
}

keys! {
    port: LitInt => "a port number, as in `port = 8080`",
    address: LitStr => "an IP address string, as in `address = \"127.0.0.1\"`",
    content: Ident => "one of `NoBody`, `Compact`, `Streaming`",
    headers: HeaderNames => "a list of header names, as in `headers = [\"origin\"]`",
    all_headers: LitBool => "`true` or `false`",
    parse_request_line: LitBool => "`true` or `false`",
    dispatcher: Ident => "one of `Epoll`, `Portable`",
    threads: LitInt => "a thread count, as in `threads = 4`",
    name: LitStr => "a string, as in `name = \"api\"`",
    log_level: Ident => "one of `Off`, `Error`, `Warn`, `Info`, `Debug`, `Trace`",
    max_connections: LitInt => "an integer, as in `max_connections = 10000`",
    max_header_bytes: LitInt => "a number of bytes, as in `max_header_bytes = 8192`",
    max_headers: LitInt => "an integer, as in `max_headers = 64`",
    max_uri_bytes: LitInt => "a number of bytes, as in `max_uri_bytes = 4096`",
    max_body_bytes: LitInt => "a number of bytes, as in `max_body_bytes = 1048576`",
    header_timeout_ms: LitInt => "milliseconds, as in `header_timeout_ms = 5000`",
    body_timeout_ms: LitInt => "milliseconds, as in `body_timeout_ms = 30000`",
    idle_timeout_ms: LitInt => "milliseconds, as in `idle_timeout_ms = 60000`",
    send_timeout_ms: LitInt => "milliseconds, as in `send_timeout_ms = 30000`",
    shutdown_grace_ms: LitInt => "milliseconds, as in `shutdown_grace_ms = 5000`",
    on_close: Path => "a path to a function, as in `on_close = log_close`",
    on_thread_start: Path => "a path to a function, as in `on_thread_start = init_worker`",
    on_thread_stop: Path => "a path to a function, as in `on_thread_stop = finish_worker`",
}

impl Args {
    /// Parses the whole attribute, recording every problem in `errors` and
    /// skipping a bad entry up to the next comma, so later ones still count.
    pub(super) fn parse_all(input: ParseStream, errors: &mut Errors) -> Self {
        let mut args = Self::default();
        while !input.is_empty() {
            if let Err(error) = args.parse_entry(input) {
                errors.push(error);
                if let Err(error) = skip_to_comma(input) {
                    errors.push(error);
                    break;
                }
            }
            if input.is_empty() {
                break;
            }
            if let Err(error) = input.parse::<Token![,]>() {
                errors.push(error);
                break;
            }
        }
        args
    }
}

/// Parses `= value` after the key `name` (already consumed, at `key`) into
/// `slot`; a second occurrence of the key is an error on that key.
fn parse_setting<V: Parse>(
    input: ParseStream,
    key: Span,
    name: &'static str,
    expected: &str,
    slot: &mut Option<Setting<V>>,
) -> syn::Result<()> {
    if !input.peek(Token![=]) {
        return Err(Error::new(
            key,
            format!("`{name}` needs a value: {expected}"),
        ));
    }
    let eq = input.parse::<Token![=]>()?.span;
    let value = parse_value(input, eq, name, expected)?;
    if slot.is_some() {
        return Err(Error::new(key, format!("`{name}` is given more than once")));
    }
    *slot = Some(Setting { name, key, value });
    Ok(())
}

/// Parses a value that must fill everything up to the next top-level comma.
/// Anything else is one error spanning what was written (at the `=` when
/// nothing was), and the written tokens are consumed.
fn parse_value<V: Parse>(
    input: ParseStream,
    eq: Span,
    name: &str,
    expected: &str,
) -> syn::Result<V> {
    let fork = input.fork();
    if fork.parse::<V>().is_ok() && (fork.is_empty() || fork.peek(Token![,])) {
        return input.parse();
    }
    let written = skip_to_comma(input)?;
    let message = format!("`{name}` expects {expected}");
    Err(if written.is_empty() {
        Error::new(eq, message)
    } else {
        Error::new_spanned(written, message)
    })
}

/// Consumes and returns the tokens up to (not including) the next top-level
/// comma or the end.
fn skip_to_comma(input: ParseStream) -> syn::Result<TokenStream> {
    let mut skipped = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        skipped.extend([input.parse::<TokenTree>()?]);
    }
    Ok(skipped)
}

/// The error for a token that is not a key: it names the token and lists
/// the keys (`lookahead1`'s "expected one of" message).
fn unknown_key(input: ParseStream, expected: Error) -> Error {
    match input.cursor().ident() {
        Some((ident, _)) => Error::new(ident.span(), format!("unknown key `{ident}`; {expected}")),
        None => expected,
    }
}

// ---------------------------------------------------------------------------
// Validate
// ---------------------------------------------------------------------------

impl Args {
    /// Checks every value and turns the attribute into builder calls, in a
    /// fixed order; every problem goes to `errors`.
    pub(super) fn validate(self, errors: &mut Errors) -> Vec<Call> {
        let Self {
            port,
            address,
            content,
            headers,
            all_headers,
            parse_request_line,
            dispatcher,
            threads,
            name,
            log_level,
            max_connections,
            max_header_bytes,
            max_headers,
            max_uri_bytes,
            max_body_bytes,
            header_timeout_ms,
            body_timeout_ms,
            idle_timeout_ms,
            send_timeout_ms,
            shutdown_grace_ms,
            on_close,
            on_thread_start,
            on_thread_stop,
            written,
        } = self;

        let mut results = Vec::new();
        match port {
            Some(port) => results.push(check_port(port)),
            None if written.contains(&"port") => {}
            None => errors.push(Error::new(Span::call_site(), MISSING_PORT)),
        }
        results.extend(address.map(check_address));
        results.extend(
            content.map(|s| check_choice(s, "content kind", paths::content, CONTENT_KINDS)),
        );
        results.extend(headers.map(check_headers));
        results.extend(
            [all_headers, parse_request_line]
                .into_iter()
                .flatten()
                .map(bool_call),
        );
        results.extend(
            dispatcher.map(|s| check_choice(s, "dispatcher", paths::dispatcher, DISPATCHERS)),
        );
        results.extend(threads.map(check_count));
        results.extend(name.map(|s| Ok(s.call(s.name, Arg::Str(s.value.clone())))));
        results.extend(
            log_level.map(|s| check_choice(s, "log level", paths::level_filter, LOG_LEVELS)),
        );
        let limits = [
            max_connections,
            max_header_bytes,
            max_headers,
            max_uri_bytes,
            max_body_bytes,
        ];
        results.extend(limits.into_iter().flatten().map(check_count));
        let timeouts = [
            header_timeout_ms,
            body_timeout_ms,
            idle_timeout_ms,
            send_timeout_ms,
            shutdown_grace_ms,
        ];
        results.extend(timeouts.into_iter().flatten().map(check_millis));
        let hooks = [on_close, on_thread_start, on_thread_stop];
        results.extend(hooks.into_iter().flatten().map(|s| Ok(hook_call(s))));

        let mut calls = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(call) => calls.push(call),
                Err(error) => errors.push(error),
            }
        }
        calls
    }
}

impl<V> Setting<V> {
    /// The builder call for this key, attributed to the key.
    fn call(&self, method: &'static str, arg: Arg) -> Call {
        Call {
            method,
            span: self.key,
            arg,
        }
    }
}

/// The value of an integer literal whose suffix, if any, is `ty`.
fn int_value(setting: &Setting<LitInt>, ty: &str) -> syn::Result<u64> {
    let lit = &setting.value;
    let name = setting.name;
    let suffix = lit.suffix();
    if !suffix.is_empty() && suffix != ty {
        return Err(Error::new_spanned(
            lit,
            format!("`{name}` takes a `{ty}`, not a `{suffix}`"),
        ));
    }
    let digits = lit.base10_digits();
    lit.base10_parse::<u64>().map_err(|_| {
        let message = if digits.starts_with('-') {
            format!("`{name}` cannot be negative")
        } else {
            format!("`{name}` = {digits} does not fit in a `{ty}`")
        };
        Error::new_spanned(lit, message)
    })
}

/// `lit`'s value, as an unsuffixed literal at `lit`'s span.
fn unsuffixed(value: u64, lit: &LitInt) -> Literal {
    let mut literal = Literal::u64_unsuffixed(value);
    literal.set_span(lit.span());
    literal
}

fn check_port(setting: Setting<LitInt>) -> syn::Result<Call> {
    let lit = &setting.value;
    let value = int_value(&setting, "u16")?;
    if value == 0 {
        return Err(Error::new_spanned(
            lit,
            "port 0 is client mode, which an HTTP server cannot use",
        ));
    }
    if value > u64::from(u16::MAX) {
        return Err(Error::new_spanned(
            lit,
            format!("port {value} is out of range; a port is 1 to 65535"),
        ));
    }
    Ok(setting.call("port", Arg::Int(unsuffixed(value, lit))))
}

fn check_address(setting: Setting<LitStr>) -> syn::Result<Call> {
    let lit = &setting.value;
    let address = lit.value();
    if address.parse::<IpAddr>().is_err() {
        return Err(Error::new_spanned(
            lit,
            format!(
                "`{}` is not an IP address; `address` takes one such as \
                 \"0.0.0.0\", \"127.0.0.1\" or \"::1\"",
                address.escape_default()
            ),
        ));
    }
    Ok(setting.call("address", Arg::Str(lit.clone())))
}

/// A `usize` count that must be at least 1 (`threads`, `max_*`).
fn check_count(setting: Setting<LitInt>) -> syn::Result<Call> {
    let lit = &setting.value;
    let value = int_value(&setting, "usize")?;
    if value == 0 {
        return Err(Error::new_spanned(
            lit,
            format!("`{}` must be at least 1", setting.name),
        ));
    }
    Ok(setting.call(setting.name, Arg::Int(unsuffixed(value, lit))))
}

/// `key_ms = n` → `.key(Duration::from_millis(n))`.
fn check_millis(setting: Setting<LitInt>) -> syn::Result<Call> {
    let value = int_value(&setting, "u64")?;
    let method = setting.name.strip_suffix("_ms").unwrap_or(setting.name);
    Ok(setting.call(method, Arg::Millis(unsuffixed(value, &setting.value))))
}

fn bool_call(setting: Setting<LitBool>) -> syn::Result<Call> {
    Ok(setting.call(setting.name, Arg::Bool(setting.value.clone())))
}

/// A hook: the call is attributed to the user's path, so a signature
/// mismatch lands there.
fn hook_call(setting: Setting<Path>) -> Call {
    Call {
        method: setting.name,
        span: setting.value.span(),
        arg: Arg::Hook(setting.value),
    }
}

/// An ident that must be one of `choices`, the variants of the runtime enum
/// at `of`.
fn check_choice(
    setting: Setting<Ident>,
    what: &str,
    of: fn(Span) -> TokenStream,
    choices: &[&str],
) -> syn::Result<Call> {
    let ident = &setting.value;
    let written = ident.to_string();
    if choices.contains(&written.as_str()) {
        return Ok(setting.call(
            setting.name,
            Arg::Variant {
                of,
                variant: ident.clone(),
            },
        ));
    }
    let listed = choices.join("`, `");
    let hint = choices
        .iter()
        .find(|choice| choice.eq_ignore_ascii_case(&written))
        .map(|choice| format!(" (did you mean `{choice}`?)"))
        .unwrap_or_default();
    Err(Error::new_spanned(
        ident,
        format!("unknown {what} `{written}`{hint}; expected one of `{listed}`"),
    ))
}

fn check_headers(setting: Setting<HeaderNames>) -> syn::Result<Call> {
    let mut problems = Errors::default();
    let mut seen: Vec<String> = Vec::new();
    for lit in &setting.value.0 {
        let name = lit.value();
        if let Err(message) = check_header_name(&name) {
            problems.push(Error::new_spanned(lit, message));
        } else if seen
            .iter()
            .any(|earlier| earlier.eq_ignore_ascii_case(&name))
        {
            problems.push(Error::new_spanned(
                lit,
                format!("header `{name}` is listed twice"),
            ));
        } else {
            seen.push(name);
        }
    }
    problems.finish()?;
    let names = setting.value.0.iter().cloned().collect();
    Ok(setting.call("headers", Arg::Headers(names)))
}

/// A field name is a `token` (RFC 9110 §5.1, §5.6.2).
pub(super) fn check_header_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a header name cannot be empty".to_owned());
    }
    match name.chars().find(|&c| !is_tchar(c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "`{}` is not a header name: {c:?} is not allowed \
             (a field name is an RFC 9110 token)",
            name.escape_default()
        )),
    }
}

/// `tchar` of RFC 9110 §5.6.2.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

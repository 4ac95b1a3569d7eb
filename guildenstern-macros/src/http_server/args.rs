//! The attribute: `port = 8080, content = NoBody, …`, its keys declared
//! with the shared `keys!` (the keys every server attribute has named alone),
//! and the checks of the HTTP-only values.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Error, Ident, LitBool, LitStr, Token};

use super::HTTP;
use crate::common::args::Num;
use crate::common::checks::{
    bool_call, check_choice, check_count, check_max_headers, check_millis, check_port,
};
use crate::common::{keys, Arg, Call, Errors, Setting};
use crate::paths;

pub(super) const CONTENT_KINDS: &[&str] = &["NoBody", "Compact", "Streaming"];

/// The `headers = ["origin", "x-y"]` value.
struct HeaderNames(Punctuated<LitStr, Token![,]>);

impl Parse for HeaderNames {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        bracketed!(content in input);
        Ok(Self(Punctuated::parse_terminated(&content)?))
    }
}

keys! {
    /// The `#[http_server]` attribute as written.
    pub(super) struct Args for HTTP;
    port: Num => "a port number, as in `port = 8080`", |s| check_port(s, &HTTP);
    address;
    content: Ident => "one of `NoBody`, `Compact`, `Streaming`", check_content;
    headers: HeaderNames => "a list of header names, as in `headers = [\"origin\"]`", check_headers;
    all_headers: LitBool => "`true` or `false`", bool_call;
    parse_request_line: LitBool => "`true` or `false`", bool_call;
    dispatcher;
    threads;
    name;
    log_level;
    max_connections;
    max_header_bytes;
    max_headers: Num => "an integer, as in `max_headers = 64`", check_max_headers;
    max_uri_bytes: Num => "a number of bytes, as in `max_uri_bytes = 4096`", check_count;
    max_body_bytes: Num => "a number of bytes, as in `max_body_bytes = 1048576`", check_count;
    header_timeout_ms: Num => "milliseconds, as in `header_timeout_ms = 5000`", check_millis;
    body_timeout_ms: Num => "milliseconds, as in `body_timeout_ms = 30000`", check_millis;
    idle_timeout_ms: Num => "milliseconds, as in `idle_timeout_ms = 60000`", check_millis;
    send_timeout_ms;
    shutdown_grace_ms;
    on_close;
    on_thread_start;
    on_thread_stop;
}

fn check_content(setting: Setting<Ident>) -> syn::Result<Call> {
    check_choice(setting, "content kind", paths::content, CONTENT_KINDS)
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
    Ok(setting.call("headers", Arg::Strs(names)))
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

//! The value checks: each turns one [`Setting`] into its builder [`Call`],
//! or into a `syn::Error` on the user's value.

use std::net::IpAddr;

use proc_macro2::{Literal, Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Error, Ident, LitBool, LitInt, LitStr, Path};

use super::args::Num;
use super::{Arg, Call, Setting, Spec};
use crate::paths;

pub(crate) const DISPATCHERS: &[&str] = &["Epoll", "Portable"];
pub(crate) const LOG_LEVELS: &[&str] = &["Off", "Error", "Warn", "Info", "Debug", "Trace"];

impl<V> Setting<V> {
    /// The builder call for this key, attributed to the key.
    pub(crate) fn call(&self, method: &'static str, arg: Arg) -> Call {
        Call {
            method,
            span: self.key,
            arg,
        }
    }
}

/// The literal of a numeric setting, or the builder call with its
/// expression (`arg` wraps it) when it is not a literal: rustc checks the
/// expression's type, the runtime its value.
fn literal(
    setting: Setting<Num>,
    method: &'static str,
    arg: fn(TokenStream) -> Arg,
) -> Result<Setting<LitInt>, Call> {
    match setting.value {
        Num::Lit(lit) => Ok(Setting {
            name: setting.name,
            key: setting.key,
            value: lit,
        }),
        Num::Expr(expr) => {
            let call = Call {
                method,
                span: setting.key,
                arg: arg(expr.to_token_stream()),
            };
            Err(call)
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

/// The `port` of a server: a `u16`, not 0 (client mode).
pub(crate) fn check_port(setting: Setting<Num>, spec: &Spec) -> syn::Result<Call> {
    let setting = match literal(setting, "port", Arg::Expr) {
        Ok(setting) => setting,
        Err(call) => return Ok(call),
    };
    let lit = &setting.value;
    let value = int_value(&setting, "u16")?;
    if value == 0 {
        return Err(Error::new_spanned(
            lit,
            format!("port 0 is client mode, which {} cannot use", spec.server),
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

pub(crate) fn check_address(setting: Setting<LitStr>) -> syn::Result<Call> {
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
pub(crate) fn check_count(setting: Setting<Num>) -> syn::Result<Call> {
    let name = setting.name;
    let setting = match literal(setting, name, Arg::Expr) {
        Ok(setting) => setting,
        Err(call) => return Ok(call),
    };
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

/// A count (at least 1) that the runtime also bounds: checked at compile
/// time by its `limits::check` function, the runtime's own bound.
fn check_bounded(setting: Setting<Num>, check: &'static str) -> syn::Result<Call> {
    let call = check_count(setting)?;
    Ok(match call.arg {
        Arg::Int(lit) => Call {
            arg: Arg::Bounded { check, lit },
            ..call
        },
        // An expression: the runtime checks it when the server starts.
        _ => call,
    })
}

pub(crate) fn check_threads(setting: Setting<Num>) -> syn::Result<Call> {
    check_bounded(setting, "threads")
}

pub(crate) fn check_header_bytes(setting: Setting<Num>) -> syn::Result<Call> {
    check_bounded(setting, "header_bytes")
}

pub(crate) fn check_max_headers(setting: Setting<Num>) -> syn::Result<Call> {
    check_bounded(setting, "max_headers")
}

/// `key_ms = n` → `.key(Duration::from_millis(n))`.
pub(crate) fn check_millis(setting: Setting<Num>) -> syn::Result<Call> {
    let method = setting.name.strip_suffix("_ms").unwrap_or(setting.name);
    let setting = match literal(setting, method, Arg::Millis) {
        Ok(setting) => setting,
        Err(call) => return Ok(call),
    };
    let value = int_value(&setting, "u64")?;
    let millis = unsuffixed(value, &setting.value).to_token_stream();
    Ok(setting.call(method, Arg::Millis(millis)))
}

pub(crate) fn bool_call(setting: Setting<LitBool>) -> syn::Result<Call> {
    Ok(setting.call(setting.name, Arg::Bool(setting.value.clone())))
}

pub(crate) fn str_call(setting: Setting<LitStr>) -> syn::Result<Call> {
    Ok(setting.call(setting.name, Arg::Str(setting.value.clone())))
}

/// A hook: the call is attributed to the user's path, so a signature
/// mismatch lands there.
pub(crate) fn hook_call(setting: Setting<Path>) -> syn::Result<Call> {
    Ok(Call {
        method: setting.name,
        span: setting.value.span(),
        arg: Arg::Hook(setting.value),
    })
}

pub(crate) fn check_dispatcher(setting: Setting<Ident>) -> syn::Result<Call> {
    check_choice(setting, "dispatcher", paths::dispatcher, DISPATCHERS)
}

pub(crate) fn check_log_level(setting: Setting<Ident>) -> syn::Result<Call> {
    check_choice(setting, "log level", paths::level_filter, LOG_LEVELS)
}

/// An ident that must be one of `choices`, the variants of the runtime enum
/// at `of`.
pub(crate) fn check_choice(
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

//! What the server attributes (`#[http_server]`, `#[ws_server]`) share: the
//! pipeline, the key parsing, the value checks, the handler checks and the
//! expansion. Each attribute only declares its keys (with [`keys!`]) and
//! the words its messages use (a [`Spec`]).
//!
//! The pipeline has three stages:
//!
//! 1. **parse** the attribute into the attribute's typed keys (`args.rs`)
//!    and the item into a [`Handler`] (`handler.rs`);
//! 2. **validate** the values into a list of builder [`Call`]s (`checks.rs`),
//!    each problem a `syn::Error` on the user's tokens;
//! 3. **expand** with `quote` only (`expand.rs`).
//!
//! Problems are gathered, not returned at the first one, so one build shows
//! all of them. On any error the output is the errors plus, where the item
//! is a handler, its expansion with the valid keys (so the IDE keeps working
//! inside the fn body, and `serve!` sees a server builder, not `()`); where
//! the item is a fn that is no handler, a fn of the same name returning the
//! builder (its body dropped); anything else unchanged.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{ParseStream, Parser};
use syn::Error;

pub(crate) use args::{keys, Keys, Setting};
pub(crate) use expand::{Arg, Call};
use handler::Handler;

pub(crate) mod args;
pub(crate) mod checks;
mod expand;
mod handler;
pub(crate) mod shared_keys;
#[cfg(test)]
pub(crate) mod tests;

/// The words that set one server attribute's messages apart, and its
/// builder.
pub(crate) struct Spec {
    /// The attribute's name, as in `http_server`.
    pub(crate) attr: &'static str,
    /// The port of the examples in messages, as in `8080`.
    pub(crate) port: u16,
    /// The handler name of the examples in messages, as in `hello`.
    pub(crate) example: &'static str,
    /// The context type of the explicit-context shape, as in `Http`.
    pub(crate) context: &'static str,
    /// That type's path in the runtime.
    pub(crate) context_type: fn(Span) -> TokenStream,
    /// The handler in messages, as in `an HTTP handler`.
    pub(crate) handler: &'static str,
    /// The server in messages, as in `an HTTP server`.
    pub(crate) server: &'static str,
    /// How a handler answers instead of returning a value, as in
    /// ``send the response with `reply` ``.
    pub(crate) answer: &'static str,
    /// The builder type: `new(fn())`, `with_context(fn(&mut Context))` and
    /// one method per key.
    pub(crate) builder: fn(Span) -> TokenStream,
    /// Whether `port` is required (a server; not a client).
    pub(crate) needs_port: bool,
}

impl Spec {
    /// The item is not a free fn.
    pub(crate) fn not_a_fn(&self) -> String {
        let Self {
            attr,
            port,
            example,
            needs_port,
            ..
        } = self;
        if *needs_port {
            format!(
                "`#[{attr}]` goes on a free function, \
                 as in `#[{attr}(port = {port})] fn {example}() {{ … }}`"
            )
        } else {
            format!("`#[{attr}]` goes on a free function, as in `#[{attr}] fn {example}() {{ … }}`")
        }
    }

    /// The attribute has no `port` key.
    pub(crate) fn missing_port(&self) -> String {
        let Self { attr, port, .. } = self;
        format!("`#[{attr}]` needs a port, as in `#[{attr}(port = {port})]`")
    }
}

/// Expands `#[name(attr)] item` for the attribute whose keys are `K`.
///
/// On misuse the result is the compile errors followed by what stands in
/// for the item (see the module docs).
pub(crate) fn expand<K: Keys>(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_as::<K>(&K::SPEC, attr, item)
}

/// Like [`expand`], for an attribute that takes `K`'s keys under another
/// name (`spec`: `#[ws_receive]` is `#[ws_server]` by another name).
pub(crate) fn expand_as<K: Keys>(spec: &Spec, attr: TokenStream, item: TokenStream) -> TokenStream {
    let (errors, tokens) = expand_all::<K>(spec, attr, item);
    match errors {
        Some(errors) => {
            let errors = errors.to_compile_error();
            quote!(#errors #tokens)
        }
        None => tokens,
    }
}

/// Parses, validates and expands; `Err` holds every problem found, combined.
#[cfg(test)]
pub(crate) fn try_expand<K: Keys>(
    attr: TokenStream,
    item: TokenStream,
) -> syn::Result<TokenStream> {
    match expand_all::<K>(&K::SPEC, attr, item) {
        (None, tokens) => Ok(tokens),
        (Some(errors), _) => Err(errors),
    }
}

/// Parses, validates and expands as far as the input allows: every problem
/// found, combined, and the tokens that stand for the item.
fn expand_all<K: Keys>(
    spec: &Spec,
    attr: TokenStream,
    item: TokenStream,
) -> (Option<Error>, TokenStream) {
    let mut errors = Errors::default();
    let keys =
        match (|input: ParseStream| Ok(args::parse_all::<K>(input, &mut errors))).parse2(attr) {
            Ok(keys) => keys,
            Err(error) => {
                errors.push(error);
                K::default()
            }
        };
    let calls = validate(keys, spec, &mut errors);
    let tokens = match Handler::parse(item.clone(), spec, &mut errors) {
        Some(handler) => handler.expand(spec, &calls),
        None => handler::stand_in(item, spec),
    };
    (errors.finish().err(), tokens)
}

/// Checks every value and turns the attribute into builder calls, in the
/// order the keys are declared; every problem goes to `errors`.
fn validate<K: Keys>(keys: K, spec: &Spec, errors: &mut Errors) -> Vec<Call> {
    // A key written with a bad value was reported already: a malformed
    // `port` is not also a missing one.
    if spec.needs_port && !keys.written().contains(&"port") {
        errors.push(Error::new(Span::call_site(), spec.missing_port()));
    }
    let results = keys.check();
    let mut calls = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(call) => calls.push(call),
            Err(error) => errors.push(error),
        }
    }
    calls
}

/// Gathers errors so that one build reports all of them.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// `Ok` when nothing was pushed, else every error, combined.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

//! `#[http_server(...)]`: turns a handler fn into a fn that returns the
//! configured `HttpServer` builder.
//!
//! The pipeline has three stages:
//!
//! 1. **parse** the attribute into a typed [`Args`] (`args.rs`) and the item
//!    into a [`Handler`] (`handler.rs`);
//! 2. **validate** the values into a list of builder [`Call`]s (`args.rs`),
//!    each problem a `syn::Error` on the user's tokens;
//! 3. **expand** with `quote` only (this file).
//!
//! Problems are gathered, not returned at the first one, so one build shows
//! all of them. On any error the output is the errors plus the user's item,
//! untouched, so the IDE keeps working inside the fn body.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Error, Ident, ItemFn, LitBool, LitStr, Path, Type};

use crate::paths;

use args::Args;
use handler::Handler;

mod args;
mod handler;
#[cfg(test)]
mod tests;

/// Expands `#[http_server(attr)] item`.
///
/// On misuse the result is the compile errors followed by `item` unchanged.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(attr, item.clone()) {
        Ok(tokens) => tokens,
        Err(errors) => {
            let errors = errors.to_compile_error();
            quote!(#errors #item)
        }
    }
}

/// Parses, validates and expands; `Err` holds every problem found, combined.
fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = match (|input: ParseStream| Ok(Args::parse_all(input, &mut errors))).parse2(attr) {
        Ok(args) => args,
        Err(error) => {
            errors.push(error);
            Args::default()
        }
    };
    let calls = args.validate(&mut errors);
    let handler = Handler::parse(item, &mut errors);
    errors.finish()?;
    match handler {
        Some(handler) => Ok(handler.expand(&calls)),
        // `Handler::parse` reports every `None`; this arm only keeps the
        // function total.
        None => Err(Error::new(Span::call_site(), NOT_A_FN)),
    }
}

/// Gathers errors so that one build reports all of them.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// `Ok` when nothing was pushed, else every error, combined.
    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

const NOT_A_FN: &str = "`#[http_server]` goes on a free function, \
                        as in `#[http_server(port = 8080)] fn hello() { … }`";

// ---------------------------------------------------------------------------
// Expand
// ---------------------------------------------------------------------------

/// One builder call of the expansion, checked and ready to quote.
struct Call {
    /// The builder method; always a valid identifier (never user input).
    method: &'static str,
    /// Where the call is attributed: the key, or a hook's path.
    span: Span,
    arg: Arg,
}

/// The argument of a [`Call`]. User tokens keep their spans.
enum Arg {
    /// An integer, re-emitted without suffix at the literal's span.
    Int(Literal),
    Str(LitStr),
    Bool(LitBool),
    /// A variant of the runtime enum at the path `of`.
    Variant {
        of: fn(Span) -> TokenStream,
        variant: Ident,
    },
    /// `&["origin", …]`.
    Headers(Vec<LitStr>),
    /// `Duration::from_millis(n)`.
    Millis(Literal),
    /// A user function for a hook.
    Hook(Path),
}

impl Handler {
    /// `fn name() -> HttpServer { fn __gs_handler(..) {..} HttpServer::new(..)... }`.
    fn expand(self, calls: &[Call]) -> TokenStream {
        let Self { func, context } = self;
        let ItemFn {
            attrs,
            vis,
            sig,
            block,
        } = func;
        let fn_token = sig.fn_token;
        let name = &sig.ident;
        let inputs = &sig.inputs;
        let output = &sig.output;
        // The inner fn carries the user's name span, so "signature defined
        // here" notes point at the user's fn.
        let handler = Ident::new("__gs_handler", name.span());
        let builder = paths::http_server(Span::call_site());
        let constructor = match context {
            None => quote!(#builder::new(#handler)),
            Some(ty) => {
                // Spanned on the user's argument type: if it is not the
                // context type, rustc reports the mismatch there.
                let span = type_name_span(&ty);
                let builder = paths::http_server(span);
                let handler = Ident::new("__gs_handler", span);
                quote_spanned!(span=> #builder::with_context(#handler))
            }
        };
        quote! {
            #(#attrs)*
            #vis #fn_token #name() -> #builder {
                #fn_token #handler(#inputs) #output #block
                #constructor
                    #(#calls)*
            }
        }
    }
}

/// The span of the name in `ty` (`Http` in `&mut Http`), where a type
/// mismatch reads best: one token is all a stable-rustc error can point at.
fn type_name_span(ty: &Type) -> Span {
    match ty {
        Type::Reference(reference) => type_name_span(&reference.elem),
        Type::Paren(inner) => type_name_span(&inner.elem),
        Type::Group(inner) => type_name_span(&inner.elem),
        Type::Path(path) => match path.path.segments.last() {
            Some(segment) => segment.ident.span(),
            None => ty.span(),
        },
        _ => ty.span(),
    }
}

impl ToTokens for Call {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let method = Ident::new(self.method, self.span);
        let arg = match &self.arg {
            Arg::Millis(lit) => {
                let duration = paths::duration(lit.span());
                quote!(#duration::from_millis(#lit))
            }
            Arg::Int(lit) => lit.to_token_stream(),
            Arg::Str(lit) => lit.to_token_stream(),
            Arg::Bool(lit) => lit.to_token_stream(),
            Arg::Variant { of, variant } => {
                let of = of(variant.span());
                quote!(#of::#variant)
            }
            Arg::Headers(names) => quote_spanned!(self.span=> &[#(#names),*]),
            Arg::Hook(path) => path.to_token_stream(),
        };
        tokens.extend(quote_spanned!(self.span=> .#method(#arg)));
    }
}

//! The expansion, with `quote` only:
//!
//! ```text
//! #vis fn name() -> Builder {
//!     fn __gs_handler(..) { .. }
//!     Builder::new(__gs_handler)      // or `with_context`
//!         .port(8080) ..
//! }
//! ```

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, LitBool, LitStr, Path, Type};

use super::handler::Handler;
use super::Spec;
use crate::paths;

/// One builder call of the expansion, checked and ready to quote.
pub(crate) struct Call {
    /// The builder method; always a valid identifier (never user input).
    pub(crate) method: &'static str,
    /// Where the call is attributed: the key, or a hook's path.
    pub(crate) span: Span,
    pub(crate) arg: Arg,
}

/// The argument of a [`Call`]. User tokens keep their spans.
pub(crate) enum Arg {
    /// An integer, re-emitted without suffix at the literal's span.
    Int(Literal),
    Str(LitStr),
    Bool(LitBool),
    /// A variant of the runtime enum at the path `of`.
    Variant {
        of: fn(Span) -> TokenStream,
        variant: Ident,
    },
    /// A slice of strings, `&["origin", …]`.
    Strs(Vec<LitStr>),
    /// `Duration::from_millis(n)`: a literal, or the user's expression.
    Millis(TokenStream),
    /// The user's expression for a numeric key, as written.
    Expr(TokenStream),
    /// A user function for a hook.
    Hook(Path),
    /// An integer checked at compile time against the runtime's bounds:
    /// `{ const N: usize = limits::check(n); N }`.
    Bounded {
        check: &'static str,
        lit: Literal,
    },
}

impl Handler {
    /// `fn name() -> Builder { fn __gs_handler(..) {..} Builder::new(..)... }`.
    pub(super) fn expand(self, spec: &Spec, calls: &[Call]) -> TokenStream {
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
        let builder = (spec.builder)(Span::call_site());
        let constructor = match context {
            None => quote!(#builder::new(#handler)),
            Some(ty) => {
                // Spanned on the user's argument type: if it is not the
                // context type, rustc reports the mismatch there.
                let span = type_name_span(&ty);
                let builder = (spec.builder)(span);
                let context = (spec.context_type)(span);
                let handler = Ident::new("__gs_handler", span);
                // Coerced to a fn pointer first, so that a wrong context
                // type is one plain mismatch on that type (not a closure
                // bound's error with a nonsensical "wrap it in a closure").
                quote_spanned!(span=> {
                    let handler: fn(&mut #context) = #handler;
                    #builder::with_context(handler)
                })
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
            Arg::Millis(millis) => {
                let span = millis
                    .clone()
                    .into_iter()
                    .next()
                    .map_or(self.span, |t| t.span());
                let duration = paths::duration(span);
                quote!(#duration::from_millis(#millis))
            }
            Arg::Expr(expr) => expr.clone(),
            Arg::Int(lit) => lit.to_token_stream(),
            Arg::Str(lit) => lit.to_token_stream(),
            Arg::Bool(lit) => lit.to_token_stream(),
            Arg::Variant { of, variant } => {
                let of = of(variant.span());
                quote!(#of::#variant)
            }
            Arg::Strs(strings) => quote_spanned!(self.span=> &[#(#strings),*]),
            Arg::Hook(path) => path.to_token_stream(),
            Arg::Bounded { check, lit } => {
                let span = lit.span();
                let limits = paths::limits(span);
                let check = Ident::new(check, span);
                quote_spanned!(span=> { const N: usize = #limits::#check(#lit); N })
            }
        };
        tokens.extend(quote_spanned!(self.span=> .#method(#arg)));
    }
}

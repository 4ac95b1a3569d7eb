//! The item: the user's fn, checked to be a handler of one of the two shapes,
//! `fn name()` or `fn name(cx: Context)`, free, synchronous, non-generic and
//! returning nothing. The messages take the attribute's words from its
//! [`Spec`].

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{Error, FnArg, Item, ItemFn, ReturnType, Type};

use super::{Errors, Spec};

/// The user's fn, checked to be a handler of one of the two shapes.
pub(super) struct Handler {
    pub(super) func: ItemFn,
    /// The context argument's type for `fn name(cx: &mut Context)`; `None` for
    /// `fn name()`. Deliberately unchecked: rustc checks it, at its span.
    pub(super) context: Option<Box<Type>>,
}

impl Handler {
    /// Parses `item` as a handler; every reason it is not one goes to
    /// `errors`, and then the result is `None`.
    pub(super) fn parse(item: TokenStream, spec: &Spec, errors: &mut Errors) -> Option<Self> {
        let func = match syn::parse2::<Item>(item) {
            Ok(Item::Fn(func)) => func,
            Ok(item) => {
                errors.push(Error::new_spanned(item_head(&item), spec.not_a_fn()));
                return None;
            }
            Err(_) => {
                errors.push(Error::new(Span::call_site(), spec.not_a_fn()));
                return None;
            }
        };
        let mut problems = Errors::default();
        check_signature(&func, spec, &mut problems);
        let context = func.sig.inputs.iter().find_map(|arg| match arg {
            FnArg::Typed(typed) => Some(typed.ty.clone()),
            FnArg::Receiver(_) => None,
        });
        match problems.finish() {
            Ok(()) => Some(Self { func, context }),
            Err(error) => {
                errors.push(error);
                None
            }
        }
    }
}

/// What stands for an item that is no handler: for a fn, a fn of the same
/// name and visibility returning the builder (so that `serve!` reports no
/// second, confusing error), its body dropped; anything else unchanged.
pub(super) fn stand_in(item: TokenStream, spec: &Spec) -> TokenStream {
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => {
            let ItemFn {
                attrs, vis, sig, ..
            } = func;
            let name = &sig.ident;
            let builder = (spec.builder)(name.span());
            let attrs = attrs.iter().filter(|a| a.path().is_ident("doc"));
            quote! {
                #(#attrs)*
                #[allow(unreachable_code)]
                #vis fn #name() -> #builder {
                    ::core::unreachable!("a handler with compile errors")
                }
            }
        }
        _ => item,
    }
}

/// Reports every way `func`'s signature is not `fn name()` or
/// `fn name(cx: Context)` with no or a `()` return type.
fn check_signature(func: &ItemFn, spec: &Spec, errors: &mut Errors) {
    let Spec {
        attr,
        example,
        context,
        handler,
        answer,
        ..
    } = spec;
    let sig = &func.sig;
    let mut report = |tokens: &dyn ToTokens, message: String| {
        errors.push(Error::new_spanned(tokens, message));
    };
    if let Some(token) = &sig.constness {
        report(token, format!("{handler} cannot be a `const fn`"));
    }
    if let Some(token) = &sig.asyncness {
        report(token, format!("{handler} is synchronous; remove `async`"));
    }
    if let Some(token) = &sig.unsafety {
        report(token, format!("{handler} cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        report(abi, format!("{handler} cannot have an `extern` ABI"));
    }
    if !sig.generics.params.is_empty() {
        report(&sig.generics, format!("{handler} cannot be generic"));
    }
    if let Some(clause) = &sig.generics.where_clause {
        report(clause, format!("{handler} cannot have a `where` clause"));
    }
    let mut typed = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(receiver) => report(
                receiver,
                format!("`#[{attr}]` goes on a free function, not a method; remove `self`"),
            ),
            FnArg::Typed(arg) => typed.push(arg),
        }
    }
    if typed.len() > 1 {
        let extra = &typed[1..];
        report(
            &quote!(#(#extra),*),
            format!(
                "{handler} takes no argument, or one context argument as in \
                 `fn {example}(cx: &mut {context})`"
            ),
        );
    }
    if let Some(variadic) = &sig.variadic {
        report(variadic, format!("{handler} cannot be variadic"));
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        let unit = matches!(&**ty, Type::Tuple(tuple) if tuple.elems.is_empty());
        if !unit {
            report(ty, format!("{handler} returns nothing; {answer} instead"));
        }
    }
}

/// The tokens that name `item` (`struct Foo`, `impl Foo`, …), where a
/// "not a fn" error reads best; the whole item for kinds without a name.
fn item_head(item: &Item) -> TokenStream {
    match item {
        Item::Const(i) => pair(&i.const_token, &i.ident),
        Item::Enum(i) => pair(&i.enum_token, &i.ident),
        Item::ExternCrate(i) => pair(&i.extern_token, &i.ident),
        Item::ForeignMod(i) => i.abi.to_token_stream(),
        Item::Impl(i) => pair(&i.impl_token, &i.self_ty),
        Item::Macro(i) => i.mac.path.to_token_stream(),
        Item::Mod(i) => pair(&i.mod_token, &i.ident),
        Item::Static(i) => pair(&i.static_token, &i.ident),
        Item::Struct(i) => pair(&i.struct_token, &i.ident),
        Item::Trait(i) => pair(&i.trait_token, &i.ident),
        Item::TraitAlias(i) => pair(&i.trait_token, &i.ident),
        Item::Type(i) => pair(&i.type_token, &i.ident),
        Item::Union(i) => pair(&i.union_token, &i.ident),
        Item::Use(i) => i.use_token.to_token_stream(),
        other => other.to_token_stream(),
    }
}

fn pair(first: &impl ToTokens, second: &impl ToTokens) -> TokenStream {
    quote!(#first #second)
}

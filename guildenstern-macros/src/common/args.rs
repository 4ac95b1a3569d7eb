//! The attribute: `port = 8080, threads = 4, …` parsed into the attribute's
//! typed keys (declared with [`keys!`]: `syn` custom keywords picked with
//! `lookahead1`), each value of the right syntactic kind.
//!
//! A malformed entry is reported and skipped up to the next comma, so the
//! entries after it are still checked and one build shows every problem.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Error, Token};

use super::{Call, Errors, Spec};

/// A numeric value as written: an integer literal, checked by the macro,
/// or any other expression (a constant, arithmetic, a call), which rustc
/// types and the runtime checks when the server starts.
pub(crate) enum Num {
    Lit(syn::LitInt),
    Expr(Box<syn::Expr>),
}

impl Parse for Num {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // A literal alone (not `60 * 1000`): checked here.
        let fork = input.fork();
        if fork.parse::<syn::LitInt>().is_ok() && (fork.is_empty() || fork.peek(Token![,])) {
            return input.parse().map(Num::Lit);
        }
        if input.peek(syn::Lit) && !input.peek(syn::LitInt) {
            // A string, a float, a bool: the key's own message says what it takes.
            return Err(input.error("not an integer"));
        }
        input.parse().map(|e| Num::Expr(Box::new(e)))
    }
}

/// One key as written: where its keyword is, its name, and its value.
pub(crate) struct Setting<V> {
    /// The key's name, for messages.
    pub(crate) name: &'static str,
    /// The key's span: duplicates and builder calls are reported here.
    pub(crate) key: Span,
    pub(crate) value: V,
}

/// The keys of one attribute, as written: each key at most once, each value
/// of the right syntactic kind, nothing checked beyond that. Implemented by
/// [`keys!`].
pub(crate) trait Keys: Default {
    /// The attribute's words for messages, and its builder.
    const SPEC: Spec;

    /// Every key's name, in declaration order.
    const NAMES: &'static [&'static str];

    /// Parses one `key = value` entry into its slot.
    fn parse_entry(&mut self, input: ParseStream) -> syn::Result<()>;

    /// Every key written, even with a bad value.
    fn written(&self) -> &[&'static str];

    /// Checks every value given, in the order the keys are declared: one
    /// builder call or one error each.
    fn check(self) -> Vec<syn::Result<Call>>;
}

/// Declares an attribute's keys: one custom keyword each, one slot each in
/// the struct, the `lookahead1` dispatch that parses an entry into its slot,
/// and the check of each value.
///
/// ```text
/// keys! {
///     /// The `#[x_server]` attribute as written.
///     pub(super) struct Args for SPEC;
///     // A key of this attribute: value type => accepted form, check.
///     port: LitInt => "a port number, as in `port = 8080`", |s| check_port(s, &SPEC);
///     // A key every server attribute has, from `shared_keys`.
///     threads;
/// }
/// ```
///
/// The accepted form is used in messages; the order is the order of the
/// builder calls and of the keys listed in an unknown-key error.
macro_rules! keys {
    (
        $(#[$meta:meta])*
        $vis:vis struct $args:ident for $spec:path;
        $( $key:ident $(: $value:ty => $expected:literal, $check:expr)? ; )*
    ) => {
        /// The attribute's keys.
        mod kw {
            $( syn::custom_keyword!($key); )*
        }

        $(#[$meta])*
        #[derive(Default)]
        $vis struct $args {
            $(
                $key: Option<$crate::common::Setting<$crate::common::args::pick!(
                    [$($value)?] [$crate::common::shared_keys::$key::Value]
                )>>,
            )*
            /// Every key written, even with a bad value.
            written: Vec<&'static str>,
        }

        impl $crate::common::Keys for $args {
            const SPEC: $crate::common::Spec = $spec;

            const NAMES: &'static [&'static str] = &[$(stringify!($key)),*];

            fn parse_entry(&mut self, input: syn::parse::ParseStream) -> syn::Result<()> {
                let lookahead = input.lookahead1();
                $(
                    if lookahead.peek(kw::$key) {
                        let key = input.parse::<kw::$key>()?.span;
                        let name = stringify!($key);
                        self.written.push(name);
                        let expected = $crate::common::args::pick!(
                            [$($expected)?] [$crate::common::shared_keys::$key::EXPECTED]
                        );
                        return $crate::common::args::parse_setting(
                            input, key, name, expected, &mut self.$key,
                        );
                    }
                )*
                Err($crate::common::args::unknown_key(input, lookahead.error(), Self::NAMES))
            }

            fn written(&self) -> &[&'static str] {
                &self.written
            }

            fn check(self) -> Vec<syn::Result<$crate::common::Call>> {
                let mut results = Vec::new();
                $(
                    results.extend(self.$key.map($crate::common::args::pick!(
                        [$($check)?] [$crate::common::shared_keys::$key::check]
                    )));
                )*
                results
            }
        }
    };
}

/// The first bracket's tokens when there are any, else the second's: an
/// attribute's own definition of a key, else the shared one.
macro_rules! pick {
    ([$($given:tt)+] [$($shared:tt)*]) => { $($given)+ };
    ([] [$($shared:tt)*]) => { $($shared)* };
}

pub(crate) use {keys, pick};

/// Parses the whole attribute, recording every problem in `errors` and
/// skipping a bad entry up to the next comma, so later ones still count.
pub(crate) fn parse_all<K: Keys>(input: ParseStream, errors: &mut Errors) -> K {
    let mut keys = K::default();
    while !input.is_empty() {
        if let Err(error) = keys.parse_entry(input) {
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
    keys
}

/// Parses `= value` after the key `name` (already consumed, at `key`) into
/// `slot`; a second occurrence of the key is an error on that key.
pub(crate) fn parse_setting<V: Parse>(
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
    if input.peek(Token![|]) || input.peek(Token![||]) || input.peek(Token![move]) {
        // A closure's parameters hold commas: its tokens are not entries.
        let mut written = TokenStream::new();
        while !input.is_empty() {
            written.extend([input.parse::<TokenTree>()?]);
        }
        return Err(Error::new_spanned(
            written,
            format!(
                "`{name}` expects {expected}, not a closure; name a function, \
                 or give the closure to the builder method `.{name}(…)`"
            ),
        ));
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

/// The error for a token that is not a key: it names the token and the key
/// it is likely a misspelling of, or else lists the keys (`lookahead1`'s
/// "expected one of" message).
pub(crate) fn unknown_key(input: ParseStream, expected: Error, names: &[&str]) -> Error {
    let Some((ident, _)) = input.cursor().ident() else {
        return expected;
    };
    let written = ident.to_string();
    let message = match closest(&written, names) {
        Some(name) => format!("unknown key `{written}`; did you mean `{name}`?"),
        None => format!("unknown key `{written}`; {expected}"),
    };
    Error::new(ident.span(), message)
}

/// The name in `names` nearest to `written`, if it is near enough to be a
/// misspelling: one or two edits, and no more than a quarter of its letters.
fn closest<'a>(written: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|name| (edit_distance(written, name), *name))
        .filter(|(d, name)| *d <= (name.len() / 4).clamp(1, 2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// The edit distance between `a` and `b` (insertions, deletions,
/// substitutions and swaps of neighbours, each 1), by bytes: keys are ASCII.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // d[i][j]: the distance between a[..i] and b[..j].
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::{closest, edit_distance};

    #[test]
    fn misspellings_find_their_key() {
        assert_eq!(edit_distance("thread", "threads"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("prot", "port"), 1);
        let names = [
            "port",
            "threads",
            "max_header_bytes",
            "max_headers",
            "on_close",
        ];
        assert_eq!(closest("thread", &names), Some("threads"));
        assert_eq!(closest("prot", &names), Some("port"));
        assert_eq!(
            closest("max_headers_bytes", &names),
            Some("max_header_bytes")
        );
        assert_eq!(closest("onclose", &names), Some("on_close"));
        assert_eq!(closest("workers", &names), None);
        assert_eq!(closest("x", &names), None);
    }
}

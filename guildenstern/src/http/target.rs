//! The request target in origin form (RFC 9112 §3.2.1): its path and its
//! query (RFC 3986 §3.3–§3.4), split and decoded without copying where
//! nothing needs decoding.

use super::form::{form_fields, form_value, percent_decode, FormFields};
use std::borrow::Cow;

/// The path of `target` as sent: up to the first `?` (or `#`).
pub(crate) fn raw_path(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or("")
}

/// The query of `target` as sent, without the `?`; `None` when there is no `?`.
pub(crate) fn query(target: &str) -> Option<&str> {
    let (_, rest) = target.split_once('?')?;
    Some(rest.split('#').next().unwrap_or(""))
}

/// The path, `%XX` escapes decoded (`+` stays a plus: that is a form rule,
/// not a path rule); UTF-8 decoded lossily. Borrowed when nothing needed
/// decoding.
pub(crate) fn path(target: &str) -> Cow<'_, str> {
    percent_decode(raw_path(target).as_bytes(), false)
}

/// The decoded value of the first query parameter named `name`.
pub(crate) fn query_value<'a>(target: &'a str, name: &str) -> Option<Cow<'a, str>> {
    form_value(query(target)?.as_bytes(), name)
}

/// The decoded `(name, value)` pairs of the query, in order.
pub(crate) fn query_pairs(target: &str) -> FormFields<'_> {
    form_fields(query(target).unwrap_or("").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_query() {
        let cases = [
            ("/", "/", None),
            ("/a/b", "/a/b", None),
            ("/a?", "/a", Some("")),
            ("/a?x=1&y=2", "/a", Some("x=1&y=2")),
            ("/a?x=1#frag", "/a", Some("x=1")),
            ("/a#frag", "/a", None),
            ("/a?x=?&y", "/a", Some("x=?&y")),
            ("*", "*", None),
            ("", "", None),
        ];
        for (target, p, q) in cases {
            assert_eq!(raw_path(target), p, "{target}");
            assert_eq!(query(target), q, "{target}");
        }
    }

    #[test]
    fn decodes_the_path_but_not_plus() {
        assert_eq!(path("/caf%C3%A9/a+b?x=%41"), "/café/a+b");
        assert_eq!(path("/a%2Fb"), "/a/b");
        assert_eq!(path("/100%"), "/100%");
        assert!(matches!(path("/plain?q=%41"), Cow::Borrowed("/plain")));
    }

    #[test]
    fn query_values_and_pairs() {
        let t = "/s?q=rust+http&page=2&q=again&flag&e=%C3%A9";
        assert_eq!(query_value(t, "q").as_deref(), Some("rust http"));
        assert_eq!(query_value(t, "page").as_deref(), Some("2"));
        assert_eq!(query_value(t, "flag").as_deref(), Some(""));
        assert_eq!(query_value(t, "e").as_deref(), Some("é"));
        assert_eq!(query_value(t, "missing"), None);
        assert_eq!(query_value("/s", "q"), None);
        let pairs: Vec<_> = query_pairs(t).collect();
        assert_eq!(pairs.len(), 5);
        assert_eq!(pairs[2], ("q".into(), "again".into()));
        assert_eq!(query_pairs("/nothing").count(), 0);
    }
}

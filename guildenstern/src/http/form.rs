//! Reading `application/x-www-form-urlencoded` bodies, the format of an HTML
//! `<form method="post">` without files (WHATWG URL Standard §5.1).

use std::borrow::Cow;
use std::iter::FusedIterator;

/// Iterates the `(name, value)` pairs of an `application/x-www-form-urlencoded`
/// body.
///
/// The body is split on `&`, then each piece on its first `=` (a piece
/// without `=` is a name with an empty value). In names and values `+`
/// means a space and `%XX` is the byte with hex value `XX`; a `%` not
/// followed by two hex digits is kept literally. Decoded bytes that are not
/// UTF-8 are replaced with U+FFFD (lossy). Empty pieces (`a=1&&b=2`, a
/// leading or trailing `&`) are skipped. A name or value is borrowed from
/// `body` when nothing in it needed decoding, so a plain form allocates
/// nothing.
///
/// # Examples
///
/// ```
/// use guildenstern::http::form::form_fields;
///
/// let body = b"name=J%C3%BCrgen+M&lang=rust&flag";
/// let fields: Vec<_> = form_fields(body).collect();
/// assert_eq!(fields[0], ("name".into(), "Jürgen M".into()));
/// assert_eq!(fields[1], ("lang".into(), "rust".into()));
/// assert_eq!(fields[2], ("flag".into(), "".into()));
/// assert_eq!(fields.len(), 3);
/// ```
#[must_use = "the iterator is lazy and does nothing unless consumed"]
pub fn form_fields(body: &[u8]) -> FormFields<'_> {
    FormFields { rest: body }
}

/// The decoded value of the first field named `name` in an
/// `application/x-www-form-urlencoded` body, decoded as by [`form_fields`].
///
/// `name` is compared with each field's decoded name, exactly (case
/// matters). Values of the fields before the match are not decoded.
///
/// # Examples
///
/// ```
/// use guildenstern::http::form::form_value;
///
/// let body = b"q=rust+http&page=2&q=ignored";
/// assert_eq!(form_value(body, "q").as_deref(), Some("rust http"));
/// assert_eq!(form_value(body, "page").as_deref(), Some("2"));
/// assert_eq!(form_value(body, "Page"), None);
/// ```
#[must_use]
pub fn form_value<'a>(body: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    let mut fields = form_fields(body);
    while let Some((raw_name, raw_value)) = fields.next_raw() {
        if decode(raw_name) == name {
            return Some(decode(raw_value));
        }
    }
    None
}

/// The iterator returned by [`form_fields`]: yields each field's decoded
/// `(name, value)`, borrowing from the body where nothing needed decoding.
#[derive(Debug, Clone)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct FormFields<'a> {
    rest: &'a [u8],
}

impl<'a> FormFields<'a> {
    /// The next non-empty piece, split into its raw name and raw value.
    fn next_raw(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let piece = match self.rest.iter().position(|&b| b == b'&') {
                Some(amp) => {
                    let piece = &self.rest[..amp];
                    self.rest = &self.rest[amp + 1..];
                    piece
                }
                None => std::mem::take(&mut self.rest),
            };
            if piece.is_empty() {
                continue;
            }
            return Some(match piece.iter().position(|&b| b == b'=') {
                Some(eq) => (&piece[..eq], &piece[eq + 1..]),
                None => (piece, &[][..]),
            });
        }
    }
}

impl<'a> Iterator for FormFields<'a> {
    type Item = (Cow<'a, str>, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        self.next_raw()
            .map(|(name, value)| (decode(name), decode(value)))
    }
}

impl FusedIterator for FormFields<'_> {}

/// Decodes one name or value: `+` to space, valid `%XX` escapes to bytes,
/// then UTF-8 (lossy). Borrows when no byte needs changing.
fn decode(raw: &[u8]) -> Cow<'_, str> {
    percent_decode(raw, true)
}

/// Valid `%XX` escapes to bytes (and `+` to space if `plus_is_space`), then
/// UTF-8 (lossy). Borrows when no byte needs changing.
pub(crate) fn percent_decode(raw: &[u8], plus_is_space: bool) -> Cow<'_, str> {
    let escape_at = |raw: &[u8], i: usize| match raw[i] {
        b'+' if !plus_is_space => None,
        _ => escape_at(raw, i),
    };
    let Some(first) = (0..raw.len()).find(|&i| escape_at(raw, i).is_some()) else {
        return String::from_utf8_lossy(raw);
    };
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&raw[..first]);
    let mut i = first;
    while i < raw.len() {
        match escape_at(raw, i) {
            Some((byte, len)) => {
                out.push(byte);
                i += len;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// The byte that the encoding at `raw[i]` stands for and its length, if
/// `raw[i]` starts one (`+`, or `%` and two hex digits).
fn escape_at(raw: &[u8], i: usize) -> Option<(u8, usize)> {
    match raw[i..] {
        [b'+', ..] => Some((b' ', 1)),
        [b'%', hi, lo, ..] => Some(((hex_value(hi)? << 4) | hex_value(lo)?, 3)),
        _ => None,
    }
}

/// The value of an ASCII hex digit, either case.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body and the decoded fields it should yield.
    type Case<'a> = (&'a [u8], &'a [(&'a str, &'a str)]);

    #[test]
    fn fields() {
        let cases: &[Case<'_>] = &[
            (b"", &[]),
            (b"&&", &[]),
            (b"a=1", &[("a", "1")]),
            (b"a=1&b=2", &[("a", "1"), ("b", "2")]),
            (b"&a=1&&b=2&", &[("a", "1"), ("b", "2")]),
            (b"a", &[("a", "")]),
            (b"a=", &[("a", "")]),
            (b"=v", &[("", "v")]),
            (b"=", &[("", "")]),
            (b"a=b=c", &[("a", "b=c")]),
            (b"a=1&a=2", &[("a", "1"), ("a", "2")]),
            (b"k=a+b", &[("k", "a b")]),
            (b"k+1=%20", &[("k 1", " ")]),
            (b"k=%2B", &[("k", "+")]),
            (b"k=%26%3D", &[("k", "&=")]),
            (b"k=%c3%a9%C3%A9", &[("k", "éé")]),
            (b"k=100%", &[("k", "100%")]),
            (b"k=%4", &[("k", "%4")]),
            (b"k=%zz", &[("k", "%zz")]),
            (b"k=%%41", &[("k", "%A")]),
            (b"k=%+1", &[("k", "% 1")]),
            (b"k=%ff", &[("k", "\u{fffd}")]),
            (b"k=a%C3", &[("k", "a\u{fffd}")]),
            (b"k=\xff", &[("k", "\u{fffd}")]),
            (b"k=caf\xc3\xa9", &[("k", "café")]),
        ];
        for (body, expected) in cases {
            let got: Vec<_> = form_fields(body).collect();
            let want: Vec<(Cow<'_, str>, Cow<'_, str>)> = expected
                .iter()
                .map(|&(n, v)| (n.into(), v.into()))
                .collect();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn borrowed_when_nothing_to_decode() {
        let cases: &[(&[u8], bool)] = &[
            (b"plain", true),
            (b"", true),
            (b"caf\xc3\xa9", true),
            (b"100%", true),
            (b"%zz", true),
            (b"a+b", false),
            (b"%41", false),
            (b"\xff", false),
        ];
        for (raw, borrowed) in cases {
            let got = decode(raw);
            assert_eq!(
                matches!(got, Cow::Borrowed(_)),
                *borrowed,
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn value_lookup() {
        let body: &[u8] = b"a=1&b+c=x+y&%62=second&a=3&flag&e=";
        let cases: &[(&str, Option<&str>)] = &[
            ("a", Some("1")),
            ("b c", Some("x y")),
            ("b", Some("second")),
            ("flag", Some("")),
            ("e", Some("")),
            ("A", None),
            ("missing", None),
            ("", None),
        ];
        for (name, expected) in cases {
            assert_eq!(form_value(body, name).as_deref(), *expected, "{name:?}");
        }
    }

    #[test]
    fn fused() {
        let mut it = form_fields(b"a=1");
        assert!(it.next().is_some());
        assert!(it.next().is_none());
        assert!(it.next().is_none());
    }
}

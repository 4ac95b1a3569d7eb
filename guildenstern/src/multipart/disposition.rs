//! A part's `Content-Disposition` (RFC 7578 §4.2, grammar of RFC 6266 §4.1):
//! its `name` and `filename`.
//!
//! Names and file names are given as sent. Browsers (WHATWG HTML,
//! "multipart/form-data encoding algorithm") send them as raw UTF-8 in a
//! quoted string and percent-encode only `"`, CR and LF (`%22`, `%0D`,
//! `%0A`); since a literal `%22` in a file name is sent unchanged, those
//! sequences are not decoded here — an application that wants to can.
//!
//! `filename*` (RFC 5987 / RFC 8187 `ext-value`): RFC 7578 §4.2 says senders
//! MUST NOT use it, and browsers do not. It is still read, as a fallback when
//! there is no `filename`: `UTF-8''…` and `ISO-8859-1''…` values are
//! percent-decoded; other charsets are ignored. A plain `filename` wins
//! when both are present, as it is the parameter RFC 7578 defines.

use super::params::{self, Param};
use std::borrow::Cow;

/// What the reader keeps of a `Content-Disposition` value: offsets into it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Disposition {
    pub(crate) name: Option<Value>,
    pub(crate) filename: Option<Value>,
}

/// Where a parameter's value is within the field value, and how it is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Value {
    start: usize,
    end: usize,
    enc: Encoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Token,
    Quoted,
    /// RFC 8187 `ext-value`, after `charset''`; percent-encoded.
    Ext(Charset),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Latin1,
}

/// Reads a `Content-Disposition` field value. Any disposition type is
/// accepted (RFC 7578 requires `form-data`; the parameters are what matter).
///
/// # Errors
/// `Err(())` when the value is not `type *( ";" parameter )`.
pub(crate) fn parse(field: &[u8]) -> Result<Disposition, ()> {
    let (kind, ps) = params::split(field);
    if kind.is_empty() || !kind.iter().all(|&b| params::is_tchar(b)) {
        return Err(());
    }
    let mut d = Disposition::default();
    let mut ext = None;
    for p in ps {
        let p = p.map_err(|_| ())?;
        let at = |p: &Param<'_>, enc| {
            let start = p.raw.as_ptr() as usize - field.as_ptr() as usize;
            Value {
                start,
                end: start + p.raw.len(),
                enc,
            }
        };
        let enc = if p.quoted {
            Encoding::Quoted
        } else {
            Encoding::Token
        };
        if p.name.eq_ignore_ascii_case(b"name") && d.name.is_none() {
            d.name = Some(at(&p, enc));
        } else if p.name.eq_ignore_ascii_case(b"filename") && d.filename.is_none() {
            d.filename = Some(at(&p, enc));
        } else if p.name.eq_ignore_ascii_case(b"filename*") && ext.is_none() && !p.quoted {
            ext = ext_value(&p).map(|(skip, cs)| {
                let mut v = at(&p, Encoding::Ext(cs));
                v.start += skip;
                v
            });
        }
    }
    if d.filename.is_none() {
        d.filename = ext;
    }
    Ok(d)
}

/// RFC 8187 §3.2.1 `charset "'" [ language ] "'" value-chars`: the length
/// of the prefix before the value and the charset, for the charsets read.
fn ext_value(p: &Param<'_>) -> Option<(usize, Charset)> {
    let q1 = p.raw.iter().position(|&b| b == b'\'')?;
    let q2 = q1 + 1 + p.raw[q1 + 1..].iter().position(|&b| b == b'\'')?;
    let cs = &p.raw[..q1];
    let charset = if cs.eq_ignore_ascii_case(b"utf-8") {
        Charset::Utf8
    } else if cs.eq_ignore_ascii_case(b"iso-8859-1") {
        Charset::Latin1
    } else {
        return None;
    };
    Some((q2 + 1, charset))
}

impl Value {
    /// The decoded text of this value within `field`; bytes that are not
    /// UTF-8 become U+FFFD. Borrowed unless something needed decoding.
    pub(crate) fn text<'a>(&self, field: &'a [u8]) -> Cow<'a, str> {
        let raw = &field[self.start..self.end];
        let bytes: Cow<'a, [u8]> = match self.enc {
            Encoding::Token => Cow::Borrowed(raw),
            Encoding::Quoted => Param {
                name: b"",
                raw,
                quoted: true,
            }
            .value(),
            Encoding::Ext(cs) => {
                let decoded = percent_decode(raw);
                if cs == Charset::Latin1 {
                    return Cow::Owned(decoded.iter().map(|&b| char::from(b)).collect());
                }
                Cow::Owned(decoded)
            }
        };
        match bytes {
            Cow::Borrowed(b) => String::from_utf8_lossy(b),
            Cow::Owned(v) => Cow::Owned(match String::from_utf8(v) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }),
        }
    }
}

fn percent_decode(raw: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            if let (Some(h), Some(l)) = (
                raw.get(i + 1).copied().and_then(hex),
                raw.get(i + 2).copied().and_then(hex),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Names = Option<(Option<String>, Option<String>)>;

    fn names(field: &str) -> Names {
        let d = parse(field.as_bytes()).ok()?;
        let f = field.as_bytes();
        Some((
            d.name.map(|v| v.text(f).into_owned()),
            d.filename.map(|v| v.text(f).into_owned()),
        ))
    }

    #[test]
    fn table() {
        let s = |x: &str| Some(x.to_string());
        let cases: &[(&str, Names)] = &[
            (r#"form-data; name="field""#, Some((s("field"), None))),
            (r#"form-data; name=field"#, Some((s("field"), None))),
            (
                r#"form-data; name="file"; filename="a b.txt""#,
                Some((s("file"), s("a b.txt"))),
            ),
            (
                r#"Form-Data; NAME="n"; FILENAME="C:\x\y.bin""#,
                Some((s("n"), s(r"C:\x\y.bin"))),
            ),
            (
                "form-data; name=\"f\"; filename=\"gr\u{fc}\u{df}e.txt\"",
                Some((s("f"), s("gr\u{fc}\u{df}e.txt"))),
            ),
            (
                r#"form-data; name="f"; filename="q%22uote.txt""#,
                Some((s("f"), s("q%22uote.txt"))),
            ),
            (
                r#"form-data; name="f"; filename*=UTF-8''%E2%82%AC%20rates.txt"#,
                Some((s("f"), s("\u{20ac} rates.txt"))),
            ),
            (
                r#"form-data; name="f"; filename*=iso-8859-1'en'%A3.txt"#,
                Some((s("f"), s("\u{a3}.txt"))),
            ),
            (
                r#"form-data; name="f"; filename*=UTF-8''ext.txt; filename="plain.txt""#,
                Some((s("f"), s("plain.txt"))),
            ),
            (
                r#"form-data; name="f"; filename*=koi8-r''x.txt"#,
                Some((s("f"), None)),
            ),
            (r#"form-data; name="a\"b""#, Some((s("a\"b"), None))),
            ("form-data", Some((None, None))),
            (r#"form-data; name="a"; name="b""#, Some((s("a"), None))),
            (r#"form-data; name="open"#, None),
            ("; name=a", None),
            ("form data; name=a", None),
        ];
        for (field, want) in cases {
            assert_eq!(&names(field), want, "{field}");
        }
    }
}

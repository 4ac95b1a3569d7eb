//! The `value *( OWS ";" OWS name "=" ( token / quoted-string ) )` grammar
//! shared by `Content-Type` (RFC 9110 §5.6.6, §8.3.1) and
//! `Content-Disposition` (RFC 6266 §4.1), read without copies.

use std::borrow::Cow;

/// One parameter as it appears in the field: the value without its quotes,
/// still escaped when `quoted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Param<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) raw: &'a [u8],
    pub(crate) quoted: bool,
}

impl<'a> Param<'a> {
    /// The value with quoted-pairs resolved; borrowed when there are none.
    pub(crate) fn value(&self) -> Cow<'a, [u8]> {
        if self.quoted && self.raw.contains(&b'\\') {
            Cow::Owned(unquote(self.raw))
        } else {
            Cow::Borrowed(self.raw)
        }
    }
}

/// The field's syntax is not `value *( ";" parameter )`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;

/// Splits a field value into its leading item (a media type, a disposition
/// type; trimmed) and an iterator over its parameters.
pub(crate) fn split(field: &[u8]) -> (&[u8], Params<'_>) {
    let end = field.iter().position(|&b| b == b';').unwrap_or(field.len());
    (
        trim(&field[..end]),
        Params {
            rest: &field[end..],
        },
    )
}

/// The parameters of a field, in order; an [`Invalid`] ends the iteration.
pub(crate) struct Params<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, Invalid>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.parse_next();
        if !matches!(r, Some(Ok(_))) {
            self.rest = &[];
        }
        r
    }
}

impl<'a> Params<'a> {
    fn parse_next(&mut self) -> Option<Result<Param<'a>, Invalid>> {
        let mut s = skip_ows(self.rest);
        loop {
            match s.split_first() {
                None => return None,
                // Empty parameters (`a;;b`, a trailing `;`) are tolerated.
                Some((b';', tail)) => s = skip_ows(tail),
                Some(_) => break,
            }
        }
        let name_len = s.iter().take_while(|&&b| is_tchar(b)).count();
        if name_len == 0 {
            return Some(Err(Invalid));
        }
        let name = &s[..name_len];
        let s = skip_ows(&s[name_len..]);
        let Some((b'=', s)) = s.split_first() else {
            return Some(Err(Invalid));
        };
        let s = skip_ows(s);
        let (raw, quoted, after) = if let Some((b'"', body)) = s.split_first() {
            let Some(close) = closing_quote(body) else {
                return Some(Err(Invalid));
            };
            (&body[..close], true, &body[close + 1..])
        } else {
            let n = s.iter().take_while(|&&b| is_tchar(b)).count();
            if n == 0 {
                return Some(Err(Invalid));
            }
            (&s[..n], false, &s[n..])
        };
        let after = skip_ows(after);
        if !matches!(after.first(), None | Some(b';')) {
            return Some(Err(Invalid));
        }
        self.rest = after;
        Some(Ok(Param { name, raw, quoted }))
    }
}

/// Where the quoted string starting after its opening quote ends.
///
/// A backslash before `"` or `\` is a quoted-pair (RFC 9110 §5.6.4); any
/// other backslash is kept as a literal byte, as browsers send it (they
/// percent-encode `"` in names and file names and leave `\` alone, so a
/// Windows path such as `C:\dir\a.txt` must survive).
fn closing_quote(body: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => return Some(i),
            b'\\' if matches!(body.get(i + 1), Some(b'"' | b'\\')) => i += 2,
            b'\r' | b'\n' | 0 => return None,
            _ => i += 1,
        }
    }
    None
}

fn unquote(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && matches!(raw.get(i + 1), Some(b'"' | b'\\')) {
            i += 1;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn skip_ows(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    &s[n..]
}

pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let s = skip_ows(s);
    let n = s
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    &s[..s.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(field: &str) -> Result<(String, Vec<(String, String)>), Invalid> {
        let (lead, ps) = split(field.as_bytes());
        let mut out = Vec::new();
        for p in ps {
            let p = p?;
            out.push((
                String::from_utf8_lossy(p.name).into_owned(),
                String::from_utf8_lossy(&p.value()).into_owned(),
            ));
        }
        Ok((String::from_utf8_lossy(lead).into_owned(), out))
    }

    #[test]
    fn table() {
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
        let ok: &[Case<'_>] = &[
            ("form-data", "form-data", &[]),
            (" form-data ; name=a", "form-data", &[("name", "a")]),
            (
                r#"form-data; name="a b"; filename="x;y.txt""#,
                "form-data",
                &[("name", "a b"), ("filename", "x;y.txt")],
            ),
            (r#"a; n="q\"uote""#, "a", &[("n", "q\"uote")]),
            (r#"a; n="C:\dir\f.txt""#, "a", &[("n", r"C:\dir\f.txt")]),
            (r#"a; n="back\\slash""#, "a", &[("n", r"back\slash")]),
            ("a;;b=1;", "a", &[("b", "1")]),
            ("a; b = 1", "a", &[("b", "1")]),
            (r#"a; n="""#, "a", &[("n", "")]),
        ];
        for (field, lead, want) in ok {
            let (l, got) = params(field).unwrap_or_else(|_| panic!("{field} parses"));
            assert_eq!(&l, lead, "{field}");
            let want: Vec<_> = want
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            assert_eq!(got, want, "{field}");
        }
        for bad in [
            "a; n",
            "a; =v",
            r#"a; n="open"#,
            "a; n=v w",
            r#"a; n="v"x"#,
            "a; n=",
            "a; n=\"line\r\nbreak\"",
        ] {
            assert_eq!(params(bad), Err(Invalid), "{bad:?}");
        }
    }
}

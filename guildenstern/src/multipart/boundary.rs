//! The boundary: found in the request's `Content-Type` (RFC 7578 §4.1,
//! RFC 2046 §5.1.1), checked, and turned into the delimiter the parser
//! searches the body for.

use super::error::MultipartError;
use super::params::{self, trim};

/// The longest boundary RFC 2046 §5.1.1 allows.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// The `boundary` parameter of a `multipart/form-data` `Content-Type` value,
/// unquoted and checked against RFC 2046 §5.1.1.
///
/// # Errors
/// [`MultipartError::NotMultipart`] when the media type is not
/// `multipart/form-data` (compared case-insensitively);
/// [`MultipartError::InvalidBoundary`] when the parameters do not parse, the
/// boundary is missing or repeated, or breaks RFC 2046's rules.
///
/// # Examples
/// ```
/// use guildenstern::multipart::boundary_of;
///
/// let b = boundary_of(r#"multipart/form-data; boundary="a b'c""#).unwrap();
/// assert_eq!(b, b"a b'c");
/// assert_eq!(boundary_of("text/plain").unwrap_err().status(), 415);
/// assert_eq!(boundary_of("multipart/form-data").unwrap_err().status(), 400);
/// ```
pub fn boundary_of(content_type: &str) -> Result<Vec<u8>, MultipartError> {
    let (media, ps) = params::split(content_type.as_bytes());
    if !media.eq_ignore_ascii_case(b"multipart/form-data") {
        return Err(MultipartError::NotMultipart);
    }
    let mut found = None;
    for p in ps {
        let p =
            p.map_err(|_| MultipartError::InvalidBoundary("malformed Content-Type parameters"))?;
        if p.name.eq_ignore_ascii_case(b"boundary") {
            if found.is_some() {
                return Err(MultipartError::InvalidBoundary("boundary given twice"));
            }
            found = Some(p.value().into_owned());
        }
    }
    let b = found.ok_or(MultipartError::InvalidBoundary("no boundary parameter"))?;
    check(&b)?;
    Ok(b)
}

/// RFC 2046 §5.1.1: `0*69<bchars> bcharsnospace`.
pub(crate) fn check(b: &[u8]) -> Result<(), MultipartError> {
    if b.is_empty() || b.len() > MAX_BOUNDARY_LEN {
        return Err(MultipartError::InvalidBoundary(
            "a boundary has 1 to 70 characters",
        ));
    }
    if !b.iter().all(|&c| is_bchar(c)) {
        return Err(MultipartError::InvalidBoundary(
            "a character not allowed in a boundary",
        ));
    }
    if b.ends_with(b" ") {
        return Err(MultipartError::InvalidBoundary(
            "a boundary does not end with a space",
        ));
    }
    Ok(())
}

fn is_bchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&c)
}

/// The value of the one `Content-Type` field in a request head (request
/// line included, as [`Request::raw_head`](crate::http::Request::raw_head)
/// gives it), whether or not the server keeps that field.
///
/// # Errors
/// [`MultipartError::NotMultipart`] when there is none;
/// [`MultipartError::InvalidBoundary`] when there are several (which one
/// the sender meant is unknown) or it is not UTF-8.
pub(crate) fn content_type_in_head(head: &[u8]) -> Result<&str, MultipartError> {
    let mut found = None;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if line[..colon].eq_ignore_ascii_case(b"content-type") {
            if found.is_some() {
                return Err(MultipartError::InvalidBoundary("Content-Type given twice"));
            }
            found = Some(trim(&line[colon + 1..]));
        }
    }
    let v = found.ok_or(MultipartError::NotMultipart)?;
    std::str::from_utf8(v).map_err(|_| MultipartError::InvalidBoundary("Content-Type is not UTF-8"))
}

/// `CRLF "--" boundary`, and a Horspool skip table to find it: a search
/// looks at about one byte in every `len()` of part data.
#[derive(Debug)]
pub(crate) struct Delimiter {
    bytes: Vec<u8>,
    skip: [u8; 256],
}

impl Delimiter {
    /// `boundary` must have passed [`boundary_of`]'s checks (at most 70 bytes).
    pub(crate) fn new(boundary: &[u8]) -> Delimiter {
        debug_assert!(!boundary.is_empty() && boundary.len() <= MAX_BOUNDARY_LEN);
        let mut bytes = Vec::with_capacity(4 + boundary.len());
        bytes.extend_from_slice(b"\r\n--");
        bytes.extend_from_slice(boundary);
        let m = bytes.len();
        let mut skip = [m as u8; 256];
        for (i, &b) in bytes[..m - 1].iter().enumerate() {
            skip[usize::from(b)] = (m - 1 - i) as u8;
        }
        Delimiter { bytes, skip }
    }

    /// `CRLF "--" boundary`.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Bytes of the delimiter.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Where the delimiter first occurs in `hay`.
    pub(crate) fn find(&self, hay: &[u8]) -> Option<usize> {
        let m = self.bytes.len();
        let last = self.bytes[m - 1];
        let mut pos = 0;
        while pos + m <= hay.len() {
            let b = hay[pos + m - 1];
            if b == last && hay[pos..pos + m] == self.bytes[..] {
                return Some(pos);
            }
            pos += usize::from(self.skip[usize::from(b)]);
        }
        None
    }

    /// Where the longest tail of `hay` that could begin a delimiter starts
    /// (`hay.len()` when none could): the bytes before it are surely data.
    /// `hay` must not contain a whole delimiter.
    pub(crate) fn safe_len(&self, hay: &[u8]) -> usize {
        let from = hay.len().saturating_sub(self.bytes.len() - 1);
        (from..hay.len())
            .find(|&k| hay[k] == b'\r' && self.bytes.starts_with(&hay[k..]))
            .unwrap_or(hay.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        let ok: &[(&str, &[u8])] = &[
            ("multipart/form-data; boundary=abc", b"abc"),
            ("Multipart/Form-Data;BOUNDARY=abc", b"abc"),
            (
                "multipart/form-data; charset=utf-8; boundary=\"x y\"",
                b"x y",
            ),
            (
                "multipart/form-data; boundary=----WebKitFormBoundaryabc123",
                b"----WebKitFormBoundaryabc123",
            ),
            (
                "multipart/form-data; boundary=\"'()+_,-./:=?\"",
                b"'()+_,-./:=?",
            ),
        ];
        for (ct, b) in ok {
            assert_eq!(boundary_of(ct).unwrap(), b.to_vec(), "{ct}");
        }
        let seventy = format!("multipart/form-data; boundary={}", "a".repeat(70));
        assert_eq!(boundary_of(&seventy).unwrap().len(), 70);
        let seventy_one = format!("multipart/form-data; boundary={}", "a".repeat(71));
        let bad: &[(&str, u16)] = &[
            ("text/plain", 415),
            ("multipart/mixed; boundary=a", 415),
            ("", 415),
            ("multipart/form-data", 400),
            ("multipart/form-data; boundary=", 400),
            ("multipart/form-data; boundary=\"\"", 400),
            ("multipart/form-data; boundary=\"ends \"", 400),
            ("multipart/form-data; boundary=\"a\tb\"", 400),
            ("multipart/form-data; boundary=a; boundary=b", 400),
            ("multipart/form-data; boundary=a b", 400),
            ("multipart/form-data; boundary=\"open", 400),
            (&seventy_one, 400),
        ];
        for (ct, status) in bad {
            assert_eq!(boundary_of(ct).unwrap_err().status(), *status, "{ct:?}");
        }
    }

    #[test]
    fn content_type_from_head() {
        let head = b"POST / HTTP/1.1\r\nHost: a\r\ncontent-TYPE:  multipart/form-data; boundary=x \r\n\r\n";
        assert_eq!(
            content_type_in_head(head).unwrap(),
            "multipart/form-data; boundary=x"
        );
        let none = b"POST / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(content_type_in_head(none).unwrap_err().status(), 415);
        let twice = b"POST / HTTP/1.1\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n";
        assert_eq!(content_type_in_head(twice).unwrap_err().status(), 400);
    }

    #[test]
    fn find_and_safe_len() {
        let d = Delimiter::new(b"xyz");
        assert_eq!(d.find(b"\r\n--xyz"), Some(0));
        assert_eq!(d.find(b"ab\r\n--xy\r\n--xyz--"), Some(8));
        assert_eq!(d.find(b"\r\n--xy"), None);
        // Every position of every haystack, against a naive search.
        let hay = b"..\r\n--x\r\r\n--xyz\n--xyz\r\n--xyz.".to_vec();
        for a in 0..hay.len() {
            for b in a..=hay.len() {
                let h = &hay[a..b];
                let naive = h.windows(d.len()).position(|w| w == d.bytes());
                assert_eq!(d.find(h), naive, "{:?}", String::from_utf8_lossy(h));
            }
        }
        assert_eq!(d.safe_len(b"abc"), 3);
        assert_eq!(d.safe_len(b"abc\r"), 3);
        assert_eq!(d.safe_len(b"abc\r\n--xy"), 3);
        assert_eq!(d.safe_len(b"abc\r\n--xa"), 9);
        assert_eq!(d.safe_len(b"\r\n-"), 0);
    }
}

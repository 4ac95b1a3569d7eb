//! Checks on the header values that decide how a request is framed
//! (RFC 9112 §6, RFC 9110 §7.6.1 and §10.1.1), and the scan for the end of
//! a request head.
//!
//! Every function here is pure, allocation-free and strict where request
//! smuggling lives (RFC 9112 §6.3, §11.2): a value that two parsers could
//! read differently is an error, never a guess.

/// Parses a `Content-Length` value: ASCII digits only, at least one,
/// overflow-checked; no sign, no spaces, no list (`"5, 5"` is an error).
///
/// The caller trims OWS around the field value (httparse does) and treats
/// `None` as 400 followed by a close (RFC 9112 §6.3).
pub(crate) fn parse_content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Why a `Transfer-Encoding` value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodingError {
    /// The framing is malformed or ambiguous: answer 400 and close
    /// (RFC 9112 §6.3).
    BadRequest,
    /// Well-formed, but uses a transfer coding other than `chunked`, which
    /// we do not decode: answer 501 and close (RFC 9112 §6.1).
    NotImplemented,
}

/// Evaluates one `Transfer-Encoding` field value: a comma-separated list,
/// OWS around members, case-insensitive.
///
/// `Ok(())` when the list is exactly `chunked` (any case, OWS allowed
/// around it). An empty member (`",chunked"`, `"chunked,"`,
/// `"a,,chunked"`), a final member that is not exactly `chunked`, or
/// `chunked` appearing more than once is [`CodingError::BadRequest`]. A list
/// ending in `chunked` that also holds other well-formed codings
/// (`"gzip, chunked"`) is [`CodingError::NotImplemented`], as we decode no
/// other coding. A member that is not an RFC 9110 token (`"\xa0chunked"`)
/// is `BadRequest`; for simplicity that includes any transfer-coding
/// parameter (`"chunked;q=1"`), which no coding we could accept defines.
///
/// Several `Transfer-Encoding` lines form one list (RFC 9110 §5.3); the
/// caller either rejects a second line or evaluates the combined value.
///
/// # Errors
///
/// As listed above.
pub(crate) fn check_transfer_encoding(value: &[u8]) -> Result<(), CodingError> {
    let mut members = 0usize;
    let mut chunked = 0usize;
    let mut last_is_chunked = false;
    for member in value.split(|&b| b == b',') {
        let member = trim_ows(member);
        if member.is_empty() || !member.iter().all(|&b| is_tchar(b)) {
            return Err(CodingError::BadRequest);
        }
        members += 1;
        last_is_chunked = eq_ignore_case(member, b"chunked");
        if last_is_chunked {
            chunked += 1;
        }
    }
    if !last_is_chunked || chunked > 1 {
        Err(CodingError::BadRequest)
    } else if members > 1 {
        Err(CodingError::NotImplemented)
    } else {
        Ok(())
    }
}

/// The connection options a request asked for in its `Connection` fields
/// (RFC 9110 §7.6.1).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionOptions {
    /// `close`: the client wants the connection closed after the response.
    pub close: bool,
    /// `keep-alive`: the client wants the connection kept open (HTTP/1.0
    /// style; the default in HTTP/1.1).
    pub keep_alive: bool,
    /// `upgrade`: the request carries an `Upgrade` field meant for us.
    pub upgrade: bool,
}

/// Reads the tokens of a `Connection` field value (comma list,
/// case-insensitive, OWS), OR-ing into `into`. Unknown tokens and empty
/// members are ignored.
pub(crate) fn connection_options(value: &[u8], into: &mut ConnectionOptions) {
    // The values nearly every request carries, without the list walk.
    if eq_ignore_case(value, b"keep-alive") {
        into.keep_alive = true;
        return;
    }
    if eq_ignore_case(value, b"close") {
        into.close = true;
        return;
    }
    for member in value.split(|&b| b == b',') {
        let member = trim_ows(member);
        if eq_ignore_case(member, b"close") {
            into.close = true;
        } else if eq_ignore_case(member, b"keep-alive") {
            into.keep_alive = true;
        } else if eq_ignore_case(member, b"upgrade") {
            into.upgrade = true;
        }
    }
}

/// True when `value` equals `100-continue` case-insensitively (after OWS
/// trim), the only expectation RFC 9110 §10.1.1 defines.
pub(crate) fn is_100_continue(value: &[u8]) -> bool {
    eq_ignore_case(trim_ows(value), b"100-continue")
}

/// Scans `buf[from..]` for the end of a request head: the first blank
/// line, accepting CRLF CRLF and also bare-LF line ends (`"\n\n"`,
/// `"\r\n\n"`, `"\n\r\n"`), returning the index just past it.
///
/// `from` lets the caller resume a scan after a read (pass the length
/// already scanned); the scan looks back up to 3 bytes before `from` so a
/// terminator split across reads is found. The caller skips empty lines
/// before the request line first (RFC 9112 §2.2), or they end the head at
/// once. A lone CR is not a line end: `"\r\r\n"` does not end a head.
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3).min(buf.len());
    let mut i = start;
    while let Some(pos) = buf[i..].iter().position(|&b| b == b'\n') {
        let lf = i + pos;
        match buf.get(lf + 1..) {
            Some([b'\n', ..]) => return Some(lf + 2),
            Some([b'\r', b'\n', ..]) => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
    None
}

/// Case-insensitive ASCII equality without allocation.
pub(crate) fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// True if `version_token` (the bytes after the request-target, e.g.
/// `b"HTTP/2.0"`) is a well-formed `HTTP/DIGIT.DIGIT` whose major version is
/// not 1 (answer 505); false otherwise (answer 400 if it is not `HTTP/1.x`).
/// `HTTP-name` is case-sensitive (RFC 9112 §2.3).
pub(crate) fn is_unsupported_version(version_token: &[u8]) -> bool {
    match version_token {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor] => {
            major.is_ascii_digit() && minor.is_ascii_digit() && *major != b'1'
        }
        _ => false,
    }
}

/// Trims optional whitespace (SP and HTAB, RFC 9110 §5.6.3) at both ends.
fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Whether `b` is an RFC 9110 `tchar` (§5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)),
            (b"5", Some(5)),
            (b"0005", Some(5)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"99999999999999999999999", None),
            (b"", None),
            (b"+5", None),
            (b"-1", None),
            (b"0x10", None),
            (b"1_0", None),
            (b"1Z", None),
            (b" 5", None),
            (b"5 ", None),
            (b"5 5", None),
            (b"5, 5", None),
            (b"5,5", None),
            (b"\xd9\xa5", None), // ARABIC-INDIC DIGIT FIVE
        ];
        for (value, expected) in cases {
            assert_eq!(
                parse_content_length(value),
                *expected,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn transfer_encoding() {
        use CodingError::*;
        let cases: &[(&[u8], Result<(), CodingError>)] = &[
            (b"chunked", Ok(())),
            (b"Chunked", Ok(())),
            (b"CHUNKED", Ok(())),
            (b" chunked\t", Ok(())),
            (b"\t chunked ", Ok(())),
            (b"gzip, chunked", Err(NotImplemented)),
            (b"gzip,chunked", Err(NotImplemented)),
            (b"x-custom , deflate,CHUNKED", Err(NotImplemented)),
            (b"", Err(BadRequest)),
            (b" ", Err(BadRequest)),
            (b",chunked", Err(BadRequest)),
            (b"chunked,", Err(BadRequest)),
            (b"gzip,,chunked", Err(BadRequest)),
            (b"gzip, ,chunked", Err(BadRequest)),
            (b"gzip", Err(BadRequest)),
            (b"identity", Err(BadRequest)),
            (b"chunked, gzip", Err(BadRequest)),
            (b"chunked, chunked", Err(BadRequest)),
            (b"chunked,gzip,chunked", Err(BadRequest)),
            (b"xchunked", Err(BadRequest)),
            (b"chunkedx", Err(BadRequest)),
            (b"chunk ed", Err(BadRequest)),
            (b"\xa0chunked", Err(BadRequest)),
            (b"chunked\xa0", Err(BadRequest)),
            (b"\x0bchunked", Err(BadRequest)),
            (b"chunked;q=1", Err(BadRequest)),
            (b"gzip;level=1, chunked", Err(BadRequest)),
            (b"\"chunked\"", Err(BadRequest)),
            (b"chunked\r\n", Err(BadRequest)),
        ];
        for (value, expected) in cases {
            assert_eq!(
                check_transfer_encoding(value),
                *expected,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn connection() {
        let none = ConnectionOptions::default();
        let close = ConnectionOptions {
            close: true,
            ..none
        };
        let keep_alive = ConnectionOptions {
            keep_alive: true,
            ..none
        };
        let upgrade = ConnectionOptions {
            upgrade: true,
            ..none
        };
        let cases: &[(&[u8], ConnectionOptions)] = &[
            (b"", none),
            (b"close", close),
            (b"Close", close),
            (b" CLOSE\t", close),
            (b"keep-alive", keep_alive),
            (b"Keep-Alive", keep_alive),
            (b"Upgrade", upgrade),
            (
                b"keep-alive, Upgrade",
                ConnectionOptions {
                    keep_alive: true,
                    upgrade: true,
                    close: false,
                },
            ),
            (
                b"upgrade,close",
                ConnectionOptions {
                    upgrade: true,
                    close: true,
                    keep_alive: false,
                },
            ),
            (b",, close ,", close),
            (b"closed", none),
            (b"x-close", none),
            (b"keep alive", none),
            (b"te, foo", none),
        ];
        for (value, expected) in cases {
            let mut got = ConnectionOptions::default();
            connection_options(value, &mut got);
            assert_eq!(got, *expected, "{:?}", String::from_utf8_lossy(value));
        }
    }

    #[test]
    fn connection_accumulates() {
        let mut got = ConnectionOptions::default();
        connection_options(b"keep-alive", &mut got);
        connection_options(b"Upgrade", &mut got);
        connection_options(b"foo", &mut got);
        assert_eq!(
            got,
            ConnectionOptions {
                close: false,
                keep_alive: true,
                upgrade: true
            }
        );
    }

    #[test]
    fn expect_continue() {
        let cases: &[(&[u8], bool)] = &[
            (b"100-continue", true),
            (b"100-Continue", true),
            (b" 100-CONTINUE\t", true),
            (b"", false),
            (b"100", false),
            (b"100-continue, foo", false),
            (b"100-continued", false),
            (b"100 continue", false),
            (b"200-continue", false),
        ];
        for (value, expected) in cases {
            assert_eq!(
                is_100_continue(value),
                *expected,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn head_end() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Some(27)),
            (b"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody", Some(27)),
            (b"GET / HTTP/1.1\nHost: a\n\n", Some(24)),
            (b"GET / HTTP/1.1\r\nHost: a\r\n\n", Some(26)),
            (b"GET / HTTP/1.1\nHost: a\n\r\n", Some(25)),
            (b"GET / HTTP/1.1\r\n\r\n", Some(18)),
            (b"GET / HTTP/1.1\r\nHost: a\r\n", None),
            (b"GET / HTTP/1.1\r\nHost: a\r\n\r", None),
            (b"GET / HTTP/1.1\r\nHost: a\r\r\n", None),
            (b"GET / HTTP/1.1\r\nHost: a\n\r\r\n", None),
            (b"GET / HTTP/1.1\rHost: a\r\r", None),
            (b"", None),
            (b"\n\n", Some(2)),
            (b"\r\n\r\n", Some(4)),
        ];
        for (buf, expected) in cases {
            let show = String::from_utf8_lossy(buf);
            assert_eq!(find_head_end(buf, 0), *expected, "{show:?}");
            // Resuming after every possible earlier read finds the same end.
            for split in 0..=buf.len() {
                let first = find_head_end(&buf[..split], 0);
                let got = first.or_else(|| find_head_end(buf, split));
                assert_eq!(got, *expected, "{show:?} split at {split}");
            }
        }
    }

    #[test]
    fn head_end_from_past_the_end() {
        assert_eq!(find_head_end(b"a\r\n\r\n", 100), None);
        assert_eq!(find_head_end(b"a\r\n\r\n", 5), Some(5));
    }

    #[test]
    fn ignore_case() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"", b"", true),
            (b"Host", b"host", true),
            (b"CONTENT-LENGTH", b"content-length", true),
            (b"host", b"hosts", false),
            (b"host", b"h0st", false),
            (b"\xc4", b"\xe4", false), // Latin-1 case pairs are not ASCII
            (b"[", b"{", false),
        ];
        for (a, b, expected) in cases {
            assert_eq!(eq_ignore_case(a, b), *expected, "{a:?} {b:?}");
            assert_eq!(eq_ignore_case(b, a), *expected, "{b:?} {a:?}");
        }
    }

    #[test]
    fn version() {
        let cases: &[(&[u8], bool)] = &[
            (b"HTTP/2.0", true),
            (b"HTTP/3.0", true),
            (b"HTTP/0.9", true),
            (b"HTTP/9.9", true),
            (b"HTTP/1.1", false),
            (b"HTTP/1.0", false),
            (b"HTTP/1.9", false),
            (b"HTTP/2", false),
            (b"HTTP/1.32", false),
            (b"HTTP/20.0", false),
            (b"http/2.0", false),
            (b"HTTP/2,0", false),
            (b"HTTP/a.0", false),
            (b"HTTP/2.a", false),
            (b"HTTP/\r\r1.1", false),
            (b" HTTP/2.0", false),
            (b"HTTP/2.0 ", false),
            (b"", false),
        ];
        for (token, expected) in cases {
            assert_eq!(
                is_unsupported_version(token),
                *expected,
                "{:?}",
                String::from_utf8_lossy(token)
            );
        }
    }
}

//! Parsing and validating a request head (RFC 9112 §2–§6) into offsets, so
//! that the accessors can borrow from the connection's buffer without copies.

use super::config::HttpConfig;
use super::framing::{
    check_transfer_encoding, connection_options, eq_ignore_case, is_100_continue,
    is_unsupported_version, parse_content_length, CodingError, ConnectionOptions,
};
use crate::dispatch::CloseCause;
use std::mem::MaybeUninit;
use std::ops::Range;

/// The most header fields a server can be configured to accept.
pub(crate) const MAX_HEADERS_LIMIT: usize = crate::limits::MAX_HEADERS;

/// A byte range within the request (offsets from the request's first byte).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn of(base: &[u8], part: &[u8]) -> Span {
        let start = part.as_ptr() as usize - base.as_ptr() as usize;
        Span {
            start: start as u32,
            end: (start + part.len()) as u32,
        }
    }
    pub(crate) fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// How the body of a request is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// What the parser keeps of a request head.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) method: Span,
    pub(crate) target: Span,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) minor: u8,
    /// Bytes of the head, terminating blank line included.
    pub(crate) len: usize,
    /// The fields the server keeps (selected names, or all).
    pub(crate) fields: Vec<(Span, Span)>,
    pub(crate) framing: Framing,
    pub(crate) keep_alive: bool,
    pub(crate) expect_continue: bool,
    pub(crate) upgrade: bool,
}

impl Head {
    pub(crate) fn new(max_headers: usize) -> Self {
        Head {
            method: Span::default(),
            target: Span::default(),
            minor: 1,
            len: 0,
            fields: Vec::with_capacity(max_headers),
            framing: Framing::None,
            keep_alive: false,
            expect_continue: false,
            upgrade: false,
        }
    }
}

/// A request the server refuses: the status to answer and the close cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    pub(crate) status: u16,
    pub(crate) cause: CloseCause,
    pub(crate) msg: &'static str,
}

const fn bad(msg: &'static str) -> Reject {
    Reject {
        status: 400,
        cause: CloseCause::ProtocolViolated,
        msg,
    }
}

/// Parses the complete head at the start of `buf` (the caller found its end).
/// `Ok(false)` means httparse still wants bytes (blank lines before the request line).
pub(crate) fn parse(buf: &[u8], cfg: &HttpConfig, head: &mut Head) -> Result<bool, Reject> {
    // Left uninitialised: filling 512 empty headers (16 KiB) on every
    // request cost more than the parse itself. httparse writes the slots it
    // returns and reads no other.
    let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS_LIMIT];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut storage[..cfg.max_headers]) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(false),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Reject {
                status: 431,
                cause: CloseCause::SecurityThreatened,
                msg: "too many header fields",
            })
        }
        Err(httparse::Error::Version) => return Err(version_error(buf)),
        Err(httparse::Error::HeaderName) => return Err(bad("invalid header field name")),
        Err(httparse::Error::HeaderValue) => return Err(bad("invalid header field value")),
        Err(httparse::Error::Token) => return Err(bad("invalid method")),
        Err(httparse::Error::NewLine) => return Err(bad("invalid line ending")),
        Err(_) => return Err(bad("malformed request")),
    };
    let (Some(method), Some(path), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(bad("malformed request line"));
    };
    if path.len() > cfg.max_uri_bytes {
        return Err(Reject {
            status: 414,
            cause: CloseCause::SecurityThreatened,
            msg: "URI too long",
        });
    }
    head.method = Span::of(buf, method.as_bytes());
    head.target = Span::of(buf, path.as_bytes());
    head.minor = minor;
    head.len = len;
    head.fields.clear();
    head.expect_continue = false;

    let mut content_length = None;
    let mut chunked = false;
    let mut hosts = 0;
    let mut conn = ConnectionOptions::default();
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        // The length picks the one candidate worth comparing.
        match name.len() {
            4 if eq_ignore_case(name, b"host") => hosts += 1,
            10 if eq_ignore_case(name, b"connection") => connection_options(h.value, &mut conn),
            14 if eq_ignore_case(name, b"content-length") => {
                if content_length.is_some() {
                    return Err(bad("duplicate Content-Length"));
                }
                content_length =
                    Some(parse_content_length(h.value).ok_or(bad("invalid Content-Length"))?);
            }
            17 if eq_ignore_case(name, b"transfer-encoding") => {
                if chunked {
                    return Err(bad("duplicate Transfer-Encoding"));
                }
                match check_transfer_encoding(h.value) {
                    Ok(()) => chunked = true,
                    Err(CodingError::BadRequest) => return Err(bad("invalid Transfer-Encoding")),
                    Err(CodingError::NotImplemented) => {
                        return Err(Reject {
                            status: 501,
                            cause: CloseCause::ProtocolViolated,
                            msg: "unsupported transfer coding",
                        })
                    }
                }
            }
            6 if eq_ignore_case(name, b"expect") => {
                if !is_100_continue(h.value) {
                    return Err(Reject {
                        status: 417,
                        cause: CloseCause::ProtocolViolated,
                        msg: "unsupported expectation",
                    });
                }
                head.expect_continue = minor == 1;
            }
            _ => {}
        }
        if cfg.all_headers
            || cfg
                .headers
                .iter()
                .any(|k| eq_ignore_case(k.as_bytes(), name))
        {
            head.fields
                .push((Span::of(buf, name), Span::of(buf, h.value)));
        }
    }
    if minor == 1 && hosts != 1 {
        return Err(bad(if hosts == 0 {
            "missing Host"
        } else {
            "duplicate Host"
        }));
    }
    if hosts > 1 {
        return Err(bad("duplicate Host"));
    }
    head.framing = match (content_length, chunked) {
        (Some(_), true) => return Err(bad("both Content-Length and Transfer-Encoding")),
        (_, true) if minor == 0 => return Err(bad("Transfer-Encoding in an HTTP/1.0 request")),
        (_, true) => Framing::Chunked,
        (Some(0), false) | (None, false) => Framing::None,
        (Some(n), false) => Framing::Length(n),
    };
    head.keep_alive = if minor == 0 {
        conn.keep_alive && !conn.close
    } else {
        !conn.close
    };
    head.upgrade = conn.upgrade && minor == 1;
    Ok(true)
}

/// 505 for a well-formed version other than 1.x, 400 for garbage.
fn version_error(buf: &[u8]) -> Reject {
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = &buf[..line_end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let token = line.rsplit(|&b| b == b' ').next().unwrap_or(b"");
    if is_unsupported_version(token) {
        Reject {
            status: 505,
            cause: CloseCause::ProtocolViolated,
            msg: "HTTP version not supported",
        }
    } else {
        bad("invalid HTTP version")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(raw: &str) -> Result<Head, u16> {
        let cfg = HttpConfig::default();
        let mut head = Head::new(cfg.max_headers);
        match parse(raw.as_bytes(), &cfg, &mut head) {
            Ok(true) => Ok(head),
            Ok(false) => Err(0),
            Err(r) => Err(r.status),
        }
    }

    #[test]
    fn framing_cases() {
        let cases: &[(&str, Result<Framing, u16>)] = &[
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", Ok(Framing::None)),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", Ok(Framing::Length(5))),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", Ok(Framing::None)),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", Ok(Framing::Chunked)),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", Err(400)),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", Err(400)),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", Err(400)),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Err(501)),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", Err(400)),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", Err(400)),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", Err(400)),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", Err(400)),
            ("GET / HTTP/1.1\r\n\r\n", Err(400)),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Err(400)),
            ("GET / HTTP/1.0\r\n\r\n", Ok(Framing::None)),
            ("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", Err(400)),
            ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", Err(400)),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", Err(400)),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", Err(505)),
            ("GET / HTTP/1.32\r\nHost: a\r\n\r\n", Err(400)),
            ("GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n", Err(417)),
            ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", Err(400)),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", Err(400)),
        ];
        for (raw, want) in cases {
            assert_eq!(run(raw).map(|h| h.framing), *want, "{raw:?}");
        }
    }

    #[test]
    fn keep_alive_rules() {
        let cases = [
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                false,
            ),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
            (
                "GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n",
                false,
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(run(raw).unwrap().keep_alive, want, "{raw:?}");
        }
    }

    /// The server parses a head straight from its buffer, bytes of the
    /// next request behind it, and scans for the end only when that fails.
    /// Whatever that parse accepts must be what scanning for the end and
    /// parsing up to it accepts: the same end, the same request.
    #[test]
    fn a_head_parsed_in_place_ends_where_the_scan_finds_its_end() {
        use crate::http::framing::find_head_end;
        let cfg = HttpConfig::default();
        let seeds: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /x?y HTTP/1.0\nConnection: keep-alive\n\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n",
        ];
        let next = b"GET / HTTP/1.1\r\nHost: b\r\n\r\n";
        let bytes = [b'\r', b'\n', b' ', b':', b'\t', 0, 0x80, b'a'];
        for seed in seeds {
            for at in 0..seed.len() {
                for b in bytes {
                    let mut one = seed.to_vec();
                    one[at] = b;
                    let mut buf = one.clone();
                    buf.extend_from_slice(next);
                    let mut head = Head::new(cfg.max_headers);
                    if parse(&buf, &cfg, &mut head) != Ok(true) {
                        continue;
                    }
                    let show = String::from_utf8_lossy(&one);
                    let end = find_head_end(&buf, 0);
                    assert_eq!(end, Some(head.len), "{show:?}");
                    let mut alone = Head::new(cfg.max_headers);
                    assert_eq!(
                        parse(&buf[..head.len], &cfg, &mut alone),
                        Ok(true),
                        "{show:?}"
                    );
                    assert_eq!(
                        (alone.method, alone.target, alone.framing, alone.keep_alive),
                        (head.method, head.target, head.framing, head.keep_alive),
                        "{show:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn uri_limit_is_414() {
        let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(20_000));
        assert_eq!(run(&long).err(), Some(414));
    }

    #[test]
    fn too_many_headers_is_431() {
        let mut raw = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
        for i in 0..200 {
            raw.push_str(&format!("X-{i}: v\r\n"));
        }
        raw.push_str("\r\n");
        assert_eq!(run(&raw).err(), Some(431));
    }
}

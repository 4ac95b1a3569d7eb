//! A strict reader of HTTP/1.x responses that checks their framing, and
//! the liveness probe of an HTTP server.

use crate::{connect, End, PROBE_DEADLINE};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

/// One response head, as far as framing needs it.
#[derive(Debug)]
pub struct Head {
    pub minor: u8,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Bytes the head took.
    pub len: usize,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }
    fn closes(&self) -> bool {
        match self.header("connection") {
            Some(v) => v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")),
            None => self.minor == 0,
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses a response head at the start of `b`: `Ok(None)` when it is not
/// complete yet, `Err` when what is there cannot be a response head.
pub fn parse_head(b: &[u8]) -> Result<Option<Head>, String> {
    let Some(end) = b.windows(4).position(|w| w == b"\r\n\r\n") else {
        // Even a partial head must start like one.
        let n = b.len().min(9);
        if b[..n] != b"HTTP/1.1 "[..n] && b[..n] != b"HTTP/1.0 "[..n] {
            return Err(format!(
                "not a status line: {:?}",
                String::from_utf8_lossy(&b[..n])
            ));
        }
        return Ok(None);
    };
    let text = std::str::from_utf8(&b[..end]).map_err(|_| "head is not UTF-8".to_string())?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or("");
    let minor = match line.get(..9) {
        Some("HTTP/1.1 ") => 1,
        Some("HTTP/1.0 ") => 0,
        _ => return Err(format!("bad status line {line:?}")),
    };
    let code = line
        .get(9..12)
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    if !code.bytes().all(|c| c.is_ascii_digit()) || line.as_bytes().get(12) != Some(&b' ') {
        return Err(format!("bad status line {line:?}"));
    }
    let status: u16 = code.parse().unwrap();
    if !(100..=999).contains(&status) {
        return Err(format!("bad status {status}"));
    }
    let mut headers = Vec::new();
    for l in lines {
        if l.contains('\r') || l.contains('\n') {
            return Err(format!("bare CR or LF in header line {l:?}"));
        }
        let (n, v) = l
            .split_once(':')
            .ok_or_else(|| format!("header line without colon {l:?}"))?;
        if n.is_empty() || !n.bytes().all(is_tchar) {
            return Err(format!("bad header name {n:?}"));
        }
        headers.push((n.to_owned(), v.trim().to_owned()));
    }
    Ok(Some(Head {
        minor,
        status,
        headers,
        len: end + 4,
    }))
}

/// Parses a chunked body at the start of `b`: `Ok(Some(len))` with the bytes
/// it took, `Ok(None)` when incomplete.
fn parse_chunked(b: &[u8]) -> Result<Option<usize>, String> {
    let mut at = 0;
    loop {
        let Some(nl) = b[at..].windows(2).position(|w| w == b"\r\n") else {
            if b[at..].iter().any(|c| !c.is_ascii_hexdigit()) {
                return Err("bad chunk size line".into());
            }
            return Ok(None);
        };
        let line = &b[at..at + nl];
        if line.is_empty() || line.len() > 16 || !line.iter().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "bad chunk size {:?}",
                String::from_utf8_lossy(line)
            ));
        }
        let size = usize::from_str_radix(std::str::from_utf8(line).unwrap(), 16).unwrap();
        at += nl + 2;
        if size == 0 {
            // No trailers from this server: the body ends with an empty line.
            return match b.get(at..at + 2) {
                Some(b"\r\n") => Ok(Some(at + 2)),
                Some(x) => Err(format!("bad last-chunk end {x:?}")),
                None if b[at..] == b"\r"[..b.len() - at] => Ok(None),
                None => Err("bad last-chunk end".into()),
            };
        }
        if b.len() < at + size + 2 {
            if b.len() > at + size && b[at + size] != b'\r' {
                return Err("chunk data not followed by CRLF".into());
            }
            return Ok(None);
        }
        if &b[at + size..at + size + 2] != b"\r\n" {
            return Err("chunk data not followed by CRLF".into());
        }
        at += size + 2;
    }
}

/// Checks that `b` is a sequence of well-framed responses: a valid status
/// line and header fields, at most one of Content-Length and
/// Transfer-Encoding (and one of each), no body on 1xx/204/304 or on an
/// answer to HEAD (the fuzzed handlers echo the method in `X-Method`), a
/// chunked body that parses, and nothing after an answer that closes the
/// connection. A response cut short is accepted only when the read did not
/// end cleanly (`end` is not `Eof`), or when the handler announced more
/// than it sent (it marks those with `X-Cut`). Returns the responses' status codes.
pub fn check_responses(b: &[u8], end: End) -> Result<Vec<u16>, String> {
    let mut at = 0;
    let mut codes = Vec::new();
    let cut = |what: &str| -> Result<Vec<u16>, String> {
        if end == End::Eof {
            Err(format!("{what} cut short before a clean close"))
        } else {
            Ok(Vec::new())
        }
    };
    while at < b.len() {
        let rest = &b[at..];
        let Some(head) = parse_head(rest)? else {
            return cut("response head").map(|_| codes);
        };
        let te = head.count("transfer-encoding");
        let cl = head.count("content-length");
        if te > 1 || cl > 1 || (te == 1 && cl == 1) {
            return Err(format!("conflicting framing headers: {:?}", head.headers));
        }
        let bodyless_status =
            (100..200).contains(&head.status) || head.status == 204 || head.status == 304;
        let head_request = head.header("x-method") == Some("HEAD");
        if bodyless_status && te == 1 {
            return Err(format!("Transfer-Encoding on a {}", head.status));
        }
        if bodyless_status && cl == 1 && head.header("content-length") != Some("0") {
            return Err(format!(
                "Content-Length on a {}: {:?}",
                head.status, head.headers
            ));
        }
        codes.push(head.status);
        let body = &rest[head.len..];
        let body_len = if bodyless_status || head_request {
            0
        } else if te == 1 {
            if head
                .header("transfer-encoding")
                .map(|v| v.to_ascii_lowercase())
                != Some("chunked".into())
            {
                return Err(format!(
                    "unexpected Transfer-Encoding {:?}",
                    head.header("transfer-encoding")
                ));
            }
            if head.minor == 0 {
                return Err("chunked answer to HTTP/1.0".into());
            }
            match parse_chunked(body)? {
                Some(n) => n,
                None => return cut("chunked body").map(|_| codes),
            }
        } else if cl == 1 {
            let v = head.header("content-length").unwrap();
            if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) || v.len() > 19 {
                return Err(format!("bad Content-Length {v:?}"));
            }
            let n: usize = v.parse().unwrap();
            if body.len() < n {
                if head.header("x-cut").is_some() && at + head.len + body.len() == b.len() {
                    // A handler that sent less than it announced: the
                    // close is what tells the client.
                    return Ok(codes);
                }
                return cut("body").map(|_| codes);
            }
            n
        } else {
            // Delimited by the close: must be the last thing on the connection.
            if !head.closes() {
                return Err(format!("no framing and no close: {:?}", head.headers));
            }
            body.len()
        };
        at += head.len + body_len;
        if head.closes() && at < b.len() {
            return Err(format!(
                "{} bytes after an answer that closes the connection",
                b.len() - at
            ));
        }
    }
    Ok(codes)
}

/// Panics (a crash to the fuzzer) unless a fresh connection's `GET /`
/// gets a 200 within [`PROBE_DEADLINE`].
pub fn assert_http_alive(addr: SocketAddr, what: &str) {
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: probe\r\n\r\n")
        .expect("probe request");
    let until = Instant::now() + PROBE_DEADLINE;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Ok(Some(h)) = parse_head(&got) {
            assert_eq!(h.status, 200, "{what}: the probe got {}", h.status);
            return;
        }
        let left = until.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "{what}: no answer to a fresh GET / within {PROBE_DEADLINE:?}"
        );
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => panic!("{what}: a fresh GET / was closed without an answer"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("{what}: a fresh GET / failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

    #[test]
    fn accepts_well_framed_sequences() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
        let head = b"HTTP/1.1 200 OK\r\nX-Method: HEAD\r\nContent-Length: 9\r\n\r\n";
        let closes = b"HTTP/1.0 200 OK\r\n\r\nuntil the end";
        let all = [
            OK,
            chunked,
            head,
            b"HTTP/1.1 204 No Content\r\n\r\n",
            closes,
        ]
        .concat();
        assert_eq!(
            check_responses(&all, End::Eof),
            Ok(vec![200, 200, 200, 204, 200])
        );
        let cut = b"HTTP/1.1 200 OK\r\nX-Cut: 1\r\nContent-Length: 20\r\n\r\nshort";
        assert!(check_responses(cut, End::Eof).is_ok());
    }

    #[test]
    fn rejects_broken_framing() {
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n0\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"hello",
        ] {
            assert!(
                check_responses(bad, End::Eof).is_err(),
                "accepted {:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // A body cut short passes only when the read did not end cleanly.
        let cut = &OK[..OK.len() - 1];
        assert!(check_responses(cut, End::Eof).is_err());
        assert!(check_responses(cut, End::Reset).is_ok());
    }
}

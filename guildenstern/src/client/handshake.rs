//! The opening handshake from the client's side (RFC 6455 §4.1): the
//! `ws://` URL, the upgrade request, and the checks on the server's answer.
//! It runs on the thread that connects, with a deadline, before the socket
//! is handed to the clientele's dispatcher; what the server sent after its
//! answer (a greeting frame) goes with the socket.

use super::error::ClientError;
use crate::http::framing::find_head_end;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// A parsed `ws://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WsUrl {
    /// The host as written (brackets of an IPv6 literal removed).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The request target: the path and query, `/` at least.
    pub(crate) target: String,
    /// The `Host` field: the host as written, and the port unless 80.
    pub(crate) authority: String,
}

impl WsUrl {
    pub(crate) fn parse(url: &str) -> Result<WsUrl, ClientError> {
        let bad = |why: &str| ClientError::Url(format!("{url:?}: {why}"));
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ws") => rest,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("wss") => {
                return Err(bad("wss:// is not supported (TLS belongs to a proxy)"))
            }
            _ => return Err(bad("not a ws:// URL")),
        };
        let (authority, target) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_owned()),
        };
        let target = target.split('#').next().unwrap_or("/").to_owned();
        if authority.contains('@') {
            return Err(bad("user information is not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty()
            || host
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(bad("no valid host"));
        }
        let port = match port {
            None => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("bad port"))?,
        };
        if target
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(bad("spaces or control characters in the path"));
        }
        Ok(WsUrl {
            host: host.to_owned(),
            port,
            target,
            authority: authority.to_owned(),
        })
    }
}

/// A connection whose handshake is done: the socket (blocking) and the
/// bytes that came after the server's answer.
pub(crate) struct Opened {
    pub(crate) stream: TcpStream,
    pub(crate) leftover: Vec<u8>,
}

/// Connects to `url` and performs the opening handshake within `timeout`.
pub(crate) fn open(
    url: &WsUrl,
    timeout: Duration,
    max_header_bytes: usize,
) -> Result<Opened, ClientError> {
    let deadline = Instant::now() + timeout;
    let stream = connect(url, deadline)?;
    let key = tungstenite::handshake::client::generate_key();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        url.target, url.authority
    );
    let io_err = |what: &str, e: io::Error| ClientError::Handshake(format!("{what}: {e}"));
    stream
        .set_write_timeout(Some(remaining(deadline)?))
        .map_err(|e| io_err("socket", e))?;
    (&stream)
        .write_all(request.as_bytes())
        .map_err(|e| io_err("sending the request", e))?;
    let mut buf = vec![0u8; 1024];
    let mut filled = 0;
    let end = loop {
        if let Some(end) = find_head_end(&buf[..filled], 0) {
            break end;
        }
        if filled >= max_header_bytes {
            return Err(ClientError::Handshake("answer head too large".into()));
        }
        if filled == buf.len() {
            buf.resize((buf.len() * 2).min(max_header_bytes), 0);
        }
        stream
            .set_read_timeout(Some(remaining(deadline)?))
            .map_err(|e| io_err("socket", e))?;
        match (&stream).read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(ClientError::Handshake(
                    "the server closed the connection".into(),
                ))
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(ClientError::Handshake("no answer in time".into()))
            }
            Err(e) => return Err(io_err("reading the answer", e)),
        }
    };
    check_answer(&buf[..end], &key)?;
    stream
        .set_read_timeout(None)
        .and_then(|()| stream.set_write_timeout(None))
        .map_err(|e| io_err("socket", e))?;
    Ok(Opened {
        stream,
        leftover: buf[end..filled].to_vec(),
    })
}

fn remaining(deadline: Instant) -> Result<Duration, ClientError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(ClientError::Handshake("no answer in time".into()))
    } else {
        Ok(left)
    }
}

/// Connects to the first address of the host that takes the connection.
fn connect(url: &WsUrl, deadline: Instant) -> Result<TcpStream, ClientError> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(ClientError::Connect)?
        .collect();
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address for the host");
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ClientError::Connect(io::ErrorKind::TimedOut.into()));
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(ClientError::Connect(last))
}

fn has_token(value: &[u8], token: &str) -> bool {
    std::str::from_utf8(value)
        .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// Checks the server's answer to the upgrade request with `key` (§4.1,
/// the client's checks 1 to 6).
pub(crate) fn check_answer(head: &[u8], key: &str) -> Result<(), ClientError> {
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut res = httparse::Response::new(&mut fields);
    match res.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) | Err(_) => {
            return Err(ClientError::Handshake("malformed answer".into()))
        }
    }
    match res.code {
        Some(101) => {}
        Some(status) => return Err(ClientError::Refused(status)),
        None => return Err(ClientError::Handshake("malformed answer".into())),
    }
    let headers: &[httparse::Header<'_>] = res.headers;
    let field = |name: &'static str| {
        headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    if !field("upgrade").any(|v| has_token(v, "websocket")) {
        return Err(ClientError::BadAnswer("no Upgrade: websocket"));
    }
    if !field("connection").any(|v| has_token(v, "upgrade")) {
        return Err(ClientError::BadAnswer("no Connection: Upgrade"));
    }
    let want = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut accepts = field("sec-websocket-accept");
    match (accepts.next(), accepts.next()) {
        (Some(v), None) if v.trim_ascii() == want.as_bytes() => {}
        (None, _) => return Err(ClientError::BadAnswer("no Sec-WebSocket-Accept")),
        _ => return Err(ClientError::BadAnswer("wrong Sec-WebSocket-Accept")),
    }
    if field("sec-websocket-extensions").any(|v| !v.trim_ascii().is_empty()) {
        return Err(ClientError::BadAnswer("an extension we did not offer"));
    }
    if field("sec-websocket-protocol").next().is_some() {
        return Err(ClientError::BadAnswer("a subprotocol we did not offer"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = WsUrl::parse("ws://127.0.0.1:9001/chat?room=1#x").unwrap();
        assert_eq!(
            (
                u.host.as_str(),
                u.port,
                u.target.as_str(),
                u.authority.as_str()
            ),
            ("127.0.0.1", 9001, "/chat?room=1", "127.0.0.1:9001")
        );
        let u = WsUrl::parse("WS://example.org").unwrap();
        assert_eq!((u.port, u.target.as_str()), (80, "/"));
        let u = WsUrl::parse("ws://[::1]:8080?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("::1", 8080, "/?x=1")
        );
        for bad in [
            "http://a/",
            "wss://a/",
            "ws://",
            "ws://a:0/",
            "ws://a:99999/",
            "ws://a:x/",
            "ws://u@a/",
            "ws://a/b c",
            "a:80",
        ] {
            assert!(
                matches!(WsUrl::parse(bad), Err(ClientError::Url(_))),
                "{bad}"
            );
        }
    }

    fn answer(status: &str, fields: &str) -> Vec<u8> {
        format!("HTTP/1.1 {status}\r\n{fields}\r\n").into_bytes()
    }

    #[test]
    fn answers() {
        // RFC 6455 §1.3's sample key and accept.
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let good = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        assert!(check_answer(&answer("101 Switching Protocols", good), key).is_ok());
        assert!(matches!(
            check_answer(&answer("403 Forbidden", "Content-Length: 0\r\n"), key),
            Err(ClientError::Refused(403))
        ));
        assert!(matches!(
            check_answer(&answer("200 OK", good), key),
            Err(ClientError::Refused(200))
        ));
        let wrong = good.replace("s3pP", "AAAA");
        assert!(matches!(
            check_answer(&answer("101 Switching Protocols", &wrong), key),
            Err(ClientError::BadAnswer("wrong Sec-WebSocket-Accept"))
        ));
        let none = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
        assert!(matches!(
            check_answer(&answer("101 Switching Protocols", none), key),
            Err(ClientError::BadAnswer("no Sec-WebSocket-Accept"))
        ));
        let no_upgrade = good.replace("Upgrade: websocket\r\n", "");
        assert!(matches!(
            check_answer(&answer("101 Switching Protocols", &no_upgrade), key),
            Err(ClientError::BadAnswer(_))
        ));
        let ext = format!("{good}Sec-WebSocket-Extensions: permessage-deflate\r\n");
        assert!(matches!(
            check_answer(&answer("101 Switching Protocols", &ext), key),
            Err(ClientError::BadAnswer(_))
        ));
        assert!(matches!(
            check_answer(b"garbage\r\n\r\n", key),
            Err(ClientError::Handshake(_))
        ));
    }
}

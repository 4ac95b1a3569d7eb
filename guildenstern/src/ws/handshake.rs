//! The opening handshake (RFC 6455 §4.2): validating the upgrade request,
//! the view the upgrade callback gets, and the 101 answer.

use super::server::SocketData;
use crate::dispatch::SocketId;
use crate::http::framing::eq_ignore_case;
use crate::http::head::{Framing, Head};
use std::any::Any;
use std::cell::RefCell;

/// The upgrade request, as the upgrade callback sees it.
pub struct UpgradeRequest<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) head: &'a Head,
    pub(crate) socket: SocketId,
    pub(crate) data: RefCell<SocketData>,
}

impl<'a> UpgradeRequest<'a> {
    fn text(&self, r: std::ops::Range<usize>) -> &'a str {
        std::str::from_utf8(&self.buf[r]).unwrap_or("")
    }

    /// The request target, e.g. `/chat?room=1`.
    pub fn uri(&self) -> &'a str {
        self.text(self.head.target.range())
    }

    /// A header field's value by case-insensitive name (the first if repeated).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers(name).next()
    }

    fn headers<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        let buf = self.buf;
        self.head
            .fields
            .iter()
            .filter(move |(n, _)| eq_ignore_case(&buf[n.range()], name.as_bytes()))
            .map(move |(_, v)| std::str::from_utf8(&buf[v.range()]).unwrap_or(""))
    }

    /// The subprotocols the client offers (`Sec-WebSocket-Protocol`), in order.
    pub fn protocols(&self) -> impl Iterator<Item = &'a str> + 'a {
        let buf = self.buf;
        self.head
            .fields
            .iter()
            .filter(move |(n, _)| eq_ignore_case(&buf[n.range()], b"sec-websocket-protocol"))
            .flat_map(move |(_, v)| {
                std::str::from_utf8(&buf[v.range()])
                    .unwrap_or("")
                    .split(',')
            })
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }

    /// The id the connection will keep once upgraded.
    pub fn socket(&self) -> SocketId {
        self.socket
    }

    /// Stores data for this connection, replacing what was stored: if the
    /// upgrade is accepted, the connection's callbacks (after-upgrade,
    /// receive, close) reach it with [`with_socket_data`](crate::ws::with_socket_data)
    /// until it closes. Typically what the URI or a header said (a room, a
    /// user).
    ///
    /// ```no_run
    /// use guildenstern::ws::{UpgradeAnswer, WsServer};
    ///
    /// struct Room(String);
    ///
    /// let server = WsServer::new(|| {
    ///     let room = guildenstern::ws::with_socket_data(|r: &mut Room| r.0.clone());
    ///     let _ = guildenstern::ws::reply_text(&room.unwrap_or_default());
    /// })
    /// .on_upgrade(|req| {
    ///     req.set_socket_data(Room(req.uri().trim_start_matches('/').to_owned()));
    ///     UpgradeAnswer::Accept
    /// });
    /// ```
    pub fn set_socket_data<T: Any + Send>(&self, value: T) {
        *self.data.borrow_mut() = Some(Box::new(value));
    }
}

/// What the upgrade callback decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpgradeAnswer {
    /// Upgrade, without a subprotocol.
    Accept,
    /// Upgrade with this subprotocol, which must be one the client offered.
    AcceptProtocol(String),
    /// Refuse with this status (e.g. 403), then close.
    Decline(u16),
}

/// A refused handshake: its status and reason (the answer to a 426 also
/// names the version we speak, by its status alone).
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) msg: &'static str,
}

fn has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Checks the upgrade request; returns the `Sec-WebSocket-Key`.
pub(crate) fn validate<'a>(req: &UpgradeRequest<'a>) -> Result<&'a str, Refusal> {
    let bad = |msg| Refusal { status: 400, msg };
    if req.head.framing != Framing::None {
        return Err(bad("an upgrade request has no body"));
    }
    if &req.buf[req.head.method.range()] != b"GET" {
        return Err(bad("an upgrade request uses GET"));
    }
    let upgrade = req.headers("upgrade").any(|v| has_token(v, "websocket"));
    if !upgrade || !req.head.upgrade {
        return Err(Refusal {
            status: 426,
            msg: "this port speaks WebSocket only",
        });
    }
    if req.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Err(Refusal {
            status: 426,
            msg: "unsupported WebSocket version",
        });
    }
    let mut keys = req.headers("sec-websocket-key");
    let key = keys
        .next()
        .map(str::trim)
        .ok_or(bad("missing Sec-WebSocket-Key"))?;
    if keys.next().is_some() || !is_key(key) {
        return Err(bad("invalid Sec-WebSocket-Key"));
    }
    Ok(key)
}

/// A key is the base64 encoding of 16 bytes: 22 characters and `==`.
fn is_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 24
        && b.ends_with(b"==")
        && b[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// The 101 answer.
pub(crate) fn accept_response(key: &str, protocol: Option<&str>) -> Vec<u8> {
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    out.extend_from_slice(accept.as_bytes());
    out.extend_from_slice(b"\r\n");
    if let Some(p) = protocol {
        out.extend_from_slice(b"Sec-WebSocket-Protocol: ");
        out.extend_from_slice(p.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A refusal as an HTTP response (with `Sec-WebSocket-Version: 13` on 426).
pub(crate) fn refusal_response(status: u16, msg: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"HTTP/1.1 ");
    crate::http::response::write_dec(&mut out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(crate::http::status::reason(status).as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    crate::http::date::with_current_date(|d| out.extend_from_slice(d));
    out.extend_from_slice(b"\r\nConnection: close\r\n");
    if status == 426 {
        out.extend_from_slice(b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
    }
    out.extend_from_slice(b"Content-Type: text/plain\r\nContent-Length: ");
    crate::http::response::write_dec(&mut out, msg.len() as u64);
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(msg.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_sample_key() {
        // RFC 6455 §1.3: this key gives s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
        let r = accept_response("dGhlIHNhbXBsZSBub25jZQ==", None);
        let text = String::from_utf8(r).unwrap();
        assert!(
            text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            "{text}"
        );
    }

    #[test]
    fn keys() {
        assert!(is_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_key("dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_key("dGhlIHNhbXBsZSBub25jZ!=="));
    }
}

//! Why a client connection could not be opened.

use std::fmt;
use std::io;

/// Why [`Clientele::connect`](super::Clientele::connect) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not a `ws://` URL this client understands (`wss://`
    /// included: TLS is the reverse proxy's job).
    Url(String),
    /// The TCP connection could not be made (refused, unreachable, no
    /// address for the host, timed out).
    Connect(io::Error),
    /// The server's answer to the opening handshake did not come in time,
    /// was cut off, too large or malformed.
    Handshake(String),
    /// The server answered the upgrade with this status instead of 101
    /// (RFC 6455 §4.1: the client fails the connection).
    Refused(u16),
    /// A 101 answer whose `Sec-WebSocket-Accept` is missing or is not the
    /// one the key we sent asks for, or that lacks `Upgrade: websocket`
    /// and `Connection: Upgrade`, or names an extension or subprotocol we
    /// did not offer.
    BadAnswer(&'static str),
    /// The clientele is stopping or has `max_connections` open, or the
    /// socket could not be watched.
    Register(io::Error),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Url(why) => write!(f, "bad WebSocket URL: {why}"),
            ClientError::Connect(e) => write!(f, "cannot connect: {e}"),
            ClientError::Handshake(why) => write!(f, "opening handshake failed: {why}"),
            ClientError::Refused(status) => {
                write!(f, "the server refused the upgrade with status {status}")
            }
            ClientError::BadAnswer(why) => write!(f, "invalid upgrade answer: {why}"),
            ClientError::Register(e) => write!(f, "cannot register the connection: {e}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Connect(e) | ClientError::Register(e) => Some(e),
            _ => None,
        }
    }
}

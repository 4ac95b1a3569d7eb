//! The crate's error type.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why a server could not be built or started.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An option was out of range or inconsistent; the message names it.
    /// Reported when the server is started, before anything is bound.
    Config(String),
    /// The address could not be bound (in use, no permission, not local).
    Bind(SocketAddr, io::Error),
    /// Another operating-system error while starting (threads, epoll, signals).
    Io(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(msg) => write!(f, "invalid server configuration: {msg}"),
            Error::Bind(addr, e) => write!(f, "cannot bind {addr}: {e}"),
            Error::Io(e) => write!(f, "cannot start server: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(_) => None,
            Error::Bind(_, e) | Error::Io(e) => Some(e),
        }
    }
}

//! Why a connection closed.

use std::fmt;

/// Why a connection closed, handed to the on-close callback with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseCause {
    /// The client closed its side (end of stream); a normal disconnect.
    ClosedByClient,
    /// The connection broke (reset, broken pipe).
    ConnectionLost,
    /// A deadline passed: request head, body progress, idle keep-alive, send.
    TimedOut,
    /// The client broke the protocol (malformed request, bad frame).
    ProtocolViolated,
    /// A socket error other than a lost connection.
    NetError,
    /// The client exceeded a limit (sizes, counts) meant to protect the server.
    SecurityThreatened,
    /// The application closed it (`close_socket`, `Server::close`, a
    /// `Connection: close` exchange).
    CloseCalled,
    /// The handler panicked; the panic was caught and logged.
    HandlerPanicked,
    /// The server is shutting down.
    Shutdown,
    /// A bug in the server itself (a panic outside any callback) was caught
    /// while serving the connection; it cost that connection only, and was
    /// logged at error level.
    InternalError,
}

impl CloseCause {
    /// Normal ends of a connection, logged below warning level.
    pub fn is_normal(self) -> bool {
        matches!(
            self,
            CloseCause::ClosedByClient
                | CloseCause::CloseCalled
                | CloseCause::Shutdown
                | CloseCause::TimedOut
                | CloseCause::ConnectionLost
        )
    }
}

impl fmt::Display for CloseCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            CloseCause::ClosedByClient => "closed by client",
            CloseCause::ConnectionLost => "connection lost",
            CloseCause::TimedOut => "timed out",
            CloseCause::ProtocolViolated => "protocol violated",
            CloseCause::NetError => "network error",
            CloseCause::SecurityThreatened => "security threatened",
            CloseCause::CloseCalled => "close called",
            CloseCause::HandlerPanicked => "handler panicked",
            CloseCause::Shutdown => "shutdown",
            CloseCause::InternalError => "internal error",
        };
        f.write_str(s)
    }
}

/// The message of a caught panic, for the log and the close callback.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".into())
}

//! The handle to a running server.

use super::{CloseCause, SocketId};
use std::any::Any;
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

/// What a [`Server`] handle can do, whatever protocol the server speaks.
pub(crate) trait Control: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn local_addr(&self) -> Option<SocketAddr>;
    fn stop(&self);
    fn join(&self);
    fn is_finished(&self) -> bool;
    fn is_stopping(&self) -> bool;
    fn connections(&self) -> usize;
    fn close(self: Arc<Self>, id: SocketId, cause: CloseCause, msg: String) -> bool;
    fn register(self: Arc<Self>, stream: TcpStream) -> io::Result<SocketId>;
    fn is_open(&self, id: SocketId) -> bool;
    fn sockets(&self) -> Vec<SocketId>;
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// A running server: cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Server {
    inner: Arc<dyn Control>,
}

impl Server {
    pub(crate) fn new(inner: Arc<dyn Control>) -> Self {
        Server { inner }
    }

    /// The protocol core behind this handle, for the protocol layers.
    pub(crate) fn downcast<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.inner.clone().as_any().downcast::<T>().ok()
    }

    pub(crate) fn is_same(&self, other: &Server) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The name given to the server (used in logs and thread names).
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    /// The address the server listens on; `None` in client mode.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.local_addr()
    }

    /// The port the server listens on (the one chosen by the system when an
    /// ephemeral port was asked for); 0 in client mode.
    pub fn port(&self) -> u16 {
        self.local_addr().map_or(0, |a| a.port())
    }

    /// How many connections are open.
    pub fn connections(&self) -> usize {
        self.inner.connections()
    }

    /// Whether the connection with this id is open.
    pub fn is_open(&self, id: SocketId) -> bool {
        self.inner.is_open(id)
    }

    /// The ids of the open connections (a snapshot); on a WebSocket server,
    /// those whose handshake is done.
    pub fn sockets(&self) -> Vec<SocketId> {
        self.inner.sockets()
    }

    /// Closes a connection of this server from any thread. Returns false when
    /// no such connection is open. The on-close callback receives `cause` and `msg`:
    /// at once, or, when a worker is running a callback for that connection
    /// (the caller itself, say), on that worker once the callback returned
    /// (its sends fail with `NotOpen` meanwhile).
    pub fn close(&self, id: SocketId, cause: CloseCause, msg: impl Into<String>) -> bool {
        self.inner.clone().close(id, cause, msg.into())
    }

    /// Hands a connected socket to the server (client mode: sockets the
    /// application connected itself). Returns its id.
    ///
    /// # Errors
    /// When the socket cannot be made non-blocking or watched, or the server is stopping.
    pub fn register(&self, stream: TcpStream) -> io::Result<SocketId> {
        self.inner.clone().register(stream)
    }

    /// Stops accepting, lets in-flight requests finish within the grace
    /// period, writes what clients are still owed (answers they have not
    /// read, a WebSocket close 1001, a 503 with `Connection: close` for an
    /// HTTP request that arrived but that no worker took before the stop)
    /// and closes every connection, lingering where a client sent input
    /// that was not read. Returns at once; see [`Server::join`].
    pub fn stop(&self) {
        self.inner.stop()
    }

    /// Blocks until the server has stopped and every worker has ended.
    pub fn join(&self) {
        self.inner.join()
    }

    /// Whether the server is stopping (or stopped): in-flight requests are
    /// finishing and no connection will be kept alive.
    pub fn is_stopping(&self) -> bool {
        self.inner.is_stopping()
    }

    /// Whether the server has stopped completely.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.name())
            .field("addr", &self.local_addr())
            .finish()
    }
}

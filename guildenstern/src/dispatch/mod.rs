//! The dispatch layer: sockets, readiness, workers, deadlines, shutdown.
//!
//! It knows nothing of HTTP. A protocol (HTTP, WebSocket, …) implements
//! a protocol trait: it is handed a connection whose socket is ready, reads what
//! it can into the connection's own state, and answers what comes next — park
//! the connection until more bytes come (or until the socket takes the
//! answers the client has not read yet), yield it to the other ready
//! connections, or close it with a cause. No worker ever waits for bytes, or
//! for a client to read: what is partial or unsent stays in the connection's
//! state. Output other threads send goes through the connection's outbox
//! (`outbox.rs`), behind what is queued there; `Core::want_writable` then
//! has a worker write the rest once the socket takes it.
//!
//! Two dispatchers deliver readiness to workers:
//! - [`Dispatcher::Epoll`] (Linux): every worker blocks on one shared epoll
//!   instance (connections edge-triggered, registered once), so the kernel
//!   picks the worker;
//! - [`Dispatcher::Portable`] (any mio platform): one poller thread hands ready
//!   connections to a pool of workers through a queue.

// Socket ids are 64-bit poller tokens (slot and generation); mio's tokens are `usize`.
#[cfg(not(target_pointer_width = "64"))]
compile_error!("guildenstern supports 64-bit targets only");

mod backend;
mod buffer;
mod cause;
mod conn;
mod core;
#[cfg(target_os = "linux")]
mod epoll;
mod farewell;
mod lifecycle;
mod options;
mod outbox;
mod portable;
mod server;
pub(crate) mod sys;
#[cfg(test)]
mod tests;
mod timer;
mod write;

pub use self::cause::CloseCause;
pub use self::conn::{DeadlineKind, SocketId};
pub use self::lifecycle::{serve, shutdown, Startable};
pub use self::server::Server;

pub(crate) use self::buffer::{grow_within, INITIAL_BUFFER};
pub(crate) use self::cause::panic_message;
pub(crate) use self::conn::ConnRef;
pub(crate) use self::core::{start, Core, DispatchConfig, Io};
pub(crate) use self::options::{builder_options, worker_options, OnThread, Options};
pub(crate) use self::write::{write_all, write_now};

use std::time::Duration;

/// Reads a protocol makes for one connection in one wake-up before it
/// yields ([`Flow::Yield`]), so that a client sending without pause does not
/// keep a worker from the other connections.
pub(crate) const READS_PER_WAKEUP: usize = 16;

/// How readiness reaches the worker threads of a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Dispatcher {
    /// Workers wait on one shared epoll instance, connections registered
    /// once, edge-triggered (Linux only; the default there).
    #[cfg_attr(target_os = "linux", default)]
    Epoll,
    /// A poller thread (mio) queues ready connections for a worker pool;
    /// works on every platform mio supports.
    #[cfg_attr(not(target_os = "linux"), default)]
    Portable,
}

/// What a protocol wants done with a connection after serving it.
#[derive(Debug)]
pub(crate) enum Flow {
    /// Wait for more bytes; the deadline set on the connection applies.
    Park,
    /// Output is waiting for the peer to read: serve again once the socket
    /// is writable (the deadline set on the connection applies).
    ParkWritable,
    /// The connection used its share of this wake-up ([`READS_PER_WAKEUP`])
    /// and may have more to do: serve it again after the others that are ready.
    Yield,
    /// Close now.
    Close(CloseCause, String),
    /// The last answer was written: half-close, drain what the peer still
    /// sends for a short while so it sees the answer, then close.
    Linger(CloseCause, String),
}

/// What follows a deadline that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Keep the connection, with the same deadline again this much later.
    Renew(Duration),
    /// Close it now (timed out).
    Close,
    /// A last answer was written: close it (timed out) with a lingering
    /// close, so that a peer still sending reads the answer.
    Linger,
}

/// A wire protocol served on the dispatchers.
pub(crate) trait Protocol: Send + Sync + Sized + 'static {
    /// Per-connection state (buffers, parse progress), owned by the connection.
    type State: Send + 'static;

    /// State for a new connection.
    fn new_state(&self) -> Self::State;

    /// A new connection was accepted or registered (arm its first deadline here).
    fn on_open(&self, io: &Io<'_, Self>, state: &mut Self::State);

    /// The socket is readable: make progress, then say what comes next.
    ///
    /// Return [`Flow::Park`] only once a read found the socket drained (it
    /// returned `WouldBlock`, or fewer bytes than there was room for): both
    /// dispatchers are edge-triggered, so only bytes that arrive after that
    /// read raise the next event. They serve the connection once more when
    /// an event reported the peer's end, so an end of stream that came with
    /// the last bytes is seen.
    fn on_ready(&self, io: &Io<'_, Self>, state: &mut Self::State) -> Flow;

    /// A deadline passed while the connection was parked. The protocol may
    /// write a last answer (best effort, without blocking) and say what
    /// follows: see [`Expiry`].
    fn on_deadline(&self, io: &Io<'_, Self>, state: &mut Self::State, kind: DeadlineKind)
        -> Expiry;

    /// The connection closed (exactly once per connection), with its state:
    /// a close from a thread that cannot take the state (a worker is
    /// serving the connection) is reported by the thread holding it, once
    /// it lets the state go.
    fn on_close(
        &self,
        server: &Server,
        id: SocketId,
        cause: CloseCause,
        msg: &str,
        state: &mut Self::State,
    );

    /// The server stops and the connection is about to close (every worker
    /// has ended, so no handler runs for it any more). Without blocking, a
    /// last word may be written (WebSocket close 1001), and what the peer
    /// sent before the stop that no worker served (its readiness came after
    /// the workers' last wait, or it waits behind answers a slow reader has
    /// not taken) must be answered here: the protocol reads what the socket
    /// holds and refuses it (HTTP: 503 with `Connection: close`), since the
    /// stop reads and drops whatever input is left after this call. Returns
    /// `Some` with the bytes owed to the peer (answers a slow reader has
    /// not taken, such a refusal, the rest of that last word) when the peer
    /// was sent something it should get before the close: the stop writes
    /// them within its grace period, then lingers for the peer's end.
    /// Not called for a connection whose worker was still busy when the
    /// grace period ended.
    fn on_shutdown(
        &self,
        _conn: &ConnRef<Self::State>,
        _state: &mut Self::State,
    ) -> Option<Vec<u8>> {
        None
    }

    /// Whether the connection is listed by [`Server::sockets`]: a WebSocket
    /// connection only once its handshake is done, so that a broadcast to
    /// the list reaches WebSockets only.
    fn is_listed(&self, _conn: &ConnRef<Self::State>) -> bool {
        true
    }

    /// Runs first on every worker thread.
    fn thread_start(&self, _server: &Server) {}

    /// Runs first on the housekeeping thread, which fires deadlines and
    /// carries out the stop, and so may run close callbacks: what they send
    /// from there must never wait for a client.
    fn housekeeping_start(&self, _server: &Server) {}

    /// Runs last on every worker thread.
    fn thread_stop(&self, _server: &Server) {}
}

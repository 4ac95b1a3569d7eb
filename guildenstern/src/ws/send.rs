//! Sending from any thread to any connection of a WebSocket server. Every
//! frame goes through the connection's outbox: written as far as the socket
//! takes it, the rest queued and written by a worker once the socket is
//! writable, so frames never interleave and no worker waits for a client.
//! A multicast encodes its frame header once and queues the frame on every
//! receiver without waiting on any one of them.

use super::frame::{is_valid_close_code, Kind, Role};
use super::mask::with_frame;
use super::server::{WsProto, WsState, CLOSE_SENT, OPEN};
use crate::dispatch::sys::{wait_fd, wait_many, Wait};
use crate::dispatch::{CloseCause, ConnRef, Core, DeadlineKind, Server, SocketId};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a message was not sent.
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError {
    /// No open, upgraded connection has this id.
    NotOpen,
    /// The server is not a WebSocket server.
    NotWebSocket,
    /// A close frame was already sent on this connection; nothing may follow it.
    Closing,
    /// The arguments break RFC 6455 (a control payload over 125 bytes, an
    /// invalid close code); nothing was sent.
    Invalid(&'static str),
    /// The client did not read: its queue of unsent output stayed over
    /// the limit ([`MAX_UNSENT`]) for the send timeout; the connection was
    /// closed.
    TimedOut,
    /// The write failed; the connection was closed.
    Failed(io::Error),
    /// Sent from a worker thread to a connection whose unsent output is
    /// over the limit ([`MAX_UNSENT`]): nothing was sent and the
    /// connection stays open (a worker never waits for a client; the send
    /// timeout closes a client that does not read).
    Full,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NotOpen => f.write_str("no such open connection"),
            SendError::NotWebSocket => f.write_str("not a WebSocket server"),
            SendError::Closing => f.write_str("the connection is closing"),
            SendError::Invalid(why) => write!(f, "invalid frame: {why}"),
            SendError::TimedOut => f.write_str("send timed out"),
            SendError::Failed(e) => write!(f, "send failed: {e}"),
            SendError::Full => f.write_str("the client's unsent output is over the limit"),
        }
    }
}

impl std::error::Error for SendError {}

/// Unsent output per connection (bytes) beyond which a send that does not
/// come from the connection's own callbacks waits for the client to read
/// (a thread that is no worker, up to the send timeout) or fails with
/// [`SendError::Full`] (a worker thread). A reply from the connection's own
/// callbacks is always queued: the connection then reads nothing more
/// until its output is written.
pub const MAX_UNSENT: usize = 1 << 20;

pub(crate) type WsCore = Core<WsProto>;

fn core(server: &Server) -> Result<Arc<WsCore>, SendError> {
    server.downcast::<WsCore>().ok_or(SendError::NotWebSocket)
}

fn conn(core: &WsCore, socket: SocketId) -> Result<ConnRef<WsState>, SendError> {
    core.table.get(socket).ok_or(SendError::NotOpen)
}

/// How long a send may wait for room in the connection's queue.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Patience {
    /// The worker serving the connection (its callbacks' replies, pongs, a
    /// close): never waits, not bounded; the worker parks the connection
    /// until its output is written.
    Serving,
    /// Never waits (other workers, the timer, a multicast's first pass).
    Never,
    /// Waits for room for up to this long, counted from the first wait
    /// (threads that are not workers): the clock is read only when the
    /// connection's queue is over the limit.
    Within(Duration),
}

impl Patience {
    /// How a send to connection `id` of `server` from the calling thread may wait.
    fn here(server: &Server, id: SocketId, timeout: Duration) -> Self {
        if crate::context::serving(server, id) {
            Patience::Serving
        } else if crate::context::on_worker() {
            Patience::Never
        } else {
            Patience::Within(timeout)
        }
    }
}

/// Whether frames may go to `conn`: open, upgraded, and no close frame sent.
fn sendable(conn: &ConnRef<WsState>) -> Result<(), SendError> {
    let flags = conn.flags.load(Ordering::Acquire);
    if conn.is_closed() || flags & OPEN == 0 {
        Err(SendError::NotOpen)
    } else if flags & CLOSE_SENT != 0 {
        Err(SendError::Closing)
    } else {
        Ok(())
    }
}

/// Sends one whole frame on `conn`; see [`put`].
pub(crate) fn put_frame(
    core: &Arc<WsCore>,
    conn: &ConnRef<WsState>,
    patience: Patience,
    kind: Kind,
    payload: &[u8],
) -> Result<(), SendError> {
    with_frame(core.proto.role, kind, payload, |parts| {
        put(
            core,
            conn,
            patience,
            parts,
            if kind == Kind::Close { CLOSE_SENT } else { 0 },
        )
    })
}

/// Sends `parts` on `conn` after what is queued there: written as far as
/// the socket takes them, the rest queued for a worker to write once the
/// socket is writable. `mark`: connection flags set under the outbox lock
/// as the parts go out, so that every frame sent after them follows them:
/// [`CLOSE_SENT`] for a close frame (nothing may follow it), [`OPEN`] for
/// the opening handshake's answer (frames may follow it from then on; a
/// thread that sees the connection open waits for the lock until the answer
/// is written or queued). On a write error or a time-out the connection is
/// closed.
pub(crate) fn put(
    core: &Arc<WsCore>,
    conn: &ConnRef<WsState>,
    patience: Patience,
    parts: [&[u8]; 3],
    mark: u8,
) -> Result<(), SendError> {
    let close = mark & CLOSE_SENT != 0;
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut deadline = None;
    loop {
        let mut out = conn.out.lock();
        if conn.is_closed() {
            return Err(SendError::NotOpen);
        }
        if conn.flags.load(Ordering::Acquire) & CLOSE_SENT != 0 {
            return Err(SendError::Closing);
        }
        let before = out.pending();
        let fits =
            matches!(patience, Patience::Serving) || before == 0 || before + len <= MAX_UNSENT;
        let written = if fits {
            if mark != 0 {
                conn.flags.fetch_or(mark, Ordering::AcqRel);
            }
            out.send(&conn.stream, parts)
        } else {
            out.flush(&conn.stream)
        };
        let after = out.pending();
        if let Err(e) = written {
            drop(out);
            core.close(conn, CloseCause::ConnectionLost, format!("sending: {e}"));
            return Err(SendError::Failed(e));
        }
        settle(core, conn, before, after, fits && close);
        drop(out);
        if fits {
            if before == 0 && after > 0 && !matches!(patience, Patience::Serving) {
                core.want_writable(conn);
            }
            return Ok(());
        }
        if after < before {
            continue;
        }
        let Patience::Within(timeout) = patience else {
            return Err(SendError::Full);
        };
        let until = *deadline.get_or_insert_with(|| Instant::now() + timeout);
        match wait_fd(conn.stream.as_fd(), Wait::Writable, until) {
            Ok(true) => {}
            Ok(false) => {
                core.close(
                    conn,
                    CloseCause::TimedOut,
                    "sending: the client does not read".into(),
                );
                return Err(SendError::TimedOut);
            }
            Err(e) => {
                core.close(conn, CloseCause::NetError, format!("sending: {e}"));
                return Err(SendError::Failed(e));
            }
        }
    }
}

/// Arms the deadline that goes with `conn`'s output, under its outbox lock:
/// the send timeout while output waits (restarted when the client takes
/// some), and once it is all written the deadline of the connection's
/// state (the close handshake's, the next ping's, or none).
#[inline]
fn settle(core: &WsCore, conn: &ConnRef<WsState>, before: usize, after: usize, close_sent: bool) {
    // Nothing changes for a frame written whole on a connection that owed
    // nothing (the usual reply): no call, no clock.
    if before > 0 || after > 0 || close_sent {
        arm(core, conn, before, after, close_sent);
    }
}

/// See [`settle`].
fn arm(core: &WsCore, conn: &ConnRef<WsState>, before: usize, after: usize, close_sent: bool) {
    if after > 0 {
        if before == 0 || after < before {
            conn.set_deadline(
                DeadlineKind::Send,
                core.now_ms() + core.proto.send_timeout().as_millis() as u64,
            );
        }
    } else if before > 0 || close_sent {
        let flags = conn.flags.load(Ordering::Acquire);
        let (kind, after) = if flags & CLOSE_SENT != 0 {
            (DeadlineKind::Closing, Some(core.proto.close_timeout()))
        } else if flags & OPEN != 0 {
            (DeadlineKind::Idle, core.proto.shared.cfg.ping_interval)
        } else {
            (DeadlineKind::None, None)
        };
        match after {
            Some(d) => conn.set_deadline(kind, core.now_ms() + d.as_millis() as u64),
            None => conn.set_deadline(DeadlineKind::None, 0),
        }
    }
}

/// Writes what is queued on `conn` as far as the socket takes it (a worker
/// serving it); true when nothing is left.
pub(crate) fn flush(core: &Arc<WsCore>, conn: &ConnRef<WsState>) -> Result<bool, io::Error> {
    let mut out = conn.out.lock();
    let before = out.pending();
    if before == 0 {
        return Ok(true);
    }
    out.flush(&conn.stream)?;
    let after = out.pending();
    settle(core, conn, before, after, false);
    Ok(after == 0)
}

/// Whether output waits on `conn`.
pub(crate) fn has_unsent(conn: &ConnRef<WsState>) -> bool {
    conn.out.lock().pending() > 0
}

/// Sends one frame from a callback of `conn` (a reply).
pub(crate) fn send_on(
    core: &Arc<WsCore>,
    conn: &ConnRef<WsState>,
    kind: Kind,
    payload: &[u8],
) -> Result<(), SendError> {
    sendable(conn)?;
    put_frame(core, conn, Patience::Serving, kind, payload)
}

fn send(server: &Server, socket: SocketId, kind: Kind, payload: &[u8]) -> Result<(), SendError> {
    let core = core(server)?;
    let conn = conn(&core, socket)?;
    sendable(&conn)?;
    let patience = Patience::here(server, socket, core.proto.send_timeout());
    put_frame(&core, &conn, patience, kind, payload)
}

/// Sends a text message to one connection of a WebSocket server, from any thread.
///
/// `Ok` means the message is the connection's to deliver: written to the
/// socket, or queued after what the client has not read yet and written,
/// whole and in order, as the client reads (see [`MAX_UNSENT`] for when a
/// send waits instead). A client that reads nothing for the send timeout
/// is closed (`TimedOut`).
///
/// # Errors
/// See [`SendError`]. On a write failure or time-out the connection is closed.
pub fn send_text(server: &Server, socket: SocketId, text: &str) -> Result<(), SendError> {
    send(server, socket, Kind::Text, text.as_bytes())
}

/// Sends a binary message to one connection, from any thread; see [`send_text`].
///
/// # Errors
/// See [`SendError`].
pub fn send_binary(server: &Server, socket: SocketId, bytes: &[u8]) -> Result<(), SendError> {
    send(server, socket, Kind::Binary, bytes)
}

/// Sends a ping (at most 125 bytes of payload); the client answers with a pong.
///
/// # Errors
/// See [`SendError`].
pub fn send_ping(server: &Server, socket: SocketId, payload: &[u8]) -> Result<(), SendError> {
    if payload.len() > 125 {
        return Err(SendError::Invalid("a ping carries at most 125 bytes"));
    }
    send(server, socket, Kind::Ping, payload)
}

/// Starts the close handshake: sends a close frame with `code` and `reason`
/// (at most 123 bytes), after what is queued. The connection closes when
/// the client answers, or after the close timeout (counted once the frame
/// is written); the close callback then gets the client's code.
///
/// # Errors
/// See [`SendError`]; [`SendError::Closing`] if a close frame was already sent.
pub fn send_close(
    server: &Server,
    socket: SocketId,
    code: u16,
    reason: &str,
) -> Result<(), SendError> {
    let core = core(server)?;
    let conn = conn(&core, socket)?;
    if !(is_valid_close_code(code) && code != 1004) || reason.len() > 123 {
        return Err(SendError::Invalid("close code or reason not allowed"));
    }
    sendable(&conn)?;
    let (payload, len) = close_payload(code, reason);
    let patience = Patience::here(server, socket, core.proto.send_timeout());
    put_frame(&core, &conn, patience, Kind::Close, &payload[..len])
}

/// Sends a close frame from the worker serving `conn` (protocol errors,
/// a panicked callback, the answer to the client's close): queued like any
/// frame, never waited for; nothing if a close frame went out already.
pub(crate) fn close_frame_now(
    core: &Arc<WsCore>,
    conn: &ConnRef<WsState>,
    code: u16,
    reason: &str,
) {
    let (payload, len) = close_payload(code, reason);
    let _ = put_frame(core, conn, Patience::Serving, Kind::Close, &payload[..len]);
}

/// The end of a stop: what `conn` still owes the client, then a close
/// frame (unless one was queued already), for the stop to write.
pub(crate) fn close_frame_owed(
    role: Role,
    conn: &ConnRef<WsState>,
    code: u16,
    reason: &str,
) -> Vec<u8> {
    let mut out = conn.out.lock();
    if conn.flags.fetch_or(CLOSE_SENT, Ordering::AcqRel) & CLOSE_SENT == 0 {
        let (payload, len) = close_payload(code, reason);
        let sent = with_frame(role, Kind::Close, &payload[..len], |parts| {
            out.send(&conn.stream, parts)
        });
        if sent.is_err() {
            return Vec::new();
        }
    }
    out.take()
}

/// A close frame's payload: `code` and as much of `reason` as fits (123
/// bytes, cut at a character boundary), and its length.
fn close_payload(code: u16, reason: &str) -> ([u8; 2 + 123], usize) {
    let mut payload = [0u8; 2 + 123];
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    payload[..2].copy_from_slice(&code.to_be_bytes());
    payload[2..2 + end].copy_from_slice(&reason.as_bytes()[..end]);
    (payload, 2 + end)
}

/// Sends one text message to many connections: the frame header is
/// encoded once and the frame queued on each receiver as for
/// [`send_text`], without waiting on any one of them. A receiver whose
/// unsent output is over [`MAX_UNSENT`] is waited for until `timeout` (not
/// on a worker thread, which never waits). Returns the sockets that did not
/// take it (not open, or still over the limit at `timeout`); those still
/// open are closed.
pub fn multicast_text(
    server: &Server,
    sockets: &[SocketId],
    text: &str,
    timeout: Duration,
) -> Vec<SocketId> {
    multicast(server, sockets, Kind::Text, text.as_bytes(), timeout)
}

/// Sends one binary message to many connections; see [`multicast_text`].
pub fn multicast_binary(
    server: &Server,
    sockets: &[SocketId],
    bytes: &[u8],
    timeout: Duration,
) -> Vec<SocketId> {
    multicast(server, sockets, Kind::Binary, bytes, timeout)
}

fn multicast(
    server: &Server,
    sockets: &[SocketId],
    kind: Kind,
    payload: &[u8],
    timeout: Duration,
) -> Vec<SocketId> {
    let Ok(core) = core(server) else {
        return sockets.to_vec();
    };
    let deadline = Instant::now() + timeout;
    // A server's frame is encoded once for all; a client's is masked with
    // a key of its own for each connection.
    let mut head = [0u8; 14];
    let n = super::frame::server_header(kind, true, payload.len(), &mut head);
    let parts = [&head[..n], payload, b""];
    let mut failed = Vec::new();
    let mut full = Vec::new();
    let offer = |c: ConnRef<WsState>, full: &mut Vec<_>, failed: &mut Vec<_>| {
        let sent = sendable(&c).and_then(|()| match core.proto.role {
            Role::Server => put(&core, &c, Patience::Never, parts, 0),
            Role::Client => put_frame(&core, &c, Patience::Never, kind, payload),
        });
        match sent {
            Ok(()) => {}
            Err(SendError::Full) => full.push(c),
            Err(_) => failed.push(c.id),
        }
    };
    for &id in sockets {
        match core.table.get(id) {
            Some(c) => offer(c, &mut full, &mut failed),
            None => failed.push(id),
        }
    }
    // Receivers over the limit: wait for them to read, until the deadline.
    let mut ready = Vec::new();
    while !full.is_empty() && !crate::context::on_worker() && Instant::now() < deadline {
        let fds: Vec<(BorrowedFd<'_>, Wait)> = full
            .iter()
            .map(|c| (c.stream.as_fd(), Wait::Writable))
            .collect();
        let polled = wait_many(&fds, &mut ready, deadline);
        drop(fds);
        if polled.is_err() {
            break;
        }
        let mut still = Vec::with_capacity(full.len());
        for (c, &r) in full.drain(..).zip(ready.iter()) {
            if r {
                offer(c, &mut still, &mut failed);
            } else {
                still.push(c);
            }
        }
        full = still;
    }
    for c in full {
        core.close(
            &c,
            CloseCause::TimedOut,
            "multicast: the client does not read".into(),
        );
        failed.push(c.id);
    }
    failed
}

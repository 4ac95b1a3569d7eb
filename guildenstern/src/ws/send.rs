//! Sending from any thread to any connection of a WebSocket server. Writes
//! to one connection are serialised by its write lock, so frames never
//! interleave. A multicast encodes its frame once and writes it without
//! blocking on any one receiver, within an overall deadline.

use super::frame::{is_valid_close_code, server_header, Kind};
use super::server::{WsProto, WsState, CLOSE_SENT, OPEN};
use crate::dispatch::sys::Wait;
use crate::dispatch::{
    write_all, write_now, CloseCause, ConnRef, Core, DeadlineKind, Server, SocketId,
};
use parking_lot::{lock_api::ArcMutexGuard, RawMutex};
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
    /// The client did not take the bytes within the send timeout; the
    /// connection was closed.
    TimedOut,
    /// The write failed; the connection was closed.
    Failed(io::Error),
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
        }
    }
}

impl std::error::Error for SendError {}

type WsCore = Core<WsProto>;

fn core(server: &Server) -> Result<Arc<WsCore>, SendError> {
    server.downcast::<WsCore>().ok_or(SendError::NotWebSocket)
}

fn conn(core: &WsCore, socket: SocketId) -> Result<ConnRef<WsState>, SendError> {
    core.table.get(socket).ok_or(SendError::NotOpen)
}

/// Writes one whole frame on `conn` under its write lock, waiting up to `timeout`.
pub(crate) fn send_on(
    server: &Server,
    conn: &ConnRef<WsState>,
    kind: Kind,
    payload: &[u8],
    timeout: Duration,
) -> Result<(), SendError> {
    sendable(conn)?;
    write_frame(server, conn, kind, payload, timeout)
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

fn write_frame(
    server: &Server,
    conn: &ConnRef<WsState>,
    kind: Kind,
    payload: &[u8],
    timeout: Duration,
) -> Result<(), SendError> {
    let mut head = [0u8; 14];
    let n = server_header(kind, true, payload.len(), &mut head);
    let result = {
        let _w = conn.write_lock.lock();
        // Checked (and for a close frame, set) under the lock, so nothing
        // another thread writes can follow our close frame.
        let flags = conn.flags.load(Ordering::Acquire);
        if flags & CLOSE_SENT != 0 {
            return Err(SendError::Closing);
        }
        if kind == Kind::Close {
            conn.flags.fetch_or(CLOSE_SENT, Ordering::AcqRel);
        }
        write_all(
            &conn.stream,
            [&head[..n], payload, b""],
            Instant::now() + timeout,
        )
    };
    result.map_err(|e| {
        let timed_out = e.kind() == io::ErrorKind::TimedOut;
        let cause = if timed_out {
            CloseCause::TimedOut
        } else {
            CloseCause::ConnectionLost
        };
        server.close(conn.id, cause, format!("sending: {e}"));
        if timed_out {
            SendError::TimedOut
        } else {
            SendError::Failed(e)
        }
    })
}

fn send(server: &Server, socket: SocketId, kind: Kind, payload: &[u8]) -> Result<(), SendError> {
    let core = core(server)?;
    let conn = conn(&core, socket)?;
    send_on(server, &conn, kind, payload, core.proto.send_timeout())
}

/// Sends a text message to one connection of a WebSocket server, from any thread.
///
/// # Errors
/// See [`SendError`]. On a write failure or time-out the connection is closed.
pub fn send_text(server: &Server, socket: SocketId, text: &str) -> Result<(), SendError> {
    send(server, socket, Kind::Text, text.as_bytes())
}

/// Sends a binary message to one connection, from any thread.
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
/// (at most 123 bytes). The connection closes when the client answers, or
/// after the close timeout; the close callback then gets the client's code.
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
    let mut payload = [0u8; 125];
    payload[..2].copy_from_slice(&code.to_be_bytes());
    payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
    let timeout = core.proto.send_timeout();
    write_frame(
        server,
        &conn,
        Kind::Close,
        &payload[..2 + reason.len()],
        timeout,
    )?;
    conn.set_deadline(
        DeadlineKind::Closing,
        core.now_ms() + core.proto.close_timeout().as_millis() as u64,
    );
    Ok(())
}

/// Writes a close frame without waiting (shutdown, protocol errors): best effort.
pub(crate) fn close_frame_now(conn: &ConnRef<WsState>, code: u16, reason: &str) {
    let (frame, len) = close_frame(code, reason);
    if let Some(_w) = conn.write_lock.try_lock_for(Duration::from_millis(100)) {
        if conn.flags.fetch_or(CLOSE_SENT, Ordering::AcqRel) & CLOSE_SENT != 0 {
            return;
        }
        let _ = write_all(
            &conn.stream,
            [&frame[..len], b"", b""],
            Instant::now() + Duration::from_millis(500),
        );
    }
}

/// A close frame for the end of a stop: written as far as the socket takes
/// it now, the rest returned for the stop to write; nothing more if another
/// thread is writing (the connection closes anyway) or a close went out.
pub(crate) fn close_frame_owed(conn: &ConnRef<WsState>, code: u16, reason: &str) -> Vec<u8> {
    let Some(_w) = conn.write_lock.try_lock() else {
        return Vec::new();
    };
    if conn.flags.fetch_or(CLOSE_SENT, Ordering::AcqRel) & CLOSE_SENT != 0 {
        return Vec::new();
    }
    let (frame, len) = close_frame(code, reason);
    match write_now(&conn.stream, [&frame[..len], b"", b""], 0) {
        Ok(n) => frame[n..len].to_vec(),
        Err(_) => Vec::new(),
    }
}

/// A close frame (server to client: unmasked) with `code` and as much of
/// `reason` as fits, and its length.
fn close_frame(code: u16, reason: &str) -> ([u8; 2 + 2 + 123], usize) {
    let mut frame = [0u8; 2 + 2 + 123];
    let reason = &reason.as_bytes()[..reason.len().min(123)];
    let mut head = [0u8; 14];
    let n = server_header(Kind::Close, true, 2 + reason.len(), &mut head);
    frame[..n].copy_from_slice(&head[..n]);
    frame[n..n + 2].copy_from_slice(&code.to_be_bytes());
    frame[n + 2..n + 2 + reason.len()].copy_from_slice(reason);
    (frame, n + 2 + reason.len())
}

/// Sends one text message to many connections: the frame is encoded once
/// and written without blocking, so a slow receiver never holds up the
/// others. Returns the sockets that could not take it within `timeout`
/// (or were not open); those are closed.
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

/// A connection with part of the frame written, its write lock held.
struct Partial {
    conn: ConnRef<WsState>,
    _lock: ArcMutexGuard<RawMutex, ()>,
    done: usize,
}

enum Outcome {
    Done,
    Blocked(usize),
    Failed(io::Error),
}

fn write_some(conn: &ConnRef<WsState>, frame: &[u8], done: usize) -> Outcome {
    match write_now(&conn.stream, [frame, b"", b""], done) {
        Ok(n) if n == frame.len() => Outcome::Done,
        Ok(n) => Outcome::Blocked(n),
        Err(e) => Outcome::Failed(e),
    }
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
    let mut head = [0u8; 14];
    let n = server_header(kind, true, payload.len(), &mut head);
    let mut frame = Vec::with_capacity(n + payload.len());
    frame.extend_from_slice(&head[..n]);
    frame.extend_from_slice(payload);

    let mut failed: Vec<(SocketId, CloseCause, String)> = Vec::new();
    let mut partial: Vec<Partial> = Vec::new();
    let mut waiting: Vec<ConnRef<WsState>> = Vec::new();
    let start = |c: ConnRef<WsState>,
                 lock: ArcMutexGuard<RawMutex, ()>,
                 partial: &mut Vec<Partial>,
                 failed: &mut Vec<_>| {
        if c.flags.load(Ordering::Acquire) & CLOSE_SENT != 0 {
            // A close frame went out while we waited for the lock.
            failed.push((c.id, CloseCause::CloseCalled, String::new()));
            return;
        }
        match write_some(&c, &frame, 0) {
            Outcome::Done => {}
            Outcome::Blocked(done) => partial.push(Partial {
                conn: c,
                _lock: lock,
                done,
            }),
            Outcome::Failed(e) => {
                failed.push((c.id, CloseCause::ConnectionLost, format!("multicast: {e}")))
            }
        }
    };
    for &id in sockets {
        match core.table.get(id) {
            Some(c) if sendable(&c).is_ok() => match c.write_lock.try_lock_arc() {
                Some(lock) => start(c, lock, &mut partial, &mut failed),
                None => waiting.push(c),
            },
            _ => failed.push((id, CloseCause::CloseCalled, String::new())),
        }
    }
    let mut ready = Vec::new();
    while !partial.is_empty() || !waiting.is_empty() {
        let now = Instant::now();
        if now >= deadline {
            for p in partial.drain(..) {
                failed.push((
                    p.conn.id,
                    CloseCause::TimedOut,
                    "multicast deadline passed".into(),
                ));
            }
            for c in waiting.drain(..) {
                failed.push((
                    c.id,
                    CloseCause::TimedOut,
                    "multicast deadline passed".into(),
                ));
            }
            break;
        }
        // Connections another sender holds: take their lock as it frees.
        let mut still = Vec::new();
        for c in waiting.drain(..) {
            let wait = if partial.is_empty() {
                Duration::from_millis(5)
            } else {
                Duration::ZERO
            };
            match c.write_lock.try_lock_arc_for(wait.min(deadline - now)) {
                Some(lock) => start(c, lock, &mut partial, &mut failed),
                None => still.push(c),
            }
        }
        waiting = still;
        if partial.is_empty() {
            continue;
        }
        let until = if waiting.is_empty() {
            deadline
        } else {
            (now + Duration::from_millis(5)).min(deadline)
        };
        let fds: Vec<(BorrowedFd<'_>, Wait)> = partial
            .iter()
            .map(|p| (p.conn.stream.as_fd(), Wait::Writable))
            .collect();
        let polled = crate::dispatch::sys::wait_many(&fds, &mut ready, until);
        drop(fds);
        if let Err(e) = polled {
            for p in partial.drain(..) {
                failed.push((
                    p.conn.id,
                    CloseCause::NetError,
                    format!("multicast poll: {e}"),
                ));
            }
            break;
        }
        let mut next = Vec::with_capacity(partial.len());
        for (p, r) in partial.drain(..).zip(ready.iter()) {
            if !*r {
                next.push(p);
                continue;
            }
            match write_some(&p.conn, &frame, p.done) {
                Outcome::Done => {}
                Outcome::Blocked(done) => next.push(Partial { done, ..p }),
                Outcome::Failed(e) => failed.push((
                    p.conn.id,
                    CloseCause::ConnectionLost,
                    format!("multicast: {e}"),
                )),
            }
        }
        partial = next;
    }
    failed
        .into_iter()
        .map(|(id, cause, msg)| {
            if !msg.is_empty() {
                server.close(id, cause, msg);
            }
            id
        })
        .collect()
}

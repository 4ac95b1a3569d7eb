//! The end of a stop, once the workers are gone: every connection still
//! open gets what it is owed (answers a slow reader has not taken yet, a
//! WebSocket close frame, the refusal of a request no worker served: the
//! protocol's `on_shutdown`), then closes. A connection that was sent
//! something, or has input left unread, half-closes and lingers first: a
//! close with unread input, or with input still coming, is a reset, and a
//! reset makes the peer discard what it has not read of our last bytes.
//! All connections at once, on one poll, within the grace period.

use super::core::{drain_input, Drained, LINGER, LINGER_BYTES, LINGER_STEP};
use super::sys::{wait_many, Wait};
use super::write::write_now;
use super::{CloseCause, ConnRef, Core, Protocol};
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// One connection on its way out.
struct Farewell<S> {
    conn: ConnRef<S>,
    /// Bytes still owed to the peer, and how many of them went out.
    rest: Vec<u8>,
    sent: usize,
    /// The peer was sent something it should read before the close.
    owed: bool,
    /// When it stops waiting: the grace period's end while writing, then
    /// the end of its linger.
    until: Instant,
    lingering: bool,
    /// Bytes read (and dropped) while lingering, in all: with what a
    /// worker drained before, at most [`LINGER_BYTES`] (a step per turn,
    /// so that one fast sender does not keep the loop from the others or
    /// from its deadlines).
    drained: usize,
}

impl<P: Protocol> Core<P> {
    /// Writes what every open connection is owed and closes it, lingering
    /// where the peer was sent something or sent what was not read; returns
    /// by `grace_end` (a linger ends earlier: [`LINGER`]).
    pub(crate) fn close_all_gracefully(self: &Arc<Self>, grace_end: Instant) {
        let mut open = Vec::new();
        self.table.for_each(|c| open.push(c.clone()));
        let mut left = Vec::new();
        for conn in open {
            let owed = match conn.state.try_lock() {
                // Caught: a bug here must not keep the stop from ending.
                Some(mut st) => {
                    catch_unwind(AssertUnwindSafe(|| self.proto.on_shutdown(&conn, &mut st)))
                        .unwrap_or_else(|panic| {
                            self.internal_error(conn.id, &*panic);
                            None
                        })
                }
                None => None,
            };
            self.state_released(&conn);
            let drained = conn.drained.load(Ordering::Relaxed);
            let f = Farewell {
                conn,
                owed: owed.is_some(),
                rest: owed.unwrap_or_default(),
                sent: 0,
                until: grace_end,
                lingering: false,
                drained,
            };
            left.extend(self.farewell_step(f, grace_end));
        }
        let mut ready = Vec::new();
        while !left.is_empty() {
            let until = left.iter().map(|f| f.until).min().unwrap_or(grace_end);
            let fds: Vec<(BorrowedFd<'_>, Wait)> = left
                .iter()
                .map(|f| {
                    let what = if f.sent < f.rest.len() {
                        Wait::Writable
                    } else {
                        Wait::Readable
                    };
                    (f.conn.stream.as_fd(), what)
                })
                .collect();
            let polled = wait_many(&fds, &mut ready, until);
            drop(fds);
            if polled.is_err() {
                break;
            }
            let now = Instant::now();
            let mut next = Vec::with_capacity(left.len());
            for (f, &r) in left.drain(..).zip(ready.iter()) {
                if now >= f.until {
                    self.say_goodbye(&f.conn);
                } else if r {
                    next.extend(self.farewell_step(f, grace_end));
                } else {
                    next.push(f);
                }
            }
            left = next;
        }
        for f in left {
            self.say_goodbye(&f.conn);
        }
    }

    /// Writes what the socket takes, then drains: `Some` while the
    /// connection needs more time, `None` once it is closed.
    fn farewell_step(
        self: &Arc<Self>,
        mut f: Farewell<P::State>,
        grace_end: Instant,
    ) -> Option<Farewell<P::State>> {
        if f.sent < f.rest.len() {
            match write_now(&f.conn.stream, [&f.rest, b"", b""], f.sent) {
                Ok(n) => f.sent = n,
                Err(_) => {
                    self.say_goodbye(&f.conn);
                    return None;
                }
            }
            if f.sent < f.rest.len() {
                return Some(f);
            }
        }
        let budget = LINGER_STEP.min(LINGER_BYTES.saturating_sub(f.drained));
        let read = match drain_input(&f.conn.stream, budget) {
            Drained::Open(n) | Drained::Full(n) => n,
            Drained::Ended(_) => {
                self.say_goodbye(&f.conn);
                return None;
            }
        };
        f.drained += read;
        if f.drained >= LINGER_BYTES {
            self.say_goodbye(&f.conn);
            return None;
        }
        if !f.lingering {
            let unread = read > 0 || f.conn.lingering.load(Ordering::SeqCst);
            if !f.owed && !unread {
                // Nothing for the peer to read, nothing unread: a plain end.
                self.say_goodbye(&f.conn);
                return None;
            }
            let _ = f.conn.stream.shutdown(Shutdown::Write);
            f.lingering = true;
            f.until = (Instant::now() + LINGER).min(grace_end);
        }
        Some(f)
    }

    /// Closes with the cause of its lingering close, if it had one.
    fn say_goodbye(self: &Arc<Self>, conn: &ConnRef<P::State>) {
        let (cause, msg) = self
            .take_linger_cause(conn)
            .unwrap_or((CloseCause::Shutdown, "server stopped".into()));
        self.close(conn, cause, msg);
    }
}

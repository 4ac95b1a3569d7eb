//! The end of a stop, once the workers are gone: every connection still
//! open gets what it is owed (answers a slow reader has not taken yet, a
//! WebSocket close frame), then closes. Where input is left unread, it
//! lingers first: a close with unread input is a reset, and a reset makes
//! the peer discard what it has not read of our last answers. All
//! connections at once, on one poll, within the grace period.

use super::core::{drain_input, Drained, LINGER};
use super::sys::{wait_many, Wait};
use super::write::write_now;
use super::{CloseCause, ConnRef, Core, Protocol};
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Input read and dropped per connection, at most: requests a client
/// pipelined behind the last one served (time bounds it too: [`LINGER`]).
const DRAIN_BYTES: usize = 64 << 20;

/// One connection on its way out.
struct Farewell<S> {
    conn: ConnRef<S>,
    /// Bytes still owed to the peer, and how many of them went out.
    rest: Vec<u8>,
    sent: usize,
    /// Set once everything is written and the connection lingers.
    linger_until: Option<Instant>,
    /// Bytes read (and dropped) while lingering.
    drained: usize,
}

impl<P: Protocol> Core<P> {
    /// Writes what every open connection is owed and closes it, lingering
    /// where input was left unread; returns by `grace_end` (or at once when
    /// no connection needs more).
    pub(crate) fn close_all_gracefully(self: &Arc<Self>, grace_end: Instant) {
        let mut open = Vec::new();
        self.table.for_each(|c| open.push(c.clone()));
        let mut left = Vec::new();
        for conn in open {
            let rest = match conn.state.try_lock() {
                Some(mut st) => self.proto.on_shutdown(&conn, &mut st),
                None => Vec::new(),
            };
            let f = Farewell {
                conn,
                rest,
                sent: 0,
                linger_until: None,
                drained: 0,
            };
            left.extend(self.farewell_step(f, grace_end));
        }
        let mut ready = Vec::new();
        while !left.is_empty() {
            let until = left
                .iter()
                .map(|f| f.linger_until.unwrap_or(grace_end))
                .min()
                .unwrap_or(grace_end);
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
                if r {
                    next.extend(self.farewell_step(f, grace_end));
                } else if now >= f.linger_until.unwrap_or(grace_end) {
                    self.say_goodbye(&f.conn);
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
        match drain_input(&f.conn.stream, DRAIN_BYTES.saturating_sub(f.drained)) {
            Drained::Open(0)
                if f.linger_until.is_none() && !f.conn.lingering.load(Ordering::Acquire) =>
            {
                // Nothing unread: the close is a plain end of stream.
                self.say_goodbye(&f.conn);
                None
            }
            Drained::Open(n) => {
                f.drained += n;
                if f.linger_until.is_none() {
                    let _ = f.conn.stream.shutdown(Shutdown::Write);
                    f.linger_until = Some((Instant::now() + LINGER).min(grace_end));
                }
                Some(f)
            }
            Drained::Ended(..) => {
                self.say_goodbye(&f.conn);
                None
            }
        }
    }

    fn say_goodbye(self: &Arc<Self>, conn: &ConnRef<P::State>) {
        self.close(conn, CloseCause::Shutdown, "server stopped".into());
    }
}

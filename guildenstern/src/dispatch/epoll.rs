//! The epoll dispatcher: every worker blocks in `epoll_wait` on one shared
//! instance, and the kernel hands each readiness event to one of them.
//!
//! Connections are registered edge-triggered, once: serving one costs no
//! `epoll_ctl`. An edge comes when bytes (or the peer's end) arrive, so a
//! connection is left only once its input was read until a read came up
//! short (the protocol's contract for [`Flow::Park`]): whatever arrives
//! after that read raises the next event. Since an event may come while a
//! worker serves the connection, its `sched` state marks the worker serving
//! it (BUSY): an event for it then only notes BUSY_AGAIN, and the serving
//! worker serves it again before letting it go (BUSY → IDLE), so no event
//! is lost and no two workers serve one connection.
//!
//! The exceptions, each one `epoll_ctl`:
//! - a connection that yields with input left ([`Next::Again`]) is re-raised
//!   (`EPOLL_CTL_MOD` re-checks readiness), behind the events pending;
//! - the first time a connection waits to write, it is watched for writable
//!   too (from then on the kernel signals room only after a write found the
//!   socket full, so an idle connection costs no events), and so is one
//!   whose output another thread queued ([`EpollBackend::want_writable`]);
//! - a second event for a connection while one worker serves it (every
//!   segment of a body its handler streams raises one) turns its events
//!   off until that worker is done (MUTED), which turns them on again:
//!   two calls, instead of an idle worker woken per segment for nothing;
//! - the listener stays one-shot, re-armed after accepting.
//!
//! The peer's end may come with the last bytes, as one edge, and a read
//! that returns those bytes does not report it: an event that reports the
//! end (or an error) sets the connection's `hangup`, and the worker serving
//! it serves it once more after parking it, so that a read sees the end.
//!
//! [`Flow::Park`]: super::Flow::Park

use super::conn::{sched, ConnRef, SocketId};
use super::core::{Next, LISTENER, WAKER};
use super::sys::epoll::{Epoll, Events, Mode};
use super::{CloseCause, Core, Protocol};
use log::Level;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Events taken per `epoll_wait`: one. Handlers may block, so a worker
/// serves only the connection it took; an event it took but has not served
/// yet would wait behind a slow handler while other workers sit idle (the
/// kernel hands it to nobody else). With more than one per wait, a fast
/// request waited for a 400 ms handler on another connection. The cost is
/// one `epoll_wait` per event where several were ready: about 1 % more
/// instructions per keep-alive request with 8 busy connections, none
/// measurable with one connection or with pipelined requests.
const EVENTS_PER_WAIT: usize = 1;

pub(crate) struct EpollBackend {
    ep: Epoll,
    /// Level-triggered and never drained: once written, every wait returns it.
    wake_rx: UnixStream,
    wake_tx: UnixStream,
}

impl EpollBackend {
    pub(crate) fn new() -> io::Result<Self> {
        let ep = Epoll::new()?;
        let (wake_rx, wake_tx) = UnixStream::pair()?;
        wake_rx.set_nonblocking(true)?;
        wake_tx.set_nonblocking(true)?;
        ep.add(wake_rx.as_raw_fd(), Mode::Level, WAKER)?;
        Ok(EpollBackend {
            ep,
            wake_rx,
            wake_tx,
        })
    }

    pub(crate) fn add_listener(&self, fd: RawFd) -> io::Result<()> {
        self.ep.add(fd, Mode::Once, LISTENER)
    }

    pub(crate) fn rearm_listener(&self, fd: RawFd) -> io::Result<()> {
        self.ep.modify(fd, Mode::Once, LISTENER)
    }

    pub(crate) fn remove_listener(&self, fd: RawFd) -> io::Result<()> {
        self.ep.delete(fd)
    }

    pub(crate) fn add<S>(&self, conn: &ConnRef<S>) -> io::Result<()> {
        self.ep
            .add(conn.stream.as_raw_fd(), Mode::Edge, conn.id.as_u64())
    }

    pub(crate) fn remove<S>(&self, conn: &ConnRef<S>) -> io::Result<()> {
        self.ep.delete(conn.stream.as_raw_fd())
    }

    pub(crate) fn resume_accepting<P: Protocol>(&self, core: &Arc<Core<P>>) {
        // Re-arming makes the kernel re-check the backlog and raise an event.
        core.rearm_listener();
    }

    pub(crate) fn wake_all(&self) {
        let _ = (&self.wake_tx).write(&[1]);
    }

    pub(crate) fn shutdown(&self) {
        let _ = self.ep.delete(self.wake_rx.as_raw_fd());
    }

    pub(crate) fn run_worker<P: Protocol>(&self, core: &Arc<Core<P>>) {
        let mut events = Events::with_capacity(EVENTS_PER_WAIT);
        while !core.stopping() {
            if let Err(e) = self.ep.wait(&mut events) {
                core.log(Level::Error, format_args!("epoll_wait failed: {e}"));
                break;
            }
            for (token, ended) in events.iter() {
                match token {
                    WAKER => {}
                    LISTENER => core.accept_ready(),
                    t => {
                        if let Some(conn) = core.table.get(SocketId::from_token(t)) {
                            if ended {
                                // Noted before the claim: the worker that
                                // serves it next (this one, or the one
                                // serving it now) sees it.
                                conn.hangup.store(true, Ordering::SeqCst);
                            }
                            self.serve(core, &conn);
                        }
                    }
                }
            }
        }
    }

    /// Serves `conn` unless another worker does (which then serves it
    /// again), as long as events for it come meanwhile.
    fn serve<P: Protocol>(&self, core: &Arc<Core<P>>, conn: &ConnRef<P::State>) {
        match claim(conn) {
            Claim::Serve => {}
            Claim::Busy => return,
            Claim::Mute => return self.mute(conn),
        }
        loop {
            let again = match core.serve_ready(conn) {
                Next::Closed => return,
                // Its input was read until a read came up short; if the
                // peer's end was reported, it may sit behind those bytes
                // with no edge to come: one more read finds it. (Waiting
                // to write, it reads nothing: the end stays noted.)
                Next::Readable => conn.hangup.swap(false, Ordering::SeqCst),
                Next::Writable => {
                    if !conn.watching_writable.load(Ordering::SeqCst) && !self.watch_any(core, conn)
                    {
                        return;
                    }
                    false
                }
                // Input may be left, and its edge came already: re-raised,
                // behind the connections that are ready.
                Next::Again => {
                    if !self.watch_any(core, conn) {
                        return;
                    }
                    false
                }
            };
            if again {
                continue;
            }
            // An event that came while it was served left BUSY_AGAIN (or
            // MUTED): its bytes may have come after the last read, so
            // serve it again.
            if conn
                .sched
                .compare_exchange(sched::BUSY, sched::IDLE, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
            if conn.sched.swap(sched::BUSY, Ordering::SeqCst) == sched::MUTED
                && !self.watch_any(core, conn)
            {
                return;
            }
        }
    }

    /// A second event came for `conn` while one worker serves it (a
    /// handler reading a streamed body, say: every segment raises an
    /// edge): its events are turned off until that worker is done, rather
    /// than wake an idle worker per segment for nothing.
    fn mute<S>(&self, conn: &ConnRef<S>) {
        let fd = conn.stream.as_raw_fd();
        let _ = self.ep.modify(fd, Mode::Muted, conn.id.as_u64());
        // Off first, then noted: the worker that finds the note turns them
        // on again. If it let the connection go first (or took the
        // connection up again), they are turned on here.
        if conn
            .sched
            .compare_exchange(
                sched::BUSY_AGAIN,
                sched::MUTED,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_err()
        {
            conn.watching_writable.store(true, Ordering::SeqCst);
            let _ = self.ep.modify(fd, Mode::EdgeAny, conn.id.as_u64());
        }
    }

    /// Watches `conn` for readable and writable (the kernel raises an event
    /// at once if it is either); false when that failed and it was closed.
    /// Every change of interest but the mute asks for both: one that came
    /// late must not drop writable from a connection that waits to write.
    fn watch_any<P: Protocol>(&self, core: &Arc<Core<P>>, conn: &ConnRef<P::State>) -> bool {
        conn.watching_writable.store(true, Ordering::SeqCst);
        match self
            .ep
            .modify(conn.stream.as_raw_fd(), Mode::EdgeAny, conn.id.as_u64())
        {
            Ok(()) => true,
            Err(e) => {
                if !conn.is_closed() {
                    core.close(
                        conn,
                        CloseCause::NetError,
                        format!("cannot watch socket: {e}"),
                    );
                }
                false
            }
        }
    }

    /// Output was queued on `conn` by a thread not serving it: a worker
    /// writes it once the socket takes it (one serving it now serves it
    /// again when done).
    pub(crate) fn want_writable<P: Protocol>(
        &self,
        _core: &Arc<Core<P>>,
        conn: &ConnRef<P::State>,
    ) {
        loop {
            match conn.sched.load(Ordering::SeqCst) {
                sched::IDLE => {
                    // Watched for writable (if it was not yet), and the
                    // event raised now if the socket has room: a worker that
                    // takes it finds the output (queued before this); one
                    // that serves it meanwhile marks it BUSY_AGAIN (`claim`).
                    conn.watching_writable.store(true, Ordering::SeqCst);
                    let fd = conn.stream.as_raw_fd();
                    let _ = self.ep.modify(fd, Mode::EdgeAny, conn.id.as_u64());
                    return;
                }
                sched::BUSY => {
                    if conn
                        .sched
                        .compare_exchange(
                            sched::BUSY,
                            sched::BUSY_AGAIN,
                            Ordering::SeqCst,
                            Ordering::SeqCst,
                        )
                        .is_ok()
                    {
                        return;
                    }
                }
                _ => return,
            }
        }
    }
}

/// What an event does with its connection.
enum Claim {
    /// The connection was idle: serve it.
    Serve,
    /// Another worker serves it, and now serves it again when done.
    Busy,
    /// Another worker serves it, and was told already: mute its events.
    Mute,
}

/// Marks `conn` as served by the calling worker, or tells the worker
/// serving it to serve it again when done.
fn claim<S>(conn: &ConnRef<S>) -> Claim {
    loop {
        let (next, claim) = match conn.sched.load(Ordering::SeqCst) {
            sched::IDLE => (sched::BUSY, Claim::Serve),
            sched::BUSY => (sched::BUSY_AGAIN, Claim::Busy),
            sched::BUSY_AGAIN => return Claim::Mute,
            _ => return Claim::Busy,
        };
        let cur = if next == sched::BUSY {
            sched::IDLE
        } else {
            sched::BUSY
        };
        if conn
            .sched
            .compare_exchange(cur, next, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return claim;
        }
    }
}

//! The epoll dispatcher: every worker blocks in `epoll_wait` on one shared
//! instance, and the kernel hands each readiness event to one of them.
//!
//! The listener and every connection are registered one-shot: after one
//! event the descriptor is disabled until the worker that took the event
//! re-arms it, so no two workers ever serve one connection at once and the
//! kernel does the scheduling. Re-arming (`EPOLL_CTL_MOD`) makes the kernel
//! re-check readiness, so bytes or an end of stream that came while the
//! worker served the connection raise the next event.

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
        self.ep.rearm(fd, Mode::Once, LISTENER)
    }

    pub(crate) fn remove_listener(&self, fd: RawFd) -> io::Result<()> {
        self.ep.delete(fd)
    }

    pub(crate) fn add<S>(&self, conn: &ConnRef<S>) -> io::Result<()> {
        self.ep
            .add(conn.stream.as_raw_fd(), Mode::Once, conn.id.as_u64())
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
            for token in events.tokens() {
                match token {
                    WAKER => {}
                    LISTENER => core.accept_ready(),
                    t => {
                        if let Some(conn) = core.table.get(SocketId::from_token(t)) {
                            self.serve(core, &conn);
                        }
                    }
                }
            }
        }
    }

    /// Serves `conn`, then re-arms it for what it waits for, unless it closed.
    ///
    /// `sched` marks the worker serving it (BUSY), so that a thread that
    /// queues output meanwhile ([`EpollBackend::want_writable`]) leaves the
    /// re-arming to that worker (BUSY_AGAIN) rather than enable the
    /// connection under it; an event that such a re-arm raised while
    /// another worker serves it is left to that worker the same way, so no
    /// worker ever waits for another one's connection.
    fn serve<P: Protocol>(&self, core: &Arc<Core<P>>, conn: &ConnRef<P::State>) {
        if !claim(conn) {
            return;
        }
        let mut mode = match core.serve_ready(conn) {
            Next::Closed => return,
            Next::Readable => Mode::Once,
            Next::Writable => Mode::OnceWritable,
            Next::Again => Mode::OnceAny,
        };
        let fd = conn.stream.as_raw_fd();
        loop {
            if let Err(e) = self.ep.rearm(fd, mode, conn.id.as_u64()) {
                if !conn.is_closed() {
                    core.close(
                        conn,
                        CloseCause::NetError,
                        format!("cannot re-arm socket: {e}"),
                    );
                }
                return;
            }
            // Re-armed first, released after: a want_writable that still
            // saw it busy is answered by the re-arm below.
            if conn
                .sched
                .compare_exchange(sched::BUSY, sched::IDLE, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
            conn.sched.store(sched::BUSY, Ordering::SeqCst);
            if let Mode::Once = mode {
                mode = Mode::OnceAny;
            }
        }
    }

    /// Output was queued on `conn` by a thread not serving it: watch it
    /// for writable too (a worker serving it does that when it is done).
    pub(crate) fn want_writable<P: Protocol>(
        &self,
        _core: &Arc<Core<P>>,
        conn: &ConnRef<P::State>,
    ) {
        loop {
            match conn.sched.load(Ordering::SeqCst) {
                sched::IDLE => {
                    // A worker that takes it from here on finds the output
                    // (queued before this); an event this raises while one
                    // serves it is handed back to that one (`claim`).
                    let _ = self
                        .ep
                        .rearm(conn.stream.as_raw_fd(), Mode::OnceAny, conn.id.as_u64());
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

/// Marks `conn` as served by the calling worker; false when another worker
/// serves it (then told to re-arm it for both directions when done).
fn claim<S>(conn: &ConnRef<S>) -> bool {
    loop {
        let cur = conn.sched.load(Ordering::SeqCst);
        let next = if cur == sched::IDLE {
            sched::BUSY
        } else {
            sched::BUSY_AGAIN
        };
        if conn
            .sched
            .compare_exchange(cur, next, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return cur == sched::IDLE;
        }
    }
}

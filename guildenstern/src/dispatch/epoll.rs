//! The epoll dispatcher: every worker blocks in `epoll_wait` on one shared
//! instance, and the kernel hands each readiness event to one of them.
//!
//! The listener is registered one-shot: the worker that takes its event
//! accepts until the backlog is empty, then re-arms it.
//!
//! Connections are registered edge-triggered, so serving a request costs no
//! `epoll_ctl` (a one-shot registration would need a re-arm per request).
//! An edge comes each time bytes arrive, also while a worker is serving the
//! connection; the connection's small state machine (`sched`, shared with
//! the portable dispatcher) keeps one worker on it: IDLE → BUSY when a worker
//! takes an event, BUSY → BUSY_AGAIN when an event comes meanwhile; at the
//! end BUSY → IDLE, or BUSY_AGAIN → BUSY and the same worker serves it again.
//! Edges report only bytes that come later, so a protocol parks a connection
//! only after a read found the socket drained (see [`Protocol::on_ready`]).

use super::conn::{sched, ConnRef, SocketId};
use super::core::{LISTENER, WAKER};
use super::sys::epoll::{Epoll, Events, Mode};
use super::{Core, Protocol};
use log::Level;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Events taken per `epoll_wait`: few, so that ready connections spread
/// over the workers instead of queueing behind one of them.
const EVENTS_PER_WAIT: usize = 4;

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
            .add(conn.stream.as_raw_fd(), Mode::ReadEdge, conn.id.as_u64())
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

    /// Serves `conn` unless another worker is serving it (that worker is
    /// then told to serve it once more), until no event came meanwhile.
    fn serve<P: Protocol>(&self, core: &Arc<Core<P>>, conn: &ConnRef<P::State>) {
        let mut cur = conn.sched.load(Ordering::Acquire);
        loop {
            let next = match cur {
                sched::IDLE => sched::BUSY,
                sched::BUSY => sched::BUSY_AGAIN,
                _ => return,
            };
            match conn
                .sched
                .compare_exchange(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if next == sched::BUSY => break,
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        while core.serve_ready(conn) {
            if conn
                .sched
                .compare_exchange(
                    sched::BUSY,
                    sched::IDLE,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
            {
                return;
            }
            // BUSY_AGAIN: an event came while we served it.
            conn.sched.store(sched::BUSY, Ordering::Release);
        }
    }
}

//! The portable dispatcher: one poller thread (mio) watches every socket and
//! queues ready connections for a pool of workers; the pool size caps how
//! many handlers run at once.
//!
//! mio is edge-triggered, so a connection that becomes ready while a worker
//! serves it must not be lost, nor served by two workers at once. Each
//! connection carries a small state machine (`sched`): IDLE → QUEUED when an
//! event comes, QUEUED → BUSY when a worker takes it, BUSY → BUSY_AGAIN when
//! an event comes meanwhile; at the end BUSY → IDLE, or BUSY_AGAIN → QUEUED.

use super::conn::{sched, ConnRef, SocketId};
use super::core::{Next, LISTENER, WAKER};
use super::{Core, Protocol};
use log::Level;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub(crate) struct PortableBackend {
    poll: Mutex<Option<Poll>>,
    registry: Registry,
    waker: Waker,
    queue: Mutex<VecDeque<SocketId>>,
    ready: Condvar,
    resume_accept: AtomicBool,
}

impl PortableBackend {
    pub(crate) fn new() -> io::Result<Self> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Waker::new(poll.registry(), Token(WAKER as usize))?;
        Ok(PortableBackend {
            poll: Mutex::new(Some(poll)),
            registry,
            waker,
            queue: Mutex::new(VecDeque::with_capacity(1024)),
            ready: Condvar::new(),
            resume_accept: AtomicBool::new(false),
        })
    }

    pub(crate) fn add_listener(&self, fd: RawFd) -> io::Result<()> {
        self.registry.register(
            &mut SourceFd(&fd),
            Token(LISTENER as usize),
            Interest::READABLE,
        )
    }

    pub(crate) fn rearm_listener(&self, _fd: RawFd) -> io::Result<()> {
        // Edge-triggered: the next connection raises the next event.
        Ok(())
    }

    pub(crate) fn remove_listener(&self, fd: RawFd) -> io::Result<()> {
        self.registry.deregister(&mut SourceFd(&fd))
    }

    pub(crate) fn add<S>(&self, conn: &ConnRef<S>) -> io::Result<()> {
        let fd = conn.stream.as_raw_fd();
        self.registry.register(
            &mut SourceFd(&fd),
            Token(conn.id.as_u64() as usize),
            Interest::READABLE,
        )
    }

    fn watch_writable<S>(&self, conn: &ConnRef<S>) -> io::Result<()> {
        let fd = conn.stream.as_raw_fd();
        self.registry.reregister(
            &mut SourceFd(&fd),
            Token(conn.id.as_u64() as usize),
            Interest::READABLE | Interest::WRITABLE,
        )
    }

    pub(crate) fn remove<S>(&self, conn: &ConnRef<S>) -> io::Result<()> {
        let fd = conn.stream.as_raw_fd();
        self.registry.deregister(&mut SourceFd(&fd))
    }

    pub(crate) fn resume_accepting<P: Protocol>(&self, _core: &Arc<Core<P>>) {
        // The backlog raises no new edge: ask the poller to accept now.
        self.resume_accept.store(true, Ordering::Release);
        let _ = self.waker.wake();
    }

    pub(crate) fn want_writable<P: Protocol>(&self, core: &Arc<Core<P>>, conn: &ConnRef<P::State>) {
        // Served once more: the worker writes what it can and, if output
        // is left, watches the socket for writable.
        self.schedule(core, conn.id, false);
    }

    pub(crate) fn wake_all(&self) {
        let _ = self.waker.wake();
        let _q = self.queue.lock();
        self.ready.notify_all();
    }

    pub(crate) fn shutdown(&self) {}

    fn push(&self, id: SocketId) {
        self.queue.lock().push_back(id);
        self.ready.notify_one();
    }

    /// An event came for `id` (`hangup`: it reports the peer's end or an
    /// error): queue it unless a worker has it.
    fn schedule<P: Protocol>(&self, core: &Arc<Core<P>>, id: SocketId, hangup: bool) {
        let Some(conn) = core.table.get(id) else {
            return;
        };
        if hangup {
            conn.hangup.store(true, Ordering::Release);
        }
        let mut cur = conn.sched.load(Ordering::Acquire);
        loop {
            let next = match cur {
                sched::IDLE => sched::QUEUED,
                sched::BUSY => sched::BUSY_AGAIN,
                _ => return,
            };
            match conn
                .sched
                .compare_exchange(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if next == sched::QUEUED {
                        self.push(id);
                    }
                    return;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    pub(crate) fn run_worker<P: Protocol>(&self, core: &Arc<Core<P>>) {
        loop {
            let id = {
                let mut q = self.queue.lock();
                loop {
                    if core.stopping() {
                        return;
                    }
                    if let Some(id) = q.pop_front() {
                        break id;
                    }
                    self.ready.wait(&mut q);
                }
            };
            let Some(conn) = core.table.get(id) else {
                continue;
            };
            conn.sched.store(sched::BUSY, Ordering::Release);
            let next = core.serve_ready(&conn);
            if next == Next::Writable && !conn.watching_writable.swap(true, Ordering::AcqRel) {
                // Registered for both from now on (once: re-registering
                // raises an event at once if the socket is readable, and its
                // bytes wait while output does). Edge-triggered, so a socket
                // with room raises no event until its buffer filled; the
                // re-registration makes the poller check it now.
                if let Err(e) = self.watch_writable(&conn) {
                    core.close(
                        &conn,
                        super::CloseCause::NetError,
                        format!("cannot watch socket for writing: {e}"),
                    );
                    continue;
                }
            }
            let again = match next {
                Next::Closed => false,
                // It used its share of the wake-up: behind the others.
                Next::Again => true,
                // An event came while we served it, or the peer's end is
                // still to be read: serve it again, in turn. (Waiting to
                // write, it reads nothing: the end stays noted for later.)
                Next::Readable | Next::Writable => {
                    (next == Next::Readable && conn.hangup.swap(false, Ordering::AcqRel))
                        || conn
                            .sched
                            .compare_exchange(
                                sched::BUSY,
                                sched::IDLE,
                                Ordering::AcqRel,
                                Ordering::Acquire,
                            )
                            .is_err()
                }
            };
            if again {
                conn.sched.store(sched::QUEUED, Ordering::Release);
                self.push(id);
            }
        }
    }
}

/// The poller thread of a portable server.
pub(crate) fn run_poller<P: Protocol>(core: &Arc<Core<P>>) {
    let super::backend::Backend::Portable(b) = &core.backend else {
        return;
    };
    let Some(mut poll) = b.poll.lock().take() else {
        return;
    };
    let mut events = Events::with_capacity(256);
    while !core.stopping() {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            core.log(Level::Error, format_args!("poll failed: {e}"));
            break;
        }
        for ev in events.iter() {
            match ev.token().0 as u64 {
                LISTENER => core.accept_ready(),
                WAKER => {
                    if b.resume_accept.swap(false, Ordering::AcqRel) {
                        core.accept_ready();
                    }
                }
                t => b.schedule(
                    core,
                    SocketId::from_token(t),
                    ev.is_read_closed() || ev.is_error(),
                ),
            }
        }
    }
}

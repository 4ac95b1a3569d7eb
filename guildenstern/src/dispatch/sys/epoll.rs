//! A thin, safe wrapper over Linux epoll, used by the epoll dispatcher.
//!
//! mio's `Poll` is single-threaded; the epoll dispatcher wants many workers
//! blocked on one instance, so that the kernel hands each readiness event to
//! exactly one worker (connections edge-triggered, the listener one-shot).

use super::syscall;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Interest in one registered descriptor.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    /// Readable, once: the descriptor is disabled after one event until
    /// re-armed (the listener).
    Once,
    /// Readable or the peer's end, edge-triggered: an event when bytes (or
    /// the end) arrive, none while the socket just stays readable (a
    /// connection that never had to wait to write).
    Edge,
    /// Readable, writable or the peer's end, edge-triggered: also an event
    /// when room frees after a write found the socket full (a connection
    /// that had to wait to write once, or yielded). Idle, it raises no edge:
    /// the kernel signals room only to a socket whose writer found it full
    /// (but switching to it re-checks readiness, and a socket with room
    /// raises one event then).
    EdgeAny,
    /// Nothing but a hang-up or an error (always reported), edge-triggered:
    /// a connection whose events are off while a worker serves it.
    Muted,
    /// Readable, level-triggered, never disabled (the shutdown waker).
    Level,
}

impl Mode {
    fn bits(self) -> u32 {
        let bits = match self {
            Mode::Once => libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLONESHOT,
            Mode::Edge => libc::EPOLLIN | libc::EPOLLPRI | libc::EPOLLRDHUP | libc::EPOLLET,
            Mode::EdgeAny => {
                libc::EPOLLIN | libc::EPOLLPRI | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET
            }
            Mode::Muted => libc::EPOLLET,
            Mode::Level => libc::EPOLLIN,
        };
        bits as u32
    }
}

/// What an event reports besides readiness: the peer's end (it may come
/// with the last bytes, as one edge), a hang-up, an error, or urgent data
/// (a read stops short at the urgent mark, with bytes left behind it and
/// no edge to come for them). Each asks for one more serve.
const ENDED: u32 = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLPRI) as u32;

/// One epoll instance.
#[derive(Debug)]
pub(crate) struct Epoll {
    fd: OwnedFd,
}

/// A reusable buffer of events filled by [`Epoll::wait`].
pub(crate) struct Events {
    buf: Vec<libc::epoll_event>,
    len: usize,
}

impl Events {
    /// Room for `cap` events per wait.
    pub(crate) fn with_capacity(cap: usize) -> Self {
        Events {
            buf: vec![libc::epoll_event { events: 0, u64: 0 }; cap.max(1)],
            len: 0,
        }
    }

    /// The events of the last wait: each one's token, and whether it
    /// reported the peer's end or an error.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, bool)> + '_ {
        self.buf[..self.len].iter().map(|e| {
            let (token, bits) = (e.u64, e.events);
            (token, bits & ENDED != 0)
        })
    }
}

impl Epoll {
    /// Creates an epoll instance (close-on-exec).
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 takes only a flag word.
        let raw = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Epoll { fd })
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, mode: Mode, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: mode.bits(),
            u64: token,
        };
        // SAFETY: `ev` is a valid event struct on our stack; the kernel copies it.
        syscall!(epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev))?;
        Ok(())
    }

    /// Registers `fd` under `token`.
    pub(crate) fn add(&self, fd: RawFd, mode: Mode, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, mode, token)
    }

    /// Changes the interest in `fd` (and re-arms a one-shot registration).
    /// The kernel checks readiness at once: a descriptor that is ready for
    /// the new interest raises an event now, behind those already pending,
    /// edge-triggered or not.
    pub(crate) fn modify(&self, fd: RawFd, mode: Mode, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, mode, token)
    }

    /// Removes `fd`; a descriptor that was already gone is not an error.
    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: as in `ctl`; the event argument is ignored for DEL but must be non-null
        // on kernels before 2.6.9.
        match syscall!(epoll_ctl(
            self.fd.as_raw_fd(),
            libc::EPOLL_CTL_DEL,
            fd,
            &mut ev
        )) {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::EBADF)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Waits for events, without a time-out; `EINTR` is reported as zero events.
    pub(crate) fn wait(&self, events: &mut Events) -> io::Result<()> {
        let cap = events.buf.len() as libc::c_int;
        // SAFETY: the buffer holds `cap` initialised epoll_event structs the kernel may overwrite.
        match syscall!(epoll_wait(
            self.fd.as_raw_fd(),
            events.buf.as_mut_ptr(),
            cap,
            -1
        )) {
            Ok(n) => {
                events.len = n as usize;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                events.len = 0;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

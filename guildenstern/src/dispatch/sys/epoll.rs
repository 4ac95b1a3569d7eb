//! A thin, safe wrapper over Linux epoll, used by the epoll dispatcher.
//!
//! mio's `Poll` is single-threaded; the epoll dispatcher wants many workers
//! blocked on one instance, so that the kernel hands each readiness event to
//! exactly one worker (one-shot registrations, re-armed after each event).

use super::syscall;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Interest in one registered descriptor.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    /// Readable, once: the descriptor is disabled after one event until re-armed.
    Once,
    /// Writable, once: a connection whose output waits for the peer to read.
    OnceWritable,
    /// Readable or writable, once: a connection that yielded with work left
    /// (a socket that can take output raises the event at once, behind the
    /// events already pending).
    OnceAny,
    /// Readable, level-triggered, never disabled (the shutdown waker).
    Level,
}

impl Mode {
    fn bits(self) -> u32 {
        match self {
            Mode::Once => (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLONESHOT) as u32,
            Mode::OnceWritable => (libc::EPOLLOUT | libc::EPOLLONESHOT) as u32,
            Mode::OnceAny => {
                (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLONESHOT) as u32
            }
            Mode::Level => libc::EPOLLIN as u32,
        }
    }
}

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

    /// The tokens of the events of the last wait.
    pub(crate) fn tokens(&self) -> impl Iterator<Item = u64> + '_ {
        self.buf[..self.len].iter().map(|e| e.u64)
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

    /// Re-arms a one-shot registration; the kernel re-checks readiness, so
    /// bytes that arrived while the descriptor was disabled raise an event.
    pub(crate) fn rearm(&self, fd: RawFd, mode: Mode, token: u64) -> io::Result<()> {
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

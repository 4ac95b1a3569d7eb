//! The two ways readiness reaches workers, behind one enum.

use super::conn::ConnRef;
use super::{Core, Protocol};
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;

/// The readiness backend of one server.
pub(crate) enum Backend {
    /// Workers share one epoll instance (connections edge-triggered).
    #[cfg(target_os = "linux")]
    Epoll(super::epoll::EpollBackend),
    /// A mio poller thread feeds a queue of ready connections.
    Portable(super::portable::PortableBackend),
}

macro_rules! each {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            #[cfg(target_os = "linux")]
            Backend::Epoll($b) => $e,
            Backend::Portable($b) => $e,
        }
    };
}

impl Backend {
    pub(crate) fn add_listener(&self, fd: RawFd) -> io::Result<()> {
        each!(self, b => b.add_listener(fd))
    }
    pub(crate) fn rearm_listener(&self, fd: RawFd) -> io::Result<()> {
        each!(self, b => b.rearm_listener(fd))
    }
    pub(crate) fn remove_listener(&self, fd: RawFd) -> io::Result<()> {
        each!(self, b => b.remove_listener(fd))
    }
    pub(crate) fn add<S>(&self, conn: &ConnRef<S>) -> io::Result<()> {
        each!(self, b => b.add(conn))
    }
    pub(crate) fn remove<S>(&self, conn: &ConnRef<S>) -> io::Result<()> {
        each!(self, b => b.remove(conn))
    }
    /// Accepting was paused and may go on: make the listener raise an event
    /// (or accept right away) so the backlog is not forgotten.
    pub(crate) fn resume_accepting<P: Protocol>(&self, core: &Arc<Core<P>>) {
        each!(self, b => b.resume_accepting(core))
    }
    /// See [`Core::want_writable`].
    pub(crate) fn want_writable<P: Protocol>(&self, core: &Arc<Core<P>>, conn: &ConnRef<P::State>) {
        each!(self, b => b.want_writable(core, conn))
    }
    /// Wakes every worker (and the poller) so they notice the stop.
    pub(crate) fn wake_all(&self) {
        each!(self, b => b.wake_all())
    }
    /// Releases what the backend holds once every worker has ended.
    pub(crate) fn shutdown(&self) {
        each!(self, b => b.shutdown())
    }
    /// The loop of one worker thread, until the server stops.
    pub(crate) fn run_worker<P: Protocol>(&self, core: &Arc<Core<P>>) {
        each!(self, b => b.run_worker(core))
    }
}

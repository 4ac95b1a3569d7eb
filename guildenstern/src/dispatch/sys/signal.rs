//! SIGINT and SIGTERM turned into a call of a Rust function on a thread of
//! our own, through the self-pipe trick: the signal handler only writes one
//! byte to a socket (async-signal-safe), a watcher thread reads it.
//!
//! - One installation per process, shared by every `serve` running at once
//!   (counted): the first installs the handlers, the last one to end
//!   restores those it found, so one `serve` ending leaves the others'
//!   signal handling in place.
//! - The pipe is made once per process and never closed, so a handler can
//!   never write to a descriptor that was closed and reused meanwhile.
//! - Installing is all or nothing: if one sigaction(2) fails, the handlers
//!   set before it are restored.
//! - A signal that comes while a stop is under way (one that a first signal
//!   or [`note_stop`] began) ends the process at once, by the signal's
//!   default action: a second Ctrl-C is never swallowed by a stop that
//!   waits for slow handlers.
//!
//! (The signal-hook crate was considered: its registry never restores the
//! previous disposition when the last action is removed, so after `serve`
//! returned a Ctrl-C would do nothing; `serve` restores the default.)

use super::syscall;
use parking_lot::Mutex;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::OnceLock;
use std::thread::JoinHandle;

/// The write end of the pipe, read by the signal handler; -1 until made.
static PIPE_FD: AtomicI32 = AtomicI32::new(-1);

/// The pipe (reader, writer), made by the first installation, never closed.
static PIPE: OnceLock<(UnixStream, UnixStream)> = OnceLock::new();

/// A stop is under way: the next signal ends the process.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// The process-wide installation, while at least one guard lives.
static INSTALLED: Mutex<Option<Installed>> = Mutex::new(None);

struct Installed {
    guards: usize,
    old: Vec<(libc::c_int, libc::sigaction)>,
    watcher: JoinHandle<()>,
}

/// What the watcher thread reads to know it should end.
const STOP: u8 = 0;

const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

extern "C" fn on_signal(sig: libc::c_int) {
    if STOPPING.swap(true, Ordering::SeqCst) {
        // A stop is under way already: end now, as if we never caught it.
        // SAFETY: signal(2) and raise(3) are async-signal-safe. The signal is
        // blocked while its handler runs, so the raised one is delivered,
        // with the default action (termination), as this handler returns.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
        return;
    }
    let fd = PIPE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let saved = errno();
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe and `byte` is a valid one-byte
        // buffer. `fd` is the write end of the pipe, which is never closed; a
        // failed write (a full pipe) only loses a duplicate notification.
        // errno is restored for the interrupted code.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
        set_errno(saved);
    }
}

#[cfg(target_os = "linux")]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: returns the calling thread's errno slot; always valid.
    unsafe { libc::__errno_location() }
}

#[cfg(not(target_os = "linux"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: returns the calling thread's errno slot; always valid.
    unsafe { libc::__error() }
}

fn errno() -> libc::c_int {
    // SAFETY: the pointer is the calling thread's errno, valid to read.
    unsafe { *errno_location() }
}

fn set_errno(value: libc::c_int) {
    // SAFETY: the pointer is the calling thread's errno, valid to write.
    unsafe { *errno_location() = value };
}

/// A share of the process's SIGINT/SIGTERM handling; dropping the last one
/// restores the handlers found when the first was made.
pub(crate) struct SignalGuard(());

/// Calls `on_shutdown` on a watcher thread the first time SIGINT or SIGTERM
/// arrives; a later one, while that stop is under way, ends the process.
/// Nested and concurrent calls share one installation.
///
/// # Errors
/// When the pipe, the thread or sigaction(2) cannot be set up (nothing is
/// left installed then).
pub(crate) fn install(on_shutdown: fn()) -> io::Result<SignalGuard> {
    let mut installed = INSTALLED.lock();
    if let Some(i) = installed.as_mut() {
        i.guards += 1;
        return Ok(SignalGuard(()));
    }
    let (reader, writer) = pipe()?;
    // A byte left from an earlier installation (a signal whose handler ran
    // as that one ended) must not stop this one.
    reader.set_nonblocking(true)?;
    while let Ok(1..) = (&*reader).read(&mut [0u8; 64]) {}
    reader.set_nonblocking(false)?;
    STOPPING.store(false, Ordering::SeqCst);
    let watcher = std::thread::Builder::new()
        .name("gs-signals".into())
        .spawn(move || watch(reader, on_shutdown))?;
    match set_handlers(&SIGNALS) {
        Ok(old) => {
            *installed = Some(Installed {
                guards: 1,
                old,
                watcher,
            });
            Ok(SignalGuard(()))
        }
        Err(e) => {
            let _ = (&*writer).write(&[STOP]);
            let _ = watcher.join();
            Err(e)
        }
    }
}

/// Notes that a stop is under way (from [`crate::shutdown`]): a signal that
/// comes now ends the process at once.
pub(crate) fn note_stop() {
    STOPPING.store(true, Ordering::SeqCst);
}

/// Whether a stop is under way (a signal came, or [`crate::shutdown`] ran).
pub(crate) fn stop_under_way() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// No server runs any more: the stop is over.
pub(crate) fn stop_over() {
    STOPPING.store(false, Ordering::SeqCst);
}

/// The pipe of the process, made on first use.
fn pipe() -> io::Result<(&'static UnixStream, &'static UnixStream)> {
    if PIPE.get().is_none() {
        let (reader, writer) = UnixStream::pair()?;
        writer.set_nonblocking(true)?;
        // Called under INSTALLED's lock: no other thread sets it meanwhile.
        let _ = PIPE.set((reader, writer));
    }
    let (reader, writer) = PIPE.get().expect("set above");
    PIPE_FD.store(writer.as_raw_fd(), Ordering::SeqCst);
    Ok((reader, writer))
}

/// The watcher thread: calls `on_shutdown` for the first signal, ends at
/// [`STOP`].
fn watch(mut reader: &UnixStream, on_shutdown: fn()) {
    let mut byte = [0u8; 1];
    let mut called = false;
    loop {
        match reader.read(&mut byte) {
            Ok(1) if byte[0] == STOP => return,
            Ok(1) if !called => {
                called = true;
                log::info!(target: "guildenstern", "signal {} received, shutting down", byte[0]);
                on_shutdown();
            }
            Ok(1) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            _ => return,
        }
    }
}

/// Installs `on_signal` for every signal of `signals`, all or none: on a
/// failure, those set already get their old handlers back. Returns the old
/// handlers.
fn set_handlers(signals: &[libc::c_int]) -> io::Result<Vec<(libc::c_int, libc::sigaction)>> {
    let mut old = Vec::with_capacity(signals.len());
    for &sig in signals {
        // SAFETY: a zeroed sigaction is a valid "no handler, empty mask" value
        // on every libc; we then fill in handler and flags.
        let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
        act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        act.sa_flags = libc::SA_RESTART;
        // SAFETY: `act.sa_mask` is a valid sigset_t owned by us.
        unsafe { libc::sigemptyset(&mut act.sa_mask) };
        // SAFETY: as above, zeroed is a valid sigaction for the kernel to fill.
        let mut prev: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers are to valid sigaction structs; `on_signal` is async-signal-safe.
        match syscall!(sigaction(sig, &act, &mut prev)) {
            Ok(_) => old.push((sig, prev)),
            Err(e) => {
                restore(&old);
                return Err(e);
            }
        }
    }
    Ok(old)
}

fn restore(old: &[(libc::c_int, libc::sigaction)]) {
    for (sig, prev) in old {
        // SAFETY: restores a handler saved by `set_handlers`; the old-action pointer may be null.
        let _ = syscall!(sigaction(*sig, prev, std::ptr::null_mut()));
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        let mut installed = INSTALLED.lock();
        let Some(i) = installed.as_mut() else {
            return;
        };
        i.guards -= 1;
        if i.guards > 0 {
            return;
        }
        let i = installed.take().expect("checked above");
        restore(&i.old);
        if let Some((_, writer)) = PIPE.get() {
            let _ = (&*writer).write(&[STOP]);
        }
        let _ = i.watcher.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The current handler of `sig`, without changing it.
    fn handler_of(sig: libc::c_int) -> libc::sighandler_t {
        // SAFETY: zeroed is a valid sigaction for the kernel to fill.
        let mut cur: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a null new action only queries; `cur` is valid to write.
        syscall!(sigaction(sig, std::ptr::null(), &mut cur)).unwrap();
        cur.sa_sigaction
    }

    /// SIGKILL cannot be caught, so installing for it fails after SIGUSR1
    /// was set: SIGUSR1 must get its old handler back, not keep ours.
    #[test]
    fn a_failed_install_leaves_no_handler_behind() {
        let before = handler_of(libc::SIGUSR1);
        let r = set_handlers(&[libc::SIGUSR1, libc::SIGKILL]);
        assert!(r.is_err(), "sigaction(SIGKILL) fails");
        assert_eq!(handler_of(libc::SIGUSR1), before);
    }
}

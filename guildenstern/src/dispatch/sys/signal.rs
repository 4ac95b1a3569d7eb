//! SIGINT and SIGTERM turned into a call of a Rust function on a thread of
//! our own, through the self-pipe trick: the signal handler only writes one
//! byte to a socket (async-signal-safe), a watcher thread reads it.

use super::syscall;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread::JoinHandle;

/// The write end of the pipe, read by the signal handler; -1 when not installed.
static PIPE_FD: AtomicI32 = AtomicI32::new(-1);

/// What the watcher thread reads to know it should end.
const STOP: u8 = 0;

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = PIPE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let saved = errno();
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe and `byte` is a valid one-byte
        // buffer. `fd` is the write end the guard keeps open while PIPE_FD holds
        // it (the guard clears PIPE_FD and restores the old handlers before
        // closing it); a failed write (a full pipe) only loses a duplicate
        // notification. errno is restored for the interrupted code.
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

/// Installed SIGINT/SIGTERM handling; dropping it restores the previous handlers.
pub(crate) struct SignalGuard {
    writer: UnixStream,
    old: [libc::sigaction; 2],
    watcher: Option<JoinHandle<()>>,
}

const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

/// Calls `on_shutdown` on a watcher thread the first time SIGINT or SIGTERM arrives.
///
/// # Errors
/// When the pipe, the thread or sigaction(2) cannot be set up.
pub(crate) fn install(on_shutdown: impl FnOnce() + Send + 'static) -> io::Result<SignalGuard> {
    let (mut reader, writer) = UnixStream::pair()?;
    writer.set_nonblocking(true)?;
    let watcher = std::thread::Builder::new().name("gs-signals".into()).spawn(move || {
        let mut byte = [0u8; 1];
        if let Ok(1) = reader.read(&mut byte) {
            if byte[0] != STOP {
                log::info!(target: "guildenstern", "signal {} received, shutting down", byte[0]);
                on_shutdown();
            }
        }
    })?;
    PIPE_FD.store(writer.as_raw_fd(), Ordering::SeqCst);
    // SAFETY: a zeroed sigaction is a valid "no handler, empty mask" value on every libc.
    let mut old: [libc::sigaction; 2] = unsafe { std::mem::zeroed() };
    for (i, sig) in SIGNALS.iter().enumerate() {
        // SAFETY: zeroed is valid as above; we then fill in handler and flags.
        let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
        act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        act.sa_flags = libc::SA_RESTART;
        // SAFETY: `act.sa_mask` is a valid sigset_t owned by us.
        unsafe { libc::sigemptyset(&mut act.sa_mask) };
        // SAFETY: both pointers are to valid sigaction structs; `on_signal` is async-signal-safe.
        syscall!(sigaction(*sig, &act, &mut old[i]))?;
    }
    Ok(SignalGuard {
        writer,
        old,
        watcher: Some(watcher),
    })
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (i, sig) in SIGNALS.iter().enumerate() {
            // SAFETY: restores the handler saved by `install`; the old-action pointer may be null.
            let _ = syscall!(sigaction(*sig, &self.old[i], std::ptr::null_mut()));
        }
        PIPE_FD.store(-1, Ordering::SeqCst);
        let _ = (&self.writer).write(&[STOP]);
        if let Some(w) = self.watcher.take() {
            let _ = w.join();
        }
    }
}

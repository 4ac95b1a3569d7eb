//! The platform boundary: every raw syscall of the runtime lives below this
//! module, each `unsafe` block with its `// SAFETY:` note.
//!
//! The rest of the crate sees safe functions returning `io::Result`.

pub(crate) mod clock;
#[cfg(target_os = "linux")]
pub(crate) mod epoll;
pub(crate) mod signal;

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Instant;

/// Calls a libc function and turns a `-1` return into `io::Error::last_os_error()`.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: each caller documents why the arguments are valid for this call.
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}
pub(crate) use syscall;

/// What [`wait_fd`] waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The socket has bytes to read (or reached end of stream).
    Readable,
    /// The socket can take more bytes.
    Writable,
}

/// Blocks the calling thread until `fd` is ready or `deadline` passes, with
/// poll(2). Returns `Ok(false)` on time-out. Used only by handlers that chose
/// to block on their own socket (streaming bodies, large replies).
pub(crate) fn wait_fd(fd: BorrowedFd<'_>, what: Wait, deadline: Instant) -> io::Result<bool> {
    let events = poll_events(what);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid, initialised pollfd on our stack and nfds is 1;
        // the fd is borrowed, so it stays open for the duration of the call.
        match syscall!(poll(&mut pfd, 1, ms)) {
            Ok(0) => continue,
            // Errors and hang-ups are reported by the read or write that follows.
            Ok(_) => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Waits until one of `fds` is ready for what it is paired with, or
/// `deadline` passes; returns which are ready (or hung up, which the next
/// read or write reports).
pub(crate) fn wait_many(
    fds: &[(BorrowedFd<'_>, Wait)],
    ready: &mut Vec<bool>,
    deadline: Instant,
) -> io::Result<()> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|(fd, what)| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: poll_events(*what),
            revents: 0,
        })
        .collect();
    ready.clear();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Rounded up: less than a millisecond left is one more wait, not a spin.
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: `pfds` holds `pfds.len()` initialised pollfd structs; the fds are
        // borrowed by the caller for the duration of the call.
        match syscall!(poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms)) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    ready.extend(pfds.iter().map(|p| p.revents != 0));
    Ok(())
}

fn poll_events(what: Wait) -> libc::c_short {
    match what {
        Wait::Readable => libc::POLLIN,
        Wait::Writable => libc::POLLOUT,
    }
}

/// The soft limit on open file descriptors, if it can be read.
pub(crate) fn nofile_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit struct.
    syscall!(getrlimit(libc::RLIMIT_NOFILE, &mut lim)).ok()?;
    Some(lim.rlim_cur)
}

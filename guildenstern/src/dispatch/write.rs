//! Writing to a non-blocking socket from a thread that chose to wait:
//! handlers replying, senders from other threads. Waits with poll(2), up to
//! a deadline; never sleeps.

use super::sys::{wait_fd, Wait};
use std::io::{self, IoSlice, Write};
use std::os::fd::AsFd;
use std::time::Instant;

/// Writes every part, waiting (poll) for the socket when it is full, until `deadline`.
pub(crate) fn write_all(
    mut stream: &std::net::TcpStream,
    parts: [&[u8]; 3],
    deadline: Instant,
) -> io::Result<()> {
    let mut skip = 0usize;
    let total: usize = parts.iter().map(|p| p.len()).sum();
    while skip < total {
        let mut slices = [IoSlice::new(&[]), IoSlice::new(&[]), IoSlice::new(&[])];
        let mut n = 0;
        let mut offset = skip;
        for p in parts {
            if offset >= p.len() {
                offset -= p.len();
                continue;
            }
            slices[n] = IoSlice::new(&p[offset..]);
            offset = 0;
            n += 1;
        }
        match stream.write_vectored(&slices[..n]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(w) => skip += w,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if !wait_fd(stream.as_fd(), Wait::Writable, deadline)? {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "send timeout"));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

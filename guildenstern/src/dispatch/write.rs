//! Writing to a non-blocking socket: as much as it takes now (the reply
//! path of a worker, which parks the rest), or everything, waiting with
//! poll(2) up to a deadline (handlers streaming a body, senders from other
//! threads). Never sleeps.

use super::sys::{wait_fd, Wait};
use std::io::{self, IoSlice, Write};
use std::os::fd::AsFd;
use std::time::Instant;

/// Writes the parts from byte `skip` on (counted over all parts together),
/// until they are all written or the socket is full; returns the new `skip`.
pub(crate) fn write_now(
    mut stream: &std::net::TcpStream,
    parts: [&[u8]; 3],
    mut skip: usize,
) -> io::Result<usize> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    while skip < total {
        // The parts as they are (the first attempt, the usual one), or
        // what is left of them.
        let mut slices = parts.map(IoSlice::new);
        let mut n = slices.len();
        if skip > 0 {
            n = 0;
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
        }
        match stream.write_vectored(&slices[..n]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(w) => skip += w,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(skip)
}

/// Writes every part, waiting (poll) for the socket when it is full, until `deadline`.
pub(crate) fn write_all(
    stream: &std::net::TcpStream,
    parts: [&[u8]; 3],
    deadline: Instant,
) -> io::Result<()> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut skip = 0;
    loop {
        skip = write_now(stream, parts, skip)?;
        if skip == total {
            return Ok(());
        }
        if !wait_fd(stream.as_fd(), Wait::Writable, deadline)? {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "send timeout"));
        }
    }
}

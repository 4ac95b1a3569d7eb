//! Output a connection owes its peer, in the order it must go out: written
//! as far as the socket takes it, the rest kept here until the socket is
//! writable again. Whoever holds it (under the connection's lock) may write
//! it; nothing is ever written past bytes still queued, so what several
//! threads send to one connection never interleaves.

use super::write::write_now;
use std::io;
use std::net::TcpStream;

/// Capacity kept once everything went out; a larger buffer is freed.
const KEEP: usize = 64 * 1024;

/// Bytes owed to a peer.
#[derive(Default)]
pub(crate) struct Outbox {
    buf: Vec<u8>,
    /// How much of `buf` went out.
    sent: usize,
}

impl Outbox {
    /// Bytes queued and not written yet.
    pub(crate) fn pending(&self) -> usize {
        self.buf.len() - self.sent
    }

    /// Writes what is queued, as far as the socket takes it.
    pub(crate) fn flush(&mut self, stream: &TcpStream) -> io::Result<()> {
        if self.pending() == 0 {
            return Ok(());
        }
        self.sent = write_now(stream, [&self.buf, b"", b""], self.sent)?;
        if self.pending() == 0 {
            self.buf.clear();
            self.sent = 0;
            if self.buf.capacity() > KEEP {
                self.buf = Vec::new();
            }
        }
        Ok(())
    }

    /// Writes `parts` after what is queued: as far as the socket takes
    /// them (only once the queue is empty), the rest queued.
    pub(crate) fn send(&mut self, stream: &TcpStream, parts: [&[u8]; 3]) -> io::Result<()> {
        self.flush(stream)?;
        let mut skip = 0;
        if self.pending() == 0 {
            skip = write_now(stream, parts, 0)?;
            if skip == parts.iter().map(|p| p.len()).sum::<usize>() {
                // All written (the usual case): nothing to queue.
                return Ok(());
            }
        }
        self.compact();
        for p in parts {
            if skip >= p.len() {
                skip -= p.len();
                continue;
            }
            self.buf.extend_from_slice(&p[skip..]);
            skip = 0;
        }
        Ok(())
    }

    /// Drops the bytes already written once they are half the buffer (or
    /// more than [`KEEP`]), so that the buffer holds what is owed and not
    /// everything ever sent while a slow reader keeps some owed.
    fn compact(&mut self) {
        if self.sent > 0 && (self.sent >= self.buf.len() / 2 || self.sent > KEEP) {
            self.buf.drain(..self.sent);
            self.sent = 0;
        }
    }

    /// Takes what is still owed, leaving the queue empty.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.buf);
        rest.drain(..self.sent);
        self.sent = 0;
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn what_the_socket_does_not_take_is_queued_and_written_in_order() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let tx = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut rx, _) = l.accept().unwrap();
        tx.set_nonblocking(true).unwrap();
        let mut out = Outbox::default();
        let big = vec![7u8; 8 << 20];
        out.send(&tx, [b"head", &big, b"tail"]).unwrap();
        assert!(out.pending() > 0, "an 8 MiB write fills a loopback socket");
        out.send(&tx, [b"next", b"", b""]).unwrap();
        let want = 4 + big.len() + 4 + 4;
        let mut got = Vec::with_capacity(want);
        let mut chunk = vec![0u8; 1 << 16];
        while got.len() < want {
            let n = rx.read(&mut chunk).unwrap();
            got.extend_from_slice(&chunk[..n]);
            out.flush(&tx).unwrap();
        }
        assert_eq!(out.pending(), 0);
        assert_eq!(&got[..4], b"head");
        assert!(got[4..4 + big.len()].iter().all(|&b| b == 7));
        assert_eq!(&got[4 + big.len()..], b"tailnext");
    }

    /// A reader that always leaves some output owed: the buffer holds what
    /// is owed, not everything sent (it used to keep every byte until the
    /// queue was empty).
    #[test]
    fn the_buffer_holds_what_is_owed_not_what_was_sent() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let tx = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut rx, _) = l.accept().unwrap();
        tx.set_nonblocking(true).unwrap();
        let mut out = Outbox::default();
        let piece = vec![1u8; 64 * 1024];
        let mut chunk = vec![0u8; 32 * 1024];
        let mut sent = 0usize;
        let mut most_kept = 0;
        while sent < 64 << 20 {
            // A sender that keeps up to 1 MiB owed (as `ws::send` does).
            if out.pending() < 1 << 20 {
                out.send(&tx, [&piece, b"", b""]).unwrap();
                sent += piece.len();
            } else {
                let _ = rx.read(&mut chunk).unwrap();
                out.flush(&tx).unwrap();
            }
            most_kept = most_kept.max(out.buf.len());
        }
        assert!(
            most_kept < 4 << 20,
            "the buffer reached {most_kept} bytes for {} owed",
            out.pending()
        );
    }
}

//! What the fuzz targets share: the input layout, sending a byte stream
//! over loopback in pieces and reading what comes back until the server
//! closes; [`http`] checks HTTP answers, [`ws`] builds client frames and
//! checks server frames.
//!
//! Input layout (both targets): byte 0 holds flags (their meaning is the
//! target's), the low 4 bits of byte 1 the number `k` of split points, then
//! `k` little-endian u16 offsets into the stream (taken modulo its length),
//! then the stream itself. The stream is written in the pieces the offsets
//! cut, each piece flushed on its own.

pub mod http;
pub mod ws;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long one input's connection may take to be closed by the server
/// after we half-closed it.
pub const READ_DEADLINE: Duration = Duration::from_secs(3);
/// How long the liveness probe waits for its answer (the machine is shared).
pub const PROBE_DEADLINE: Duration = Duration::from_secs(10);

/// One decoded input.
pub struct Input<'a> {
    pub flags: u8,
    /// Sorted, deduplicated cut offsets inside `stream` (none at 0 or the end).
    pub splits: Vec<usize>,
    pub stream: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn decode(data: &'a [u8]) -> Option<Input<'a>> {
        let (&flags, rest) = data.split_first()?;
        let (&k, mut rest) = rest.split_first()?;
        let k = (k & 0x0f) as usize;
        let mut raw = Vec::with_capacity(k);
        for _ in 0..k {
            if rest.len() < 2 {
                break;
            }
            raw.push(u16::from_le_bytes([rest[0], rest[1]]) as usize);
            rest = &rest[2..];
        }
        let len = rest.len();
        let mut splits: Vec<usize> = raw
            .into_iter()
            .filter(|_| len > 1)
            .map(|o| o % len)
            .filter(|&o| o > 0)
            .collect();
        splits.sort_unstable();
        splits.dedup();
        Some(Input {
            flags,
            splits,
            stream: rest,
        })
    }
}

/// Encodes an input (for seeds and regression inputs).
pub fn encode(flags: u8, splits: &[u16], stream: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, splits.len() as u8];
    for s in splits {
        v.extend_from_slice(&s.to_le_bytes());
    }
    v.extend_from_slice(stream);
    v
}

/// Connects to `addr` with a deadline, no Nagle delay.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s =
        TcpStream::connect_timeout(&addr, PROBE_DEADLINE).expect("connect to the fuzzed server");
    s.set_nodelay(true).unwrap();
    s.set_write_timeout(Some(READ_DEADLINE)).unwrap();
    s
}

/// Writes `bytes` in the pieces `splits` cut, each flushed on its own; with
/// `pause`, waits a millisecond between pieces so that the server's reads
/// really end at the cuts. Stops quietly when the server closed (a reset or
/// broken pipe is an answer too).
pub fn send_pieces(s: &mut TcpStream, bytes: &[u8], splits: &[usize], pause: bool) {
    let mut at = 0;
    for &end in splits.iter().chain(std::iter::once(&bytes.len())) {
        if s.write_all(&bytes[at..end])
            .and_then(|_| s.flush())
            .is_err()
        {
            return;
        }
        at = end;
        if pause && end < bytes.len() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// How reading a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The server closed cleanly: everything it sent is here.
    Eof,
    /// A reset: the tail of what it sent may be lost.
    Reset,
    /// The server kept the connection open past the deadline.
    Deadline,
}

/// Half-closes `s`, then reads until the server closes or `deadline` passes.
pub fn half_close_and_read(s: &mut TcpStream, deadline: Duration) -> (Vec<u8>, End) {
    let _ = s.shutdown(Shutdown::Write);
    read_until_close(s, deadline)
}

/// Reads until the server closes or `deadline` passes.
pub fn read_until_close(s: &mut TcpStream, deadline: Duration) -> (Vec<u8>, End) {
    let until = Instant::now() + deadline;
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (out, End::Deadline);
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (out, End::Eof),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (out, End::Deadline)
            }
            Err(_) => return (out, End::Reset),
        }
    }
}

/// A cheap checksum the handlers echo (FNV-1a).
pub fn fnv(bytes: &[u8], mut h: u32) -> u32 {
    for &b in bytes {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    h
}

/// The FNV-1a start value.
pub const FNV_START: u32 = 0x811c_9dc5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_split_points() {
        let data = encode(5, &[3, 1, 3, 0, 100], b"abcdefgh");
        let input = Input::decode(&data).unwrap();
        assert_eq!(input.flags, 5);
        assert_eq!(input.stream, b"abcdefgh");
        // Modulo the length, sorted, deduplicated, none at 0.
        assert_eq!(input.splits, vec![1, 3, 4]);
    }
}

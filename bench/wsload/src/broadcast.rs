//! Broadcast mode: `wsload broadcast PORT [CONNS [SECS [WARMUP [BYTES [WINDOW [MESSAGES]]]]]]`
//! (defaults 100, 10, 2, 32, 16, 0).
//!
//! Opens CONNS connections to a relay on 127.0.0.1:PORT that sends every
//! message it receives to every client, the sender included. A client may
//! see its upgrade answer before the relay counts it among the receivers,
//! so connection 0 first sends a text probe (`join`, again every 50 ms)
//! until every connection has received one; receivers skip probes. Then
//! connection 0 sends binary messages of BYTES bytes (16..=125): a sequence number, the
//! send time and filler derived from the sequence number, keeping WINDOW
//! messages in flight (a message is complete when every connection has
//! received it). A delivery is one message received by one connection:
//! each is checked byte for byte and in order, and its latency (send to
//! receive) recorded. Deliveries during the WARMUP seconds are not counted;
//! it then measures for SECS seconds and stops by itself, printing one line:
//! `mode=broadcast conns=.. secs=.. window=.. messages=.. deliveries=.. dps=..
//! p50_us=.. p99_us=.. p999_us=.. max_us=.. cpu_ms=..`.
//! With MESSAGES > 0 the count is fixed instead (bench/callgrind.sh): the
//! sender sends exactly MESSAGES messages, every delivery is measured (use
//! WARMUP 0), and wsload stops when the last one is complete; SECS is then
//! only a bound, and reaching it is an error.

use crate::{arg, connect_all, cpu_ms, die, read_some, Conn};
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Write};
use std::time::{Duration, Instant};

const MASK: [u8; 4] = [0x5c, 0x13, 0xa7, 0x42];
const PROBE: &[u8] = b"join";
const PROBE_EVERY: Duration = Duration::from_millis(50);

/// Appends a masked client frame (FIN, `opcode`) carrying `payload` to `out`.
fn client_frame(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&[0x80 | opcode, 0x80 | payload.len() as u8]);
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
}

/// The payload of message `seq` sent at `sent_ns`: sequence number, send
/// time (both little-endian), then filler that depends on `seq`.
fn payload(seq: u64, sent_ns: u64, bytes: usize, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&sent_ns.to_le_bytes());
    out.extend((16..bytes).map(|i| b'a' + ((seq as usize + i) % 26) as u8));
}

/// Latencies in a log-linear histogram (0.2 % resolution), so that memory
/// stays bounded however many deliveries a run makes.
struct Histogram {
    counts: Vec<u64>,
    n: u64,
    max: u64,
}

impl Histogram {
    const LINEAR: u64 = 1024;
    const SUB: u64 = 512;

    fn new() -> Self {
        Histogram { counts: vec![0; (Self::LINEAR + 55 * Self::SUB) as usize], n: 0, max: 0 }
    }

    fn record(&mut self, ns: u64) {
        let i = if ns < Self::LINEAR {
            ns
        } else {
            let e = 63 - u64::from(ns.leading_zeros()); // >= 10
            Self::LINEAR + (e - 10) * Self::SUB + ((ns >> (e - 9)) & (Self::SUB - 1))
        };
        self.counts[i as usize] += 1;
        self.n += 1;
        self.max = self.max.max(ns);
    }

    /// The lower bound of the bucket that holds quantile `p`, in µs.
    fn quantile_us(&self, p: f64) -> f64 {
        let rank = ((self.n as f64 * p) as u64).min(self.n - 1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen > rank {
                let i = i as u64;
                let ns = if i < Self::LINEAR {
                    i
                } else {
                    let e = (i - Self::LINEAR) / Self::SUB + 10;
                    (Self::SUB + (i - Self::LINEAR) % Self::SUB) << (e - 9)
                };
                return ns as f64 / 1000.0;
            }
        }
        self.max as f64 / 1000.0
    }
}

pub fn main() {
    let port: u16 = arg(2, 0);
    if port == 0 {
        die("usage: wsload broadcast PORT [CONNS [SECS [WARMUP [BYTES [WINDOW [MESSAGES]]]]]]".into());
    }
    let conns: usize = arg(3, 100);
    let secs: u64 = arg(4, 10);
    let warmup: u64 = arg(5, 2);
    let bytes: usize = arg(6, 32);
    let window: usize = arg(7, 16);
    let messages: u64 = arg(8, 0);
    if !(16..=125).contains(&bytes) || conns == 0 || conns > 60000 || !(1..=4096).contains(&window) {
        die("BYTES must be in 16..=125, CONNS in 1..=60000 and WINDOW in 1..=4096".into());
    }

    let mut poll = Poll::new().unwrap_or_else(|e| die(format!("poll: {e}")));
    let mut list: Vec<Conn> = connect_all(&poll, port, conns, 16 * 1024);
    // The sender is also told when its socket takes more output.
    poll.registry()
        .reregister(&mut list[0].sock, Token(0), Interest::READABLE | Interest::WRITABLE)
        .unwrap_or_else(|e| die(format!("register: {e}")));

    let start = Instant::now();
    let measure_from = start + Duration::from_secs(warmup);
    let end = measure_from + Duration::from_secs(secs);
    let handshake_by = start + Duration::from_secs(10);
    let mut events = Events::with_capacity(1024);
    let mut handshaken = 0usize;
    // Connections that have received a probe, so are among the receivers.
    let mut joined = vec![false; conns];
    let mut joined_count = 0usize;
    let mut probed_at: Option<Instant> = None;

    // Messages: `sent` sent so far, `oldest` the first not yet complete;
    // ring slot seq % window holds its send time and how many connections
    // still have to receive it.
    let mut sent: u64 = 0;
    let mut oldest: u64 = 0;
    let mut sent_ns = vec![0u64; window];
    let mut missing = vec![0usize; window];
    let mut next_seq = vec![0u64; conns];
    let mut out: Vec<u8> = Vec::new();
    let mut out_off = 0usize;
    let mut body = Vec::with_capacity(bytes);
    let mut expect = Vec::with_capacity(bytes);

    let mut hist = Histogram::new();
    let mut deliveries: u64 = 0;
    let mut completed_measured: u64 = 0;
    let mut done = false;

    while !done {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if joined_count < conns && now > handshake_by {
            die(format!("only {handshaken}/{conns} handshakes completed, {joined_count} probes received"));
        }
        // Probe until every connection is a receiver.
        if handshaken == conns && joined_count < conns && probed_at.is_none_or(|t| now >= t + PROBE_EVERY) {
            probed_at = Some(now);
            client_frame(0x1, PROBE, &mut out);
            flush(&mut list[0], &mut out, &mut out_off);
        }
        // Then keep the window full.
        if joined_count == conns {
            let limit = if messages > 0 { messages } else { u64::MAX };
            while sent - oldest < window as u64 && sent < limit {
                let slot = (sent % window as u64) as usize;
                let ns = start.elapsed().as_nanos() as u64;
                sent_ns[slot] = ns;
                missing[slot] = conns;
                payload(sent, ns, bytes, &mut body);
                client_frame(0x2, &body, &mut out);
                sent += 1;
            }
            flush(&mut list[0], &mut out, &mut out_off);
        }
        let wait = if joined_count < conns { PROBE_EVERY } else { Duration::from_millis(100) };
        poll.poll(&mut events, Some(wait))
            .unwrap_or_else(|e| die(format!("poll: {e}")));
        for ev in events.iter() {
            let i = ev.token().0;
            if i == 0 && ev.is_writable() {
                flush(&mut list[0], &mut out, &mut out_off);
            }
            if !ev.is_readable() && !ev.is_read_closed() {
                continue;
            }
            let c = &mut list[i];
            loop {
                let more = read_some(c, i);
                if !c.handshaken {
                    if c.take_handshake(i) {
                        handshaken += 1;
                    } else if more {
                        continue;
                    } else {
                        break;
                    }
                }
                // Every whole binary frame in the buffer is one delivery.
                let mut at = 0;
                while c.len - at >= 2 && c.len - at >= 2 + (c.buf[at + 1] & 0x7f) as usize {
                    let f = &c.buf[at..at + 2 + (c.buf[at + 1] & 0x7f) as usize];
                    at += f.len();
                    if f[0] == 0x81 && &f[2..] == PROBE {
                        if !joined[i] {
                            joined[i] = true;
                            joined_count += 1;
                        }
                        continue;
                    }
                    let seq = next_seq[i];
                    if f[0] != 0x82 || f.len() != 2 + bytes || seq >= sent || seq < oldest {
                        die(format!("#{i}: unexpected frame for message {seq}: {f:?}"));
                    }
                    let slot = (seq % window as u64) as usize;
                    payload(seq, sent_ns[slot], bytes, &mut expect);
                    if f[2..] != expect[..] {
                        die(format!("#{i}: message {seq} arrived altered: {f:?}"));
                    }
                    if messages > 0 || Instant::now() >= measure_from {
                        hist.record(start.elapsed().as_nanos() as u64 - sent_ns[slot]);
                        deliveries += 1;
                    }
                    next_seq[i] = seq + 1;
                    missing[slot] -= 1;
                }
                c.buf.copy_within(at..c.len, 0);
                c.len -= at;
                if !more {
                    break;
                }
            }
        }
        // Retire the complete messages from the front of the window.
        while oldest < sent && missing[(oldest % window as u64) as usize] == 0 {
            oldest += 1;
            if Instant::now() >= measure_from || messages > 0 {
                completed_measured += 1;
            }
        }
        done = messages > 0 && oldest == messages;
    }
    if handshaken < conns {
        die(format!("only {handshaken}/{conns} handshakes completed"));
    }
    if joined_count < conns {
        die(format!("only {joined_count}/{conns} connections received a probe"));
    }
    if messages > 0 && oldest < messages {
        die(format!("{oldest}/{messages} messages complete in {secs} s"));
    }
    if deliveries == 0 {
        die("no deliveries measured".into());
    }
    let elapsed = if messages > 0 { start.elapsed() } else { end.duration_since(measure_from) }.as_secs_f64();
    println!(
        "mode=broadcast conns={conns} secs={secs} window={window} messages={completed_measured} deliveries={deliveries} dps={:.0} p50_us={:.1} p99_us={:.1} p999_us={:.1} max_us={:.1} cpu_ms={}",
        deliveries as f64 / elapsed,
        hist.quantile_us(0.50),
        hist.quantile_us(0.99),
        hist.quantile_us(0.999),
        hist.max as f64 / 1000.0,
        cpu_ms()
    );
}

/// Writes as much of `out` as the sender's socket takes; the rest waits
/// for the next writable event.
fn flush(c: &mut Conn, out: &mut Vec<u8>, off: &mut usize) {
    while *off < out.len() {
        match c.sock.write(&out[*off..]) {
            Ok(n) => *off += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => die(format!("write #0: {e}")),
        }
    }
    out.clear();
    *off = 0;
}

//! WebSocket load generator (loopback only): closed-loop echo, or
//! broadcast through a relay (`wsload broadcast ...`, see broadcast.rs).
//!
//! Echo mode: `wsload PORT [CONNS [SECS [WARMUP [BYTES [ROUNDS]]]]]` (defaults 64, 10, 2, 32, 0)
//!
//! Opens CONNS connections to 127.0.0.1:PORT, performs the opening handshake,
//! then on every connection sends one masked text frame of BYTES bytes, waits
//! for its echo (checked byte for byte), records the round-trip time and sends
//! again. Round trips completed during the WARMUP seconds are not counted; it
//! then measures for SECS seconds and stops by itself, printing one line:
//! `conns=.. secs=.. rtt=.. rps=.. p50_us=.. p99_us=.. p999_us=.. max_us=..`.
//! With ROUNDS > 0 the count is fixed instead (bench/callgrind.sh): every
//! connection makes exactly ROUNDS round trips, all of them measured (use
//! WARMUP 0), and wsload stops when the last one is done; SECS is then only
//! a bound, and reaching it is an error.
//! One thread, one mio event loop: pin it with `taskset -c 1`.

mod broadcast;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::exit;
use std::time::{Duration, Instant};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// One client connection; the last three fields serve echo mode only.
struct Conn {
    sock: TcpStream,
    handshaken: bool,
    buf: Vec<u8>,
    len: usize,
    sent_at: Instant,
    // bytes of the current frame not yet written (partial writes)
    out_off: usize,
    // round trips completed (counted only with ROUNDS)
    rounds: u64,
}

fn die(msg: String) -> ! {
    eprintln!("wsload: {msg}");
    exit(1)
}

fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    match std::env::args().nth(i) {
        None => default,
        Some(s) => s.parse().unwrap_or_else(|_| die(format!("bad argument {i}: {s}"))),
    }
}

impl Conn {
    /// Whether the buffer holds the whole 101 answer (checked, then
    /// consumed: what follows it stays in the buffer).
    fn take_handshake(&mut self, i: usize) -> bool {
        let Some(end_hdr) = self.buf[..self.len].windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = String::from_utf8_lossy(&self.buf[..end_hdr]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 101") || !head.contains(&ACCEPT.to_ascii_lowercase()) {
            die(format!("#{i}: bad handshake response: {head}"));
        }
        let rest = end_hdr + 4;
        self.buf.copy_within(rest..self.len, 0);
        self.len -= rest;
        self.handshaken = true;
        true
    }
}

/// Reads what connection `i` has until the socket would block (false) or
/// the buffer is full (true: read again once it has been consumed).
fn read_some(c: &mut Conn, i: usize) -> bool {
    if c.len == c.buf.len() {
        die(format!("#{i}: unexpected data"));
    }
    loop {
        match c.sock.read(&mut c.buf[c.len..]) {
            Ok(0) => die(format!("#{i}: server closed the connection")),
            Ok(n) => {
                c.len += n;
                if c.len == c.buf.len() {
                    return true;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => die(format!("read #{i}: {e}")),
        }
    }
}

/// Connects CONNS sockets to 127.0.0.1:PORT (blocking, bounded, then
/// switched to mio and registered readable as Token(index)), each with a
/// BUF-byte read buffer, and writes each its upgrade request; the event
/// loop reads the answers.
fn connect_all(poll: &Poll, port: u16, conns: usize, buf: usize) -> Vec<Conn> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let mut list = Vec::with_capacity(conns);
    for i in 0..conns {
        let s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| die(format!("connect #{i}: {e}")));
        s.set_nodelay(true).ok();
        s.set_nonblocking(true).unwrap();
        let mut sock = TcpStream::from_std(s);
        poll.registry()
            .register(&mut sock, Token(i), Interest::READABLE)
            .unwrap_or_else(|e| die(format!("register: {e}")));
        let mut c = Conn { sock, handshaken: false, buf: vec![0; buf], len: 0, sent_at: Instant::now(), out_off: 0, rounds: 0 };
        // The request is small; a fresh socket's send buffer always takes it.
        c.sock.write_all(request.as_bytes()).unwrap_or_else(|e| die(format!("handshake write: {e}")));
        list.push(c);
    }
    list
}

/// Our own CPU time in ms, so that a caller can tell what else ran meanwhile.
fn cpu_ms() -> u64 {
    let t = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = t.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    ticks * 10 // USER_HZ is 100 on Linux
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("broadcast") {
        return broadcast::main();
    }
    let port: u16 = arg(1, 0);
    if port == 0 {
        die("usage: wsload PORT [CONNS [SECS [WARMUP [BYTES [ROUNDS]]]]]".into());
    }
    let conns: usize = arg(2, 64);
    let secs: u64 = arg(3, 10);
    let warmup: u64 = arg(4, 2);
    let bytes: usize = arg(5, 32);
    let rounds: u64 = arg(6, 0);
    if bytes > 125 || conns == 0 || conns > 60000 {
        die("BYTES must be <= 125 and CONNS in 1..=60000".into());
    }
    // The frame every connection sends: FIN|text, MASK|len, key, masked payload.
    let payload: Vec<u8> = (0..bytes).map(|i| b'a' + (i % 26) as u8).collect();
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x81, 0x80 | bytes as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    let mut expect = vec![0x81, bytes as u8];
    expect.extend_from_slice(&payload);

    let mut poll = Poll::new().unwrap_or_else(|e| die(format!("poll: {e}")));
    let mut list = connect_all(&poll, port, conns, 4096);

    let start = Instant::now();
    let measure_from = start + Duration::from_secs(warmup);
    let end = measure_from + Duration::from_secs(secs);
    let mut lat_ns: Vec<u32> = Vec::with_capacity(1 << 24);
    let mut handshaken = 0usize;
    let mut events = Events::with_capacity(1024);
    let mut measured_start: Option<Instant> = None;
    let mut finished = 0usize;

    'outer: loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if handshaken < conns && now > start + Duration::from_secs(10) + Duration::from_secs(warmup) {
            die(format!("only {handshaken}/{conns} handshakes completed"));
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap_or_else(|e| die(format!("poll: {e}")));
        for ev in events.iter() {
            let i = ev.token().0;
            let c = &mut list[i];
            if ev.is_writable() && c.out_off > 0 {
                // finish a partial frame write
                match c.sock.write(&frame[c.out_off..]) {
                    Ok(n) => {
                        c.out_off += n;
                        if c.out_off == frame.len() {
                            c.out_off = 0;
                            poll.registry().reregister(&mut c.sock, Token(i), Interest::READABLE).unwrap();
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => die(format!("write #{i}: {e}")),
                }
            }
            if !ev.is_readable() && !ev.is_read_closed() {
                continue;
            }
            if read_some(c, i) {
                die(format!("#{i}: unexpected data"));
            }
            let mut send = false;
            if !c.handshaken {
                if !c.take_handshake(i) {
                    continue;
                }
                handshaken += 1;
                send = true;
            } else if c.len >= expect.len() {
                if c.buf[..expect.len()] != expect[..] {
                    die(format!("#{i}: echo mismatch: {:?}", &c.buf[..c.len]));
                }
                let now = Instant::now();
                if now >= measure_from {
                    if now >= end {
                        break 'outer;
                    }
                    measured_start.get_or_insert(measure_from);
                    let ns = now.duration_since(c.sent_at).as_nanos();
                    lat_ns.push(ns.min(u32::MAX as u128) as u32);
                }
                c.buf.copy_within(expect.len()..c.len, 0);
                c.len -= expect.len();
                if c.len != 0 {
                    die(format!("#{i}: more data than one echo"));
                }
                send = true;
                if rounds > 0 {
                    c.rounds += 1;
                    if c.rounds == rounds {
                        send = false;
                        finished += 1;
                        if finished == conns {
                            break 'outer;
                        }
                    }
                }
            }
            if send {
                c.sent_at = Instant::now();
                match c.sock.write(&frame) {
                    Ok(n) if n == frame.len() => {}
                    Ok(n) => {
                        c.out_off = n;
                        poll.registry().reregister(&mut c.sock, Token(i), Interest::READABLE | Interest::WRITABLE).unwrap();
                    }
                    // Closed loop: at most one frame is ever in flight, so an
                    // empty send buffer always takes it.
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        die(format!("#{i}: send buffer full on a one-frame connection"))
                    }
                    Err(e) => die(format!("write #{i}: {e}")),
                }
            }
        }
    }
    if handshaken < conns {
        die(format!("only {handshaken}/{conns} handshakes completed"));
    }
    if rounds > 0 && finished < conns {
        die(format!("{finished}/{conns} connections made {rounds} round trips in {secs} s"));
    }
    let elapsed = if rounds > 0 { measure_from.elapsed() } else { end.duration_since(measure_from) }.as_secs_f64();
    let n = lat_ns.len();
    if n == 0 {
        die("no round trips measured".into());
    }
    lat_ns.sort_unstable();
    let pct = |p: f64| lat_ns[((n as f64 * p) as usize).min(n - 1)] as f64 / 1000.0;
    let cpu_ms = cpu_ms();
    println!(
        "conns={conns} secs={secs} rtt={n} rps={:.0} p50_us={:.1} p99_us={:.1} p999_us={:.1} max_us={:.1} cpu_ms={cpu_ms}",
        n as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(0.999),
        lat_ns[n - 1] as f64 / 1000.0
    );
}

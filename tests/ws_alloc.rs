//! Zero heap allocations per WebSocket echo round trip after warm-up, on
//! both dispatchers: a counting global allocator sees every allocation of
//! the process (server workers, housekeeping thread and this client alike).
//! The client sends pre-built masked frames and reads the echo into a fixed
//! buffer, so it allocates nothing itself.

use guildenstern::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers every operation to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MASK: [u8; 4] = [0x11, 0x5a, 0xc3, 0x7e];

/// A masked client frame.
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    match payload.len() {
        n if n < 126 => v.push(0x80 | n as u8),
        n => {
            v.push(0x80 | 126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    v.extend_from_slice(&MASK);
    v.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i & 3]));
    v
}

/// An unmasked server frame.
fn unmasked(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    match payload.len() {
        n if n < 126 => v.push(n as u8),
        n => {
            v.push(126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    v.extend_from_slice(payload);
    v
}

/// What the client sends in one round trip and exactly what must come back.
struct Exchange {
    send: Vec<u8>,
    expect: Vec<u8>,
}

/// Sends one pre-built request and reads the answer into `buf`, allocation-free.
fn round_trip(stream: &mut TcpStream, x: &Exchange, buf: &mut [u8]) {
    stream.write_all(&x.send).unwrap();
    let want = x.expect.len();
    let mut got = 0;
    while got < want {
        let n = stream.read(&mut buf[got..want]).unwrap();
        assert!(n > 0, "the server closed the connection");
        got += n;
    }
    assert!(buf[..want] == x.expect[..], "wrong echo");
}

/// Allocations during `count` round trips of `x`.
fn count_allocations(stream: &mut TcpStream, x: &Exchange, count: usize, buf: &mut [u8]) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..count {
        round_trip(stream, x, buf);
    }
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

fn check(dispatcher: Dispatcher) {
    let server = WsServer::with_context(|cx: &mut Ws| {
        let _ = if cx.is_binary() {
            cx.reply_binary(cx.message())
        } else {
            cx.reply_text(cx.text())
        };
    })
    .address("127.0.0.1")
    .any_port()
    .threads(2)
    .dispatcher(dispatcher)
    .start()
    .unwrap();
    let mut stream = TcpStream::connect(server.local_addr().unwrap()).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while !buf[..got].ends_with(b"\r\n\r\n") {
        // One byte at a time: nothing after the head may be swallowed.
        let n = stream.read(&mut buf[got..got + 1]).unwrap();
        assert!(n > 0);
        got += n;
    }
    assert!(buf.starts_with(b"HTTP/1.1 101 "));

    let text = Exchange {
        send: masked(0x81, b"hello world"),
        expect: unmasked(0x81, b"hello world"),
    };
    let big: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let binary = Exchange {
        send: masked(0x82, &big),
        expect: unmasked(0x82, &big),
    };
    // Three text fragments around a ping: a pong, then the whole message.
    let fragmented = Exchange {
        send: [
            masked(0x01, b"frag"),
            masked(0x89, b"ping!"),
            masked(0x00, b"mented "),
            masked(0x80, "τext".as_bytes()),
        ]
        .concat(),
        expect: [
            unmasked(0x8A, b"ping!"),
            unmasked(0x81, "fragmented τext".as_bytes()),
        ]
        .concat(),
    };

    for x in [&text, &binary, &fragmented] {
        count_allocations(&mut stream, x, 1_000, &mut buf);
    }
    let text_allocs = count_allocations(&mut stream, &text, 5_000, &mut buf);
    let binary_allocs = count_allocations(&mut stream, &binary, 5_000, &mut buf);
    let fragmented_allocs = count_allocations(&mut stream, &fragmented, 5_000, &mut buf);

    drop(stream);
    server.stop();
    server.join();
    assert_eq!(
        text_allocs, 0,
        "{dispatcher:?}: heap allocations during 5,000 text echoes"
    );
    assert_eq!(
        binary_allocs, 0,
        "{dispatcher:?}: heap allocations during 5,000 binary echoes"
    );
    assert_eq!(
        fragmented_allocs, 0,
        "{dispatcher:?}: heap allocations during 5,000 fragmented echoes with a ping"
    );
}

#[test]
fn echo_round_trip_does_not_allocate() {
    check(Dispatcher::Epoll);
    check(Dispatcher::Portable);
}

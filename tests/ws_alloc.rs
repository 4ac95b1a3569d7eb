//! Zero heap allocations per WebSocket echo round trip after warm-up, on
//! both dispatchers: a counting global allocator sees every allocation of
//! the process (server workers, housekeeping thread and this client alike).
//! The client sends pre-built masked frames and reads the echo into a fixed
//! buffer, so it allocates nothing itself.

mod support;
mod ws_util;

use guildenstern::prelude::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::alloc::{allocations_during, stop_and_assert_no_allocations, Counting};

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
    allocations_during(|| {
        for _ in 0..count {
            round_trip(stream, x, buf);
        }
    })
}

fn check(dispatcher: Dispatcher) {
    let server = ws_util::echo()
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

    stop_and_assert_no_allocations(
        server,
        stream,
        dispatcher,
        &[
            (text_allocs, "5,000 text echoes"),
            (binary_allocs, "5,000 binary echoes"),
            (fragmented_allocs, "5,000 fragmented echoes with a ping"),
        ],
    );
}

#[test]
fn echo_round_trip_does_not_allocate() {
    check(Dispatcher::Epoll);
    check(Dispatcher::Portable);
}

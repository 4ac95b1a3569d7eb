//! A declared length is not a promise: a request head announcing a large
//! Compact body, or a WebSocket frame header announcing a large payload,
//! must not make the server set aside that much memory before the bytes
//! come. Measured as the growth of this process's resident memory (the
//! server runs in it) while many such connections wait, once the kernel
//! shows that the server has read everything they sent.

#[macro_use]
mod support;
mod ws_util;

use guildenstern::prelude::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;
use support::{get, resident_kib, TestServer};
use ws_util::{echo, masked_with_len, Raw, WsTest};

/// Connections that each announce `ANNOUNCED` bytes.
const CONNECTIONS: usize = 24;
const ANNOUNCED: usize = 32 * 1024 * 1024;
/// Far below CONNECTIONS × ANNOUNCED (768 MiB), far above what the waiting
/// connections really need.
const ALLOWED_GROWTH_KIB: u64 = 128 * 1024;

/// Whether the server on `port` has read every byte its clients sent: on
/// each connection to it, the client's side has nothing unacknowledged and
/// the server's side nothing unread (`/proc/net/tcp`, loopback IPv4), and
/// at least `connections` are established. The kernel's own accounting, so
/// no assumption about which worker served what first.
fn all_read_by_server(port: u16, connections: usize) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port_of = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
    let queue = |q: &str, i: usize| {
        q.split(':')
            .nth(i)
            .and_then(|n| u64::from_str_radix(n, 16).ok())
    };
    let (mut served, mut pending) = (0, 0);
    for row in table.lines().skip(1) {
        let f: Vec<&str> = row.split_whitespace().collect();
        let (local, remote, state, queues) = (f[1], f[2], f[3], f[4]);
        if state != "01" {
            continue; // not established
        }
        if port_of(local) == Some(port) {
            served += 1;
            pending += queue(queues, 1).unwrap_or(1); // rx_queue: unread
        } else if port_of(remote) == Some(port) {
            pending += queue(queues, 0).unwrap_or(1); // tx_queue: unacknowledged
        }
    }
    served >= connections && pending == 0
}

#[test]
fn announced_http_body_is_not_allocated_up_front() {
    let t = TestServer::start(
        HttpServer::new(|| reply("ok"))
            .content(Content::Compact)
            .max_body_bytes(ANNOUNCED)
            .threads(2),
    );
    // Warm up the server and this process before measuring.
    assert_eq!(t.connect().request(get("/")).status, 200);
    let before = resident_kib();
    let mut waiting = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut s = TcpStream::connect(t.addr).unwrap();
        let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {ANNOUNCED}\r\n\r\nsome");
        s.write_all(head.as_bytes()).unwrap();
        waiting.push(s);
    }
    let read = support::wait_until(Duration::from_secs(20), || {
        all_read_by_server(t.addr.port(), CONNECTIONS)
    });
    assert!(read, "the server read every head");
    let grown = resident_kib().saturating_sub(before);
    assert!(
        grown < ALLOWED_GROWTH_KIB,
        "resident memory grew by {grown} KiB"
    );
    drop(waiting);
}

#[test]
fn announced_websocket_payload_is_not_allocated_up_front() {
    let t = WsTest::start(echo().max_message_bytes(ANNOUNCED));
    let mut probe = Raw::upgrade(t.addr, "/");
    probe.send_frame(0x81, b"warm");
    assert_eq!(probe.read_frame().expect("echo").text(), "warm");
    let before = resident_kib();
    let mut waiting = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut raw = Raw::upgrade(t.addr, "/");
        raw.send(masked_with_len(0x82, b"12345678", ANNOUNCED as u64));
        waiting.push(raw);
    }
    let read = support::wait_until(Duration::from_secs(20), || {
        all_read_by_server(t.addr.port(), CONNECTIONS)
    });
    assert!(read, "the server read every frame header");
    let grown = resident_kib().saturating_sub(before);
    assert!(
        grown < ALLOWED_GROWTH_KIB,
        "resident memory grew by {grown} KiB"
    );
    drop(waiting);
}

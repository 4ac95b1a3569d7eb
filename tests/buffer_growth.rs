//! A connection's read buffer grows within limits smaller than the size it
//! starts with (4 KiB): a request or frame that straddles the end of a full
//! buffer is served, on a one-worker server, by the worker that read it.
//! Before the fix the growth panicked there and took the worker with it.

#[macro_use]
mod support;
mod ws_util;

use guildenstern::prelude::*;
use support::*;
use ws_util::{masked, Raw, WsTest, FIN, TEXT};

const GET: &[u8] = b"GET /g HTTP/1.1\r\nHost: x\r\n\r\n";

/// Pipelined GETs that fill the buffer up to `before`, then `tail`: its
/// first bytes are in the first 4 KiB read, the rest beyond it.
fn straddling(before: usize, tail: &[u8]) -> (Vec<u8>, usize) {
    let n = before / GET.len();
    let mut bytes = GET.repeat(n);
    bytes.extend_from_slice(tail);
    assert!(bytes.len() > 4096 && bytes.len() - tail.len() < 4096);
    (bytes, n)
}

fn one_worker(d: Dispatcher, builder: HttpServer) -> TestServer {
    TestServer::start(builder.dispatcher(d).threads(1))
}

/// Reads `n` answers to the GETs, then the last one's body.
fn answers(client: &mut Client, n: usize) -> String {
    for i in 0..n {
        let r = client
            .read_reply()
            .unwrap_or_else(|| panic!("answer {i} of {n}"));
        assert_eq!(r.status, 200, "answer {i}");
    }
    client
        .read_reply()
        .expect("the straddling request is answered")
        .text()
}

/// A Compact body limit (head plus 200 bytes) below the buffer's size.
fn compact_body_below_buffer_size(d: Dispatcher) {
    let s = one_worker(
        d,
        HttpServer::new(|| reply(format!("{} {}", uri(), body_len().unwrap_or(0))))
            .content(Content::Compact),
    );
    let body = [b'b'; 200];
    let mut post = b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n".to_vec();
    post.extend_from_slice(&body);
    let (bytes, n) = straddling(4096 - 60, &post);
    let mut c = s.connect();
    c.send(&bytes);
    assert_eq!(answers(&mut c, n), "/p 200");
    // The one worker still serves.
    assert_eq!(s.connect().request(GET).text(), "/g 0");
}

/// A head limit (512 bytes) below the buffer's size.
fn head_limit_below_buffer_size(d: Dispatcher) {
    let s = one_worker(d, HttpServer::new(|| reply(uri())).max_header_bytes(512));
    let head = format!(
        "GET /h HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(300)
    );
    let (bytes, n) = straddling(4096 - 100, head.as_bytes());
    let mut c = s.connect();
    c.send(&bytes);
    assert_eq!(answers(&mut c, n), "/h");
    assert_eq!(s.connect().request(GET).text(), "/g");
}

/// A WebSocket message limit (1,000 bytes) below the buffer's size.
fn ws_message_limit_below_buffer_size(d: Dispatcher) {
    let t = WsTest::start_on(ws_util::echo().max_message_bytes(1000).threads(1), d);
    let mut raw = Raw::upgrade(t.addr, "/");
    let payloads: Vec<String> = (0..5).map(|i| format!("{i}").repeat(1000)).collect();
    let mut bytes = Vec::new();
    for p in &payloads {
        bytes.extend_from_slice(&masked(FIN | TEXT, p.as_bytes()));
    }
    // Four frames of 1,008 bytes fit in 4 KiB; the fifth straddles its end.
    assert!(bytes.len() > 4096 && bytes.len() - 1008 < 4096);
    raw.send(&bytes);
    for p in &payloads {
        assert_eq!(raw.frame().text(), p);
    }
    let mut again = Raw::upgrade(t.addr, "/");
    again.send_frame(FIN | TEXT, b"still here");
    assert_eq!(again.frame().text(), "still here");
}

on_both_dispatchers!(
    compact_body_below_buffer_size,
    head_limit_below_buffer_size,
    ws_message_limit_below_buffer_size,
);

//! Fuzzes the real HTTP driver in-process: six servers (epoll and portable
//! dispatcher, each with Compact, Streaming and NoBody content) run on
//! loopback under small limits; every input is one connection's bytes
//! (heads, bodies, pipelined requests), written in fuzzed pieces, then
//! half-closed. Whatever comes back must be well-framed responses, and the
//! server must still answer a fresh `GET /`. A panic on any server thread
//! aborts the process (libfuzzer-sys's panic hook), which is a crash.
//!
//! Flags (input byte 0): bits 0-2 pick the server (modulo 6), bit 3 pauses
//! a millisecond between pieces.
#![no_main]

use guildenstern::prelude::*;
use guildenstern::Dispatcher;
use guildenstern_fuzz::http::{assert_http_alive, check_responses};
use guildenstern_fuzz::{
    connect, fnv, half_close_and_read, send_pieces, Input, FNV_START, READ_DEADLINE,
};
use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

/// The request-head limit of every fuzzed server (the smallest allowed).
const MAX_HEADER_BYTES: usize = 256;
/// The Compact body limit: head plus body stays far below the 4 KiB initial buffer.
const MAX_BODY_BYTES: usize = 300;
/// A body larger than one write usually takes.
static BIG: [u8; 20_000] = [b'b'; 20_000];

/// Echoes what the server saw (method, URI and body length and checksum)
/// in one of several reply shapes the URI's second byte picks, so that every
/// way of framing a response is exercised.
fn handler(cx: &mut Http) {
    let (req, res) = cx.parts();
    let method = req.method().to_owned();
    let uri = req.uri().as_bytes().to_vec();
    let mut len = 0u64;
    let mut sum = FNV_START;
    if req.is_body_complete() {
        len = req.body().len() as u64;
        sum = fnv(req.body(), sum);
    }
    let shape = uri.get(1).copied().unwrap_or(b'/');
    // 'p': answer before reading a streamed body (the driver must skip it).
    if shape != b'p' {
        let mut buf = [0u8; 97];
        while !req.is_body_complete() {
            match req.read_body(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    len += n as u64;
                    sum = fnv(&buf[..n], sum);
                }
                Err(_) => break,
            }
        }
    }
    let summary = format!("{method} {} {len} {sum:08x}\n", fnv(&uri, FNV_START));
    let len_text = len.to_string();
    let headers = [
        ("X-Method", method.as_str()),
        ("X-Body-Len", len_text.as_str()),
    ];
    match shape {
        b'c' => {
            res.reply_chunked_start(200, &headers);
            // A streamed reply stops once the client is gone.
            for piece in summary.as_bytes().chunks(5) {
                if res.reply_chunk(piece).is_err() {
                    return;
                }
            }
            let _ = res.reply_chunked_finish();
        }
        b's' => {
            res.reply_start(200, summary.len() as u64, &headers);
            for piece in summary.as_bytes().chunks(7) {
                if res.reply_more(piece).is_err() {
                    return;
                }
            }
            let _ = res.reply_finish();
        }
        // Announces more than it sends: the connection must close (the
        // checker accepts the cut body by its `X-Cut` field).
        b'u' => {
            let cut = [headers[0], headers[1], ("X-Cut", "1")];
            res.reply_start(200, summary.len() as u64 + 10, &cut);
            if res.reply_more(summary.as_bytes()).is_ok() {
                let _ = res.reply_finish();
            }
        }
        b'n' => res.reply_with(204, b"", &headers),
        b'm' => res.reply_with(304, b"", &headers),
        b'b' => res.reply_with(200, BIG.as_slice(), &headers),
        b'x' => {
            res.reply_with(200, summary.as_bytes(), &headers);
            cx.close_socket("fuzz: close after reply");
        }
        b'k' => cx.close_socket("fuzz: close without reply"),
        // No reply at all: the driver answers for the handler.
        b'q' => {}
        _ => res.reply_with(200, summary.as_bytes(), &headers),
    }
}

fn servers() -> &'static [(SocketAddr, &'static str)] {
    static SERVERS: OnceLock<Vec<(SocketAddr, &'static str)>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let mut out = Vec::new();
        for (d, dn) in [
            (Dispatcher::Epoll, "epoll"),
            (Dispatcher::Portable, "portable"),
        ] {
            for (content, name) in [
                (Content::Compact, "compact"),
                (Content::Streaming, "streaming"),
                (Content::NoBody, "nobody"),
            ] {
                let mut b = HttpServer::with_context(handler)
                    .address("127.0.0.1")
                    .any_port()
                    .dispatcher(d)
                    .threads(2)
                    .log_level(LevelFilter::Off)
                    .content(content)
                    .max_header_bytes(MAX_HEADER_BYTES)
                    .max_headers(8)
                    .max_uri_bytes(64)
                    .max_body_bytes(MAX_BODY_BYTES)
                    .header_timeout(Duration::from_secs(2))
                    .body_timeout(Duration::from_secs(2))
                    .idle_timeout(Duration::from_secs(2))
                    .send_timeout(Duration::from_secs(2));
                b = match content {
                    Content::Compact => b.all_headers(true),
                    Content::Streaming => b.headers(&["x-fuzz", "content-type"]),
                    Content::NoBody => b.parse_request_line(true),
                };
                let server = b.start().expect("fuzzed server starts");
                let addr = server.local_addr().expect("listening");
                let label: &'static str = Box::leak(format!("{dn}/{name}").into_boxed_str());
                // Runs until the process ends.
                std::mem::forget(server);
                out.push((addr, label));
            }
        }
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::decode(data) else {
        return;
    };
    let servers = servers();
    let (addr, label) = servers[(input.flags & 7) as usize % servers.len()];
    let pause = input.flags & 8 != 0;
    let mut s = connect(addr);
    send_pieces(&mut s, input.stream, &input.splits, pause);
    let (got, end) = half_close_and_read(&mut s, READ_DEADLINE);
    drop(s);
    if let Err(e) = check_responses(&got, end) {
        panic!(
            "{label}: bad framing ({e}); read ended {end:?}; got {:?}",
            String::from_utf8_lossy(&got[..got.len().min(2000)])
        );
    }
    assert_http_alive(addr, label);
});

//! Fuzzes the real WebSocket driver in-process: echo servers (epoll and
//! portable dispatcher, one of them pinging every 20 ms) with a message
//! limit of 1,000 bytes run on loopback; every input is a valid upgrade
//! request followed by fuzzed frames (masked or not, fragments, control
//! frames, close, raw bytes), the whole stream written in fuzzed pieces,
//! then half-closed. What comes back must be a 101 and well-formed server
//! frames ending, if with a close frame, with a valid close code, and the
//! server must still upgrade and echo on a fresh connection. A panic on any
//! server thread aborts the process (libfuzzer-sys's panic hook).
//!
//! Flags (input byte 0): bits 0-1 pick the server (modulo 3), bit 2 pauses
//! a millisecond between pieces, bit 3 sends the stream raw, without our
//! upgrade request in front (the handshake itself is fuzzed then).
//!
//! The stream after the split points is a list of operations (frames and
//! raw bytes), see `guildenstern_fuzz::ws`.
#![no_main]

use guildenstern::prelude::*;
use guildenstern::ws::{send_close, send_ping};
use guildenstern::Dispatcher;
use guildenstern_fuzz::http::{check_responses, parse_head};
use guildenstern_fuzz::ws::{assert_ws_alive, build, check_frames, UPGRADE};
use guildenstern_fuzz::{connect, half_close_and_read, send_pieces, End, Input, READ_DEADLINE};
use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

const MAX_MESSAGE_BYTES: usize = 1000;

/// Echoes every message; `!close` makes the server close (1000) and `!ping`
/// makes it ping first, from the callback, through the cross-thread API.
fn echo(cx: &mut Ws) {
    let server = cx.server().clone();
    let socket = cx.socket();
    if cx.message().starts_with(b"!close") {
        let _ = send_close(&server, socket, 1000, "asked to");
        return;
    }
    if cx.message().starts_with(b"!ping") {
        let _ = send_ping(&server, socket, b"p");
    }
    let _ = if cx.is_binary() {
        cx.reply_binary(cx.message())
    } else {
        cx.reply_text(cx.text())
    };
}

fn servers() -> &'static [(SocketAddr, &'static str)] {
    static SERVERS: OnceLock<Vec<(SocketAddr, &'static str)>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let mut out = Vec::new();
        for (d, ping, label) in [
            (Dispatcher::Epoll, false, "epoll"),
            (Dispatcher::Portable, false, "portable"),
            (Dispatcher::Epoll, true, "epoll/ping"),
        ] {
            let mut b = WsServer::with_context(echo)
                .address("127.0.0.1")
                .any_port()
                .dispatcher(d)
                .threads(2)
                .log_level(LevelFilter::Off)
                .max_message_bytes(MAX_MESSAGE_BYTES)
                .max_header_bytes(512)
                .handshake_timeout(Duration::from_secs(2))
                .send_timeout(Duration::from_secs(2))
                .close_timeout(Duration::from_millis(500));
            if ping {
                b = b.ping_interval(Duration::from_millis(20));
            }
            let server = b.start().expect("fuzzed server starts");
            let addr = server.local_addr().expect("listening");
            std::mem::forget(server);
            out.push((addr, label));
        }
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::decode(data) else {
        return;
    };
    let servers = servers();
    let (addr, label) = servers[(input.flags & 3) as usize % servers.len()];
    let pause = input.flags & 4 != 0;
    let raw = input.flags & 8 != 0;
    let mut stream = if raw { Vec::new() } else { UPGRADE.to_vec() };
    stream.extend_from_slice(&build(input.stream));
    // The split points cut the whole stream, handshake included.
    let splits: Vec<usize> = input
        .splits
        .iter()
        .map(|&o| o % stream.len().max(1))
        .filter(|&o| o > 0)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut s = connect(addr);
    send_pieces(&mut s, &stream, &splits, pause);
    let (got, end) = half_close_and_read(&mut s, READ_DEADLINE);
    drop(s);
    let clean = end == End::Eof;
    let verdict = match parse_head(&got) {
        Ok(Some(h)) if h.status == 101 => check_frames(&got[h.len..], clean, MAX_MESSAGE_BYTES),
        // Refused handshakes are plain HTTP answers.
        Ok(Some(_)) => check_responses(&got, end).map(|_| ()),
        Ok(None) if !clean || got.is_empty() => Ok(()),
        Ok(None) => Err("handshake answer cut short before a clean close".into()),
        Err(e) => Err(e),
    };
    if let Err(e) = verdict {
        panic!(
            "{label}: {e}; read ended {end:?}; got {:?}",
            String::from_utf8_lossy(&got[..got.len().min(2000)])
        );
    }
    assert_ws_alive(addr, label);
});

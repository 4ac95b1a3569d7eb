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
//! The stream after the split points is a list of operations; each starts
//! with a tag byte. Tag bit 7 set: raw bytes follow, as many as the low 7
//! bits say. Otherwise a frame: tag bit 6 FIN, bits 4-5 RSV1/RSV2, bit 3
//! unmasked, bits 0-2 the length encoding (0 minimal, 1 16-bit, 2 64-bit,
//! 3 announce one byte more than sent, 4 one byte less); then an opcode
//! byte (low 4 bits) and a u16 length; the payload is the next bytes of
//! the input, padded with `a` up to the length.
#![no_main]

use guildenstern::prelude::*;
use guildenstern::ws::{send_close, send_ping};
use guildenstern::Dispatcher;
use guildenstern_fuzz::{
    connect, half_close_and_read, parse_head, send_pieces, Input, PROBE_DEADLINE, READ_DEADLINE,
};
use libfuzzer_sys::fuzz_target;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MAX_MESSAGE_BYTES: usize = 1000;

const UPGRADE: &[u8] = b"GET /chat HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

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

/// Appends one client frame.
fn frame(out: &mut Vec<u8>, first: u8, payload: &[u8], masked: bool, encoding: u8) {
    out.push(first);
    let mbit = if masked { 0x80 } else { 0 };
    let n = payload.len() as u64;
    let announced = match encoding {
        3 => n + 1,
        4 => n.saturating_sub(1),
        _ => n,
    };
    match encoding {
        1 => {
            out.push(mbit | 126);
            out.extend_from_slice(&(announced as u16).to_be_bytes());
        }
        2 => {
            out.push(mbit | 127);
            out.extend_from_slice(&announced.to_be_bytes());
        }
        _ if announced < 126 => out.push(mbit | announced as u8),
        _ if announced <= 0xffff => {
            out.push(mbit | 126);
            out.extend_from_slice(&(announced as u16).to_be_bytes());
        }
        _ => {
            out.push(mbit | 127);
            out.extend_from_slice(&announced.to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&MASK);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
}

/// Turns the operation list into the bytes to send.
fn build(mut ops: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut payload = Vec::new();
    while let Some((&tag, rest)) = ops.split_first() {
        ops = rest;
        if tag & 0x80 != 0 {
            let n = ((tag & 0x7f) as usize).min(ops.len());
            out.extend_from_slice(&ops[..n]);
            ops = &ops[n..];
            continue;
        }
        if ops.len() < 3 {
            out.extend_from_slice(ops);
            break;
        }
        let opcode = ops[0] & 0x0f;
        let len = u16::from_le_bytes([ops[1], ops[2]]) as usize;
        ops = &ops[3..];
        let take = len.min(ops.len());
        payload.clear();
        payload.extend_from_slice(&ops[..take]);
        payload.resize(len, b'a');
        ops = &ops[take..];
        let first = (tag & 0x40) << 1 | (tag & 0x30) << 2 | opcode;
        frame(&mut out, first, &payload, tag & 0x08 == 0, tag & 0x07);
    }
    out
}

/// Checks the server's frames after the handshake: no mask, no reserved
/// bits or opcodes, minimal lengths, control frames short and final, text
/// that is UTF-8, messages within the limit, a close frame with a valid
/// code and nothing after it. A frame cut short is accepted only when the
/// read did not end cleanly.
fn check_frames(mut b: &[u8], clean: bool) -> Result<(), String> {
    let mut closed = false;
    while !b.is_empty() {
        if closed {
            return Err(format!("{} bytes after the close frame", b.len()));
        }
        if b.len() < 2 {
            return if clean {
                Err("frame header cut short".into())
            } else {
                Ok(())
            };
        }
        let (fin, rsv, opcode) = (b[0] & 0x80 != 0, b[0] & 0x70, b[0] & 0x0f);
        if rsv != 0 || b[1] & 0x80 != 0 {
            return Err(format!(
                "reserved bits or mask in a server frame: {:02x} {:02x}",
                b[0], b[1]
            ));
        }
        let (len, hl) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as u64, 4),
            127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().unwrap()), 10),
            126 | 127 => {
                return if clean {
                    Err("frame header cut short".into())
                } else {
                    Ok(())
                }
            }
            n => (n as u64, 2),
        };
        if (hl == 4 && len < 126) || (hl == 10 && len <= 0xffff) {
            return Err(format!("non-minimal length {len}"));
        }
        if len > MAX_MESSAGE_BYTES as u64 {
            return Err(format!(
                "server frame of {len} bytes, over the message limit"
            ));
        }
        let len = len as usize;
        if b.len() < hl + len {
            return if clean {
                Err("frame payload cut short".into())
            } else {
                Ok(())
            };
        }
        let payload = &b[hl..hl + len];
        match opcode {
            0x0 | 0x2 => {}
            0x1 => {
                // The echo sends each message in one frame.
                if !fin || std::str::from_utf8(payload).is_err() {
                    return Err("text frame fragmented or not UTF-8".into());
                }
            }
            0x8..=0xa => {
                if !fin || len > 125 {
                    return Err(format!("bad control frame, fin {fin}, {len} bytes"));
                }
                if opcode == 0x8 {
                    closed = true;
                    if len == 1 {
                        return Err("close frame with a 1-byte payload".into());
                    }
                    if len >= 2 {
                        let code = u16::from_be_bytes([payload[0], payload[1]]);
                        if !matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
                            return Err(format!("invalid close code {code}"));
                        }
                        if std::str::from_utf8(&payload[2..]).is_err() {
                            return Err("close reason is not UTF-8".into());
                        }
                    }
                }
            }
            _ => return Err(format!("reserved opcode {opcode:#x}")),
        }
        b = &b[hl + len..];
    }
    Ok(())
}

/// Panics unless a fresh connection upgrades and gets its text echoed.
fn assert_ws_alive(addr: SocketAddr, what: &str) {
    let mut s = connect(addr);
    let mut req = UPGRADE.to_vec();
    frame(&mut req, 0x81, b"alive?", true, 0);
    s.write_all(&req).expect("probe request");
    let until = Instant::now() + PROBE_DEADLINE;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Ok(Some(h)) = parse_head(&got) {
            assert_eq!(h.status, 101, "{what}: the probe upgrade got {}", h.status);
            // Skip pings (one server sends them) up to the echo.
            let mut f = &got[h.len..];
            while f.len() >= 2 && f[0] == 0x89 && f.len() >= 2 + (f[1] & 0x7f) as usize {
                f = &f[2 + (f[1] & 0x7f) as usize..];
            }
            if f.starts_with(b"\x81\x06alive?") {
                return;
            }
            assert!(
                f.len() < 8 && (f.is_empty() || f[0] == 0x81 || f[0] == 0x89),
                "{what}: the probe got {f:?} instead of its echo"
            );
        }
        let left = until.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "{what}: no upgrade and echo within {PROBE_DEADLINE:?}"
        );
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => panic!("{what}: the probe was closed without its echo"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("{what}: the probe failed: {e}"),
        }
    }
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
    let clean = end == guildenstern_fuzz::End::Eof;
    let verdict = match parse_head(&got) {
        Ok(Some(h)) if h.status == 101 => check_frames(&got[h.len..], clean),
        // Refused handshakes are plain HTTP answers.
        Ok(Some(_)) => guildenstern_fuzz::check_responses(&got, end).map(|_| ()),
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

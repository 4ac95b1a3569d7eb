//! WebSocket pieces of the fuzz targets: the upgrade request, client frames
//! from the operation list an input holds, the check of the server's
//! frames, and the liveness probe of a WebSocket echo server.
//!
//! Operations: each starts with a tag byte. Tag bit 7 set: raw bytes
//! follow, as many as the low 7 bits say. Otherwise a frame: tag bit 6 FIN,
//! bits 4-5 RSV1/RSV2, bit 3 unmasked, bits 0-2 the length encoding (0
//! minimal, 1 16-bit, 2 64-bit, 3 announce one byte more than sent, 4 one
//! byte less); then an opcode byte (low 4 bits) and a little-endian u16
//! length; the payload is the next bytes of the input, padded with `a` up
//! to the length.

use crate::http::parse_head;
use crate::{connect, PROBE_DEADLINE};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

/// A valid upgrade request.
pub const UPGRADE: &[u8] = b"GET /chat HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// The mask key of every client frame.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Appends one client frame.
pub fn frame(out: &mut Vec<u8>, first: u8, payload: &[u8], masked: bool, encoding: u8) {
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
pub fn build(mut ops: &[u8]) -> Vec<u8> {
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
pub fn check_frames(mut b: &[u8], clean: bool, max_message: usize) -> Result<(), String> {
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
        if len > max_message as u64 {
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
pub fn assert_ws_alive(addr: SocketAddr, what: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1000;

    #[test]
    fn builds_masked_frames_and_raw_bytes() {
        // A final masked text "hi", then 2 raw bytes.
        let out = build(&[0x40, 0x01, 2, 0, b'h', b'i', 0x82, 0xde, 0xad]);
        let mut want = vec![0x81, 0x82];
        want.extend_from_slice(&MASK);
        want.extend_from_slice(&[b'h' ^ MASK[0], b'i' ^ MASK[1], 0xde, 0xad]);
        assert_eq!(out, want);
        // Unmasked, 16-bit length, padded payload.
        assert_eq!(
            build(&[0x49, 0x02, 3, 0]),
            vec![0x82, 126, 0, 3, b'a', b'a', b'a']
        );
    }

    #[test]
    fn accepts_valid_server_frames() {
        let frames = [
            &b"\x81\x02hi"[..],
            b"\x89\x00",
            b"\x02\x01x\x80\x01y",
            b"\x88\x04\x03\xe8ok",
        ]
        .concat();
        assert_eq!(check_frames(&frames, true, MAX), Ok(()));
        assert_eq!(check_frames(b"\x88\x00", true, MAX), Ok(()));
        // Cut short: fine only when the read did not end cleanly.
        assert!(check_frames(b"\x81\x05hi", true, MAX).is_err());
        assert!(check_frames(b"\x81\x05hi", false, MAX).is_ok());
    }

    #[test]
    fn rejects_invalid_server_frames() {
        for bad in [
            &b"\x91\x02hi"[..],
            b"\x81\x82abcdhi",
            b"\x83\x00",
            b"\x81\x02\xff\xfe",
            b"\x09\x00",
            b"\x88\x01\x03",
            b"\x88\x02\x03\xe7",
            b"\x88\x02\x03\xed",
            b"\x88\x02\x03\xe8\x81\x00",
            b"\x81\x7e\x00\x02hi",
        ] {
            assert!(check_frames(bad, true, MAX).is_err(), "accepted {bad:?}");
        }
        let mut big = vec![0x82, 126, 0x03, 0xe9];
        big.resize(4 + 1001, 0);
        assert!(check_frames(&big, true, MAX).is_err());
    }
}

//! RFC 6455 frames: headers parsed and formatted here, with the rules
//! each side enforces on its peer's frames (the server wants them masked,
//! the client unmasked: [`Role`]), unmasking, and the close-frame payload
//! checks.

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Continue,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Kind {
    pub(crate) fn is_control(self) -> bool {
        matches!(self, Kind::Close | Kind::Ping | Kind::Pong)
    }

    /// The opcode of a frame of this kind (RFC 6455 §5.2).
    fn opcode(self) -> u8 {
        match self {
            Kind::Continue => 0x0,
            Kind::Text => 0x1,
            Kind::Binary => 0x2,
            Kind::Close => 0x8,
            Kind::Ping => 0x9,
            Kind::Pong => 0xA,
        }
    }
}

/// Which end of a connection we are: frames a client sends are masked
/// (RFC 6455 §5.1), those a server sends are not, and each side fails the
/// connection (1002) on a frame of the other kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// We accepted the connection: the peer's frames must be masked.
    Server,
    /// We opened the connection: the peer's frames must not be masked,
    /// and ours are, each with a fresh random key.
    Client,
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) fin: bool,
    pub(crate) kind: Kind,
    pub(crate) header_len: usize,
    pub(crate) payload_len: usize,
    /// The masking key; all zero for an unmasked frame (unmasking with it
    /// changes nothing, and [`unmask_at`] skips it).
    pub(crate) mask: [u8; 4],
}

/// A frame that breaks the protocol: the close code to answer with and why.
pub(crate) type Violation = (u16, &'static str);

/// Close codes (RFC 6455 §7.4.1).
pub(crate) mod code {
    pub(crate) const NORMAL: u16 = 1000;
    pub(crate) const GOING_AWAY: u16 = 1001;
    pub(crate) const PROTOCOL: u16 = 1002;
    pub(crate) const INVALID_DATA: u16 = 1007;
    pub(crate) const TOO_BIG: u16 = 1009;
}

/// Parses the header of a frame the peer of `role` sent, at the start of
/// `buf`; `Ok(None)` when more bytes are needed. The whole header (with its
/// extended length and masking key) is awaited before any check.
pub(crate) fn parse(
    buf: &[u8],
    max_payload: usize,
    role: Role,
) -> Result<Option<Header>, Violation> {
    let (Some(&first), Some(&second)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    let masked = second & 0x80 != 0;
    let (len, at) = match second & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => (
                u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
                10,
            ),
            None => return Ok(None),
        },
        short => (u64::from(short), 2),
    };
    let (header_len, key) = if masked {
        match buf.get(at..at + 4) {
            Some(k) => (at + 4, [k[0], k[1], k[2], k[3]]),
            None => return Ok(None),
        }
    } else {
        (at, [0; 4])
    };
    let kind = match first & 0x0F {
        0x0 => Kind::Continue,
        0x1 => Kind::Text,
        0x2 => Kind::Binary,
        0x8 => Kind::Close,
        0x9 => Kind::Ping,
        0xA => Kind::Pong,
        _ => return Err((code::PROTOCOL, "reserved opcode")),
    };
    if first & 0x70 != 0 {
        return Err((code::PROTOCOL, "reserved bits set without an extension"));
    }
    let fin = first & 0x80 != 0;
    match (role, masked) {
        (Role::Server, false) => return Err((code::PROTOCOL, "unmasked client frame")),
        (Role::Client, true) => return Err((code::PROTOCOL, "masked server frame")),
        _ => {}
    }
    if kind.is_control() {
        if !fin {
            return Err((code::PROTOCOL, "fragmented control frame"));
        }
        if len > 125 {
            return Err((code::PROTOCOL, "control frame payload over 125 bytes"));
        }
    }
    if len >> 63 != 0 {
        // RFC 6455 §5.2: the most significant bit of a 64-bit length is 0.
        return Err((code::PROTOCOL, "payload length with its top bit set"));
    }
    if len > max_payload as u64 {
        return Err((code::TOO_BIG, "message too big"));
    }
    Ok(Some(Header {
        fin,
        kind,
        header_len,
        payload_len: len as usize,
        mask: key,
    }))
}

/// Unmasks the part of a payload that starts `offset` bytes into it, in
/// place (RFC 6455 §5.3): a frame can be unmasked piece by piece as it arrives.
#[inline]
pub(crate) fn unmask_at(part: &mut [u8], mask: [u8; 4], offset: usize) {
    if mask == [0; 4] {
        return;
    }
    // The mask as it stands `offset` bytes in: rotated by `offset % 4` bytes.
    let bits = 8 * (offset as u32 & 3);
    unmask(
        part,
        u32::from_le_bytes(mask).rotate_right(bits).to_le_bytes(),
    );
}

/// Unmasks a payload in place (RFC 6455 §5.3), eight bytes at a time.
#[inline]
pub(crate) fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = payload.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) ^ wide;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// Formats an unmasked server frame header into `out`; returns its length.
pub(crate) fn server_header(kind: Kind, fin: bool, len: usize, out: &mut [u8; 14]) -> usize {
    header(kind, fin, len, None, out)
}

/// Formats a frame header into `out`, with the masking key of a client
/// frame if given; returns its length. The length in the fewest bytes
/// that hold it (RFC 6455 §5.2).
pub(crate) fn header(
    kind: Kind,
    fin: bool,
    len: usize,
    mask: Option<[u8; 4]>,
    out: &mut [u8; 14],
) -> usize {
    out[0] = kind.opcode() | if fin { 0x80 } else { 0 };
    let masked = if mask.is_some() { 0x80 } else { 0 };
    let at = if len < 126 {
        out[1] = masked | len as u8;
        2
    } else if let Ok(short) = u16::try_from(len) {
        out[1] = masked | 126;
        out[2..4].copy_from_slice(&short.to_be_bytes());
        4
    } else {
        out[1] = masked | 127;
        out[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    match mask {
        Some(key) => {
            out[at..at + 4].copy_from_slice(&key);
            at + 4
        }
        None => at,
    }
}

/// Checks a close frame's payload: empty, or a valid code and UTF-8 reason.
pub(crate) fn close_payload(p: &[u8]) -> Result<Option<(u16, &str)>, Violation> {
    match p.len() {
        0 => Ok(None),
        1 => Err((code::PROTOCOL, "close payload of one byte")),
        _ => {
            let c = u16::from_be_bytes([p[0], p[1]]);
            if !is_valid_close_code(c) {
                return Err((code::PROTOCOL, "invalid close code"));
            }
            let reason = std::str::from_utf8(&p[2..])
                .map_err(|_| (code::INVALID_DATA, "close reason is not UTF-8"))?;
            Ok(Some((c, reason)))
        }
    }
}

/// Codes a peer may send (RFC 6455 §7.4, and the IANA registry).
pub(crate) fn is_valid_close_code(c: u16) -> bool {
    matches!(c, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Incremental UTF-8 validation of a text message that arrives in pieces
/// (fragments, or parts of one frame): fails as soon as a byte cannot
/// continue valid UTF-8, whatever follows (RFC 6455 §8.1; Autobahn 6.4).
/// Each byte is looked at once; a code point split between two pieces is
/// carried over (at most three bytes).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Utf8Stream {
    carry: [u8; 4],
    len: u8,
}

impl Utf8Stream {
    /// Starts a new message.
    pub(crate) fn reset(&mut self) {
        self.len = 0;
    }

    /// Checks the next bytes; `false` once the message cannot be UTF-8.
    #[inline]
    pub(crate) fn feed(&mut self, data: &[u8]) -> bool {
        if self.len > 0 {
            return self.feed_carried(data);
        }
        // ASCII (most text messages) eight bytes at a time; `from_utf8`
        // from the first word that is not, or for the short tail: an ASCII
        // prefix ends on a code point boundary.
        let mut words = data.chunks_exact(8);
        let mut ascii = 0;
        for w in &mut words {
            let v = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            if v & 0x8080_8080_8080_8080 != 0 {
                break;
            }
            ascii += 8;
        }
        let data = &data[ascii..];
        if data.len() < 8 && data.iter().all(u8::is_ascii) {
            return true;
        }
        match std::str::from_utf8(data) {
            Ok(_) => true,
            Err(e) => self.keep_tail(data, e),
        }
    }

    /// `data` is valid up to a point: keeps what follows if it can still
    /// become a code point once the next piece comes.
    #[inline(never)]
    fn keep_tail(&mut self, data: &[u8], e: std::str::Utf8Error) -> bool {
        if e.error_len().is_some() {
            return false;
        }
        let tail = &data[e.valid_up_to()..];
        self.carry[..tail.len()].copy_from_slice(tail);
        self.len = tail.len() as u8;
        true
    }

    /// Completes the code point the last piece ended inside, then goes on.
    #[inline(never)]
    fn feed_carried(&mut self, data: &[u8]) -> bool {
        let have = usize::from(self.len);
        let need = match self.carry[0] {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        let take = (need - have).min(data.len());
        self.carry[have..have + take].copy_from_slice(&data[..take]);
        match std::str::from_utf8(&self.carry[..have + take]) {
            Ok(_) => {
                self.len = 0;
                self.feed(&data[take..])
            }
            Err(e) if e.error_len().is_none() => {
                // Still incomplete: `data` ran out.
                self.len = (have + take) as u8;
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the bytes so far end on a code point boundary (the message
    /// is complete UTF-8 if its last piece was fed).
    pub(crate) fn is_complete(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut v = vec![first];
        match payload.len() {
            n if n < 126 => v.push(0x80 | n as u8),
            n if n < 65536 => {
                v.push(0x80 | 126);
                v.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                v.push(0x80 | 127);
                v.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        v.extend_from_slice(&mask);
        v.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
        v
    }

    #[test]
    fn parses_and_unmasks() {
        for len in [0usize, 5, 125, 126, 65535, 65536, 70000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut f = masked(0x82, &payload);
            let h = parse(&f, 1 << 20, Role::Server).unwrap().unwrap();
            assert!(h.fin);
            assert_eq!(h.kind, Kind::Binary);
            assert_eq!(h.payload_len, len);
            let p = &mut f[h.header_len..];
            unmask(p, h.mask);
            assert_eq!(p, &payload[..]);
            assert!(parse(&f[..h.header_len - 1], 1 << 20, Role::Server)
                .unwrap()
                .is_none());
        }
    }

    #[test]
    fn refuses_what_rfc_6455_forbids() {
        let cases: &[(&[u8], u16)] = &[
            (&[0x81, 0x00], code::PROTOCOL),                     // unmasked
            (&[0xC1, 0x80, 0, 0, 0, 0], code::PROTOCOL),         // rsv1
            (&[0x83, 0x80, 0, 0, 0, 0], code::PROTOCOL),         // reserved data opcode
            (&[0x8B, 0x80, 0, 0, 0, 0], code::PROTOCOL),         // reserved control opcode
            (&[0x09, 0x80, 0, 0, 0, 0], code::PROTOCOL),         // fragmented ping
            (&[0x89, 0xFE, 0, 126, 0, 0, 0, 0], code::PROTOCOL), // ping of 126 bytes
            // A 64-bit length with its top bit set.
            (
                &[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
                code::PROTOCOL,
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                parse(bytes, 1000, Role::Server).unwrap_err().0,
                *want,
                "{bytes:?}"
            );
        }
        assert_eq!(
            parse(&masked(0x82, &[0; 200]), 100, Role::Server)
                .unwrap_err()
                .0,
            code::TOO_BIG
        );
    }

    #[test]
    fn a_client_wants_unmasked_frames() {
        let h = parse(&[0x81, 2, b'h', b'i'], 100, Role::Client)
            .unwrap()
            .unwrap();
        assert_eq!((h.kind, h.header_len, h.payload_len), (Kind::Text, 2, 2));
        assert_eq!(
            parse(&masked(0x81, b"hi"), 100, Role::Client).unwrap_err(),
            (code::PROTOCOL, "masked server frame")
        );
    }

    #[test]
    fn client_headers_carry_the_key() {
        let mut out = [0u8; 14];
        let n = header(Kind::Text, true, 5, Some([1, 2, 3, 4]), &mut out);
        assert_eq!(&out[..n], &[0x81, 0x85, 1, 2, 3, 4]);
        let n = header(Kind::Binary, true, 70000, Some([9; 4]), &mut out);
        assert_eq!(n, 14);
        assert_eq!(out[1], 0x80 | 127);
    }

    #[test]
    fn close_payloads() {
        assert_eq!(close_payload(b"").unwrap(), None);
        assert!(close_payload(b"\x03").is_err());
        assert_eq!(close_payload(b"\x03\xe8bye").unwrap(), Some((1000, "bye")));
        assert_eq!(close_payload(b"\x03\xed").unwrap_err().0, code::PROTOCOL); // 1005
        assert_eq!(
            close_payload(b"\x03\xe8\xff").unwrap_err().0,
            code::INVALID_DATA
        );
        assert!(close_payload(&4321u16.to_be_bytes()).is_ok());
    }

    #[test]
    fn utf8_across_pieces() {
        let text = "aκόσμε€𝄞".as_bytes();
        // Every split into three pieces is accepted, and complete at the end.
        for i in 0..=text.len() {
            for j in i..=text.len() {
                let mut u = Utf8Stream::default();
                assert!(u.feed(&text[..i]) && u.feed(&text[i..j]) && u.feed(&text[j..]));
                assert!(u.is_complete(), "{i} {j}");
            }
        }
        let mut u = Utf8Stream::default();
        assert!(u.feed(&text[..2]));
        assert!(!u.is_complete());
        u.reset();
        assert!(u.is_complete());
        // Fails at the first impossible byte, before the message ends.
        let mut u = Utf8Stream::default();
        assert!(!u.feed(b"ab\xff"));
        let mut u = Utf8Stream::default();
        assert!(u.feed(b"ab\xce") && !u.is_complete());
        // ED A0 80 would be a surrogate: ED A0 is already wrong.
        let mut u = Utf8Stream::default();
        assert!(u.feed(b"\xed") && !u.feed(b"\xa0"));
        // F4 90 would be over U+10FFFF.
        let mut u = Utf8Stream::default();
        assert!(u.feed(b"\xf4") && !u.feed(b"\x90\x80\x80"));
        // A carried lead byte followed by a new lead byte.
        let mut u = Utf8Stream::default();
        assert!(u.feed(b"\xe2\x82") && !u.feed(b"a"));
    }

    #[test]
    fn utf8_stream_agrees_with_from_utf8() {
        let samples: &[&[u8]] = &[
            "κόσμε".as_bytes(),
            b"\xef\xbf\xbf\xf4\x8f\xbf\xbf\xed\x9f\xbf", // U+FFFF, U+10FFFF, U+D7FF
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", // 6.4.x
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xf8\x88\x80\x80\x80",
            b"\xf4\x90\x80\x80",
            b"a\x80b",
            b"\xe2\x82",
        ];
        for text in samples {
            let whole = std::str::from_utf8(text).is_ok();
            for i in 0..=text.len() {
                for j in i..=text.len() {
                    let mut u = Utf8Stream::default();
                    let ok = u.feed(&text[..i])
                        && u.feed(&text[i..j])
                        && u.feed(&text[j..])
                        && u.is_complete();
                    assert_eq!(ok, whole, "{text:x?} split at {i}, {j}");
                }
            }
        }
    }

    #[test]
    fn unmasks_in_pieces() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let plain: Vec<u8> = (0..37).collect();
        let mut masked = plain.clone();
        unmask(&mut masked, mask); // masking is its own inverse
        for cut in 0..plain.len() {
            let mut m = masked.clone();
            let (a, b) = m.split_at_mut(cut);
            unmask_at(a, mask, 0);
            unmask_at(b, mask, cut);
            assert_eq!(m, plain, "{cut}");
        }
    }

    /// The header code agrees with tungstenite's, which it replaced: every
    /// header we format parses back there, and every header both accept
    /// has the same fields (and the same length when cut short).
    #[test]
    fn headers_agree_with_tungstenite() {
        use tungstenite::protocol::frame::FrameHeader;
        let kinds = [
            Kind::Continue,
            Kind::Text,
            Kind::Binary,
            Kind::Close,
            Kind::Ping,
        ];
        for kind in kinds {
            for len in [0usize, 1, 125, 126, 127, 65535, 65536, 1 << 40] {
                for mask in [None, Some([9, 8, 7, 6])] {
                    let mut out = [0u8; 14];
                    let n = header(kind, kind.is_control() || len % 2 == 0, len, mask, &mut out);
                    let mut cur = std::io::Cursor::new(&out[..n]);
                    let (h, l) = FrameHeader::parse(&mut cur).unwrap().unwrap();
                    assert_eq!((l, cur.position() as usize, h.mask), (len as u64, n, mask));
                    assert_eq!(u8::from(h.opcode), kind.opcode());
                    let role = if mask.is_some() {
                        Role::Server
                    } else {
                        Role::Client
                    };
                    for cut in 0..n {
                        assert!(parse(&out[..cut], usize::MAX, role).unwrap().is_none());
                    }
                    if let Ok(Some(ours)) = parse(&out[..n], usize::MAX, role) {
                        assert_eq!((ours.header_len, ours.payload_len as u64), (n, l));
                        assert_eq!((ours.fin, ours.mask), (h.is_final, mask.unwrap_or([0; 4])));
                    }
                }
            }
        }
        // Any first two bytes: the same verdict on a complete header.
        for first in 0..=255u8 {
            for second in [0x00u8, 0x05, 0x7E, 0x7F, 0x80, 0x85, 0xFE, 0xFF] {
                let bytes = [first, second, 0, 1, 0, 0, 0, 0, 0, 2, 1, 2, 3, 4];
                let theirs = FrameHeader::parse(&mut std::io::Cursor::new(&bytes[..]));
                let ours = parse(&bytes, usize::MAX, Role::Server);
                let reserved = first & 0x70 != 0 || second & 0x80 == 0;
                match (theirs, ours) {
                    (Ok(Some((h, len))), Ok(Some(o))) => {
                        assert_eq!((o.fin, o.payload_len as u64), (h.is_final, len));
                        assert_eq!(u8::from(h.opcode), o.kind.opcode());
                        assert_eq!(Some(o.mask), h.mask);
                    }
                    (Ok(Some(_)), Err(_)) => assert!(
                        reserved || Kind::Ping.is_control() && first & 0x08 != 0,
                        "{first:02x} {second:02x}"
                    ),
                    (Err(_), Err((c, _))) => assert_eq!(c, code::PROTOCOL),
                    (t, o) => panic!("{first:02x} {second:02x}: {t:?} vs {o:?}"),
                }
            }
        }
    }

    #[test]
    fn server_headers() {
        let mut out = [0u8; 14];
        let n = server_header(Kind::Text, true, 5, &mut out);
        assert_eq!(&out[..n], &[0x81, 5]);
        let n = server_header(Kind::Binary, true, 300, &mut out);
        assert_eq!(&out[..n], &[0x82, 126, 1, 44]);
        assert_eq!(server_header(Kind::Binary, false, 70000, &mut out), 10);
        assert_eq!(out[0], 0x02);
    }
}

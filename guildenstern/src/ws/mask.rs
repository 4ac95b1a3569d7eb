//! Masking keys for the frames a client sends (RFC 6455 §5.3: a fresh key
//! per frame, not predictable from the ones before), and the encoding of
//! a frame as the side we play sends it.
//!
//! The keys come from std's `RandomState`: SipHash keyed with 128 random
//! bits the OS gave the process, applied to a per-thread counter. SipHash
//! is a pseudo-random function, so the keys cannot be told from random
//! ones without its key; no extra crate, no `unsafe`, every platform std
//! runs on.

use super::frame::{header, Kind, Role};
use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

thread_local! {
    static KEYS: (RandomState, Cell<u64>) = (RandomState::new(), Cell::new(0));
    /// The masked copy of a client frame's payload (the caller's bytes
    /// are borrowed and stay as they are).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A fresh masking key.
pub(crate) fn random_mask() -> [u8; 4] {
    KEYS.with(|(state, n)| {
        let i = n.get();
        n.set(i.wrapping_add(1));
        (state.hash_one(i) as u32).to_ne_bytes()
    })
}

/// Calls `f` with a whole frame (`kind`, `payload`) in three parts, as
/// `role` sends it: a server's header and the payload as it is; a client's
/// header with a fresh key and the payload masked (a copy).
pub(crate) fn with_frame<R>(
    role: Role,
    kind: Kind,
    payload: &[u8],
    f: impl FnOnce([&[u8]; 3]) -> R,
) -> R {
    let mut head = [0u8; 14];
    match role {
        Role::Server => {
            let n = header(kind, true, payload.len(), None, &mut head);
            f([&head[..n], payload, b""])
        }
        Role::Client => {
            let mask = random_mask();
            let n = header(kind, true, payload.len(), Some(mask), &mut head);
            let masked = |buf: &mut Vec<u8>| {
                buf.clear();
                buf.extend_from_slice(payload);
                super::frame::unmask(buf, mask);
            };
            SCRATCH.with(|s| match s.try_borrow_mut() {
                Ok(mut buf) => {
                    masked(&mut buf);
                    let r = f([&head[..n], &buf, b""]);
                    if buf.capacity() > 1 << 20 {
                        *buf = Vec::new();
                    }
                    r
                }
                // Only if `f` itself sent a frame: a buffer of its own.
                Err(_) => {
                    let mut buf = Vec::new();
                    masked(&mut buf);
                    f([&head[..n], &buf, b""])
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ() {
        let keys: std::collections::HashSet<[u8; 4]> = (0..1000).map(|_| random_mask()).collect();
        assert!(keys.len() > 990, "{}", keys.len());
    }

    #[test]
    fn a_client_frame_is_masked_and_parses_back() {
        let payload = b"hello, masked world";
        let bytes: Vec<u8> = with_frame(Role::Client, Kind::Text, payload, |p| p.concat());
        // The server side parses it and unmasks it.
        let h = super::super::frame::parse(&bytes, 1000, Role::Server)
            .unwrap()
            .unwrap();
        assert_ne!(&bytes[h.header_len..], payload);
        let mut p = bytes[h.header_len..].to_vec();
        super::super::frame::unmask(&mut p, h.mask);
        assert_eq!(p, payload);
        // A server frame is not masked.
        let bytes: Vec<u8> = with_frame(Role::Server, Kind::Text, payload, |p| p.concat());
        assert_eq!(&bytes[2..], payload);
    }
}

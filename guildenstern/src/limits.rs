//! The bounds on server options, defined once: the builders check them when
//! a server starts, and the attribute macros check literal values against
//! them at compile time (through the `const fn`s below, evaluated in a
//! constant, so a value out of bounds fails the build).

/// The smallest `max_header_bytes` a server takes: a request line and a
/// `Host` header must fit.
pub const MIN_HEADER_BYTES: usize = 256;
/// The most worker threads a server takes.
pub const MAX_THREADS: usize = 4096;
/// The largest `max_message_bytes` a WebSocket server or client takes
/// (1 TiB): far beyond any memory, and small enough that a frame's length
/// checked against it never overflows the sums made with it.
pub const MAX_MESSAGE_BYTES: usize = 1 << 40;
/// The most header fields a request may have (`max_headers`).
pub const MAX_HEADERS: usize = 512;

/// `n`, if it is a valid `max_header_bytes`; panics otherwise (a compile
/// error where evaluated in a constant).
pub const fn header_bytes(n: usize) -> usize {
    assert!(
        n >= MIN_HEADER_BYTES,
        "max_header_bytes must be at least 256"
    );
    n
}

/// `n`, if it is a valid worker thread count; panics otherwise.
pub const fn threads(n: usize) -> usize {
    assert!(n >= 1 && n <= MAX_THREADS, "threads must be 1..=4096");
    n
}

/// `n`, if it is a valid `max_headers`; panics otherwise.
pub const fn max_headers(n: usize) -> usize {
    assert!(n >= 1 && n <= MAX_HEADERS, "max_headers must be 1..=512");
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages of the const checks name the bounds they check.
    #[test]
    fn messages_match_the_bounds() {
        for (f, n, msg) in [
            (
                header_bytes as fn(usize) -> usize,
                MIN_HEADER_BYTES - 1,
                "256",
            ),
            (threads, MAX_THREADS + 1, "4096"),
            (max_headers, MAX_HEADERS + 1, "512"),
        ] {
            let e = std::panic::catch_unwind(|| f(n)).unwrap_err();
            assert!(crate::dispatch::panic_message(&*e).contains(msg));
        }
        assert_eq!(header_bytes(MIN_HEADER_BYTES), MIN_HEADER_BYTES);
        assert_eq!(threads(MAX_THREADS), MAX_THREADS);
        assert_eq!(max_headers(MAX_HEADERS), MAX_HEADERS);
    }
}

//! Chunked replies: port 5050 serves a page with a download link; the
//! download streams 5 chunks of random numbers with chunked encoding.
//!
//! `cargo run --example replychunked`, then `curl http://127.0.0.1:5050/download`.

use guildenstern::prelude::*;
use std::time::{SystemTime, UNIX_EPOCH};

const PAGE: &str = r#"<!doctype html><title>chunked download</title>
<a href="/download" download="random.txt">download random numbers</a>"#;

/// A small xorshift generator: the example needs variety, not quality.
fn random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[http_server(port = 5050, name = "chunked")]
fn serve_page() {
    if !is_uri("/download") {
        reply_with(200, PAGE, &[("Content-Type", "text/html")]);
        return;
    }
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    reply_chunked_start(200, &[("Content-Type", "text/plain")]);
    for i in 1..=5 {
        // An error means the client is gone: nothing more to send.
        if reply_chunk(format!("chunk {i}: {}\n", random(&mut seed))).is_err() {
            return;
        }
    }
    let _ = reply_chunked_finish();
}

fn main() {
    guildenstern_examples::init_logging();
    println!("open http://localhost:5050/");
    guildenstern::serve![serve_page];
}

//! A WebSocket echo server: every text and binary message comes back as it
//! was sent. The target of the Autobahn conformance run and the benchmark.
//!
//! `cargo run --release --example wsecho [port [threads]]` (default port
//! 9001, default worker threads: the library's default).

use guildenstern::prelude::*;

fn echo(cx: &mut Ws) {
    // Replies borrow the context immutably, so the message is not copied.
    let _ = if cx.is_binary() {
        cx.reply_binary(cx.message())
    } else {
        cx.reply_text(cx.text())
    };
}

fn wsecho() -> WsServer {
    let port = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(9001);
    let threads: Option<usize> = std::env::args().nth(2).and_then(|t| t.parse().ok());
    println!("echoing WebSocket messages on port {port}");
    let server = WsServer::with_context(echo)
        .port(port)
        .name("wsecho")
        .max_message_bytes(64 * 1024 * 1024);
    match threads {
        Some(n) => server.threads(n),
        None => server,
    }
}

fn main() {
    guildenstern_examples::init_logging();
    guildenstern::serve![wsecho];
}

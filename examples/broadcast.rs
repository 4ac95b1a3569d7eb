//! A broadcast relay: every text and binary message a client sends goes to
//! every connected client, the sender included, with the framework's
//! multicast (the frame is encoded once and queued on each receiver; a
//! client that lets over a megabyte of output pile up is closed rather
//! than waited for, since the relay runs on a worker thread). The target
//! of the benchmark suite's broadcast case (bench/compare.sh).
//!
//! `cargo run --release --example broadcast [port [threads]]` (default:
//! 127.0.0.1 port 9004, the library's default worker threads; up to
//! 10,000 clients: raise the open-files limit, `ulimit -n`,
//! beyond 1,000).

use guildenstern::prelude::*;
use guildenstern::ws::{multicast_binary, multicast_text};
use std::time::Duration;

/// How long a multicast may wait for a receiver (a worker never waits:
/// this only bounds the call).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

fn relay(cx: &mut Ws) {
    // A snapshot of the upgraded connections, this one included.
    let everyone = cx.server().sockets();
    if cx.is_binary() {
        multicast_binary(cx.server(), &everyone, cx.message(), SEND_TIMEOUT);
    } else {
        multicast_text(cx.server(), &everyone, cx.text(), SEND_TIMEOUT);
    }
}

fn broadcast() -> WsServer {
    let mut args = std::env::args().skip(1);
    let port = args.next().and_then(|p| p.parse().ok()).unwrap_or(9004);
    let threads: Option<usize> = args.next().and_then(|t| t.parse().ok());
    println!("relaying WebSocket messages to every client on 127.0.0.1:{port}");
    let server = WsServer::with_context(relay)
        .address("127.0.0.1")
        .port(port)
        .name("broadcast")
        .max_connections(10_000);
    match threads {
        Some(n) => server.threads(n),
        None => server,
    }
}

fn main() {
    guildenstern_examples::init_logging();
    guildenstern::serve![broadcast];
}

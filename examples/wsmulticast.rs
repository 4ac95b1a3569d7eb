//! One server, many clients, multicast: a clientele connects its clients
//! to the server, the server multicasts messages to all of them at once,
//! and every client counts what it got (its per-connection data). When
//! the clients close, each reports its count; the example prints whether
//! every client got every message, and exits.
//!
//! `cargo run --release --example wsmulticast [clients [messages]]`
//! (defaults: 1,000 clients, 100 messages; the server is on port 9003).

use guildenstern::prelude::*;
use guildenstern::ws;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What one client got: its per-connection data.
struct Got(usize);

static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// The counts the clients reported as they closed.
static COUNTS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// The server: it only multicasts; what a client sends is ignored.
#[ws_receive(port = 9003, name = "multicaster")]
fn ignore() {}

/// A client counts each message in its own data.
#[ws_client(name = "listeners", threads = 2, on_close = report)]
fn count() {
    ws::with_socket_data(|got: &mut Got| got.0 += 1);
    RECEIVED.fetch_add(1, Ordering::Relaxed);
}

/// A client closes: it reports its count.
fn report(_: &Server, _: SocketId, _: CloseCause, _: Option<u16>, _: &str) {
    if let Some(n) = ws::with_socket_data(|got: &mut Got| got.0) {
        COUNTS.lock().unwrap().push(n);
    }
}

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// Waits until `cond` holds, or the deadline passes; whether it holds.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !cond() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

fn main() {
    guildenstern_examples::init_logging();
    let clients = arg(1, 1_000).max(1);
    let messages = arg(2, 100);
    let server = ignore()
        .address("127.0.0.1")
        .max_connections(clients + 16)
        .start()
        .expect("port 9003 is free");
    let clientele = count()
        .max_connections(clients + 16)
        .start()
        .expect("the clientele starts");
    for _ in 0..clients {
        if let Err(e) = clientele.connect_with_data("ws://127.0.0.1:9003/", Got(0)) {
            eprintln!("wsmulticast: cannot connect: {e}");
            std::process::exit(1);
        }
    }
    // Every connection upgraded on the server's side too.
    wait_for(Duration::from_secs(30), || {
        server.sockets().len() == clients
    });
    let receivers = server.sockets();
    println!("{} clients connected", receivers.len());

    let started = Instant::now();
    for i in 0..messages {
        let failed = ws::multicast_text(
            &server,
            &receivers,
            &format!("message {i}"),
            Duration::from_secs(10),
        );
        if !failed.is_empty() {
            eprintln!("wsmulticast: {} receivers failed", failed.len());
        }
    }
    let expected = clients * messages;
    wait_for(Duration::from_secs(60), || {
        RECEIVED.load(Ordering::Relaxed) >= expected
    });
    let elapsed = started.elapsed();
    clientele.stop();
    clientele.join();
    server.stop();
    server.join();

    let counts = COUNTS.lock().unwrap();
    let complete = counts.iter().filter(|&&n| n == messages).count();
    println!(
        "{messages} messages multicast to {clients} clients in {} ms",
        elapsed.as_millis()
    );
    if complete == clients {
        println!("every client got all {messages} messages");
    } else {
        println!("only {complete} of {clients} clients got all {messages} messages");
        std::process::exit(1);
    }
}

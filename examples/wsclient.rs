//! WebSocket clients doing round trips: a clientele of many connections,
//! each sending a message and sending it again whenever it comes back,
//! until all of them together made the round trips asked for.
//!
//! `cargo run --release --example wsclient [clients [round_trips [URL]]]`
//! (defaults: 1,000 clients, 100,000 round trips). Without a URL it starts
//! its own echo server (port 9002) and talks to that; with one it talks to
//! any echo server, such as `cargo run --example wsecho` (`ws://127.0.0.1:9001/`).
//! It prints the time the round trips took and exits.

use guildenstern::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// The round trips a connection has still to make: its per-connection data.
struct Left(usize);

/// Connections that made all their round trips, and messages received.
static DONE: Mutex<usize> = Mutex::new(0);
static DONE_CV: Condvar = Condvar::new();
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

/// The echo server this example talks to when given no URL.
#[ws_receive(port = 9002, name = "echo")]
fn echo(cx: &mut Ws) {
    let _ = cx.reply_text(cx.text());
}

/// Each message that comes back is one round trip: send it again until
/// this connection's share is made.
#[ws_client(name = "wsclient", threads = 2)]
fn round_trip(cx: &mut Ws) {
    RECEIVED.fetch_add(1, Ordering::Relaxed);
    let left = cx.with_socket_data(|left: &mut Left| {
        left.0 -= 1;
        left.0
    });
    match left {
        Some(0) => {
            *DONE.lock().unwrap() += 1;
            DONE_CV.notify_all();
        }
        _ => {
            let _ = cx.reply_text(cx.text());
        }
    }
}

fn arg<T: std::str::FromStr>(n: usize) -> Option<T> {
    std::env::args().nth(n).and_then(|a| a.parse().ok())
}

fn main() {
    guildenstern_examples::init_logging();
    let clients: usize = arg(1).unwrap_or(1_000).max(1);
    let round_trips: usize = arg(2).unwrap_or(100_000).max(clients);
    let own_server = match std::env::args().nth(3) {
        Some(_) => None,
        None => Some(
            echo()
                .address("127.0.0.1")
                .start()
                .expect("port 9002 is free"),
        ),
    };
    let url = std::env::args()
        .nth(3)
        .unwrap_or_else(|| "ws://127.0.0.1:9002/".to_owned());

    let clientele = round_trip()
        .max_connections(clients + 16)
        .start()
        .expect("the clientele starts");
    let started = Instant::now();
    let mut ids = Vec::with_capacity(clients);
    for i in 0..clients {
        // Shares as even as they can be: the first ones make one more.
        let share = round_trips / clients + usize::from(i < round_trips % clients);
        match clientele.connect_with_data(&url, Left(share)) {
            Ok(id) => ids.push(id),
            Err(e) => {
                eprintln!("wsclient: cannot connect to {url}: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("{clients} clients connected to {url}");
    for &id in &ids {
        let _ = clientele.send_text(id, "round trip");
    }
    let mut done = DONE.lock().unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while *done < clients && Instant::now() < deadline {
        done = DONE_CV
            .wait_timeout(done, Duration::from_secs(1))
            .unwrap()
            .0;
    }
    let finished = *done;
    drop(done);
    let elapsed = started.elapsed();
    let received = RECEIVED.load(Ordering::Relaxed);
    clientele.stop();
    clientele.join();
    if let Some(server) = own_server {
        server.stop();
        server.join();
    }
    if finished < clients {
        eprintln!(
            "wsclient: only {finished} of {clients} clients finished ({received} round trips)"
        );
        std::process::exit(1);
    }
    println!(
        "{received} round trips by {clients} clients in {} ms",
        elapsed.as_millis()
    );
}

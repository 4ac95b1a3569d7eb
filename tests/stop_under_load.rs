//! SIGTERM under keep-alive load loses no request: a server in a child
//! process (`gs-testserver`) is kept busy by keep-alive clients; every
//! request whose bytes were written before the signal gets its answer, or
//! a 503 that says the connection closes. None meets a bare close.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::ChildServer;
use guildenstern::Dispatcher;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use support::{wait_until, Client};

on_both_dispatchers!(sigterm_under_keep_alive_load_loses_no_request);

const CLIENTS: usize = 32;
/// Requests answered before the signal is sent: the load is under way.
const WARM_UP: usize = 2_000;
/// A bound on each client's requests.
const MAX_PER_CLIENT: usize = 100_000;

/// What one client saw.
#[derive(Default, Debug)]
struct Seen {
    /// Requests written before the signal.
    before: usize,
    answered: usize,
    refused: usize,
    /// Requests written before the signal that got no whole answer.
    lost: Vec<String>,
}

fn client(addr: std::net::SocketAddr, signalled: &AtomicBool, done: &AtomicUsize) -> Seen {
    let mut seen = Seen::default();
    let mut c = Client::connect(addr);
    for i in 0..MAX_PER_CLIENT {
        c.send(format!("GET /r{i} HTTP/1.1\r\nHost: t\r\n\r\n"));
        // Written in full before the signal was sent, if the flag is still clear.
        let before = !signalled.load(Ordering::SeqCst);
        let reply = c.read_reply();
        if !before {
            return seen;
        }
        seen.before += 1;
        match reply {
            Some(r) if r.status == 200 && r.text() == "hello" => {
                seen.answered += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Some(r) if r.status == 503 && r.header("connection") == Some("close") => {
                seen.refused += 1;
                return seen;
            }
            Some(r) => {
                seen.lost
                    .push(format!("request {i}: {} {:?}", r.status, r.text()));
                return seen;
            }
            None => {
                seen.lost.push(format!("request {i}: no answer"));
                return seen;
            }
        }
    }
    seen
}

fn sigterm_under_keep_alive_load_loses_no_request(d: Dispatcher) {
    let arg = match d {
        Dispatcher::Epoll => "epoll",
        Dispatcher::Portable => "portable",
    };
    let mut child = ChildServer::spawn(None, &[arg, "8"]);
    let addr = child.addr;
    let signalled = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    let seen: Vec<Seen> = std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| s.spawn(|| client(addr, &signalled, &done)))
            .collect();
        let warm = wait_until(Duration::from_secs(20), || {
            done.load(Ordering::Relaxed) >= WARM_UP
        });
        assert!(warm, "the load got under way");
        signalled.store(true, Ordering::SeqCst);
        child.signal(libc::SIGTERM);
        clients
            .into_iter()
            .map(|c| c.join().expect("client thread"))
            .collect()
    });
    let status = child.wait_exit().expect("the server process exits");
    assert!(status.success(), "{status:?}");
    let lost: Vec<&String> = seen.iter().flat_map(|s| &s.lost).collect();
    let before: usize = seen.iter().map(|s| s.before).sum();
    assert!(before > WARM_UP, "{before} requests before the signal");
    assert!(
        lost.is_empty(),
        "{} of {before} requests sent before SIGTERM lost: {lost:?}",
        lost.len()
    );
}

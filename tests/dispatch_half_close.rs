//! A client that sends its requests and half-closes at once (its FIN may
//! arrive with the last bytes, as one readiness edge) gets every answer and
//! then the server's close right away, not at the idle timeout: both
//! dispatchers watch connections edge-triggered and must not lose the end.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::{until_closed, Closes, LIMIT};
use guildenstern::prelude::*;
use std::io::Write;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{connect_with_deadline, get, wait_until, TestServer};

on_both_dispatchers!(
    request_then_half_close_is_answered_and_closed,
    pipelined_requests_then_half_close_are_answered_and_closed,
);

/// Well below the idle and head timeouts set on the server.
const PROMPT: Duration = Duration::from_secs(5);

/// Sends `requests` GETs and the FIN while the server's only worker is
/// held in a handler on another connection, so that the bytes and the end
/// are both queued before the server reads any of them; then expects every
/// answer and the server's close well before the idle timeout.
fn check(d: Dispatcher, requests: usize) {
    let closes = Closes::default();
    let entered = Arc::new(AtomicBool::new(false));
    let release = Arc::new(AtomicBool::new(false));
    let (e, r) = (entered.clone(), release.clone());
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/hold") {
                e.store(true, Ordering::SeqCst);
                wait_until(LIMIT, || r.load(Ordering::SeqCst));
            }
            reply("hello")
        })
        .dispatcher(d)
        .threads(1)
        .idle_timeout(Duration::from_secs(60))
        .header_timeout(Duration::from_secs(60))
        .on_close(closes.hook()),
    );
    let mut holder = srv.connect();
    holder.send(get("/hold"));
    assert!(wait_until(LIMIT, || entered.load(Ordering::SeqCst)));

    let mut s = connect_with_deadline(srv.addr, PROMPT);
    s.write_all(get("/").repeat(requests).as_bytes()).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let started = Instant::now();
    release.store(true, Ordering::SeqCst);
    assert!(holder.read_reply().is_some());

    let got = until_closed(&mut s).unwrap_or_else(|| panic!("not closed within {PROMPT:?}"));
    assert!(started.elapsed() < PROMPT);
    let text = String::from_utf8_lossy(&got);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), requests, "{text}");
    assert!(text.ends_with("hello"), "{text}");
    drop(holder);
    closes.wait_len(2);
    for (_, cause, _) in closes.all() {
        assert_eq!(cause, CloseCause::ClosedByClient);
    }
}

fn request_then_half_close_is_answered_and_closed(d: Dispatcher) {
    check(d, 1);
}

fn pipelined_requests_then_half_close_are_answered_and_closed(d: Dispatcher) {
    check(d, 3);
}

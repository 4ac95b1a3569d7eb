//! A client that sends without pause does not keep the only worker from the
//! other connections: after a bounded number of reads in one wake-up the
//! connection yields and is served again after the others, and nothing of
//! its stream is lost or reordered across those turns.
//!
//! (On loopback, TCP flow control also lets the socket run dry now and then
//! — about every 95 KiB here — which parks the connection anyway; so this
//! test shows that a yielding flood is served whole and in order, and that
//! the other client gets in before the flood ends, rather than telling the
//! read budget from those natural pauses.)
//!
//! A worker whose handler blocks holds no other ready connection: a request
//! that became ready meanwhile is served by an idle worker. A connection
//! whose client sends while its handler runs (each segment a readiness
//! event, which the epoll dispatcher mutes until the handler is done) is
//! served on afterwards.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::LIMIT;
use guildenstern::prelude::*;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use support::{exchange, get, wait_until, Client, TestServer};

on_both_dispatchers!(
    a_client_sending_without_pause_does_not_starve_the_others,
    a_blocked_handler_holds_no_other_ready_connection,
    a_connection_that_sends_while_its_handler_runs_is_served_on,
);

/// Some tens of microseconds of computing (a handler with work to do).
fn busy_work() -> u64 {
    let mut x = 1u64;
    for i in 0..20_000u64 {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    x
}

fn a_client_sending_without_pause_does_not_starve_the_others(d: Dispatcher) {
    // The handler takes a while, so the flood's requests pile up in the
    // socket: every read is full, and only the read budget makes the worker
    // turn to someone else before the flood is over.
    const BATCH: usize = 1_000;
    const BATCHES: usize = 20;
    const TOTAL: usize = BATCH * BATCHES;
    let srv = TestServer::start(
        HttpServer::new(|| {
            if is_uri("/other") {
                reply("other");
            } else {
                std::hint::black_box(busy_work());
                reply("x");
            }
        })
        .dispatcher(d)
        .threads(1),
    );
    let flood = srv.connect();
    let mut writer = flood.stream().try_clone().unwrap();
    let sender = thread::spawn(move || {
        let batch = get("/").repeat(BATCH);
        for _ in 0..BATCHES {
            writer.write_all(batch.as_bytes())?;
        }
        Ok::<_, std::io::Error>(())
    });
    let answered = Arc::new(AtomicUsize::new(0));
    let reader = {
        let answered = answered.clone();
        let mut flood = flood;
        thread::spawn(move || {
            for _ in 0..TOTAL {
                match flood.read_reply() {
                    Some(r) if r.text() == "x" => answered.fetch_add(1, Ordering::Relaxed),
                    other => panic!(
                        "flood answer {}: {other:?}",
                        answered.load(Ordering::Relaxed)
                    ),
                };
            }
        })
    };
    assert!(wait_until(LIMIT, || answered.load(Ordering::Relaxed) > 0));

    let r = exchange(srv.addr, get("/other")).expect("the other client is answered");
    let flood_answered = answered.load(Ordering::Relaxed);
    assert_eq!(r.text(), "other");
    assert!(
        flood_answered < TOTAL,
        "the other client waited until the flood of {TOTAL} requests was served"
    );

    sender.join().unwrap().expect("the flood was sent");
    reader.join().expect("every flood request was answered");
    assert_eq!(answered.load(Ordering::Relaxed), TOTAL);
}

/// What the handlers of the hand-over test share.
#[derive(Default)]
struct Gates {
    st: Mutex<GateState>,
    cv: Condvar,
}

#[derive(Default)]
struct GateState {
    /// `/hold` handlers that started, and how many of them may return.
    held: usize,
    released: usize,
    /// `/pair` handlers that started.
    paired: usize,
}

impl Gates {
    fn update(&self, f: impl FnOnce(&mut GateState)) {
        f(&mut self.st.lock().unwrap());
        self.cv.notify_all();
    }

    /// Waits (up to [`LIMIT`]) until `cond` holds; false if it never did.
    fn wait(&self, cond: impl Fn(&GateState) -> bool) -> bool {
        let g = self.st.lock().unwrap();
        let (g, _) = self.cv.wait_timeout_while(g, LIMIT, |s| !cond(s)).unwrap();
        cond(&g)
    }
}

/// Two workers. Both are first held in `/hold` handlers while two other
/// keep-alive connections send a `/pair` request each, so both of those
/// are ready when the first worker is let go. The first `/pair` handler
/// to run blocks until the second one runs: it can only run on the other
/// worker, let go next. A worker that took both readiness events in one
/// wait would keep the second request behind its blocked handler while the
/// other worker is idle, and the first handler would give up ("alone").
fn a_blocked_handler_holds_no_other_ready_connection(d: Dispatcher) {
    let gates = Arc::new(Gates::default());
    let g = gates.clone();
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/hold") {
                let mut ticket = 0;
                g.update(|s| {
                    ticket = s.held;
                    s.held += 1;
                });
                g.wait(|s| s.released > ticket);
                reply("held");
            } else if is_uri("/pair") {
                let mut first = false;
                g.update(|s| {
                    first = s.paired == 0;
                    s.paired += 1;
                });
                if !first {
                    reply("second");
                } else if g.wait(|s| s.paired >= 2) {
                    reply("first");
                } else {
                    reply("alone");
                }
            } else {
                reply("ok");
            }
        })
        .dispatcher(d)
        .threads(2),
    );
    // Open and registered before the workers are held.
    let mut pair: Vec<Client> = (0..2).map(|_| srv.connect()).collect();
    for c in &mut pair {
        assert_eq!(c.request(get("/")).text(), "ok");
    }
    let mut holds: Vec<Client> = (0..2).map(|_| srv.connect()).collect();
    for c in &mut holds {
        c.send(get("/hold"));
    }
    assert!(
        gates.wait(|s| s.held == 2),
        "both workers are held (or the second /hold request waits behind the first one's handler)"
    );
    for c in &mut pair {
        c.send(get("/pair"));
    }
    gates.update(|s| s.released = 1);
    assert!(
        gates.wait(|s| s.paired >= 1),
        "a worker let go serves a /pair request"
    );
    gates.update(|s| s.released = 2);
    let mut answers: Vec<String> = pair
        .iter_mut()
        .map(|c| c.read_reply().expect("an answer").text())
        .collect();
    answers.sort();
    assert_eq!(
        answers,
        ["first", "second"],
        "the second /pair request waited behind the first one's handler"
    );
    for c in &mut holds {
        assert_eq!(c.read_reply().expect("an answer").text(), "held");
    }
}

/// A handler reads a streamed body of 4 MiB that its client writes in
/// 16 KiB pieces: with idle workers, the segments arriving while it runs
/// raise many events for a connection being served (the epoll dispatcher
/// turns its events off after the second, until the handler is done). The
/// requests the client sends afterwards, each after the answer before it,
/// are served: the connection's events are on again.
fn a_connection_that_sends_while_its_handler_runs_is_served_on(d: Dispatcher) {
    const BODY: usize = 4 << 20;
    const PIECE: usize = 16 * 1024;
    let srv = TestServer::start(
        HttpServer::new(|| {
            let mut piece = [0u8; PIECE];
            let mut total = 0;
            loop {
                match read_body(&mut piece) {
                    Ok(0) => break,
                    Ok(n) => total += n,
                    Err(_) => {
                        reply_code(400);
                        return;
                    }
                }
            }
            reply(total.to_string());
        })
        .content(Content::Streaming)
        .dispatcher(d)
        .threads(4),
    );
    let mut c = srv.connect();
    c.send(format!(
        "POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: {BODY}\r\n\r\n"
    ));
    let mut w = c.stream().try_clone().unwrap();
    let sender = thread::spawn(move || {
        let piece = [b'x'; PIECE];
        for _ in 0..BODY / PIECE {
            w.write_all(&piece)?;
        }
        Ok::<_, std::io::Error>(())
    });
    let r = c.read_reply().expect("the upload is answered");
    sender.join().unwrap().expect("the body was sent");
    assert_eq!(r.text(), BODY.to_string());
    for i in 0..3 {
        c.send(get("/"));
        let r = c.read_reply();
        assert_eq!(
            r.map(|r| r.text()).as_deref(),
            Some("0"),
            "request {i} after the upload"
        );
    }
}

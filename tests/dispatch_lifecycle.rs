//! Workers and stopping, on both dispatchers: a panicking handler does not
//! take its worker along, a stop lets in-flight requests finish and refuses
//! new connections, the grace period releases a handler blocked on its body,
//! every request sent before a stop gets its answer or a 503, and the
//! thread hooks run once per worker.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::{status_of, until_closed, Closes, LIMIT};
use guildenstern::prelude::*;
use std::collections::HashSet;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use support::{exchange, get, wait_until, TestServer};

/// Where a handler waits for the test: [`Pass::wait`] in the handler tells
/// the test it got there, then blocks until the test lets it through.
struct Pass {
    entered: mpsc::Sender<()>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl Pass {
    fn wait(&self) {
        self.entered.send(()).unwrap();
        let _ = self.release.lock().unwrap().recv_timeout(LIMIT);
    }
}

/// The test's side of a [`Pass`].
struct Gate {
    entered: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
}

impl Gate {
    /// Waits until a handler is at the pass.
    fn entered(&self) {
        self.entered.recv_timeout(LIMIT).expect("a handler waits");
    }

    /// Lets one handler through.
    fn release(&self) {
        self.release.send(()).unwrap();
    }
}

fn gate() -> (Pass, Gate) {
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let pass = Pass {
        entered: entered_tx,
        release: Mutex::new(release_rx),
    };
    (pass, Gate { entered, release })
}

on_both_dispatchers!(
    a_handler_past_the_grace_period_costs_the_others_nothing,
    handler_panic_answers_500_and_the_worker_lives_on,
    panic_after_a_partial_reply_closes_without_500,
    stop_lets_in_flight_requests_finish,
    stop_answers_every_request_sent_before_it,
    stop_answers_a_request_pipelined_behind_an_answer_begun_before_it,
    grace_period_releases_a_handler_blocked_on_its_body,
    thread_hooks_run_once_per_worker,
);

/// Joins `server` on another thread; true when it returned within [`LIMIT`].
fn joins(server: &Server) -> bool {
    let (tx, rx) = mpsc::channel();
    let s = server.clone();
    std::thread::spawn(move || {
        s.join();
        let _ = tx.send(());
    });
    rx.recv_timeout(LIMIT).is_ok()
}

/// A new connection is refused, or closed without an answer.
fn refused(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return true;
    };
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let _ = s.write_all(get("/").as_bytes());
    matches!(until_closed(&mut s), Some(got) if got.is_empty())
}

fn panicky(d: Dispatcher, closes: &Closes) -> TestServer {
    TestServer::start(
        HttpServer::new(|| {
            if is_uri("/panic") {
                panic!("boom");
            }
            if is_uri("/partial") {
                reply_chunked_start(200, &[]);
                reply_chunk("part").unwrap();
                panic!("late boom");
            }
            reply("alive")
        })
        .dispatcher(d)
        .threads(1)
        .on_close(closes.hook()),
    )
}

/// A panicking handler: the client gets 500 and a close, on_close gets
/// HandlerPanicked, and the only worker serves the next connection.
fn handler_panic_answers_500_and_the_worker_lives_on(d: Dispatcher) {
    let closes = Closes::default();
    let srv = panicky(d, &closes);
    for round in 0..2 {
        let mut c = srv.connect();
        c.send(get("/panic"));
        let r = c.read_reply().expect("a 500 answer");
        assert_eq!(r.status, 500);
        assert_eq!(r.header("connection"), Some("close"));
        assert!(until_closed(&mut c.reader).is_some(), "left open");
        assert!(wait_until(LIMIT, || closes
            .with_cause(CloseCause::HandlerPanicked)
            .len()
            > round));
        // One worker only: it survived the panic.
        let r = exchange(srv.addr, get("/")).expect("served after the panic");
        assert_eq!((r.status, r.text().as_str()), (200, "alive"));
    }
    let panicked = closes.with_cause(CloseCause::HandlerPanicked);
    assert_eq!(panicked.len(), 2);
    assert!(
        panicked.iter().all(|(_, m)| m.contains("boom")),
        "{panicked:?}"
    );
}

/// A panic after part of a chunked reply was sent: no 500 is appended (it
/// would corrupt the reply), the connection just closes, unterminated.
fn panic_after_a_partial_reply_closes_without_500(d: Dispatcher) {
    let closes = Closes::default();
    let srv = panicky(d, &closes);
    let mut c = srv.connect();
    c.send(get("/partial"));
    let raw = until_closed(&mut c.reader).expect("closed after the panic");
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(status_of(&raw), Some(200), "{text}");
    assert!(text.contains("\r\n\r\n4\r\npart\r\n"), "{text}");
    assert!(!text.contains("500"), "{text}");
    assert!(
        !text.ends_with("0\r\n\r\n"),
        "the chunked body was terminated: {text}"
    );
    closes.wait_len(1);
    let (_, cause, msg) = closes.all().remove(0);
    assert_eq!(cause, CloseCause::HandlerPanicked);
    assert!(msg.contains("late boom"), "{msg}");
    let r = exchange(srv.addr, get("/")).expect("served after the panic");
    assert_eq!(r.status, 200);
}

/// `stop` while a handler is blocked: the listener goes at once, the
/// blocked request still gets its answer, idle connections close with
/// Shutdown, and `join` returns once the handler is done.
fn stop_lets_in_flight_requests_finish(d: Dispatcher) {
    let closes = Closes::default();
    let (pass, gate) = gate();
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/block") {
                pass.wait();
                reply("done");
            } else {
                reply(thesocket().as_u64().to_string());
            }
        })
        .dispatcher(d)
        .threads(2)
        .on_close(closes.hook()),
    );
    let mut idle = srv.connect();
    let idle_id: u64 = idle.request(get("/")).text().parse().unwrap();
    let mut busy = srv.connect();
    busy.send(get("/block"));
    gate.entered();

    srv.server.stop();
    assert!(refused(srv.addr), "a new connection was served after stop");
    assert!(
        !srv.server.is_finished(),
        "finished with a handler still running"
    );
    gate.release();
    let r = busy
        .read_reply()
        .expect("the in-flight request is answered");
    assert_eq!((r.status, r.text().as_str()), (200, "done"));
    // (The answer was started before the stop, so it may not say
    // `Connection: close`; the connection closes after it all the same.)
    assert!(until_closed(&mut busy.reader).is_some());
    assert!(joins(&srv.server), "join did not return");
    assert!(srv.server.is_finished());
    assert_eq!(
        closes.of(idle_id),
        vec![(CloseCause::Shutdown, "server stopped".to_owned())]
    );
    assert!(until_closed(&mut idle.reader).is_some());
    assert!(closes
        .all()
        .iter()
        .all(|(_, c, _)| *c == CloseCause::Shutdown));
}

/// Requests that were sent before `stop` but that no worker took (both
/// workers were busy in blocked handlers) are not dropped with the
/// connection: each gets its answer or a 503 with `Connection: close`,
/// never a bare close.
fn stop_answers_every_request_sent_before_it(d: Dispatcher) {
    const CLIENTS: usize = 16;
    let (pass, gate) = gate();
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/block") {
                pass.wait();
                reply("done");
            } else {
                reply("hello");
            }
        })
        .dispatcher(d)
        .threads(2),
    );
    // Keep-alive clients, open and idle.
    let mut clients: Vec<_> = (0..CLIENTS).map(|_| srv.connect()).collect();
    for c in &mut clients {
        assert_eq!(c.request(get("/")).text(), "hello");
    }
    let mut blocked: Vec<_> = (0..2).map(|_| srv.connect()).collect();
    for c in &mut blocked {
        c.send(get("/block"));
        gate.entered();
    }
    // Both workers are held: these requests wait for one. Every other one
    // is a HEAD, whose answer (a refusal too) has no body.
    let head = |i: usize| i % 2 == 1;
    for (i, c) in clients.iter_mut().enumerate() {
        match head(i) {
            true => c.send("HEAD /again HTTP/1.1\r\nHost: t\r\n\r\n"),
            false => c.send(get("/again")),
        }
    }
    srv.server.stop();
    for _ in &blocked {
        gate.release();
    }
    for c in &mut blocked {
        let r = c.read_reply().expect("the blocked request is answered");
        assert_eq!(r.text(), "done");
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let r = c
            .read_reply_with(head(i))
            .unwrap_or_else(|| panic!("client {i}: closed without an answer"));
        match r.status {
            200 if head(i) => assert_eq!(r.header("content-length"), Some("5")),
            200 => assert_eq!(r.text(), "hello"),
            503 => assert_eq!(r.header("connection"), Some("close"), "client {i}"),
            s => panic!("client {i}: status {s}"),
        }
        assert!(
            until_closed(&mut c.reader).is_some_and(|rest| rest.is_empty()),
            "client {i}: nothing more, then the close"
        );
    }
    drop((clients, blocked)); // their ends end the server's lingers
    assert!(joins(&srv.server), "join did not return");
}

/// An answer begun before `stop` (it does not say `Connection: close`) is
/// followed by an answer to the request pipelined behind it, or by a 503:
/// the client is never left with a request it cannot tell was dropped.
fn stop_answers_a_request_pipelined_behind_an_answer_begun_before_it(d: Dispatcher) {
    let (pass, gate) = gate();
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/block") {
                reply("done");
                pass.wait();
            } else {
                reply("hello");
            }
        })
        .dispatcher(d)
        .threads(2),
    );
    let mut c = srv.connect();
    c.send(get("/block") + &get("/after"));
    gate.entered();
    srv.server.stop();
    gate.release();
    let r = c.read_reply().expect("the in-flight request is answered");
    assert_eq!(r.text(), "done");
    assert_eq!(r.header("connection"), None, "begun before the stop");
    let r = c
        .read_reply()
        .expect("the pipelined request gets an answer or a refusal");
    match r.status {
        200 => assert_eq!(r.text(), "hello"),
        503 => {}
        s => panic!("status {s}"),
    }
    assert_eq!(r.header("connection"), Some("close"));
    assert!(until_closed(&mut c.reader).is_some_and(|rest| rest.is_empty()));
    drop(c);
    assert!(joins(&srv.server), "join did not return");
}

/// A handler that blocks reading a body that never comes (the body timeout
/// is far away) is released when the grace period of a stop passes.
fn grace_period_releases_a_handler_blocked_on_its_body(d: Dispatcher) {
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (outcome_tx, outcome_rx) = mpsc::channel::<io::Result<usize>>();
    let srv = TestServer::start(
        HttpServer::new(move || {
            entered_tx.send(()).unwrap();
            let mut buf = [0u8; 1024];
            let mut total = 0;
            let outcome = loop {
                match read_body(&mut buf) {
                    Ok(0) => break Ok(total),
                    Ok(n) => total += n,
                    Err(e) => break Err(e),
                }
            };
            outcome_tx.send(outcome).unwrap();
            reply("read");
        })
        .dispatcher(d)
        .threads(1)
        .content(Content::Streaming)
        .body_timeout(Duration::from_secs(600))
        .shutdown_grace(Duration::from_millis(300)),
    );
    let mut c = srv.connect();
    c.send("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n0123456789");
    entered_rx.recv_timeout(LIMIT).expect("the handler runs");
    srv.server.stop();
    assert!(
        joins(&srv.server),
        "join did not return after the grace period"
    );
    let outcome = outcome_rx.try_recv().expect("the handler returned");
    assert!(
        outcome.is_err(),
        "the body read ended without error: {outcome:?}"
    );
    let raw = until_closed(&mut c.reader).expect("the connection closed");
    assert!(!raw.starts_with(b"HTTP/1.1 200"), "{raw:?}");
}

/// The start hook runs once on each worker thread before it serves; the stop
/// hook once on each, before `join` returns.
fn thread_hooks_run_once_per_worker(d: Dispatcher) {
    const THREADS: usize = 3;
    let started = Arc::new(Mutex::new(Vec::new()));
    let stopped = Arc::new(Mutex::new(Vec::new()));
    let name = || std::thread::current().name().unwrap_or("?").to_owned();
    let (s1, s2) = (started.clone(), stopped.clone());
    let srv = TestServer::start(
        HttpServer::new(|| reply("ok"))
            .dispatcher(d)
            .threads(THREADS)
            .name("hooks")
            .on_thread_start(move || s1.lock().unwrap().push(name()))
            .on_thread_stop(move || s2.lock().unwrap().push(name())),
    );
    assert!(wait_until(LIMIT, || started.lock().unwrap().len() >= THREADS));
    assert_eq!(exchange(srv.addr, get("/")).unwrap().status, 200);
    assert!(stopped.lock().unwrap().is_empty());
    srv.server.stop();
    srv.server.join();
    let started = started.lock().unwrap().clone();
    let stopped = stopped.lock().unwrap().clone();
    assert_eq!(started.len(), THREADS, "{started:?}");
    assert_eq!(stopped.len(), THREADS, "{stopped:?}");
    let names: HashSet<&String> = started.iter().collect();
    assert_eq!(names.len(), THREADS, "a thread ran the start hook twice");
    assert_eq!(names, stopped.iter().collect::<HashSet<_>>());
    assert!(names.iter().all(|n| n.starts_with("hooks")), "{names:?}");
}

/// Both workers run handlers that outlast the grace period; requests that
/// wait for a worker meanwhile are still refused (503, Connection: close)
/// when the grace period ends, not cut off with the hanging ones.
fn a_handler_past_the_grace_period_costs_the_others_nothing(d: Dispatcher) {
    const CLIENTS: usize = 4;
    let (pass, gate) = gate();
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/hang") {
                pass.wait();
            }
            reply("hello");
        })
        .dispatcher(d)
        .threads(2)
        .shutdown_grace(Duration::from_millis(300)),
    );
    let mut clients: Vec<_> = (0..CLIENTS).map(|_| srv.connect()).collect();
    for c in &mut clients {
        assert_eq!(c.request(get("/")).text(), "hello");
    }
    let mut hanging: Vec<_> = (0..2).map(|_| srv.connect()).collect();
    for c in &mut hanging {
        c.send(get("/hang"));
        gate.entered();
    }
    for c in &mut clients {
        c.send(get("/again"));
    }
    srv.server.stop();
    for (i, c) in clients.iter_mut().enumerate() {
        let r = c
            .read_reply()
            .unwrap_or_else(|| panic!("client {i}: closed without an answer"));
        assert_eq!(r.status, 503, "client {i}");
        assert_eq!(r.header("connection"), Some("close"), "client {i}");
    }
    for _ in &hanging {
        gate.release();
    }
    drop((clients, hanging));
    assert!(joins(&srv.server), "join did not return");
}

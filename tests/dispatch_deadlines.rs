//! Deadlines enforced by the dispatcher, on both dispatchers: the whole
//! request head (a slow-drip client is cut off even though it keeps sending),
//! the idle keep-alive timeout, and body progress of a Compact request.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::{id_of, status_of, until_closed, Closes, LIMIT};
use guildenstern::prelude::*;
use std::io::{BufReader, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use support::{connect_with_deadline, exchange, get, TestServer, IO_TIMEOUT};

on_both_dispatchers!(
    head_deadline_is_not_restarted_by_each_byte,
    idle_connection_times_out_while_a_busy_one_stays,
    stalled_compact_body_is_answered_408,
    a_head_pipelined_behind_a_slow_handler_gets_its_own_deadline,
);

/// Three clients drip a request head one byte at a time — a byte after each
/// answer the normal client gets — on a server with one worker. The normal
/// client keeps being served, and the slow ones get 408 and a close once the
/// head deadline passes, although bytes kept arriving all along.
fn head_deadline_is_not_restarted_by_each_byte(d: Dispatcher) {
    const SLOW: usize = 3;
    let closes = Closes::default();
    let slow_heads = Arc::new(AtomicUsize::new(0));
    let seen = slow_heads.clone();
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/slow") {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            reply(thesocket().as_u64().to_string())
        })
        .dispatcher(d)
        .threads(1)
        .header_timeout(Duration::from_millis(500))
        // Room for every byte the slow clients may send before the deadline.
        .max_header_bytes(1 << 20)
        .on_close(closes.hook()),
    );
    let mut normal = srv.connect();
    let normal_id = id_of(&normal.request(get("/")));

    // Each slow client: the test writes on one handle, a thread reads the other.
    let (done_tx, done_rx) = mpsc::channel();
    let mut writers = Vec::new();
    for i in 0..SLOW {
        let s = connect_with_deadline(srv.addr, IO_TIMEOUT);
        let mut reader = BufReader::new(s.try_clone().unwrap());
        let tx = done_tx.clone();
        std::thread::spawn(move || {
            let _ = tx.send((i, until_closed(&mut reader)));
        });
        writers.push(s);
    }
    let head = b"GET /slow HTTP/1.1\r\nHost: test\r\nX-Slow: ";
    let mut sent = [0usize; SLOW];
    let mut answers: Vec<Option<Option<Vec<u8>>>> = vec![None; SLOW];
    let mut normal_answers = 0;
    let end = Instant::now() + LIMIT;
    while answers.iter().any(Option::is_none) {
        assert!(
            Instant::now() < end,
            "slow clients still open after {LIMIT:?}; bytes sent: {sent:?}"
        );
        let r = normal.request(get("/"));
        assert_eq!(r.status, 200);
        assert_eq!(id_of(&r), normal_id);
        normal_answers += 1;
        for (i, w) in writers.iter_mut().enumerate() {
            if answers[i].is_none() {
                let byte = head.get(sent[i]).copied().unwrap_or(b'a');
                // Fails once the server has closed the socket.
                if w.write(&[byte]).is_ok() {
                    sent[i] += 1;
                }
            }
        }
        while let Ok((i, got)) = done_rx.try_recv() {
            answers[i] = Some(got);
        }
    }
    for (i, got) in answers.into_iter().enumerate() {
        let raw = got
            .unwrap()
            .unwrap_or_else(|| panic!("slow client {i} was not closed"));
        assert_eq!(
            status_of(&raw),
            Some(408),
            "slow client {i} got {:?}",
            String::from_utf8_lossy(&raw)
        );
        // Bytes kept coming (thousands, normally) until the deadline.
        assert!(sent[i] > 1, "slow client {i} sent only {} bytes", sent[i]);
    }
    assert_eq!(
        slow_heads.load(Ordering::SeqCst),
        0,
        "a slow head completed"
    );
    assert!(normal_answers > 1);
    closes.wait_len(SLOW);
    let timed_out = closes.with_cause(CloseCause::TimedOut);
    assert_eq!(timed_out.len(), SLOW, "{:?}", closes.all());
    assert!(timed_out
        .iter()
        .all(|(_, m)| m == "request head not received in time"));
    // The normal client was never cut off.
    assert_eq!(id_of(&normal.request(get("/"))), normal_id);
    assert!(closes.of(normal_id).is_empty());
}

/// An idle keep-alive connection is closed with TimedOut; one that keeps
/// sending requests stays open.
fn idle_connection_times_out_while_a_busy_one_stays(d: Dispatcher) {
    let closes = Closes::default();
    let srv = TestServer::start(
        HttpServer::new(|| reply(thesocket().as_u64().to_string()))
            .dispatcher(d)
            .threads(2)
            .idle_timeout(Duration::from_millis(500))
            .on_close(closes.hook()),
    );
    let mut idle = srv.connect();
    let idle_id = id_of(&idle.request(get("/")));
    let mut busy = srv.connect();
    let busy_id = id_of(&busy.request(get("/")));

    // Poll the idle connection with a short read deadline between requests
    // on the busy one, until the server closes the idle one.
    idle.stream()
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let end = Instant::now() + LIMIT;
    let mut busy_answers = 0;
    loop {
        assert!(Instant::now() < end, "idle connection never closed");
        assert_eq!(id_of(&busy.request(get("/"))), busy_id);
        busy_answers += 1;
        let mut b = [0u8; 64];
        match idle.reader.read(&mut b) {
            Ok(0) => break,
            Ok(n) => panic!("unexpected bytes on the idle connection: {:?}", &b[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("reading the idle connection: {e}"),
        }
    }
    assert!(busy_answers > 1);
    assert_eq!(
        closes.wait_for(idle_id),
        (CloseCause::TimedOut, "idle".to_owned())
    );
    // The busy one is still open and served.
    let r = busy.request(get("/"));
    assert_eq!((r.status, id_of(&r)), (200, busy_id));
    assert!(closes.of(busy_id).is_empty(), "{:?}", closes.all());
    assert_eq!(closes.of(idle_id).len(), 1);
}

/// A Compact body that stops coming is answered 408 and the connection
/// closed; the handler never runs for it.
fn stalled_compact_body_is_answered_408(d: Dispatcher) {
    let closes = Closes::default();
    let handled = Arc::new(AtomicUsize::new(0));
    let h = handled.clone();
    let srv = TestServer::start(
        HttpServer::new(move || {
            h.fetch_add(1, Ordering::SeqCst);
            reply(body())
        })
        .dispatcher(d)
        .threads(2)
        .content(Content::Compact)
        .body_timeout(Duration::from_millis(300))
        .on_close(closes.hook()),
    );
    let mut c = srv.connect();
    c.send("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n0123456789");
    let r = c.read_reply().expect("a 408 answer");
    assert_eq!(r.status, 408);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(
        until_closed(&mut c.reader).is_some(),
        "connection left open"
    );
    closes.wait_len(1);
    let (_, cause, msg) = closes.all().remove(0);
    assert_eq!(cause, CloseCause::TimedOut);
    assert_eq!(msg, "request body made no progress in time");
    assert_eq!(handled.load(Ordering::SeqCst), 0);
    // A body that does arrive is served.
    let r = exchange(
        srv.addr,
        "POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello",
    )
    .expect("an answer");
    assert_eq!((r.status, r.text().as_str()), (200, "hello"));
}

/// A head pipelined behind a request whose handler outlasts the head
/// deadline: once that handler is done, the head left partial in the buffer
/// gets a whole head deadline of its own (armed when it proves partial),
/// not the one armed when the bytes were read, long passed by then. A
/// second connection with a partial head, sent after the first, tells when
/// that old deadline has passed and fired: it gets its 408.
fn a_head_pipelined_behind_a_slow_handler_gets_its_own_deadline(d: Dispatcher) {
    const HEAD_TIMEOUT: Duration = Duration::from_millis(1000);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = std::sync::Mutex::new(go_rx);
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/wait") {
                let _ = go_rx.lock().unwrap().recv_timeout(LIMIT);
            }
            reply(uri())
        })
        .dispatcher(d)
        .threads(2)
        .header_timeout(HEAD_TIMEOUT),
    );
    let mut c = srv.connect();
    c.send("GET /wait HTTP/1.1\r\nHost: test\r\n\r\nGET /next HTTP/1.1\r\nHo");
    // The handler holds the request past the deadline armed at the read:
    // until a head sent after it has timed out.
    let mut clock = srv.connect();
    clock.send("GET /clock HTTP/1.1\r\nHo");
    let r = clock.read_reply().expect("the later head times out");
    assert_eq!(r.status, 408);
    go_tx.send(()).unwrap();
    let r = c.read_reply().expect("the first answer");
    assert_eq!((r.status, r.text().as_str()), (200, "/wait"));
    // Nothing comes for a few housekeeping ticks (the old deadline, had it
    // stayed armed, fires on the first), well within a fresh head deadline.
    c.stream()
        .set_read_timeout(Some(HEAD_TIMEOUT * 2 / 5))
        .unwrap();
    let mut byte = [0u8; 1];
    let quiet = c.stream().peek(&mut byte);
    assert!(
        matches!(&quiet, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "the partial head was answered early: {quiet:?}"
    );
    c.stream().set_read_timeout(Some(LIMIT)).unwrap();
    c.send("st: test\r\n\r\n");
    let r = c.read_reply().expect("the second answer");
    assert_eq!((r.status, r.text().as_str()), (200, "/next"));
}

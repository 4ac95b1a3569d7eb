//! Clients that do not read their answers hold no worker: the worker writes
//! what the socket takes, keeps the rest in the connection's state and
//! serves others; the rest goes out, in order, when the client reads, and a
//! client that never reads is closed at the send timeout. A stop still
//! delivers what was answered.
//!
//! Every server here has one worker, so a worker stuck writing to a client
//! that does not read would leave the other client unanswered. The slow
//! client pipelines more answers than loopback socket buffers hold.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::{until_closed, Closes, LIMIT};
use guildenstern::prelude::*;
use std::io::Write;
use std::sync::mpsc::{self, Receiver};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;
use support::{exchange, get, Client, Reply, TestServer};

on_both_dispatchers!(
    a_client_that_does_not_read_holds_no_worker,
    pipelined_answers_wait_for_the_reader_and_come_in_order,
    a_client_that_never_reads_is_closed_at_the_send_timeout,
    connection_close_after_unread_answers_waits_for_them,
    a_half_closed_slow_reader_gets_every_answer_then_the_close,
    a_stop_delivers_the_answers_a_slow_reader_has_not_taken,
    an_answer_to_a_reset_connection_never_reaches_the_next_one,
);

/// Answers of this size, `COUNT` of them: far more than loopback socket
/// buffers hold on both ends, each under what the server keeps for a client.
const CHUNK: usize = 128 * 1024;
const COUNT: usize = 160;

/// The body of answer `k`: patterned, so that a byte out of place shows.
fn chunk_byte(k: usize, i: usize) -> u8 {
    ((k * 7 + i) % 251) as u8
}

/// One worker: `/c/<k>` answers chunk `k` (reporting on `started`), anything
/// else "small".
fn server(d: Dispatcher, closes: &Closes, send_timeout: Duration) -> (TestServer, Receiver<()>) {
    let (tx, started) = mpsc::channel();
    let tx = Mutex::new(tx);
    let srv = TestServer::start(
        HttpServer::new(move || match uri().strip_prefix("/c/") {
            Some(k) => {
                let _ = tx.lock().unwrap().send(());
                let k: usize = k.parse().unwrap();
                let body: Vec<u8> = (0..CHUNK).map(|i| chunk_byte(k, i)).collect();
                reply(body);
            }
            None => reply("small"),
        })
        .dispatcher(d)
        .threads(1)
        .send_timeout(send_timeout)
        .on_close(closes.hook()),
    );
    (srv, started)
}

/// `COUNT` pipelined requests for the chunks, the last with `last_extra`
/// header lines.
fn chunk_requests(last_extra: &str) -> String {
    let mut all = String::new();
    for k in 0..COUNT {
        let extra = if k + 1 == COUNT { last_extra } else { "" };
        all.push_str(&format!("GET /c/{k} HTTP/1.1\r\nHost: t\r\n{extra}\r\n"));
    }
    all
}

fn check_chunk(k: usize, r: &Reply) {
    assert_eq!(r.status, 200, "answer {k}");
    assert_eq!(r.body.len(), CHUNK, "answer {k}");
    if let Some(i) = (0..CHUNK).find(|&i| r.body[i] != chunk_byte(k, i)) {
        panic!("byte {i} of answer {k} is wrong");
    }
}

fn read_chunks(slow: &mut Client) {
    for k in 0..COUNT {
        let r = slow
            .read_reply()
            .unwrap_or_else(|| panic!("answer {k} is missing"));
        check_chunk(k, &r);
    }
}

/// Someone else is served while the answers wait for their reader.
fn another_client_is_served(srv: &TestServer) {
    let r = exchange(srv.addr, get("/")).expect("another client is answered");
    assert_eq!((r.status, r.text().as_str()), (200, "small"));
}

/// Every connection closed so far was closed by its client (or asked for it).
fn only_clients_closed(closes: &Closes) {
    assert!(
        closes
            .all()
            .iter()
            .all(|(_, cause, _)| *cause == CloseCause::ClosedByClient),
        "{:?}",
        closes.all()
    );
}

fn a_client_that_does_not_read_holds_no_worker(d: Dispatcher) {
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, LIMIT);
    let mut slow = srv.connect();
    slow.send(chunk_requests(""));
    started.recv_timeout(LIMIT).expect("the handler runs");
    another_client_is_served(&srv);
    // Now it reads: every answer, whole and in order, and the connection goes on.
    read_chunks(&mut slow);
    assert_eq!(slow.request(get("/again")).text(), "small");
    only_clients_closed(&closes);
}

/// The server stops reading requests while answers pile up (the sender
/// blocks), and serves them all once the client reads.
fn pipelined_answers_wait_for_the_reader_and_come_in_order(d: Dispatcher) {
    const N: usize = 3 * COUNT;
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, LIMIT);
    let slow = srv.connect();
    let mut writer = slow.stream().try_clone().unwrap();
    // A thread of its own: these writes block until the reading below begins.
    let sender = thread::spawn(move || {
        let mut batch = String::new();
        for k in 0..N {
            batch.push_str(&get(&format!("/c/{}", k % COUNT)));
        }
        writer.write_all(batch.as_bytes())
    });
    started.recv_timeout(LIMIT).expect("the handler runs");
    another_client_is_served(&srv);
    let mut slow = slow;
    for k in 0..N {
        let r = slow
            .read_reply()
            .unwrap_or_else(|| panic!("answer {k} is missing"));
        check_chunk(k % COUNT, &r);
    }
    sender.join().unwrap().expect("every request was sent");
    another_client_is_served(&srv);
    only_clients_closed(&closes);
}

fn a_client_that_never_reads_is_closed_at_the_send_timeout(d: Dispatcher) {
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, Duration::from_millis(300));
    let mut slow = srv.connect();
    slow.send(chunk_requests(""));
    started.recv_timeout(LIMIT).expect("the handler runs");
    another_client_is_served(&srv);
    // Parked with its answers: more requests and its end make the socket
    // readable, which neither wakes a worker in a loop nor starts the
    // timeout over.
    slow.send(get("/"));
    slow.stream().shutdown(std::net::Shutdown::Write).unwrap();
    assert!(
        support::wait_until(LIMIT, || !closes
            .with_cause(CloseCause::TimedOut)
            .is_empty()),
        "not closed: {:?}",
        closes.all()
    );
    let timed_out = closes.with_cause(CloseCause::TimedOut);
    assert_eq!(timed_out.len(), 1, "{:?}", closes.all());
    assert_eq!(timed_out[0].1, "responses not read in time");
    // What it gets is cut short.
    let got = until_closed(&mut slow.reader).unwrap_or_default();
    assert!(got.len() < COUNT * CHUNK, "every answer came");
}

/// `Connection: close` on the last request: the server closes only after
/// the client has taken every answer.
fn connection_close_after_unread_answers_waits_for_them(d: Dispatcher) {
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, LIMIT);
    let mut slow = srv.connect();
    slow.send(chunk_requests("Connection: close\r\n"));
    started.recv_timeout(LIMIT).expect("the handler runs");
    another_client_is_served(&srv);
    read_chunks(&mut slow);
    assert_eq!(until_closed(&mut slow.reader), Some(Vec::new()));
    only_clients_closed(&closes);
}

/// The client sends its requests and its end, then reads slowly: the end,
/// seen while the answers waited, still closes the connection after them.
fn a_half_closed_slow_reader_gets_every_answer_then_the_close(d: Dispatcher) {
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, LIMIT);
    let mut slow = srv.connect();
    slow.send(chunk_requests(""));
    slow.stream().shutdown(std::net::Shutdown::Write).unwrap();
    started.recv_timeout(LIMIT).expect("the handler runs");
    another_client_is_served(&srv);
    read_chunks(&mut slow);
    assert_eq!(until_closed(&mut slow.reader), Some(Vec::new()));
    only_clients_closed(&closes);
}

/// A stop while answers wait for a slow reader: what was answered still
/// reaches it whole (within the grace period), then the refusal (503,
/// `Connection: close`) of the requests it pipelined behind them that no
/// worker served, then the connection closes.
fn a_stop_delivers_the_answers_a_slow_reader_has_not_taken(d: Dispatcher) {
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, LIMIT);
    let mut slow = srv.connect();
    // Padded, so that well over 64 KiB of them are still unread when the
    // server stops: closing on unread input would be a reset, and a reset
    // discards answers the client has not read.
    let pad = format!("X-Pad: {}\r\n", "p".repeat(1024));
    slow.send(chunk_requests("").replace("Host: t\r\n", &format!("Host: t\r\n{pad}")));
    started.recv_timeout(LIMIT).expect("the handler runs");
    // The worker is free again: the slow connection is parked with its answers.
    another_client_is_served(&srv);
    let server = srv.server.clone();
    let stopper = thread::spawn(move || {
        server.stop();
        server.join();
    });
    let got = until_closed(&mut slow.reader).expect("closed after the stop");
    drop(slow); // its end ends the server's linger
    stopper.join().unwrap();
    // A whole number of whole answers, in order.
    let mut rest = &got[..];
    let mut k = 0;
    while !rest.is_empty() {
        let head_end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("answer {k} is cut in its head"))
            + 4;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_ascii_lowercase();
        if head.starts_with("http/1.1 503 ") {
            assert!(head.contains("connection: close\r\n"), "{head}");
            let refusal = String::from_utf8_lossy(&rest[head_end..]);
            assert_eq!(refusal, "server stopping", "nothing after the refusal");
            break;
        }
        assert!(head.starts_with("http/1.1 200 "), "answer {k}: {head}");
        assert!(
            head.contains(&format!("content-length: {CHUNK}\r\n")),
            "{head}"
        );
        let end = head_end + CHUNK;
        assert!(rest.len() >= end, "answer {k} is cut in its body");
        let body = &rest[head_end..end];
        assert!(
            (0..CHUNK).all(|i| body[i] == chunk_byte(k, i)),
            "answer {k}"
        );
        rest = &rest[end..];
        k += 1;
    }
    assert!(k > 0, "no answer came");
    assert!(!closes.with_cause(CloseCause::Shutdown).is_empty());
    assert!(
        closes
            .all()
            .iter()
            .all(|(_, c, _)| matches!(c, CloseCause::Shutdown | CloseCause::ClosedByClient)),
        "{:?}",
        closes.all()
    );
}

/// A client resets its connection while its handler runs, and the worker
/// finds out on its next read: the answer it batched is dropped, and the
/// next connection the worker serves gets only its own answer.
fn an_answer_to_a_reset_connection_never_reaches_the_next_one(d: Dispatcher) {
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let (entered_tx, release_rx) = (Mutex::new(entered_tx), Mutex::new(release_rx));
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/secret") {
                entered_tx.lock().unwrap().send(()).unwrap();
                release_rx.lock().unwrap().recv_timeout(LIMIT).unwrap();
                reply("SECRET");
            } else {
                reply("small");
            }
        })
        .dispatcher(d)
        .threads(1),
    );
    // Exactly one read's worth (the server reads 4 KiB at first), so the
    // worker reads again after the handler instead of parking.
    let head = "GET /secret HTTP/1.1\r\nHost: t\r\nX-Pad: \r\n\r\n";
    let pad = "a".repeat(4096 - head.len());
    let request = head.replace("X-Pad: ", &format!("X-Pad: {pad}"));
    assert_eq!(request.len(), 4096);
    let mut a = srv.connect();
    a.send(&request);
    entered.recv_timeout(LIMIT).expect("the handler runs");
    reset(a.stream());
    drop(a);
    release.send(()).unwrap();

    let mut b = srv.connect();
    b.send(get("/"));
    let r = b.read_reply().expect("an answer");
    assert_eq!(r.text(), "small");
    b.send(get("/"));
    let r = b.read_reply().expect("a second answer");
    assert_eq!(r.text(), "small");
}

/// Makes the close of `s` a reset (SO_LINGER with a zero timeout).
fn reset(s: &std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a `linger` struct of the size given.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt(SO_LINGER)");
}

//! Clients that do not read their answers hold no worker: the worker writes
//! what the socket takes, keeps the rest in the connection's state and
//! serves others; the rest goes out, in order, when the client reads, and a
//! client that never reads is closed at the send timeout.
//!
//! Every server here has one worker, so a worker stuck writing to a client
//! that does not read would leave the other client unanswered.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::{until_closed, Closes, LIMIT};
use guildenstern::prelude::*;
use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use support::{exchange, get, Client, Reply, TestServer};

on_both_dispatchers!(
    a_client_that_does_not_read_holds_no_worker,
    pipelined_answers_wait_for_the_reader_and_come_in_order,
    a_client_that_never_reads_is_closed_at_the_send_timeout,
    connection_close_after_an_unread_answer_waits_for_it,
);

/// Larger than what loopback socket buffers hold on both ends.
const BIG: usize = 32 << 20;

fn byte_at(i: usize) -> u8 {
    (i % 251) as u8
}

/// One worker: `/big` answers `BIG` patterned bytes (reporting on `started`
/// first), `/n/<k>` answers `<k>` padded to `pad` bytes, anything else "small".
fn server(
    d: Dispatcher,
    closes: &Closes,
    send_timeout: Duration,
    pad: usize,
) -> (TestServer, Receiver<()>) {
    let big: Arc<Vec<u8>> = Arc::new((0..BIG).map(byte_at).collect());
    let (tx, started) = mpsc::channel();
    let tx = Mutex::new(tx);
    let srv = TestServer::start(
        HttpServer::new(move || {
            if is_uri("/big") {
                let _ = tx.lock().unwrap().send(());
                reply(&big[..]);
            } else if let Some(k) = uri().strip_prefix("/n/") {
                reply(format!("{k:0>pad$}"));
            } else {
                reply("small");
            }
        })
        .dispatcher(d)
        .threads(1)
        .send_timeout(send_timeout)
        .on_close(closes.hook()),
    );
    (srv, started)
}

fn check_big(r: &Reply) {
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), BIG);
    if let Some(i) = (0..BIG).find(|&i| r.body[i] != byte_at(i)) {
        panic!("byte {i} of the big answer is wrong");
    }
}

/// Someone else is served while the big answer waits for its reader.
fn another_client_is_served(srv: &TestServer) {
    let r = exchange(srv.addr, get("/")).expect("another client is answered");
    assert_eq!((r.status, r.text().as_str()), (200, "small"));
}

fn a_client_that_does_not_read_holds_no_worker(d: Dispatcher) {
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, LIMIT, 0);
    let mut slow = srv.connect();
    slow.send(get("/big"));
    started.recv_timeout(LIMIT).expect("the big handler runs");
    another_client_is_served(&srv);
    // Now it reads: the whole answer, and the connection goes on.
    check_big(&slow.read_reply().expect("the big answer"));
    let r = slow.request(get("/again"));
    assert_eq!(r.text(), "small");
    only_clients_closed(&closes);
}

/// Requests pipelined behind a big answer wait in the connection's buffer
/// (the server stops reading them while the answers pile up) and are all
/// answered, in order, once the client reads.
fn pipelined_answers_wait_for_the_reader_and_come_in_order(d: Dispatcher) {
    const N: usize = 3_000;
    const PAD: usize = 16 * 1024;
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, LIMIT, PAD);
    let slow = srv.connect();
    let mut writer = slow.stream().try_clone().unwrap();
    // A thread of its own: the server stops reading while the client does
    // not read, so these writes block until the reading below begins.
    let sender = thread::spawn(move || {
        let mut batch = get("/big");
        for k in 0..N {
            batch.push_str(&get(&format!("/n/{k}")));
        }
        writer.write_all(batch.as_bytes())
    });
    started.recv_timeout(LIMIT).expect("the big handler runs");
    another_client_is_served(&srv);
    let mut slow = slow;
    check_big(&slow.read_reply().expect("the big answer"));
    for k in 0..N {
        let r = slow
            .read_reply()
            .unwrap_or_else(|| panic!("answer {k} is missing"));
        assert_eq!(r.body.len(), PAD);
        assert_eq!(r.text().parse::<usize>().ok(), Some(k));
    }
    sender.join().unwrap().expect("every request was sent");
    another_client_is_served(&srv);
    only_clients_closed(&closes);
}

fn a_client_that_never_reads_is_closed_at_the_send_timeout(d: Dispatcher) {
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, Duration::from_millis(300), 0);
    let mut slow = srv.connect();
    let id = slow.request(get("/")).text();
    assert_eq!(id, "small");
    slow.send(get("/big"));
    started.recv_timeout(LIMIT).expect("the big handler runs");
    another_client_is_served(&srv);
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
    let mut rest = Vec::new();
    let _ = slow.reader.read_to_end(&mut rest);
    assert!(rest.len() < BIG, "the whole answer came");
}

/// `Connection: close`: the server closes only after the client has taken
/// the whole answer.
fn connection_close_after_an_unread_answer_waits_for_it(d: Dispatcher) {
    let closes = Closes::default();
    let (srv, started) = server(d, &closes, LIMIT, 0);
    let mut slow: Client = srv.connect();
    slow.send("GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    started.recv_timeout(LIMIT).expect("the big handler runs");
    another_client_is_served(&srv);
    let r = slow.read_reply().expect("the big answer");
    assert_eq!(r.header("connection"), Some("close"));
    check_big(&r);
    assert_eq!(until_closed(&mut slow.reader), Some(Vec::new()));
    only_clients_closed(&closes);
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

//! Output a client does not read: it waits in the connection's queue, no
//! worker waits for it. Clients that stop reading do not take the workers
//! from the others, what was queued arrives whole and in order once the
//! client reads, a client that never reads is closed at the send timeout,
//! and nothing follows a close frame, not even the idle ping. (Linux: the
//! clients shrink their receive buffers with setsockopt.)
#![cfg(target_os = "linux")]

#[macro_use]
mod support;
mod ws_util;

use guildenstern::prelude::*;
use guildenstern::ws::{send_binary, send_close, send_text, SendError, MAX_UNSENT};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tungstenite::Message;
use ws_util::*;

on_both_dispatchers!(
    clients_that_do_not_read_leave_the_workers_to_the_others,
    queued_output_arrives_whole_and_in_order_once_the_client_reads,
    a_client_that_never_reads_is_closed_at_the_send_timeout,
    nothing_follows_a_queued_close_frame,
    a_worker_sending_to_a_client_that_does_not_read_is_not_held,
    a_client_that_ends_its_side_still_gets_the_queued_answer,
    what_another_thread_queued_is_written_when_the_client_reads,
);

/// Far more than loopback socket buffers hold for a client that does not read.
const FLOOD: usize = 16 << 20;

/// The byte at `i` of the flood.
fn flood_byte(i: usize) -> u8 {
    (i % 251) as u8
}

/// An echo server whose answer to "flood" is [`FLOOD`] bytes; see [`flooding_told`].
fn flooding() -> (WsServer, Receiver<SocketId>) {
    let (b, _asked, flooded) = flooding_told();
    (b, flooded)
}

/// An echo server whose answer to "flood" is [`FLOOD`] bytes. It tells the
/// socket's id on the first channel when a flood is asked for, on the
/// second once the flood was handed to the connection (sent or queued).
fn flooding_told() -> (WsServer, Receiver<SocketId>, Receiver<SocketId>) {
    let flood: Arc<Vec<u8>> = Arc::new((0..FLOOD).map(flood_byte).collect());
    let (asked_tx, asked) = channel();
    let (tx, flooded) = channel();
    let (asked_tx, tx) = (Mutex::new(asked_tx), Mutex::new(tx));
    let b = WsServer::with_context(move |cx: &mut Ws| {
        if cx.message() == b"flood" {
            // Nobody may be listening.
            let _ = asked_tx.lock().unwrap().send(cx.socket());
            let r = cx.reply_binary(&flood);
            assert!(r.is_ok(), "a reply is queued, not refused: {r:?}");
            tx.lock().unwrap().send(cx.socket()).unwrap();
        } else {
            let _ = cx.reply_text(cx.text());
        }
    });
    (b, asked, flooded)
}

/// A client with a tiny receive window that asks for a flood.
fn flooded_client(t: &WsTest) -> Raw {
    let stream = connect_small_window(t.addr);
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    let mut raw = Raw::upgrade_stream(stream, "/");
    raw.send_frame(FIN | TEXT, b"flood");
    raw
}

/// Reads frames up to the next non-ping one (the server may ping first).
fn next_data_frame(raw: &mut Raw) -> Frame {
    loop {
        let f = raw.frame();
        if f.opcode != PING {
            return f;
        }
    }
}

fn assert_flood(f: &Frame) {
    assert_eq!((f.fin, f.opcode), (true, BINARY));
    assert_eq!(f.payload.len(), FLOOD);
    if let Some(i) = (0..FLOOD).find(|&i| f.payload[i] != flood_byte(i)) {
        panic!("the flood differs at byte {i}");
    }
}

fn clients_that_do_not_read_leave_the_workers_to_the_others(d: Dispatcher) {
    // A send timeout longer than the test waits: a worker writing the
    // flood until the client reads would still be at it.
    let (b, asked, _) = flooding_told();
    let t = WsTest::start_on(b.send_timeout(Duration::from_secs(60)), d);
    // Two workers, two clients that stop reading.
    let stalled: Vec<Raw> = (0..2).map(|_| flooded_client(&t)).collect();
    for _ in 0..2 {
        asked.recv_timeout(WAIT).expect("a flood was asked for");
    }
    let mut ws = t.client("/");
    for i in 0..20 {
        let m = format!("hello {i}");
        ws.send(Message::text(m.clone())).unwrap();
        match ws.read() {
            Ok(Message::Text(got)) => assert_eq!(got.as_str(), m),
            other => panic!("expected the echo, got {other:?}"),
        }
    }
    drop(stalled);
}

fn queued_output_arrives_whole_and_in_order_once_the_client_reads(d: Dispatcher) {
    let (b, flooded) = flooding();
    let (b, ids) = reporting_ids(b);
    let t = WsTest::start_on(b.send_timeout(Duration::from_secs(60)), d);
    let mut raw = flooded_client(&t);
    let id = ids.recv_timeout(WAIT).unwrap();
    // Read by the server only once the flood is written.
    raw.send_frame(FIN | TEXT, b"after");
    assert_eq!(flooded.recv_timeout(WAIT).unwrap(), id);
    // A thread that is not a worker sends behind the queue: over the
    // limit, it waits until the client reads.
    let server = t.server.clone();
    let sender = std::thread::spawn(move || {
        (0..3)
            .map(|i| send_text(&server, id, &format!("thread {i}")).map_err(|e| e.to_string()))
            .collect::<Vec<_>>()
    });
    assert_flood(&next_data_frame(&mut raw));
    let mut rest = Vec::new();
    for _ in 0..4 {
        let f = next_data_frame(&mut raw);
        assert_eq!((f.fin, f.opcode), (true, TEXT), "{f:?}");
        rest.push(f.text().to_owned());
    }
    assert_eq!(sender.join().unwrap(), vec![Ok(()), Ok(()), Ok(())]);
    let from_thread: Vec<&String> = rest.iter().filter(|m| m.starts_with("thread")).collect();
    assert_eq!(
        from_thread,
        ["thread 0", "thread 1", "thread 2"],
        "{rest:?}"
    );
    assert!(rest.contains(&"after".to_owned()), "{rest:?}");
    // And the connection goes on as before.
    raw.send_frame(FIN | TEXT, b"still here");
    assert_eq!(next_data_frame(&mut raw).text(), "still here");
}

fn a_client_that_never_reads_is_closed_at_the_send_timeout(d: Dispatcher) {
    let (b, flooded) = flooding();
    let (b, ids) = reporting_ids(b);
    let t = WsTest::start_on(b.send_timeout(Duration::from_millis(300)), d);
    let raw = flooded_client(&t);
    let id = ids.recv_timeout(WAIT).unwrap();
    assert_eq!(flooded.recv_timeout(WAIT).unwrap(), id);
    let c = t.next_close();
    assert_eq!((c.id, c.cause), (id, CloseCause::TimedOut), "{c:?}");
    drop(raw);
}

fn nothing_follows_a_queued_close_frame(d: Dispatcher) {
    // Pings are due all along; our close waits behind the flood. (The
    // close timeout only has to outlast the client's reading.)
    let (b, flooded) = flooding();
    let (b, ids) = reporting_ids(b);
    let b = b
        .send_timeout(Duration::from_secs(60))
        .close_timeout(Duration::from_secs(60))
        .ping_interval(Duration::from_millis(100));
    let t = WsTest::start_on(b, d);
    let mut raw = flooded_client(&t);
    let id = ids.recv_timeout(WAIT).unwrap();
    assert_eq!(flooded.recv_timeout(WAIT).unwrap(), id);
    let server = t.server.clone();
    let closer = std::thread::spawn(move || send_close(&server, id, 4000, "bye").is_ok());
    assert_flood(&next_data_frame(&mut raw));
    let f = next_data_frame(&mut raw);
    assert_eq!(f.close_code(), Some(4000), "{f:?}");
    assert!(closer.join().unwrap());
    assert!(matches!(
        send_text(&t.server, id, "x"),
        Err(SendError::Closing)
    ));
    // Our answer ends it; nothing (no ping) may come after the close frame.
    raw.send_frame(FIN | CLOSE, &close_payload(4000, ""));
    raw.expect_eof();
    let c = t.next_close();
    assert_eq!(
        (c.id, c.cause, c.code),
        (id, CloseCause::CloseCalled, Some(4000))
    );
}

fn a_worker_sending_to_a_client_that_does_not_read_is_not_held(d: Dispatcher) {
    // A callback of one connection sends to another whose client stopped
    // reading with more than MAX_UNSENT unsent: refused at once.
    let flood: Arc<Vec<u8>> = Arc::new((0..FLOOD).map(flood_byte).collect());
    let target: Arc<Mutex<Option<SocketId>>> = Arc::default();
    let (tx, flooded) = channel();
    let tx = Mutex::new(tx);
    let target2 = target.clone();
    let b = WsServer::with_context(move |cx: &mut Ws| {
        if cx.message() == b"flood" {
            let _ = cx.reply_binary(&flood);
            tx.lock().unwrap().send(cx.socket()).unwrap();
        } else {
            let id = target2.lock().unwrap().expect("a target");
            let r = send_text(cx.server(), id, "pushed");
            let _ = cx.reply_text(&format!("{r:?}"));
        }
    });
    let t = WsTest::start_on(b.send_timeout(Duration::from_secs(60)), d);
    const { assert!(FLOOD > 2 * MAX_UNSENT) };
    let stalled = flooded_client(&t);
    *target.lock().unwrap() = Some(flooded.recv_timeout(WAIT).unwrap());
    let mut ws = t.client("/");
    for _ in 0..2 {
        ws.send(Message::text("push")).unwrap();
        match ws.read() {
            Ok(Message::Text(got)) => assert_eq!(got.as_str(), "Err(Full)"),
            other => panic!("expected the send's result, got {other:?}"),
        }
    }
    drop(stalled);
}

fn a_client_that_ends_its_side_still_gets_the_queued_answer(d: Dispatcher) {
    // Its end of stream is read only once the answers before it are out.
    let (b, flooded) = flooding();
    let (b, ids) = reporting_ids(b);
    let t = WsTest::start_on(b.send_timeout(Duration::from_secs(60)), d);
    let mut raw = flooded_client(&t);
    let id = ids.recv_timeout(WAIT).unwrap();
    raw.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(flooded.recv_timeout(WAIT).unwrap(), id);
    assert_flood(&next_data_frame(&mut raw));
    raw.expect_eof();
    let c = t.next_close();
    assert_eq!((c.id, c.cause), (id, CloseCause::ClosedByClient), "{c:?}");
}

fn what_another_thread_queued_is_written_when_the_client_reads(d: Dispatcher) {
    // A thread that is not a worker sends more than the socket takes, on
    // an empty queue: the send returns at once, and with no further send
    // or message to have the connection served, a worker writes the rest
    // as the client reads. Between rounds the client's own echo goes on.
    let (b, ids) = reporting_ids(echo());
    let t = WsTest::start_on(b.send_timeout(Duration::from_secs(60)), d);
    let stream = connect_small_window(t.addr);
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    let mut raw = Raw::upgrade_stream(stream, "/");
    let id = ids.recv_timeout(WAIT).unwrap();
    // Twice the most a loopback socket buffer grows to (tcp_wmem's 4 MiB).
    let big: Vec<u8> = (0..FLOOD / 2).map(flood_byte).collect();
    for round in 0..2 {
        send_binary(&t.server, id, &big).unwrap();
        let f = raw.frame();
        assert!(f.opcode == BINARY && f.payload == big, "round {round}");
        let m = format!("round {round}");
        raw.send_frame(FIN | TEXT, m.as_bytes());
        assert_eq!(raw.frame().text(), m);
    }
}

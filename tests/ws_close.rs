//! The close handshake (RFC 6455 §5.5.1, §7): a client's close is answered
//! and the TCP connection ended; `send_close` starts the handshake from the
//! server, whose close callback then gets the client's code; a client that
//! never answers is dropped after the close timeout; a client closed for a
//! protocol violation that goes on sending still reads the close frame.

#[macro_use]
mod support;
mod ws_util;

use guildenstern::prelude::*;
use guildenstern::ws::{send_binary, send_close, send_ping, send_text, SendError};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;
use support::send_beyond_the_buffers;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;
use ws_util::*;

on_both_dispatchers!(
    client_close_is_answered_and_the_connection_ended,
    send_close_waits_for_the_clients_answer,
    an_unanswered_close_ends_after_the_close_timeout,
    a_last_message_then_the_end_of_stream_is_noticed,
    a_client_still_sending_after_a_violation_reads_the_close,
    a_handshake_that_times_out_is_not_reported,
    a_peer_that_lingers_after_its_close_keeps_its_code,
    a_close_during_a_callback_is_reported_after_it,
);

fn client_close_is_answered_and_the_connection_ended(d: Dispatcher) {
    let (b, ids) = reporting_ids(echo());
    let t = WsTest::start_on(b, d);

    let mut raw = t.raw();
    let id = ids.recv_timeout(WAIT).unwrap();
    raw.send_frame(FIN | TEXT, b"before");
    assert_eq!(raw.frame().text(), "before");
    raw.send_frame(FIN | CLOSE, &close_payload(4321, "bye"));
    let f = raw.expect_close();
    assert_eq!(f.close_code(), Some(4321), "the server echoes the code");
    assert!(!f.masked);
    drop(raw);
    assert_eq!(
        t.next_close(),
        Closed {
            id,
            cause: CloseCause::ClosedByClient,
            code: Some(4321),
            msg: "bye".into()
        }
    );
    assert!(!t.server.is_open(id));

    // An empty close frame: answered, no code reported.
    let mut raw = t.raw();
    let id = ids.recv_timeout(WAIT).unwrap();
    raw.send_frame(FIN | CLOSE, b"");
    raw.expect_close();
    drop(raw);
    let c = t.next_close();
    assert_eq!(
        (c.id, c.cause, c.code),
        (id, CloseCause::ClosedByClient, None)
    );

    // Data after the close frame is not processed.
    let mut raw = t.raw();
    ids.recv_timeout(WAIT).unwrap();
    let mut bytes = masked(FIN | CLOSE, &close_payload(1000, ""));
    bytes.extend(masked(FIN | TEXT, b"too late"));
    raw.send(bytes);
    assert_eq!(raw.expect_close().close_code(), Some(1000));
    drop(raw);
    assert_eq!(t.next_close().code, Some(1000));

    // tungstenite: its close is answered and it sees the connection end.
    let mut ws = t.client("/");
    ids.recv_timeout(WAIT).unwrap();
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4000),
        reason: "tung".into(),
    }))
    .unwrap();
    match ws.read() {
        Ok(Message::Close(Some(f))) => assert_eq!(u16::from(f.code), 4000),
        other => panic!("expected the server's close, got {other:?}"),
    }
    assert!(matches!(
        ws.read(),
        Err(tungstenite::Error::ConnectionClosed)
    ));
    drop(ws);
    let c = t.next_close();
    assert_eq!(
        (c.cause, c.code, c.msg.as_str()),
        (CloseCause::ClosedByClient, Some(4000), "tung")
    );
}

fn send_close_waits_for_the_clients_answer(d: Dispatcher) {
    let (b, ids) = reporting_ids(echo());
    let t = WsTest::start_on(b, d);
    let s = &t.server;

    let mut raw = t.raw();
    let id = ids.recv_timeout(WAIT).unwrap();
    // Refused arguments send nothing.
    for (code, reason) in [(1005, ""), (1006, ""), (999, ""), (1004, ""), (5000, "")] {
        assert!(
            matches!(send_close(s, id, code, reason), Err(SendError::Invalid(_))),
            "{code}"
        );
    }
    let long = "r".repeat(124);
    assert!(matches!(
        send_close(s, id, 1000, &long),
        Err(SendError::Invalid(_))
    ));

    send_close(s, id, 4000, "done").unwrap();
    let f = raw.frame();
    assert_eq!((f.fin, f.opcode), (true, CLOSE));
    assert_eq!(f.close_code(), Some(4000));
    assert_eq!(&f.payload[2..], b"done");
    // Nothing may follow a close frame.
    assert!(matches!(send_text(s, id, "x"), Err(SendError::Closing)));
    assert!(matches!(send_binary(s, id, b"x"), Err(SendError::Closing)));
    assert!(matches!(send_ping(s, id, b""), Err(SendError::Closing)));
    assert!(matches!(
        send_close(s, id, 1000, ""),
        Err(SendError::Closing)
    ));
    assert!(s.is_open(id), "open until the client answers");

    raw.send_frame(FIN | CLOSE, &close_payload(4999, "ok"));
    raw.expect_eof();
    drop(raw);
    assert_eq!(
        t.next_close(),
        Closed {
            id,
            cause: CloseCause::CloseCalled,
            code: Some(4999),
            msg: "ok".into()
        }
    );
    assert!(matches!(send_text(s, id, "x"), Err(SendError::NotOpen)));
    assert!(matches!(
        send_close(s, id, 1000, ""),
        Err(SendError::NotOpen)
    ));

    // tungstenite answers a close by echoing its code.
    let mut ws = t.client("/");
    let id = ids.recv_timeout(WAIT).unwrap();
    send_close(s, id, 1001, "").unwrap();
    match ws.read() {
        Ok(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Away),
        other => panic!("expected a close frame, got {other:?}"),
    }
    match ws.read() {
        Err(tungstenite::Error::ConnectionClosed) => {}
        Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the end of the connection, got {other:?}"),
    }
    let c = t.next_close();
    assert_eq!(
        (c.id, c.cause, c.code),
        (id, CloseCause::CloseCalled, Some(1001))
    );
}

fn an_unanswered_close_ends_after_the_close_timeout(d: Dispatcher) {
    let (b, ids) = reporting_ids(echo().close_timeout(Duration::from_millis(300)));
    let t = WsTest::start_on(b, d);
    let mut raw = t.raw();
    let id = ids.recv_timeout(WAIT).unwrap();
    send_close(&t.server, id, 1000, "").unwrap();
    assert_eq!(raw.frame().close_code(), Some(1000));
    // The client keeps quiet; the server gives up on its own.
    raw.expect_eof();
    let c = t.next_close();
    assert_eq!((c.id, c.cause, c.code), (id, CloseCause::TimedOut, None));
}

#[test]
fn a_panicking_callback_closes_with_1011() {
    let t = WsTest::start(WsServer::new(|| {
        if is_message("boom") {
            panic!("receive callback fails on purpose");
        }
        let _ = reply_text(&message_text());
    }));
    let mut raw = t.raw();
    raw.send_frame(FIN | TEXT, b"fine");
    assert_eq!(raw.frame().text(), "fine");
    raw.send_frame(FIN | TEXT, b"boom");
    assert_eq!(raw.expect_close().close_code(), Some(1011));
    drop(raw);
    let c = t.next_close();
    assert_eq!(c.cause, CloseCause::HandlerPanicked, "{c:?}");
    assert!(c.msg.contains("on purpose"), "{c:?}");
    // The worker lives on.
    let mut raw = t.raw();
    raw.send_frame(FIN | TEXT, b"again");
    assert_eq!(raw.frame().text(), "again");
}

#[test]
fn a_client_that_vanishes_is_reported() {
    let (b, ids) = reporting_ids(echo());
    let t = WsTest::start(b);
    let raw = t.raw();
    let id = ids.recv_timeout(WAIT).unwrap();
    drop(raw);
    let c = t.next_close();
    assert_eq!(
        (c.id, c.cause, c.code),
        (id, CloseCause::ClosedByClient, None)
    );
}

fn a_last_message_then_the_end_of_stream_is_noticed(d: Dispatcher) {
    // Bytes and the FIN arriving together raise one edge; a server that
    // took a short read for a drained socket would never see the end (no
    // deadline is armed without a ping interval) and leak the connection.
    let (b, ids) = reporting_ids(WsServer::with_context(|_| {}));
    let t = WsTest::start_on(b, d);
    for round in 0..30 {
        let mut raw = t.raw();
        let id = ids.recv_timeout(WAIT).unwrap();
        let last = if round % 2 == 0 {
            masked(FIN | TEXT, b"last words")
        } else {
            masked(FIN | PONG, b"unasked")
        };
        raw.send(last);
        raw.stream.shutdown(std::net::Shutdown::Both).unwrap();
        let c = t.next_close();
        assert_eq!(
            (c.id, c.cause),
            (id, CloseCause::ClosedByClient),
            "round {round}"
        );
    }
}

/// A client that sends an unmasked frame and then ~200 KB more, while both
/// workers are held (so over 64 KiB is queued before the server reads any
/// of it, and the rest is still being written): the server's close 1002 is
/// followed by a lingering close that takes all of it, so the client's
/// writes succeed and it reads the close frame. (The drain used to give up
/// after 64 KiB in one read pass and reset the connection.)
fn a_client_still_sending_after_a_violation_reads_the_close(d: Dispatcher) {
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let (entered_tx, release_rx) = (Mutex::new(entered_tx), Mutex::new(release_rx));
    let t = WsTest::start_on(
        WsServer::with_context(move |cx: &mut Ws| {
            if cx.text() == "hold" {
                entered_tx.lock().unwrap().send(()).unwrap();
                let _ = release_rx.lock().unwrap().recv_timeout(WAIT);
            }
            let _ = cx.reply_text("done");
        }),
        d,
    );
    // Upgraded while the workers are free.
    let mut raw = t.raw();
    let mut holders: Vec<Raw> = (0..2).map(|_| t.raw()).collect();
    for h in &mut holders {
        h.send_frame(FIN | TEXT, b"hold");
        entered.recv_timeout(WAIT).expect("a worker is held");
    }
    let mut bytes = vec![FIN | TEXT, 2, b'h', b'i'];
    bytes.resize(200 * 1024, 0);
    let writer = send_beyond_the_buffers(&raw.stream, bytes);
    for _ in &holders {
        release.send(()).unwrap();
    }
    let written = writer.join().unwrap();
    let f = raw.frame();
    assert!(written.is_ok(), "the client's writes failed: {written:?}");
    assert_eq!((f.opcode, f.close_code()), (CLOSE, Some(1002)));
}

fn a_handshake_that_times_out_is_not_reported(d: Dispatcher) {
    // The timer thread closes it: the close callback is for upgraded
    // connections only, whichever thread closes.
    let (b, ids) = reporting_ids(echo().handshake_timeout(Duration::from_millis(200)));
    let t = WsTest::start_on(b, d);
    let mut half = Raw::connect(t.addr);
    half.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    half.until_eof();
    // A connection that did upgrade, closed after the one that did not.
    let mut raw = t.raw();
    let id = ids.recv_timeout(WAIT).unwrap();
    raw.send_frame(FIN | CLOSE, &close_payload(1000, ""));
    raw.expect_close();
    drop(raw);
    let c = t.next_close();
    assert_eq!((c.id, c.cause), (id, CloseCause::ClosedByClient), "{c:?}");
    assert_eq!(t.closes_so_far(), vec![]);
}

fn a_peer_that_lingers_after_its_close_keeps_its_code(d: Dispatcher) {
    // The client's close is answered, but it keeps the TCP connection
    // open: the linger ends on the timer thread, which must still see the
    // code the client sent.
    let (b, ids) = reporting_ids(echo());
    let t = WsTest::start_on(b, d);
    let mut raw = t.raw();
    let id = ids.recv_timeout(WAIT).unwrap();
    raw.send_frame(FIN | CLOSE, &close_payload(4001, "later"));
    assert_eq!(raw.frame().close_code(), Some(4001));
    let c = t.next_close();
    assert_eq!(
        c,
        Closed {
            id,
            cause: CloseCause::ClosedByClient,
            code: Some(4001),
            msg: "later".into()
        }
    );
    drop(raw);
}

fn a_close_during_a_callback_is_reported_after_it(d: Dispatcher) {
    // Another thread closes a connection whose callback is running: the
    // callback's replies fail, and the close callback runs once it returned.
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::channel;
    use std::sync::{Arc, Mutex};
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    let (replied_tx, replied) = channel();
    let (closed_tx, closed) = channel();
    let (started_tx, go_rx, replied_tx) = (
        Mutex::new(started_tx),
        Mutex::new(go_rx),
        Mutex::new(replied_tx),
    );
    let done = Arc::new(AtomicBool::new(false));
    let done2 = done.clone();
    let server = WsServer::with_context(move |cx: &mut Ws| {
        started_tx.lock().unwrap().send(cx.socket()).unwrap();
        go_rx.lock().unwrap().recv().unwrap();
        let r = cx.reply_text("too late");
        replied_tx.lock().unwrap().send(format!("{r:?}")).unwrap();
        done2.store(true, Ordering::SeqCst);
    })
    .on_close(move |_, id, cause, code, _| {
        let _ = closed_tx.send((id, cause, code, done.load(Ordering::SeqCst)));
    })
    .address("127.0.0.1")
    .any_port()
    .threads(2)
    .dispatcher(d)
    .start()
    .unwrap();
    let addr = server.local_addr().unwrap();
    let mut raw = Raw::upgrade(addr, "/");
    raw.send_frame(FIN | TEXT, b"hold");
    let id = started.recv_timeout(WAIT).unwrap();
    assert!(server.close(id, CloseCause::CloseCalled, "from outside"));
    assert!(!server.is_open(id));
    raw.until_eof();
    go.send(()).unwrap();
    assert_eq!(replied.recv_timeout(WAIT).unwrap(), "Err(NotOpen)");
    let (cid, cause, code, callback_done) = closed.recv_timeout(WAIT).unwrap();
    assert_eq!((cid, cause, code), (id, CloseCause::CloseCalled, None));
    assert!(
        callback_done,
        "the close callback ran while the callback was running"
    );
    server.stop();
    server.join();
}

//! Keep-alive pings and shutdown: with a ping interval a client that
//! answers pings stays open and one that does not is closed as timed out;
//! stopping the server sends close 1001 to every open WebSocket first.

#[macro_use]
mod support;
mod ws_util;

use guildenstern::prelude::*;
use std::time::Duration;
use support::wait_until;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;
use ws_util::*;

on_both_dispatchers!(
    a_client_that_answers_pings_stays_open,
    a_client_that_never_answers_pings_is_closed,
    stop_sends_close_1001_first,
    a_handshake_no_worker_took_is_answered_at_a_stop,
);

const EVERY: Duration = Duration::from_millis(100);

fn a_client_that_answers_pings_stays_open(d: Dispatcher) {
    let (b, ids) = reporting_ids(echo().ping_interval(EVERY));
    let t = WsTest::start_on(b, d);
    let mut ws = t.client("/");
    let id = ids.recv_timeout(WAIT).unwrap();
    // tungstenite answers each ping on its next read. Two unanswered pings
    // would close the connection; six answered ones must not.
    let mut pings = 0;
    while pings < 6 {
        match ws.read() {
            Ok(Message::Ping(p)) => {
                assert!(p.is_empty(), "{p:?}");
                pings += 1;
            }
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    assert!(t.server.is_open(id));
    assert!(t.closes_so_far().is_empty());
    // Still a working connection.
    ws.send(Message::text("alive")).unwrap();
    loop {
        match ws.read().unwrap() {
            Message::Ping(_) => {}
            m => {
                assert_eq!(m, Message::text("alive"));
                break;
            }
        }
    }
    assert!(t.server.is_open(id));
}

fn a_client_that_never_answers_pings_is_closed(d: Dispatcher) {
    let (b, ids) = reporting_ids(echo().ping_interval(EVERY));
    let t = WsTest::start_on(b, d);
    let mut raw = t.raw();
    let id = ids.recv_timeout(WAIT).unwrap();
    let mut pings = 0;
    while let Some(f) = raw.read_frame() {
        match f.opcode {
            PING => {
                assert!(f.fin && f.payload.len() <= 125, "{f:?}");
                pings += 1;
            }
            // A parting close frame is allowed; nothing else is.
            CLOSE => {}
            _ => panic!("unexpected frame {f:?}"),
        }
    }
    assert!(pings >= 1, "the server never pinged");
    let c = t.next_close();
    assert_eq!((c.id, c.cause, c.code), (id, CloseCause::TimedOut, None));
}

/// A server with no interval sends no ping within ten times the interval
/// that a server pinging beside it is seen to keep (the control: a ping
/// merely late would not pass for absent).
#[test]
fn no_pings_without_an_interval() {
    let (b, ids) = reporting_ids(echo());
    let t = WsTest::start(b);
    let mut raw = t.raw();
    ids.recv_timeout(WAIT).unwrap();
    let pinging = WsTest::start(echo().ping_interval(EVERY));
    let mut control = pinging.raw();
    let started = std::time::Instant::now();
    assert_eq!(control.frame().opcode, PING);
    let window = (started.elapsed() * 10).max(EVERY * 10);
    raw.stream.set_read_timeout(Some(window)).unwrap();
    let mut byte = [0u8; 1];
    let got = std::io::Read::read(&mut raw.stream, &mut byte);
    assert!(
        matches!(&got, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "{got:?}"
    );
}

fn stop_sends_close_1001_first(d: Dispatcher) {
    let (b, ids) = reporting_ids(echo());
    let t = WsTest::start_on(b, d);
    let mut raws = vec![t.raw(), t.raw()];
    let mut ws = t.client("/");
    let mut opened: Vec<SocketId> = (0..3).map(|_| ids.recv_timeout(WAIT).unwrap()).collect();
    // Mid-conversation: one client has half a message in the server's buffer.
    raws[1].send_frame(TEXT, b"half");
    ws.send(Message::text("hi")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("hi"));

    t.server.stop();
    for raw in &mut raws {
        let f = raw.expect_close();
        assert_eq!(f.close_code(), Some(1001), "{f:?}");
    }
    match ws.read() {
        Ok(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Away),
        other => panic!("expected close 1001, got {other:?}"),
    }
    t.server.join();
    let mut closed: Vec<SocketId> = (0..3)
        .map(|_| {
            let c = t.next_close();
            assert_eq!(c.cause, CloseCause::Shutdown, "{c:?}");
            c.id
        })
        .collect();
    closed.sort();
    opened.sort();
    assert_eq!(closed, opened);
    assert!(wait_until(WAIT, || t.server.is_finished()));
}

/// A handshake that arrives while every worker is busy, then a stop: the
/// client gets an answer (a 503, or the upgrade and then close 1001 if a
/// worker took it after all), never a bare close.
fn a_handshake_no_worker_took_is_answered_at_a_stop(d: Dispatcher) {
    use std::sync::mpsc::channel;
    use std::sync::Mutex;
    let (entered_tx, entered) = channel::<()>();
    let (release, release_rx) = channel::<()>();
    let (entered_tx, release_rx) = (Mutex::new(entered_tx), Mutex::new(release_rx));
    let t = WsTest::start_on(
        WsServer::with_context(move |cx: &mut Ws| {
            entered_tx.lock().unwrap().send(()).unwrap();
            let _ = release_rx.lock().unwrap().recv_timeout(WAIT);
            let _ = cx.reply_text("done");
        }),
        d,
    );
    let mut holders: Vec<Raw> = (0..2).map(|_| t.raw()).collect();
    // Accepted while the workers are free: the backlog is taken in order,
    // and a connection made after it is served.
    let mut late = Raw::connect(t.addr);
    let mut last = t.raw();
    last.send_frame(FIN | PING, b"");
    assert_eq!(last.frame().opcode, PONG);
    for h in &mut holders {
        h.send_frame(FIN | TEXT, b"hold");
        entered.recv_timeout(WAIT).expect("a worker is held");
    }
    late.send(upgrade_request("/late"));
    t.server.stop();
    for _ in &holders {
        release.send(()).unwrap();
    }
    let head = late.read_head().expect("an answer to the handshake");
    if head.starts_with("HTTP/1.1 101 ") {
        assert_eq!(late.expect_close().close_code(), Some(1001));
    } else {
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(head.contains("Connection: close"), "{head}");
    }
    t.server.join();
}

//! The WebSocket client (a clientele) against real peers: our own server,
//! tungstenite's server (which refuses unmasked client frames), and a raw
//! server that answers the handshake wrongly or sends what a client must
//! refuse. Per-connection data on both sides.

#[macro_use]
mod support;
mod ws_util;

use guildenstern::client::{ClientError, Clientele, WsClientele};
use guildenstern::prelude::*;
use guildenstern::ws::{self, UpgradeAnswer};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use tungstenite::Message;
use ws_util::*;

on_both_dispatchers!(
    echoes_through_our_server_in_both_shapes,
    per_connection_data_on_server_and_client,
    the_client_starts_the_close_handshake,
    a_message_sent_with_the_answer_is_delivered,
);

/// What a clientele's callbacks saw.
enum Seen {
    Text(SocketId, String),
    Binary(SocketId, Vec<u8>),
    Closed(SocketId, CloseCause, Option<u16>),
}

fn recorder() -> (Arc<Mutex<Sender<Seen>>>, Receiver<Seen>) {
    let (tx, rx) = channel();
    (Arc::new(Mutex::new(tx)), rx)
}

/// A clientele on `d` whose argument-free receive callback and close
/// callback report on a channel.
fn plain_clientele(d: Dispatcher) -> (Clientele, Receiver<Seen>) {
    let (tx, rx) = recorder();
    let tx2 = tx.clone();
    let c = WsClientele::new(move || {
        let seen = if is_binary() {
            Seen::Binary(thesocket(), message())
        } else {
            Seen::Text(thesocket(), message_text())
        };
        tx.lock().unwrap().send(seen).unwrap();
    })
    .on_close(move |_, id, cause, code, _| {
        let _ = tx2.lock().unwrap().send(Seen::Closed(id, cause, code));
    })
    .dispatcher(d)
    .threads(2)
    .start()
    .expect("the clientele starts");
    (c, rx)
}

fn next(rx: &Receiver<Seen>) -> Seen {
    rx.recv_timeout(WAIT)
        .expect("a callback within the deadline")
}

fn next_text(rx: &Receiver<Seen>) -> (SocketId, String) {
    match next(rx) {
        Seen::Text(id, t) => (id, t),
        Seen::Binary(..) => panic!("binary, not text"),
        Seen::Closed(_, cause, code) => panic!("closed ({cause:?}, {code:?}), not text"),
    }
}

fn next_close(rx: &Receiver<Seen>) -> (SocketId, CloseCause, Option<u16>) {
    loop {
        if let Seen::Closed(id, cause, code) = next(rx) {
            return (id, cause, code);
        }
    }
}

fn echoes_through_our_server_in_both_shapes(d: Dispatcher) {
    let server = WsTest::start_on(echo(), d);
    let (plain, rx) = plain_clientele(d);
    let id = plain.connect(&server.url("/")).expect("connects");
    assert_eq!(plain.sockets(), vec![id]);
    plain.send_text(id, "hello κόσμε").unwrap();
    assert_eq!(next_text(&rx), (id, "hello κόσμε".to_owned()));
    // Large enough for a 64-bit length and many reads.
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
    plain.send_binary(id, &big).unwrap();
    match next(&rx) {
        Seen::Binary(from, got) => assert!(from == id && got == big),
        _ => panic!("expected the binary echo"),
    }
    // From the free functions, as on a server.
    ws::send_text(plain.server(), id, "free").unwrap();
    assert_eq!(next_text(&rx).1, "free");

    // The context shape: it answers every echo until a counter runs out.
    let (tx, rx2) = channel();
    let tx = Mutex::new(tx);
    let left = AtomicUsize::new(3);
    let cx_client = WsClientele::with_context(move |cx: &mut Ws| {
        tx.lock().unwrap().send(cx.text().to_owned()).unwrap();
        if left.fetch_sub(1, Ordering::SeqCst) > 1 {
            cx.reply_text(&format!("{}+", cx.text())).unwrap();
        }
    })
    .dispatcher(d)
    .start()
    .unwrap();
    let id2 = cx_client.connect(&server.url("/")).unwrap();
    cx_client.send_text(id2, "a").unwrap();
    let got: Vec<String> = (0..3).map(|_| rx2.recv_timeout(WAIT).unwrap()).collect();
    assert_eq!(got, ["a", "a+", "a++"]);
    cx_client.stop();
    cx_client.join();
    plain.stop();
    plain.join();
}

struct Room(String);
struct Tag(u32);

fn per_connection_data_on_server_and_client(d: Dispatcher) {
    // The server keeps the room named in the URI, from on_upgrade on.
    let (stx, srx) = channel::<String>();
    let stx = Mutex::new(stx);
    let builder = WsServer::new(|| {
        let room = ws::with_socket_data(|r: &mut Room| r.0.clone()).expect("the room");
        let _ = reply_text(&format!("{room}:{}", message_text()));
    })
    .on_upgrade(|req| {
        req.set_socket_data(Room(req.uri().trim_start_matches('/').to_owned()));
        UpgradeAnswer::Accept
    })
    .after_upgrade(|| {
        let room = ws::with_socket_data(|r: &mut Room| r.0.clone()).expect("the room");
        let _ = reply_text(&format!("welcome to {room}"));
    });
    let server = WsServer::on_close(builder, move |_, _, _, _, _| {
        let room = ws::with_socket_data(|r: &mut Room| r.0.clone());
        stx.lock().unwrap().send(room.unwrap_or_default()).unwrap();
    })
    .address("127.0.0.1")
    .any_port()
    .dispatcher(d)
    .start()
    .unwrap();
    let url = format!("ws://127.0.0.1:{}/", server.port());

    // The client tags each connection and counts messages in its data.
    let (tx, rx) = channel::<(u32, String)>();
    let tx = Mutex::new(tx);
    let (ctx, crx) = channel::<(u32, u32)>();
    let ctx = Mutex::new(ctx);
    let clientele = WsClientele::new(move || {
        let tag = ws::with_socket_data(|t: &mut Tag| {
            t.0 += 1000;
            t.0
        });
        tx.lock()
            .unwrap()
            .send((tag.unwrap(), message_text()))
            .unwrap();
    })
    .on_close(move |_, _, _, _, _| {
        let tag = ws::with_socket_data(|t: &mut Tag| t.0).unwrap_or(0);
        ctx.lock().unwrap().send((tag, 0)).unwrap();
    })
    .dispatcher(d)
    .start()
    .unwrap();
    let a = clientele
        .connect_with_data(&format!("{url}red"), Tag(1))
        .unwrap();
    let b = clientele
        .connect_with_data(&format!("{url}blue"), Tag(2))
        .unwrap();
    let mut greetings: Vec<(u32, String)> =
        (0..2).map(|_| rx.recv_timeout(WAIT).unwrap()).collect();
    greetings.sort();
    assert_eq!(
        greetings,
        [
            (1001, "welcome to red".into()),
            (1002, "welcome to blue".into())
        ]
    );
    clientele.send_text(b, "hi").unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), (2002, "blue:hi".into()));
    clientele.close(a, 1000, "bye").unwrap();
    assert_eq!(srx.recv_timeout(WAIT).unwrap(), "red");
    assert_eq!(crx.recv_timeout(WAIT).unwrap(), (1001, 0));
    clientele.stop();
    clientele.join();
    assert_eq!(crx.recv_timeout(WAIT).unwrap(), (2002, 0));
    server.stop();
    server.join();
}

fn the_client_starts_the_close_handshake(d: Dispatcher) {
    let server = WsTest::start_on(echo(), d);
    let (c, rx) = plain_clientele(d);
    let id = c.connect(&server.url("/")).unwrap();
    c.close(id, 4000, "done").unwrap();
    assert!(matches!(
        c.send_text(id, "late"),
        Err(ws::SendError::Closing | ws::SendError::NotOpen)
    ));
    let s = server.next_close();
    assert_eq!((s.cause, s.code), (CloseCause::ClosedByClient, Some(4000)));
    // The server's answer echoes the code; our side closed it.
    assert_eq!(next_close(&rx), (id, CloseCause::CloseCalled, Some(4000)));
    assert!(!c.is_open(id));
    assert!(c.sockets().is_empty());
    c.stop();
    c.join();
}

/// Starts a one-connection raw server: `serve` gets the accepted
/// connection after its upgrade request was read, with the request's key.
fn raw_server(
    serve: impl FnOnce(Raw, String) + Send + 'static,
) -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut raw = Raw::accepted(stream);
        let head = raw.read_head().expect("an upgrade request");
        assert!(head.starts_with("GET /path?q=1 HTTP/1.1\r\n"), "{head}");
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a key")
            .trim()
            .to_owned();
        serve(raw, key);
    });
    (addr, t)
}

fn answer(key: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        tungstenite::handshake::derive_accept_key(key.as_bytes())
    )
}

/// An unmasked server frame.
fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut v = vec![first, payload.len() as u8];
    v.extend_from_slice(payload);
    v
}

fn a_message_sent_with_the_answer_is_delivered(d: Dispatcher) {
    // The greeting comes in the same write as the 101: it is read with the
    // answer, before the socket reaches the dispatcher.
    let (addr, t) = raw_server(|mut raw, key| {
        let mut out = answer(&key).into_bytes();
        out.extend(server_frame(FIN | TEXT, b"hello"));
        // A fragmented message around a ping.
        out.extend(server_frame(TEXT, b"fr"));
        out.extend(server_frame(FIN | PING, b"p"));
        out.extend(server_frame(FIN | CONT, b"ag"));
        raw.send(out);
        // The client's frames are masked: its pong, then its echo.
        let pong = raw.frame();
        assert!(
            pong.masked && pong.opcode == PONG && pong.payload == b"p",
            "{pong:?}"
        );
        let echo = raw.frame();
        assert!(
            echo.masked && echo.opcode == TEXT && echo.payload == b"got frag",
            "{echo:?}"
        );
        raw.send(server_frame(FIN | CLOSE, &close_payload(1000, "")));
        let close = raw.frame();
        assert!(close.masked && close.close_code() == Some(1000));
    });
    let (c, rx) = plain_clientele(d);
    let id = c
        .connect(&format!("ws://{addr}/path?q=1"))
        .expect("the handshake succeeds");
    assert_eq!(next_text(&rx), (id, "hello".into()));
    assert_eq!(next_text(&rx), (id, "frag".into()));
    c.send_text(id, "got frag").unwrap();
    assert_eq!(
        next_close(&rx),
        (id, CloseCause::ClosedByClient, Some(1000))
    );
    t.join().unwrap();
    c.stop();
    c.join();
}

fn clientele() -> (Clientele, Receiver<Seen>) {
    plain_clientele(Dispatcher::default())
}

#[test]
fn a_wrong_accept_or_a_refusal_is_a_clear_error() {
    let (c, _rx) = clientele();
    let (addr, t) = raw_server(|mut raw, _key| {
        raw.send(answer("not the key"));
    });
    let e = c.connect(&format!("ws://{addr}/path?q=1")).unwrap_err();
    assert!(
        matches!(e, ClientError::BadAnswer("wrong Sec-WebSocket-Accept")),
        "{e}"
    );
    t.join().unwrap();

    let (addr, t) = raw_server(|mut raw, _key| {
        raw.send("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    });
    let e = c.connect(&format!("ws://{addr}/path?q=1")).unwrap_err();
    assert!(matches!(e, ClientError::Refused(403)), "{e}");
    assert_eq!(
        e.to_string(),
        "the server refused the upgrade with status 403"
    );
    t.join().unwrap();

    // Our own server declining.
    let server = WsTest::start(echo().on_upgrade(|_| UpgradeAnswer::Decline(401)));
    assert!(matches!(
        c.connect(&server.url("/")),
        Err(ClientError::Refused(401))
    ));
    assert!(matches!(
        c.connect("wss://example.org/"),
        Err(ClientError::Url(_))
    ));
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(matches!(
        c.connect(&format!("ws://{free}/")),
        Err(ClientError::Connect(_))
    ));
    assert_eq!(c.connections(), 0);
}

#[test]
fn a_masked_server_frame_is_closed_with_1002() {
    let (addr, t) = raw_server(|mut raw, key| {
        raw.send(answer(&key));
        raw.send(masked(FIN | TEXT, b"masked"));
        let close = raw.frame();
        assert!(close.masked);
        assert_eq!(close.close_code(), Some(1002));
    });
    let (c, rx) = clientele();
    let id = c.connect(&format!("ws://{addr}/path?q=1")).unwrap();
    assert_eq!(next_close(&rx), (id, CloseCause::ProtocolViolated, None));
    t.join().unwrap();
}

#[test]
fn invalid_utf8_from_the_server_is_closed_with_1007() {
    let (addr, t) = raw_server(|mut raw, key| {
        raw.send(answer(&key));
        raw.send(server_frame(FIN | TEXT, b"ab\xff"));
        assert_eq!(raw.frame().close_code(), Some(1007));
    });
    let (c, rx) = clientele();
    let id = c.connect(&format!("ws://{addr}/path?q=1")).unwrap();
    assert_eq!(next_close(&rx), (id, CloseCause::ProtocolViolated, None));
    t.join().unwrap();
}

#[test]
fn against_tungstenites_server() {
    // tungstenite's server fails the connection on an unmasked client
    // frame; it pings, echoes, and starts the close handshake.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut ws = tungstenite::accept(stream).expect("tungstenite accepts our handshake");
        ws.send(Message::Ping(b"tp".to_vec().into())).unwrap();
        let mut got = Vec::new();
        while got.len() < 3 {
            match ws.read().expect("a masked, valid frame") {
                Message::Text(t) => {
                    ws.send(Message::Text(format!("echo {t}").into())).unwrap();
                    got.push(t.to_string());
                }
                Message::Binary(b) => {
                    ws.send(Message::Binary(b.clone())).unwrap();
                    got.push(format!("{} bytes", b.len()));
                }
                Message::Pong(p) => assert_eq!(&p[..], b"tp"),
                other => panic!("unexpected {other:?}"),
            }
        }
        ws.close(None).unwrap();
        // Until our client's answer to the close.
        loop {
            match ws.read() {
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("{e}"),
            }
        }
        got
    });
    let (c, rx) = clientele();
    let id = c.connect(&format!("ws://{addr}/")).unwrap();
    c.send_text(id, "one").unwrap();
    c.send_binary(id, &vec![7u8; 100_000]).unwrap();
    c.send_text(id, "three").unwrap();
    assert_eq!(next_text(&rx).1, "echo one");
    match next(&rx) {
        Seen::Binary(_, b) => assert_eq!(b, vec![7u8; 100_000]),
        _ => panic!("binary echo expected"),
    }
    assert_eq!(next_text(&rx).1, "echo three");
    assert_eq!(next_close(&rx), (id, CloseCause::ClosedByClient, None));
    assert_eq!(t.join().unwrap(), ["one", "100000 bytes", "three"]);
}

#[test]
fn stopping_the_clientele_says_going_away_to_every_server() {
    let server = WsTest::start(echo());
    let (c, rx) = clientele();
    let ids = c.connect_many(&server.url("/"), 3).unwrap();
    let mut listed = c.sockets();
    listed.sort_by_key(|id| id.as_u64());
    let mut want = ids.clone();
    want.sort_by_key(|id| id.as_u64());
    assert_eq!(listed, want);
    c.stop();
    c.join();
    for _ in 0..3 {
        let s = server.next_close();
        assert_eq!((s.cause, s.code), (CloseCause::ClosedByClient, Some(1001)));
        assert_eq!(s.msg, "client shutting down");
    }
    let mut closed: Vec<SocketId> = (0..3).map(|_| next_close(&rx).0).collect();
    closed.sort_by_key(|id| id.as_u64());
    assert_eq!(closed, want);
    assert!(matches!(
        c.connect(&server.url("/")),
        Err(ClientError::Register(_))
    ));
}

#[test]
fn a_clientele_opens_max_connections_at_most() {
    let server = WsTest::start(echo());
    let c = WsClientele::new(|| {}).max_connections(2).start().unwrap();
    c.connect_many(&server.url("/"), 2).unwrap();
    assert!(matches!(
        c.connect(&server.url("/")),
        Err(ClientError::Register(_))
    ));
    assert_eq!(c.connections(), 2);
    c.stop();
    c.join();
}

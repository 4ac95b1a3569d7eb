//! The opening handshake (RFC 6455 §4.2) over loopback: a good upgrade
//! gets 101 with the right accept key; bad ones get 400 or 426 and a close;
//! the upgrade callback declines, picks a subprotocol, sees the request; the
//! after-upgrade callback greets the client.

#[macro_use]
mod support;
mod ws_util;

use guildenstern::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use support::{wait_until, Client, Reply};
use tungstenite::{ClientRequestBuilder, Message};
use ws_util::*;

on_both_dispatchers!(good_handshake_answers_101_with_the_accept_key);

fn good_handshake_answers_101_with_the_accept_key(d: Dispatcher) {
    let t = WsTest::start_on(echo(), d);
    let mut raw = Raw::connect(t.addr);
    raw.send(upgrade_request("/"));
    let head = raw.read_head().expect("a response");
    let mut lines = head.split("\r\n");
    assert_eq!(lines.next(), Some("HTTP/1.1 101 Switching Protocols"));
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').expect("a header line");
            (n.to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("sec-websocket-accept"), Some(ACCEPT), "{head}");
    assert!(get("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")));
    assert!(get("connection").is_some_and(|v| v.eq_ignore_ascii_case("upgrade")));
    assert_eq!(
        get("sec-websocket-protocol"),
        None,
        "no subprotocol was chosen"
    );
    // The connection now speaks frames.
    raw.send_frame(FIN | TEXT, b"after the upgrade");
    let f = raw.frame();
    assert_eq!((f.fin, f.opcode, f.masked), (true, TEXT, false));
    assert_eq!(f.text(), "after the upgrade");

    // tungstenite checks the accept key itself.
    let mut ws = t.client("/");
    ws.send(Message::text("hi")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("hi"));
}

#[test]
fn frames_sent_with_the_handshake_are_not_lost() {
    let t = WsTest::start(echo());
    let mut raw = Raw::connect(t.addr);
    let mut bytes = upgrade_request("/").into_bytes();
    bytes.extend(masked(FIN | TEXT, b"one"));
    bytes.extend(masked(FIN | BINARY, b"two"));
    raw.send(bytes);
    assert!(raw.read_head().unwrap().starts_with("HTTP/1.1 101 "));
    assert_eq!(raw.frame().payload, b"one");
    let f = raw.frame();
    assert_eq!((f.opcode, &f.payload[..]), (BINARY, &b"two"[..]));
}

/// Sends a request that must be refused: the answer, then the server's close.
fn refused(t: &WsTest, request: &str) -> Reply {
    let mut c = Client::connect(t.addr);
    c.send(request);
    let reply = c
        .read_reply()
        .unwrap_or_else(|| panic!("no answer to {request:?}"));
    assert_ne!(reply.status, 101, "{request:?} was accepted");
    assert!(
        c.is_closed_by_server(),
        "the server did not close after refusing {request:?}"
    );
    reply
}

/// An upgrade request with the headers of a good one, less those named in
/// `without`, plus `extra` lines.
fn request(method: &str, version: &str, without: &[&str], extra: &[&str]) -> String {
    let mut r = format!("{method} /chat {version}\r\n");
    for h in [
        "Host: 127.0.0.1".to_owned(),
        "Upgrade: websocket".to_owned(),
        "Connection: Upgrade".to_owned(),
        format!("Sec-WebSocket-Key: {KEY}"),
        "Sec-WebSocket-Version: 13".to_owned(),
    ] {
        if !without.iter().any(|w| h.starts_with(w)) {
            r.push_str(&h);
            r.push_str("\r\n");
        }
    }
    for e in extra {
        r.push_str(e);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r
}

#[test]
fn the_request_builder_makes_a_good_request() {
    // The bad requests below differ from this one only where they say.
    let t = WsTest::start(echo());
    let mut raw = Raw::connect(t.addr);
    raw.send(request("GET", "HTTP/1.1", &[], &[]));
    assert!(raw.read_head().unwrap().starts_with("HTTP/1.1 101 "));
}

#[test]
fn wrong_method_gets_400() {
    let t = WsTest::start(echo());
    for method in ["POST", "PUT", "HEAD"] {
        let r = refused(&t, &request(method, "HTTP/1.1", &[], &[]));
        assert_eq!(r.status, 400, "{method}");
    }
}

#[test]
fn missing_or_invalid_key_gets_400() {
    let t = WsTest::start(echo());
    let key = "Sec-WebSocket-Key";
    let cases = [
        request("GET", "HTTP/1.1", &[key], &[]),
        request("GET", "HTTP/1.1", &[key], &["Sec-WebSocket-Key: abc"]),
        // 16 bytes is 22 characters and "=="; these are 15 and 17 bytes.
        request(
            "GET",
            "HTTP/1.1",
            &[key],
            &["Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA"],
        ),
        request(
            "GET",
            "HTTP/1.1",
            &[key],
            &["Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA="],
        ),
        request(
            "GET",
            "HTTP/1.1",
            &[key],
            &["Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j!Q=="],
        ),
        request("GET", "HTTP/1.1", &[], &[&format!("{key}: {KEY}")]),
    ];
    for req in &cases {
        assert_eq!(refused(&t, req).status, 400, "{req:?}");
    }
}

#[test]
fn version_8_gets_426_naming_version_13() {
    let t = WsTest::start(echo());
    for version in ["8", "14", ""] {
        let line = format!("Sec-WebSocket-Version: {version}");
        let r = refused(
            &t,
            &request("GET", "HTTP/1.1", &["Sec-WebSocket-Version"], &[&line]),
        );
        assert_eq!(r.status, 426, "version {version:?}");
        assert_eq!(r.header("sec-websocket-version"), Some("13"));
    }
}

#[test]
fn no_upgrade_or_connection_header_gets_426() {
    let t = WsTest::start(echo());
    let cases = [
        request("GET", "HTTP/1.1", &["Upgrade"], &[]),
        request("GET", "HTTP/1.1", &["Connection"], &[]),
        request("GET", "HTTP/1.1", &["Upgrade", "Connection"], &[]),
        request(
            "GET",
            "HTTP/1.1",
            &["Connection"],
            &["Connection: keep-alive"],
        ),
        request("GET", "HTTP/1.1", &["Upgrade"], &["Upgrade: h2c"]),
    ];
    for req in &cases {
        let r = refused(&t, req);
        assert_eq!(r.status, 426, "{req:?}");
        assert_eq!(r.header("sec-websocket-version"), Some("13"));
    }
    // A plain GET, as a browser typing the address sends it.
    let r = refused(&t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 426);
}

#[test]
fn http_1_0_is_refused() {
    // RFC 6455 §4.1 asks for HTTP/1.1; RFC 9110 §7.8 has a server ignore
    // Upgrade in an HTTP/1.0 request, which leaves no upgrade at all.
    let t = WsTest::start(echo());
    let r = refused(&t, &request("GET", "HTTP/1.0", &[], &[]));
    assert_eq!(r.status, 426);
}

#[test]
fn upgrade_with_a_body_gets_400() {
    let t = WsTest::start(echo());
    let mut req = request("GET", "HTTP/1.1", &[], &["Content-Length: 5"]);
    req.push_str("hello");
    assert_eq!(refused(&t, &req).status, 400);
}

#[test]
fn refused_handshakes_do_not_reach_on_close() {
    let t = WsTest::start(echo());
    for req in [
        request("POST", "HTTP/1.1", &[], &[]),
        request("GET", "HTTP/1.1", &["Upgrade"], &[]),
    ] {
        refused(&t, &req);
    }
    assert!(wait_until(WAIT, || t.server.connections() == 0));
    // An upgraded connection that closes is the first to be reported.
    let mut ws = t.client("/");
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    drop(ws);
    let c = t.next_close();
    assert_eq!(c.cause, CloseCause::ClosedByClient, "{c:?}");
    assert!(t.closes_so_far().is_empty());
}

#[test]
fn upgrade_callback_declines_with_its_status() {
    let upgrades = Arc::new(AtomicUsize::new(0));
    let u = upgrades.clone();
    let t = WsTest::start(
        echo()
            .on_upgrade(|req| match req.uri() {
                "/forbidden" => UpgradeAnswer::Decline(403),
                "/login" => UpgradeAnswer::Decline(401),
                "/odd" => UpgradeAnswer::Decline(200),
                _ => UpgradeAnswer::Accept,
            })
            .after_upgrade(move || {
                u.fetch_add(1, Ordering::SeqCst);
            }),
    );
    let req = |path: &str| upgrade_request(path);
    assert_eq!(refused(&t, &req("/forbidden")).status, 403);
    assert_eq!(refused(&t, &req("/login")).status, 401);
    // Not an error status: the server declines with 403 instead.
    assert_eq!(refused(&t, &req("/odd")).status, 403);
    assert_eq!(upgrades.load(Ordering::SeqCst), 0);
    let mut ws = t.client("/welcome");
    ws.send(Message::text("in")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("in"));
    assert_eq!(upgrades.load(Ordering::SeqCst), 1);
}

#[test]
fn upgrade_callback_chooses_an_offered_subprotocol() {
    let t =
        WsTest::start(echo().on_upgrade(
            |req| match req.protocols().find(|p| p.starts_with("chat.")) {
                Some(p) => UpgradeAnswer::AcceptProtocol(p.to_owned()),
                None => UpgradeAnswer::Accept,
            },
        ));
    let builder = ClientRequestBuilder::new(t.url("/").parse().unwrap())
        .with_sub_protocol("mqtt")
        .with_sub_protocol("chat.v2")
        .with_sub_protocol("chat.v1");
    let stream = support::connect_with_deadline(t.addr, WAIT);
    let (mut ws, resp) = tungstenite::client(builder, stream).expect("handshake");
    assert_eq!(resp.status(), 101);
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap()),
        Some("chat.v2")
    );
    ws.send(Message::text("x")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("x"));

    // No subprotocol offered: none in the answer.
    let mut raw = Raw::connect(t.addr);
    raw.send(upgrade_request("/"));
    let head = raw.read_head().unwrap();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("sec-websocket-protocol"),
        "{head}"
    );
}

#[test]
fn a_subprotocol_the_client_did_not_offer_is_refused() {
    let upgrades = Arc::new(AtomicUsize::new(0));
    let u = upgrades.clone();
    let t = WsTest::start(
        echo()
            .on_upgrade(|_| UpgradeAnswer::AcceptProtocol("graphql-ws".into()))
            .after_upgrade(move || {
                u.fetch_add(1, Ordering::SeqCst);
            }),
    );
    let req = request(
        "GET",
        "HTTP/1.1",
        &[],
        &["Sec-WebSocket-Protocol: chat, superchat"],
    );
    let r = refused(&t, &req);
    assert!(r.status >= 400, "{r:?}");
    assert!(r.header("sec-websocket-protocol").is_none());
    // Nor when the client offers none.
    let r = refused(&t, &request("GET", "HTTP/1.1", &[], &[]));
    assert!(r.status >= 400, "{r:?}");
    assert_eq!(upgrades.load(Ordering::SeqCst), 0);
}

#[test]
fn upgrade_callback_panic_answers_500() {
    let t = WsTest::start(echo().on_upgrade(|req| {
        if req.uri() == "/boom" {
            panic!("upgrade callback fails on purpose");
        }
        UpgradeAnswer::Accept
    }));
    assert_eq!(refused(&t, &upgrade_request("/boom")).status, 500);
    // The worker lives on.
    let mut ws = t.client("/");
    ws.send(Message::text("still here")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("still here"));
}

#[test]
fn after_upgrade_sends_the_first_message() {
    let (tx, rx) = mpsc::channel();
    let t = WsTest::start(
        echo()
            .on_upgrade(move |req| {
                tx.send(req.socket()).unwrap();
                UpgradeAnswer::Accept
            })
            .after_upgrade(|| {
                let greeting = format!("welcome {}", thesocket().as_u64());
                reply_text(&greeting).unwrap();
                // No message is in flight here.
                assert!(message().is_empty());
            }),
    );
    for _ in 0..2 {
        let mut ws = t.client("/");
        let id = rx.recv_timeout(WAIT).unwrap();
        assert_eq!(
            ws.read().unwrap(),
            Message::text(format!("welcome {}", id.as_u64()))
        );
        ws.send(Message::text("then echo")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("then echo"));
    }
}

/// What the upgrade callback saw.
#[derive(Debug, PartialEq)]
struct Seen {
    uri: String,
    token: Option<String>,
    token_upper: Option<String>,
    host: Option<String>,
    missing: Option<String>,
    protocols: Vec<String>,
}

#[test]
fn upgrade_request_accessors_in_the_callback() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let t = WsTest::start(echo().on_upgrade(move |req| {
        let own = |s: Option<&str>| s.map(str::to_owned);
        tx.lock()
            .unwrap()
            .send(Seen {
                uri: req.uri().to_owned(),
                token: own(req.header("x-token")),
                token_upper: own(req.header("X-TOKEN")),
                host: own(req.header("host")),
                missing: own(req.header("x-missing")),
                protocols: req.protocols().map(str::to_owned).collect(),
            })
            .unwrap();
        UpgradeAnswer::AcceptProtocol("b".into())
    }));
    let mut raw = Raw::connect(t.addr);
    raw.send(
        "GET /chat?room=1&x=%20 HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\n\
         Connection: keep-alive, Upgrade\r\nX-Token: abc 123\r\nX-Token: second\r\n\
         Sec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol:  c ,d\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let head = raw.read_head().unwrap();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.contains("\r\nSec-WebSocket-Protocol: b\r\n"), "{head}");
    assert!(head.contains(&format!("\r\nSec-WebSocket-Accept: {ACCEPT}\r\n")));
    let seen = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(
        seen,
        Seen {
            uri: "/chat?room=1&x=%20".into(),
            token: Some("abc 123".into()),
            token_upper: Some("abc 123".into()),
            host: Some("example.test".into()),
            missing: None,
            protocols: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        }
    );
}

#[test]
fn a_silent_client_is_closed_after_the_handshake_timeout() {
    let t = WsTest::start(echo().handshake_timeout(Duration::from_millis(200)));
    let mut raw = Raw::connect(t.addr);
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n");
    raw.until_eof();
    assert!(wait_until(WAIT, || t.server.connections() == 0));
}

#[test]
fn an_oversized_handshake_is_refused() {
    let t = WsTest::start(echo().max_header_bytes(1024));
    let filler = format!("X-Filler: {}", "f".repeat(3000));
    let mut c = Client::connect(t.addr);
    c.send(request("GET", "HTTP/1.1", &[], &[&filler]));
    // Either a 431 answer or a bare close; never an upgrade.
    if let Some(r) = c.read_reply() {
        assert_eq!(r.status, 431, "{r:?}");
    }
    drop(c);
    assert!(wait_until(WAIT, || t.server.connections() == 0));
}

/// `Server::sockets` lists WebSockets only: a connection still sending its
/// handshake is open (counted) but not listed, so a broadcast to the list
/// does not report it as failed.
#[test]
fn sockets_lists_only_connections_past_the_handshake() {
    let (builder, ids) = reporting_ids(echo());
    let t = WsTest::start(builder);
    let mut ws = t.client("/");
    let upgraded = ids.recv_timeout(WAIT).expect("an upgrade");
    let request = upgrade_request("/");
    let (first, rest) = request.split_at(request.find("Upgrade:").unwrap());
    let mut pending = Raw::connect(t.addr);
    pending.send(first);
    assert!(wait_until(WAIT, || t.server.connections() == 2));
    assert_eq!(t.server.sockets(), vec![upgraded]);
    assert_eq!(
        guildenstern::ws::multicast_text(&t.server, &t.server.sockets(), "all", WAIT),
        vec![],
        "the broadcast failed somewhere"
    );
    assert_eq!(ws.read().unwrap(), Message::text("all"));

    // Once its handshake is done, it is listed.
    pending.send(rest);
    assert!(pending.read_head().unwrap().starts_with("HTTP/1.1 101 "));
    let second = ids.recv_timeout(WAIT).expect("a second upgrade");
    let mut listed = t.server.sockets();
    listed.sort_by_key(|id| id.as_u64());
    let mut both = vec![upgraded, second];
    both.sort_by_key(|id| id.as_u64());
    assert_eq!(listed, both);
}

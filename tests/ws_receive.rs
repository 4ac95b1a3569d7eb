//! Receiving (RFC 6455 §5–6): the message accessors in both callback
//! shapes, fragments reassembled around interleaved pings, and the frames a
//! server must refuse — invalid UTF-8 (1007), protocol errors (1002), a
//! message over the limit (1009) — each answered with a close frame.

#[macro_use]
mod support;
mod ws_util;

use guildenstern::prelude::*;
use tungstenite::Message;
use ws_util::*;

on_both_dispatchers!(
    plain_accessors_see_the_message,
    context_accessors_see_the_message,
    fragments_are_reassembled_around_pings,
    a_frame_trickling_in_byte_by_byte_is_parked_until_whole,
    ping_is_answered_with_the_same_payload,
    invalid_utf8_is_closed_with_1007,
    protocol_violations_are_closed_with_1002,
);

fn plain_accessors_see_the_message(d: Dispatcher) {
    let (b, ids) = reporting_ids(WsServer::new(|| {
        let copied = message();
        let text = message_text();
        let lent_len = with_message(|m| {
            assert_eq!(m, &copied[..]);
            m.len()
        });
        let answer = format!(
            "len={} lent={} binary={} is_hello={} socket={} text={}",
            copied.len(),
            lent_len,
            is_binary(),
            is_message("hello"),
            thesocket().as_u64(),
            text,
        );
        reply_text(&answer).unwrap();
        if is_binary() {
            reply_binary(&copied).unwrap();
        }
    }));
    let t = WsTest::start_on(b, d);
    let mut ws = t.client("/");
    let id = ids.recv_timeout(WAIT).unwrap().as_u64();

    ws.send(Message::text("hello")).unwrap();
    let want = format!("len=5 lent=5 binary=false is_hello=true socket={id} text=hello");
    assert_eq!(ws.read().unwrap(), Message::text(want));

    ws.send(Message::text("κόσμε")).unwrap();
    let want = format!("len=10 lent=10 binary=false is_hello=false socket={id} text=κόσμε");
    assert_eq!(ws.read().unwrap(), Message::text(want));

    // Binary, not UTF-8: the text accessor gives "".
    let bytes = vec![0u8, 1, 2, 0xff, 0xfe];
    ws.send(Message::binary(bytes.clone())).unwrap();
    let want = format!("len=5 lent=5 binary=true is_hello=false socket={id} text=");
    assert_eq!(ws.read().unwrap(), Message::text(want));
    assert_eq!(ws.read().unwrap(), Message::binary(bytes));

    // Binary bytes that spell "hello" still match is_message.
    ws.send(Message::binary(&b"hello"[..])).unwrap();
    let want = format!("len=5 lent=5 binary=true is_hello=true socket={id} text=");
    assert_eq!(ws.read().unwrap(), Message::text(want));
    assert_eq!(ws.read().unwrap(), Message::binary(&b"hello"[..]));

    // An empty message.
    ws.send(Message::text("")).unwrap();
    let want = format!("len=0 lent=0 binary=false is_hello=false socket={id} text=");
    assert_eq!(ws.read().unwrap(), Message::text(want));

    // A second connection has its own id.
    let mut ws2 = t.client("/");
    let id2 = ids.recv_timeout(WAIT).unwrap().as_u64();
    assert_ne!(id, id2);
    ws2.send(Message::text("hello")).unwrap();
    let want = format!("len=5 lent=5 binary=false is_hello=true socket={id2} text=hello");
    assert_eq!(ws2.read().unwrap(), Message::text(want));
}

fn context_accessors_see_the_message(d: Dispatcher) {
    let (b, ids) = reporting_ids(WsServer::with_context(|cx: &mut Ws| {
        assert_eq!(cx.socket(), thesocket());
        let answer = format!(
            "len={} binary={} socket={} port={} text={}",
            cx.message().len(),
            cx.is_binary(),
            cx.socket().as_u64(),
            cx.server().port(),
            cx.text(),
        );
        cx.reply_text(&answer).unwrap();
        if cx.is_binary() {
            cx.reply_binary(cx.message()).unwrap();
        }
    }));
    let t = WsTest::start_on(b, d);
    let port = t.addr.port();
    let mut ws = t.client("/");
    let id = ids.recv_timeout(WAIT).unwrap().as_u64();

    ws.send(Message::text("grüße")).unwrap();
    let want = format!("len=7 binary=false socket={id} port={port} text=grüße");
    assert_eq!(ws.read().unwrap(), Message::text(want));

    let bytes: Vec<u8> = (0..=255).collect();
    ws.send(Message::binary(bytes.clone())).unwrap();
    let want = format!("len=256 binary=true socket={id} port={port} text=");
    assert_eq!(ws.read().unwrap(), Message::text(want));
    assert_eq!(ws.read().unwrap(), Message::binary(bytes));

    // A message too big for one read, and for the initial buffer.
    let big = "z".repeat(300_000);
    ws.send(Message::text(big.clone())).unwrap();
    let want = format!("len=300000 binary=false socket={id} port={port} text={big}");
    assert_eq!(ws.read().unwrap(), Message::text(want));
}

#[test]
fn with_message_lets_replies_run_inside() {
    // The accessors' documentation promises replies inside `with_message`.
    let t = WsTest::start(WsServer::new(|| {
        with_message(|m| {
            if is_binary() {
                reply_binary(m).unwrap();
            } else {
                reply_text(std::str::from_utf8(m).unwrap()).unwrap();
            }
        })
    }));
    let mut ws = t.client("/");
    ws.send(Message::text("no copy")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("no copy"));
    ws.send(Message::binary(vec![9u8; 10])).unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(vec![9u8; 10]));
}

#[test]
fn accessors_outside_a_callback_fail_clearly() {
    let err = std::panic::catch_unwind(message).expect_err("message() outside a callback");
    let text = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(text.contains("guildenstern"), "{text}");
    assert!(text.contains("WebSocket"), "{text}");
}

fn fragments_are_reassembled_around_pings(d: Dispatcher) {
    let t = WsTest::start_on(echo(), d);
    let mut raw = t.raw();

    // Text in three fragments, a ping between each, all in one write.
    let mut bytes = masked(TEXT, b"Hel");
    bytes.extend(masked(FIN | PING, b"p1"));
    bytes.extend(masked(CONT, b"lo, "));
    bytes.extend(masked(FIN | PING, b"p2"));
    bytes.extend(masked(FIN | CONT, "wörld".as_bytes()));
    raw.send(bytes);
    for want in [&b"p1"[..], b"p2"] {
        let f = raw.frame();
        assert_eq!((f.fin, f.opcode, &f.payload[..]), (true, PONG, want));
    }
    let f = raw.frame();
    assert_eq!((f.fin, f.rsv, f.opcode, f.masked), (true, 0, TEXT, false));
    assert_eq!(f.text(), "Hello, wörld");

    // Binary, fragments in separate writes, an empty first fragment, and a
    // UTF-8 sequence split across text fragments.
    raw.send_frame(BINARY, b"");
    raw.send_frame(FIN | PING, b"");
    raw.send_frame(CONT, &[1, 2, 3]);
    raw.send_frame(FIN | CONT, &[0xff, 0]);
    let f = raw.frame();
    assert_eq!((f.opcode, &f.payload[..]), (PONG, &b""[..]));
    let f = raw.frame();
    assert_eq!(
        (f.fin, f.opcode, &f.payload[..]),
        (true, BINARY, &[1, 2, 3, 0xff, 0][..])
    );

    let euro = "€".as_bytes();
    raw.send_frame(TEXT, &euro[..1]);
    raw.send_frame(CONT, &euro[1..2]);
    raw.send_frame(FIN | CONT, &euro[2..]);
    assert_eq!(raw.frame().text(), "€");

    // A large message in large fragments (64-bit lengths, buffer growth).
    let part: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    raw.send_frame(BINARY, &part);
    raw.send_frame(CONT, &part);
    raw.send_frame(FIN | PING, b"mid");
    raw.send_frame(FIN | CONT, &part);
    assert_eq!(raw.frame().payload, b"mid");
    let f = raw.frame();
    assert_eq!(f.opcode, BINARY);
    assert_eq!(f.payload.len(), 300_000);
    assert!(f.payload.chunks(100_000).all(|c| c == &part[..]));

    // A single-frame message after the fragmented ones.
    raw.send_frame(FIN | TEXT, b"single");
    assert_eq!(raw.frame().text(), "single");
}

fn a_frame_trickling_in_byte_by_byte_is_parked_until_whole(d: Dispatcher) {
    let t = WsTest::start_on(echo(), d);
    let mut raw = t.raw();
    let payload = "x".repeat(300);
    let mut bytes = masked(FIN | TEXT, payload.as_bytes());
    bytes.extend(masked(FIN | TEXT, b"next"));
    for b in &bytes {
        raw.send([*b]);
    }
    assert_eq!(raw.frame().text(), payload);
    assert_eq!(raw.frame().text(), "next");
}

fn ping_is_answered_with_the_same_payload(d: Dispatcher) {
    let t = WsTest::start_on(echo(), d);
    let mut raw = t.raw();
    let longest: Vec<u8> = (0..125u8).collect();
    for payload in [&b""[..], b"hello ping", &[0xff, 0, 0x80], &longest[..]] {
        raw.send_frame(FIN | PING, payload);
        let f = raw.frame();
        assert_eq!((f.fin, f.opcode, f.masked), (true, PONG, false));
        assert_eq!(f.payload, payload);
    }
    // An unsolicited pong gets no answer.
    raw.send_frame(FIN | PONG, b"unasked");
    raw.send_frame(FIN | TEXT, b"after pong");
    assert_eq!(raw.frame().text(), "after pong");

    // tungstenite sees its own payload come back.
    let mut ws = t.client("/");
    ws.send(Message::Ping(b"tung"[..].into())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"tung"[..].into()));
}

/// Sends `bytes` on a new connection; the server must answer with a close
/// frame carrying `code`, end the connection, and report `cause`.
fn closed_with(t: &WsTest, bytes: &[u8], code: u16, cause: CloseCause, what: &str) {
    let mut raw = t.raw();
    raw.send(bytes);
    let f = raw.frame();
    assert_eq!(f.opcode, CLOSE, "{what}: expected a close frame, got {f:?}");
    assert_eq!(f.close_code(), Some(code), "{what}: {f:?}");
    assert!(
        std::str::from_utf8(&f.payload[2..]).is_ok(),
        "{what}: the reason must be UTF-8"
    );
    raw.expect_eof();
    drop(raw);
    let c = t.next_close();
    assert_eq!(c.cause, cause, "{what}: {c:?}");
    assert_eq!(c.code, None, "{what}: the client sent no close frame");
}

fn invalid_utf8_is_closed_with_1007(d: Dispatcher) {
    let t = WsTest::start_on(echo(), d);
    let cat = |frames: &[Vec<u8>]| frames.concat();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("single frame", masked(FIN | TEXT, b"ok \xff\xfe")),
        ("overlong encoding", masked(FIN | TEXT, b"\xc0\xaf")),
        ("surrogate", masked(FIN | TEXT, b"\xed\xa0\x80")),
        ("truncated at the end", masked(FIN | TEXT, b"ab\xe2\x82")),
        (
            "bad byte in a later fragment",
            cat(&[masked(TEXT, b"fine "), masked(FIN | CONT, b"then \xff")]),
        ),
        (
            // A valid lead byte in one fragment, a bad continuation in the next.
            "split sequence gone bad",
            cat(&[masked(TEXT, b"\xce"), masked(FIN | CONT, b"A")]),
        ),
        (
            "unfinished sequence in the last fragment",
            cat(&[masked(TEXT, b"ok"), masked(FIN | CONT, b"\xe2\x82")]),
        ),
        (
            "close reason",
            masked(
                FIN | CLOSE,
                &close_payload(1000, "\u{0}\u{0}")
                    .iter()
                    .chain(b"\xff")
                    .copied()
                    .collect::<Vec<_>>(),
            ),
        ),
    ];
    for (what, bytes) in &cases {
        closed_with(&t, bytes, 1007, CloseCause::ProtocolViolated, what);
    }

    // Fail fast: a fragment that cannot start valid UTF-8 closes the
    // connection before the message is complete.
    closed_with(
        &t,
        &masked(TEXT, b"\xff never finished"),
        1007,
        CloseCause::ProtocolViolated,
        "first fragment invalid, message unfinished",
    );
}

fn protocol_violations_are_closed_with_1002(d: Dispatcher) {
    let t = WsTest::start_on(echo(), d);
    let mut unmasked = vec![FIN | TEXT, 2];
    unmasked.extend_from_slice(b"hi");
    let long_ping = masked(FIN | PING, &[7u8; 126]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unmasked frame", unmasked),
        ("RSV1 without an extension", masked(FIN | 0x40 | TEXT, b"x")),
        ("RSV2", masked(FIN | 0x20 | BINARY, b"x")),
        ("RSV3 on a ping", masked(FIN | 0x10 | PING, b"")),
        ("reserved data opcode 3", masked(FIN | 0x3, b"x")),
        ("reserved data opcode 7", masked(FIN | 0x7, b"")),
        ("reserved control opcode B", masked(FIN | 0xB, b"")),
        ("reserved control opcode F", masked(FIN | 0xF, b"x")),
        ("fragmented ping", masked(PING, b"frag")),
        ("fragmented close", masked(CLOSE, &close_payload(1000, ""))),
        ("ping over 125 bytes", long_ping),
        (
            "continuation without a message",
            masked(FIN | CONT, b"orphan"),
        ),
        (
            "a new message inside a fragmented one",
            [masked(TEXT, b"first"), masked(FIN | TEXT, b"second")].concat(),
        ),
        ("close payload of one byte", masked(FIN | CLOSE, &[3])),
        (
            "close code 1005",
            masked(FIN | CLOSE, &close_payload(1005, "")),
        ),
        (
            "close code 999",
            masked(FIN | CLOSE, &close_payload(999, "")),
        ),
        (
            "close code 1016",
            masked(FIN | CLOSE, &close_payload(1016, "")),
        ),
    ];
    for (what, bytes) in &cases {
        closed_with(&t, bytes, 1002, CloseCause::ProtocolViolated, what);
    }
}

#[test]
fn a_message_over_the_limit_is_closed_with_1009() {
    let t = WsTest::start(echo().max_message_bytes(1000));
    // At the limit: accepted, whole or in fragments.
    let mut raw = t.raw();
    raw.send_frame(FIN | BINARY, &[1u8; 1000]);
    assert_eq!(raw.frame().payload.len(), 1000);
    raw.send_frame(BINARY, &[2u8; 500]);
    raw.send_frame(FIN | CONT, &[2u8; 500]);
    assert_eq!(raw.frame().payload, vec![2u8; 1000]);
    drop(raw);
    let _ = t.next_close();

    let over = CloseCause::SecurityThreatened;
    closed_with(
        &t,
        &masked(FIN | BINARY, &[0u8; 1001]),
        1009,
        over,
        "one frame",
    );
    closed_with(
        &t,
        &masked(FIN | TEXT, &[b'a'; 5000]),
        1009,
        over,
        "text frame",
    );
    closed_with(
        &t,
        &[masked(BINARY, &[0u8; 600]), masked(FIN | CONT, &[0u8; 401])].concat(),
        1009,
        over,
        "fragments",
    );
    // A header announcing 2^62 bytes is refused before any payload comes.
    closed_with(
        &t,
        &masked_with_len(FIN | BINARY, b"", 1 << 62),
        1009,
        over,
        "announced length only",
    );
}

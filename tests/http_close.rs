//! Answers that end their connection, over loopback: they say so
//! (`Connection: close`, whichever way the close was asked for), and the
//! close lingers so that a client still sending reads the whole answer.

#[macro_use]
mod support;

use guildenstern::prelude::*;
use std::io::Read;
use std::sync::mpsc;
use support::*;

on_both_dispatchers!(
    close_after_reply_says_close,
    close_before_reply_says_close,
    context_close_says_close,
    http10_close_after_reply_replaces_keep_alive,
    closing_answer_survives_a_client_still_sending,
);

/// A body whose every byte depends on its position.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// Larger than the socket buffers hold: when the connection closes, part
/// of it is still in the server's send queue.
const BIG: usize = 2 << 20;

fn closing() {
    match uri().as_str() {
        "/after" => {
            reply_code(204);
            close_socket("/after");
        }
        "/after-body" => {
            reply_with(200, "bye", &[("X-Extra", "1")]);
            close_socket("/after-body");
        }
        "/before" => {
            close_socket("/before");
            reply("bye");
        }
        "/big" => reply(pattern(BIG)),
        _ => reply("hello"),
    }
}

/// Collects the on-close causes and messages.
fn server_with_causes(
    d: Dispatcher,
    builder: HttpServer,
) -> (TestServer, mpsc::Receiver<(CloseCause, String)>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let srv = start_on(
        d,
        builder.on_close(move |_, _, cause, msg| {
            let _ = tx.lock().unwrap().send((cause, msg.to_owned()));
        }),
    );
    (srv, rx)
}

fn close_after_reply_says_close(d: Dispatcher) {
    let (srv, causes) = server_with_causes(d, HttpServer::new(closing));
    for path in ["/after", "/after-body"] {
        let mut c = srv.connect();
        let r = c.request(get(path));
        assert_eq!(
            r.header("connection"),
            Some("close"),
            "{path}: {:?}",
            r.headers
        );
        let closes = r
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .count();
        assert_eq!(closes, 1, "{:?}", r.headers);
        if path == "/after-body" {
            assert_eq!(r.text(), "bye");
            assert_eq!(r.header("x-extra"), Some("1"));
        }
        assert!(c.is_closed_by_server());
        drop(c);
        let (cause, msg) = causes.recv_timeout(IO_TIMEOUT).unwrap();
        assert_eq!((cause, msg.as_str()), (CloseCause::CloseCalled, path));
    }
}

fn close_before_reply_says_close(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(closing));
    let mut c = srv.connect();
    let r = c.request(get("/before"));
    assert_eq!(r.text(), "bye");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed_by_server());
}

fn context_close_says_close(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::with_context(|cx: &mut Http| {
            cx.reply("ctx");
            cx.close_socket("context shape");
        }),
    );
    let mut c = srv.connect();
    let r = c.request(get("/"));
    assert_eq!(r.text(), "ctx");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed_by_server());
}

fn http10_close_after_reply_replaces_keep_alive(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(closing));
    let mut c = srv.connect();
    let r = c.request("GET /after-body HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(r.text(), "bye");
    let connection: Vec<_> = r
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(connection, ["close"]);
    assert!(c.is_closed_by_server());
}

/// A client asks for a large answer with `Connection: close` and keeps
/// sending (pipelined requests the server will not serve) while it reads.
/// A close at once would meet those unread bytes and reset the connection,
/// which throws away the part of the answer still in the send queue.
fn closing_answer_survives_a_client_still_sending(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(closing));
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..3 {
            let tx = tx.clone();
            let mut c = srv.connect();
            s.spawn(move || {
                // The closing request, then 48 KB the server will not serve
                // (they fit in the socket buffers, so all of it is sent
                // before the client reads; a client sending more while it
                // reads is in dispatch_half_close).
                let mut bytes =
                    b"GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec();
                bytes.extend_from_slice(&get("/more").repeat(2000).as_bytes()[..48_000]);
                c.send(bytes);
                let r = c.read_reply();
                let ok = r.as_ref().is_some_and(|r| r.body == pattern(BIG));
                let mut rest = Vec::new();
                let eof = ok && c.reader.read_to_end(&mut rest).is_ok();
                tx.send((r.map(|r| r.body.len()), eof)).unwrap();
            });
        }
    });
    drop(tx);
    let got: Vec<_> = rx.iter().collect();
    assert_eq!(got.len(), 3);
    for (len, eof) in got {
        assert_eq!(len, Some(BIG), "the whole answer arrives");
        assert!(eof, "then the end of the stream, not a reset");
    }
}

#[test]
fn pipelined_after_close_is_not_served() {
    // Requests behind a `Connection: close` one are read and dropped.
    let (srv, causes) = server_with_causes(Dispatcher::Epoll, HttpServer::new(closing));
    let mut c = srv.connect();
    c.send(format!(
        "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n{}",
        get("/y")
    ));
    let r = c.read_reply().unwrap();
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed_by_server());
    drop(c);
    let (cause, _) = causes.recv_timeout(IO_TIMEOUT).unwrap();
    assert_eq!(cause, CloseCause::ClosedByClient);
}

//! Replies and accessors over loopback: every reply shape, the thread-local
//! accessors and the explicit context, per-connection data, and the
//! `#[http_server]` attribute in both handler shapes.

#[macro_use]
mod support;

use guildenstern::prelude::*;
use std::panic::catch_unwind;
use support::*;

fn start(builder: HttpServer) -> TestServer {
    TestServer::start(builder.threads(2))
}

on_both_dispatchers!(
    reply_shapes,
    chunked_reply_wire_format,
    large_reply_then_keep_alive,
    no_reply_is_500_and_panic_is_500,
    header_injection_is_dropped,
    framing_fields_are_the_servers,
    bodyless_statuses_carry_no_body,
    socket_data_lives_with_the_connection,
    streaming_stops_when_the_client_leaves,
    nested_with_body_is_a_clear_error,
);

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(IO_TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// A body whose every byte depends on its position.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

const BIG: usize = 4 << 20;

fn replies() {
    match uri().as_str() {
        "/code" => reply_code(404),
        "/nocontent" => reply_code(204),
        "/body" => reply("hello"),
        "/see" => reply_with(
            303,
            "see other",
            &[("Location", "/there"), ("X-Extra", "1")],
        ),
        "/known" => {
            reply_start(200, 10, &[("Content-Type", "text/plain")]);
            reply_more("hello").unwrap();
            reply_more("").unwrap();
            reply_more("world").unwrap();
            reply_finish().unwrap();
        }
        "/known-implicit-finish" => {
            reply_start(200, 3, &[]);
            reply_more("abc").unwrap();
        }
        "/chunked" => {
            reply_chunked_start(201, &[("X-Kind", "chunks")]);
            reply_chunk("a").unwrap();
            reply_chunk("").unwrap();
            reply_chunk("bb").unwrap();
            reply_chunk(pattern(40_000)).unwrap();
            reply_chunked_finish().unwrap();
        }
        "/chunked-implicit-finish" => {
            reply_chunked_start(200, &[]);
            reply_chunk("xyz").unwrap();
        }
        "/big" => reply(pattern(BIG)),
        "/nothing" => {}
        "/panic" => panic!("handler bug"),
        "/inject" => reply_with(
            200,
            "x",
            &[
                ("X-Ok", "1"),
                ("X-Bad", "a\r\nInjected: yes"),
                ("X-Lf", "a\nInjected-Lf: yes"),
                ("Bad\r\nName", "v"),
                ("Bad Name", "v"),
                ("X-After", "2"),
            ],
        ),
        "/framing" => reply_with(
            200,
            "abc",
            &[
                ("Content-Length", "1"),
                ("transfer-encoding", "chunked"),
                ("CONNECTION", "keep-alive, Upgrade"),
                ("X-Kept", "yes"),
            ],
        ),
        "/framing-start" => {
            reply_start(
                200,
                3,
                &[("content-length", "100"), ("Connection", "close")],
            );
            reply_more("abc").unwrap();
        }
        "/framing-chunked" => {
            reply_chunked_start(
                200,
                &[("Content-Length", "5"), ("Transfer-Encoding", "gzip")],
            );
            reply_chunk("abc").unwrap();
        }
        "/start-204" => {
            reply_start(204, 5, &[]);
            // Dropped, as for HEAD; not an error.
            reply_more("hello").unwrap();
        }
        "/start-304" => {
            reply_start(304, 5, &[("ETag", "\"x\"")]);
            reply_more("hello").unwrap();
            reply_finish().unwrap();
        }
        "/chunked-204" => {
            reply_chunked_start(204, &[]);
            reply_chunk("hello").unwrap();
        }
        "/chunked-304" => {
            reply_chunked_start(304, &[]);
            reply_chunk("hello").unwrap();
            reply_chunked_finish().unwrap();
        }
        "/with-304" => reply_with(304, "hello", &[("Content-Length", "5")]),
        "/with-205" => reply_with(205, "hello", &[]),
        "/start-205" => {
            reply_start(205, 5, &[]);
            reply_more("hello").unwrap();
        }
        "/chunked-205" => {
            reply_chunked_start(205, &[]);
            reply_chunk("hello").unwrap();
        }
        "/twice" => {
            reply("first");
            reply("second");
        }
        _ => reply_code(400),
    }
}

fn reply_shapes(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(replies));
    let mut c = srv.connect();

    let r = c.request(get("/code"));
    assert_eq!((r.status, r.header("content-length")), (404, Some("0")));
    assert!(r.body.is_empty());

    let r = c.request(get("/nocontent"));
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("content-length"),
        None,
        "no length on 204 (RFC 9110 §8.6)"
    );

    let r = c.request(get("/body"));
    assert_eq!((r.status, r.text().as_str()), (200, "hello"));
    assert_eq!(r.header("content-length"), Some("5"));

    let r = c.request(get("/see"));
    assert_eq!((r.status, r.text().as_str()), (303, "see other"));
    assert_eq!(r.header("location"), Some("/there"));
    assert_eq!(r.header("x-extra"), Some("1"));

    let r = c.request(get("/known"));
    assert_eq!(r.header("content-length"), Some("10"));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.text(), "helloworld");

    let r = c.request(get("/known-implicit-finish"));
    assert_eq!(r.text(), "abc");

    let r = c.request(get("/chunked"));
    assert_eq!(r.status, 201);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("x-kind"), Some("chunks"));
    let mut want = b"abb".to_vec();
    want.extend(pattern(40_000));
    assert_eq!(r.body, want);

    let r = c.request(get("/chunked-implicit-finish"));
    assert_eq!(r.text(), "xyz");

    // A second reply is dropped; the first stands and the framing holds.
    let r = c.request(get("/twice"));
    assert_eq!(r.text(), "first");

    // Every shape kept the one connection open.
    let r = c.request(get("/body"));
    assert_eq!(r.text(), "hello");
}

fn chunked_reply_wire_format(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(replies));
    let mut c = srv.connect();
    c.send("GET /chunked-implicit-finish HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut c.reader, &mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    assert!(raw.contains("\r\nTransfer-Encoding: chunked\r\n"), "{raw}");
    assert!(raw.ends_with("\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"), "{raw:?}");
}

#[test]
fn reply_shapes_through_ureq() {
    let srv = start(HttpServer::new(replies));
    let a = agent();
    let mut r = a.get(&srv.url("/chunked")).call().unwrap();
    assert_eq!(r.status(), 201);
    let body = r.body_mut().read_to_vec().unwrap();
    assert_eq!(&body[..3], b"abb");
    assert_eq!(body.len(), 40_003);

    let mut r = a.get(&srv.url("/big")).call().unwrap();
    assert_eq!(r.headers()["content-length"], BIG.to_string().as_str());
    let body = r
        .body_mut()
        .with_config()
        .limit(BIG as u64 + 1)
        .read_to_vec()
        .unwrap();
    assert!(body == pattern(BIG), "4 MiB body arrives intact");

    let r = a.get(&srv.url("/see")).call().unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/there");
}

fn large_reply_then_keep_alive(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(replies));
    let mut c = srv.connect();
    c.send(format!("{}{}", get("/big"), get("/body")));
    let r = c.read_reply().unwrap();
    assert_eq!(r.body.len(), BIG);
    assert!(r.body == pattern(BIG));
    assert_eq!(c.read_reply().unwrap().text(), "hello");
}

fn no_reply_is_500_and_panic_is_500(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(replies));
    let mut c = srv.connect();
    let r = c.request(get("/nothing"));
    assert_eq!(r.status, 500);
    // Forgetting to reply is the handler's bug, not the connection's.
    assert_eq!(c.request(get("/body")).text(), "hello");
    let r = c.request(get("/panic"));
    assert_eq!(r.status, 500);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed_by_server());
    // The worker lived on: both threads still answer.
    for _ in 0..4 {
        assert_eq!(exchange(srv.addr, get("/body")).unwrap().text(), "hello");
    }
}

fn header_injection_is_dropped(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(replies));
    let mut c = srv.connect();
    let r = c.request(get("/inject"));
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "x");
    assert_eq!(r.header("x-ok"), Some("1"));
    assert_eq!(r.header("x-after"), Some("2"));
    for (name, _) in &r.headers {
        let n = name.to_ascii_lowercase();
        assert!(
            !n.starts_with("injected") && !n.contains("bad"),
            "{:?}",
            r.headers
        );
    }
    // The framing held: the connection serves on.
    assert_eq!(c.request(get("/body")).text(), "hello");
}

fn framing_fields_are_the_servers(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(replies));
    let mut c = srv.connect();
    for path in ["/framing", "/framing-start", "/framing-chunked"] {
        let r = c.request(get(path));
        assert_eq!((r.status, r.text().as_str()), (200, "abc"), "{path}");
        let framing: Vec<_> = r
            .headers
            .iter()
            .filter(|(n, _)| {
                ["content-length", "transfer-encoding", "connection"]
                    .contains(&n.to_ascii_lowercase().as_str())
            })
            .collect();
        let want = if path == "/framing-chunked" {
            ("Transfer-Encoding", "chunked")
        } else {
            ("Content-Length", "3")
        };
        assert_eq!(
            framing,
            [&(want.0.to_owned(), want.1.to_owned())],
            "{path}: only the server's framing field"
        );
    }
    assert_eq!(c.request(get("/framing")).header("x-kept"), Some("yes"));
    // The framing held: the connection serves on.
    assert_eq!(c.request(get("/body")).text(), "hello");
}

/// Reads what the server sends on a `Connection: close` request, to its end.
fn raw_exchange(addr: std::net::SocketAddr, path: &str) -> String {
    let mut c = Client::connect(addr);
    c.send(format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    ));
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut c.reader, &mut raw).unwrap();
    String::from_utf8(raw).unwrap()
}

fn bodyless_statuses_carry_no_body(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(replies));
    for (path, status, length) in [
        ("/start-204", 204, None),
        ("/chunked-204", 204, None),
        ("/start-304", 304, Some("5")),
        ("/chunked-304", 304, None),
        ("/with-304", 304, None),
        // 205 must carry no content (RFC 9110 §15.3.6): framed as empty.
        ("/with-205", 205, Some("0")),
        ("/start-205", 205, Some("0")),
        ("/chunked-205", 205, Some("0")),
    ] {
        // Nothing after the head (RFC 9112 §6.3: these end at the blank line).
        let raw = raw_exchange(srv.addr, path);
        assert!(raw.ends_with("\r\n\r\n"), "{path}: {raw:?}");
        assert_eq!(raw.matches("\r\n\r\n").count(), 1, "{path}: {raw:?}");
        let lower = raw.to_ascii_lowercase();
        assert!(!lower.contains("transfer-encoding"), "{path}: {raw:?}");
        assert!(!lower.contains("hello"), "{path}: {raw:?}");
        // And on a kept-alive connection, the next answer is read right.
        let mut c = srv.connect();
        let r = c.request(get(path));
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.header("content-length"), length, "{path}");
        assert_eq!(c.request(get("/body")).text(), "hello", "{path}");
    }
}

/// How far a streaming handler got before a write failed.
type Stopped = std::sync::mpsc::Sender<(String, usize, Option<std::io::ErrorKind>)>;

const PIECE: usize = 16 * 1024;
/// Without noticing the client left, the handler would send this many
/// pieces (160 MiB).
const PIECES: usize = 10_000;

fn streaming(cx: &mut Http, done: &Stopped) {
    let piece = vec![b'x'; PIECE];
    let chunked = cx.is_uri("/stream-chunked");
    let res = cx.response();
    if chunked {
        res.reply_chunked_start(200, &[]);
    } else {
        res.reply_start(200, (PIECE * PIECES) as u64, &[]);
    }
    let mut sent = 0;
    let mut error = None;
    while sent < PIECES {
        let r = if chunked {
            res.reply_chunk(&piece)
        } else {
            res.reply_more(&piece)
        };
        if let Err(e) = r {
            error = Some(e.kind());
            break;
        }
        sent += 1;
    }
    let end = if chunked {
        res.reply_chunked_finish()
    } else {
        res.reply_finish()
    };
    assert_eq!(end.is_err(), error.is_some(), "the finish reports it too");
    let path = if chunked { "chunked" } else { "known" };
    done.send((path.to_owned(), sent, error)).unwrap();
}

fn streaming_stops_when_the_client_leaves(d: Dispatcher) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let srv = start_on(
        d,
        HttpServer::with_context(move |cx: &mut Http| {
            let done = tx.lock().unwrap().clone();
            streaming(cx, &done)
        }),
    );
    for (path, name) in [("/stream-chunked", "chunked"), ("/stream-known", "known")] {
        let mut c = srv.connect();
        c.send(get(path));
        // Read the first 256 KiB, then leave with the rest unread.
        let mut first = vec![0; 256 * 1024];
        std::io::Read::read_exact(&mut c.reader, &mut first).unwrap();
        drop(c);
        let (got, sent, error) = rx.recv_timeout(IO_TIMEOUT).expect("the handler stops");
        assert_eq!(got, name);
        let kind = error.expect("the handler saw the client leave");
        assert!(
            matches!(
                kind,
                std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
            ),
            "{kind:?}"
        );
        assert!(sent < PIECES, "{name}: stopped after {sent} pieces");
    }
}

fn nested_with_body_is_a_clear_error(d: Dispatcher) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let srv = start_on(
        d,
        HttpServer::new(|| {
            let n = with_body(|outer| outer.len() + with_body(|inner| inner.len()));
            reply(n.to_string());
        })
        .content(Content::Compact)
        .on_close(move |_, _, cause, msg| {
            let _ = tx.lock().unwrap().send((cause, msg.to_owned()));
        }),
    );
    for body in [
        "Content-Length: 10\r\n\r\n0123456789",
        "Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n",
    ] {
        let mut c = srv.connect();
        let r = c.request(format!("POST / HTTP/1.1\r\nHost: t\r\n{body}"));
        assert_eq!(r.status, 500, "{}", r.text());
        assert!(c.is_closed_by_server());
        drop(c);
        let (cause, msg) = rx.recv_timeout(IO_TIMEOUT).unwrap();
        assert_eq!(cause, CloseCause::HandlerPanicked);
        assert!(
            msg.contains("with_body was called inside with_body"),
            "{msg}"
        );
    }
    // The workers live on.
    assert_eq!(exchange(srv.addr, get("/")).unwrap().status, 500);
}

fn accessors() {
    let text = format!(
        "uri={} is_uri={} starts={} method={} is_get={} is_post={} origin={:?} other={:?} \
         Origin={:?} body={} is_body={} len={:?}",
        uri(),
        is_uri("/acc?q=1"),
        starts_uri("/acc"),
        method(),
        is_method("GET"),
        is_method("POST"),
        header("origin"),
        header("x-other"),
        header("ORIGIN"),
        String::from_utf8_lossy(&body()),
        is_body(),
        body_len(),
    );
    let lent = with_body(|b| b.len());
    reply(format!("{text} lent={lent}"));
}

#[test]
fn accessors_with_selected_headers() {
    let srv = start(
        HttpServer::new(accessors)
            .content(Content::Compact)
            .headers(&["Origin"]),
    );
    let r = exchange(
        srv.addr,
        "GET /acc?q=1 HTTP/1.1\r\nHost: t\r\nOrigin: http://o\r\nX-Other: 1\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        r.text(),
        "uri=/acc?q=1 is_uri=true starts=true method=GET is_get=true is_post=false \
         origin=Some(\"http://o\") other=None Origin=Some(\"http://o\") body= is_body=false \
         len=Some(0) lent=0"
    );
    let r = exchange(
        srv.addr,
        "POST /accx HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd",
    )
    .unwrap();
    assert_eq!(
        r.text(),
        "uri=/accx is_uri=false starts=true method=POST is_get=false is_post=true origin=None \
         other=None Origin=None body=abcd is_body=true len=Some(4) lent=4"
    );
    // A chunked body is decoded before the handler: its length is known.
    let r = exchange(
        srv.addr,
        "PUT /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
    )
    .unwrap();
    assert!(
        r.text()
            .ends_with("body=abc is_body=true len=Some(3) lent=3"),
        "{}",
        r.text()
    );
}

#[test]
fn all_headers_keeps_every_field() {
    let srv = start(
        HttpServer::new(|| {
            let count = with_request(|r| r.headers().count());
            reply(format!(
                "{:?} {:?} {count}",
                header("x-other"),
                header("host")
            ));
        })
        .all_headers(true),
    );
    let r = exchange(
        srv.addr,
        "GET / HTTP/1.1\r\nHost: t\r\nX-Other: 1\r\nX-Third: 3\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.text(), "Some(\"1\") Some(\"t\") 3");
    // By default no field is kept.
    let srv = start(HttpServer::new(|| reply(format!("{:?}", header("host")))));
    assert_eq!(exchange(srv.addr, get("/")).unwrap().text(), "None");
}

#[test]
fn request_line_parsing_off() {
    let srv = start(
        HttpServer::new(|| reply(format!("[{}] [{}] {}", uri(), method(), is_uri(""))))
            .parse_request_line(false),
    );
    let r = exchange(srv.addr, get("/somewhere")).unwrap();
    assert_eq!(r.text(), "[] [] true");
    // It is still validated.
    let r = exchange(srv.addr, "G(T / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    assert_eq!(r.status, 400);
}

#[test]
fn form_value_decodes_urlencoded() {
    let srv = start(
        HttpServer::new(|| {
            reply(format!(
                "{:?} {:?} {:?} {:?}",
                form_value("name"),
                form_value("expr"),
                form_value("empty"),
                form_value("missing")
            ))
        })
        .content(Content::Compact),
    );
    let mut res = agent()
        .post(&srv.url("/form"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("name=J%C3%B6rg+Smith&expr=1%2B1%3D2&empty=")
        .unwrap();
    assert_eq!(
        res.body_mut().read_to_string().unwrap(),
        "Some(\"Jörg Smith\") Some(\"1+1=2\") Some(\"\") None"
    );
}

/// Counts requests per connection in the connection's data.
fn counting() {
    let n = with_socket_data(|n: &mut u32| {
        *n += 1;
        *n
    })
    .unwrap_or_else(|| {
        set_socket_data(1u32);
        1
    });
    reply(format!("{n} {}", thesocket().as_u64()));
}

fn socket_data_lives_with_the_connection(d: Dispatcher) {
    let srv = start_on(d, HttpServer::new(counting));
    let mut c = srv.connect();
    let seen: Vec<String> = (0..3).map(|_| c.request(get("/")).text()).collect();
    let socket = seen[0].split(' ').nth(1).unwrap().to_owned();
    assert_eq!(seen, [1, 2, 3].map(|n| format!("{n} {socket}")));
    // Another connection starts afresh, with another id.
    let mut d = srv.connect();
    let other = d.request(get("/")).text();
    let (n, id) = other.split_once(' ').unwrap();
    assert_eq!(n, "1");
    assert_ne!(id, socket);
    // The first connection's count went on undisturbed.
    assert_eq!(c.request(get("/")).text(), format!("4 {socket}"));
}

#[test]
fn raw_head_is_the_head_as_sent() {
    let srv = start(HttpServer::new(|| reply(raw_head())).content(Content::Compact));
    let head = "POST /raw?x=1 HTTP/1.1\r\nHost: t\r\nX-Case: MiXeD\r\nContent-Length: 3\r\n\r\n";
    let mut c = srv.connect();
    let r = c.request(format!("{head}abc"));
    assert_eq!(r.text(), head);
    let r = c.request(get("/second"));
    assert_eq!(r.text(), get("/second"));
}

#[test]
fn explicit_context_shape() {
    let srv = start(
        HttpServer::with_context(|cx: &mut Http| {
            if cx.is_uri("/accessor") {
                // Thread-local accessors belong to the argument-free shape.
                let _ = uri();
            }
            let (req, res) = cx.parts();
            let text = format!(
                "{} {} {} {} {:?} {:?} {} {:?} {:?}",
                req.method(),
                req.uri(),
                req.is_method("POST"),
                req.starts_uri("/ctx"),
                req.header("origin"),
                req.header("x-not-kept"),
                String::from_utf8_lossy(req.body()),
                req.body_len(),
                req.form_value("a"),
            );
            res.reply_with(202, text.as_bytes(), &[("X-Shape", "context")]);
        })
        .content(Content::Compact)
        .headers(&["origin"]),
    );
    let mut c = srv.connect();
    let r = c.request(
        "POST /ctx/1 HTTP/1.1\r\nHost: t\r\nOrigin: o\r\nX-Not-Kept: 1\r\nContent-Length: 7\r\n\r\na=b+c&d",
    );
    assert_eq!(r.status, 202);
    assert_eq!(r.header("x-shape"), Some("context"));
    assert_eq!(
        r.text(),
        "POST /ctx/1 true true Some(\"o\") None a=b+c&d Some(7) Some(\"b c\")"
    );
    let r = c.request(get("/accessor"));
    assert_eq!(
        r.status, 500,
        "an accessor in a context handler panics, answered 500"
    );
}

#[test]
fn context_socket_data() {
    let srv = start(HttpServer::with_context(|cx: &mut Http| {
        let n = cx.with_socket_data(|v: &mut Vec<String>| {
            v.push("x".into());
            v.len()
        });
        if n.is_none() {
            cx.set_socket_data(vec!["x".to_owned()]);
        }
        let id = cx.socket();
        cx.reply(format!("{} {}", n.unwrap_or(1), id.as_u64()));
    }));
    let mut c = srv.connect();
    let a = c.request(get("/")).text();
    let b = c.request(get("/")).text();
    let (na, ia) = a.split_once(' ').unwrap();
    let (nb, ib) = b.split_once(' ').unwrap();
    assert_eq!((na, nb), ("1", "2"));
    assert_eq!(ia, ib);
    assert!(exchange(srv.addr, get("/"))
        .unwrap()
        .text()
        .starts_with("1 "));
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = catch_unwind(f).expect_err("the accessor panics outside a handler");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn accessors_outside_a_handler_panic_clearly() {
    let messages = [
        panic_message(|| {
            uri();
        }),
        panic_message(|| reply("x")),
        panic_message(|| {
            header("host");
        }),
        panic_message(|| {
            let _ = read_body(&mut [0; 4]);
        }),
        panic_message(|| {
            thesocket();
        }),
    ];
    for m in messages {
        assert!(m.contains("guildenstern"), "{m:?}");
        assert!(
            m.contains("handler"),
            "the message says where accessors work: {m:?}"
        );
    }
}

#[http_server(port = 1, threads = 2, content = Compact, headers = ["x-name"])]
fn attribute_plain() {
    let name = header("x-name").unwrap_or_default();
    reply(format!(
        "plain {} {name} {}",
        uri(),
        String::from_utf8_lossy(&body())
    ));
}

#[http_server(port = 1, threads = 2, dispatcher = Portable, all_headers = true)]
fn attribute_context(cx: &mut Http) {
    let text = format!("context {} {:?}", cx.uri(), cx.header("x-name"));
    cx.reply_with(200, text.as_bytes(), &[]);
}

#[test]
fn attribute_in_both_shapes() {
    let plain = TestServer::start(attribute_plain().any_port().address("127.0.0.1"));
    let r = exchange(
        plain.addr,
        "POST /p HTTP/1.1\r\nHost: t\r\nX-Name: n\r\nContent-Length: 2\r\n\r\nhi",
    )
    .unwrap();
    assert_eq!(r.text(), "plain /p n hi");
    let context = TestServer::start(attribute_context().any_port().address("127.0.0.1"));
    let mut res = agent()
        .get(&context.url("/c"))
        .header("X-Name", "m")
        .call()
        .unwrap();
    assert_eq!(
        res.body_mut().read_to_string().unwrap(),
        "context /c Some(\"m\")"
    );
}

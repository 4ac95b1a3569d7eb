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
    socket_data_lives_with_the_connection,
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
            reply_more("hello");
            reply_more("");
            reply_more("world");
            reply_finish();
        }
        "/known-implicit-finish" => {
            reply_start(200, 3, &[]);
            reply_more("abc");
        }
        "/chunked" => {
            reply_chunked_start(201, &[("X-Kind", "chunks")]);
            reply_chunk("a");
            reply_chunk("");
            reply_chunk("bb");
            reply_chunk(pattern(40_000));
            reply_chunked_finish();
        }
        "/chunked-implicit-finish" => {
            reply_chunked_start(200, &[]);
            reply_chunk("xyz");
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

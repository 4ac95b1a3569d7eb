//! Request bodies over loopback, on both dispatchers: Compact (whole body,
//! Content-Length or chunked, limits), Streaming (`read_body`), NoBody, and
//! `Expect: 100-continue` (RFC 9110 §10.1.1, RFC 9112 §6–§7).

#[macro_use]
mod support;

use guildenstern::prelude::*;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

/// FNV-1a, 64 bits: enough to tell bodies apart.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A body whose every byte depends on its position.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn summary(bytes: &[u8]) -> String {
    format!("{} {:016x}", bytes.len(), checksum(bytes))
}

/// Compact: `uri`, `is_body`, `body_len` and the body's length and checksum.
fn compact_summary() {
    let b = body();
    reply(format!(
        "{} {} {:?} {}",
        uri(),
        is_body(),
        body_len(),
        summary(&b)
    ));
}

/// Streaming: reads the whole body with `read_body`, answers its summary.
fn streaming_summary() {
    let mut all = Vec::new();
    let mut piece = [0u8; 8192];
    loop {
        match read_body(&mut piece) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&piece[..n]),
            Err(e) => {
                reply_with(400, e.to_string(), &[]);
                return;
            }
        }
    }
    reply(format!("{} {}", uri(), summary(&all)));
}

/// Encodes `body` as chunks of varying sizes, with an extension and a trailer.
fn chunk(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let sizes = [1usize, 7, 4096, 13, 65_536, 300];
    let mut rest = body;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].min(rest.len());
        if i % 3 == 1 {
            out.extend(format!("{n:x};ext={i};flag\r\n").bytes());
        } else {
            out.extend(format!("{n:X}\r\n").bytes());
        }
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
        i += 1;
    }
    out.extend_from_slice(b"0\r\nX-Checksum: done\r\nX-Other: 1\r\n\r\n");
    out
}

fn post_cl(path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn post_chunked(path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("POST {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        .into_bytes();
    out.extend(chunk(body));
    out
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(IO_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into()
}

on_both_dispatchers!(
    compact_content_length,
    compact_chunked_with_extensions_and_trailers,
    compact_limit_exact_and_one_over,
    compact_with_ureq_and_curl,
    streaming_large_content_length,
    streaming_large_chunked,
    streaming_with_ureq_and_curl_chunked_upload,
    streaming_unread_body_closes,
    nobody_server_refuses_bodies,
    expect_continue_compact,
    expect_continue_streaming,
    expect_continue_over_limit_is_413,
    expect_other_is_417,
);

fn compact_content_length(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(compact_summary).content(Content::Compact),
    );
    let body = pattern(5000);
    let mut c = srv.connect();
    let r = c.request(post_cl("/cl", &body));
    assert_eq!(r.text(), format!("/cl true Some(5000) {}", summary(&body)));
    // No body: is_body false, length 0.
    let r = c.request(get("/none"));
    assert_eq!(r.text(), format!("/none false Some(0) {}", summary(b"")));
}

fn compact_chunked_with_extensions_and_trailers(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(compact_summary).content(Content::Compact),
    );
    let body = pattern(100_000);
    let mut c = srv.connect();
    // The chunked request and a GET pipelined behind it.
    let mut wire = post_chunked("/ch", &body);
    wire.extend(get("/next").bytes());
    c.send(&wire);
    let r = c.read_reply().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        format!("/ch true Some(100000) {}", summary(&body))
    );
    let r = c.read_reply().unwrap();
    assert!(r.text().starts_with("/next false"), "{}", r.text());
}

fn compact_limit_exact_and_one_over(d: Dispatcher) {
    let limit = 1000;
    let srv = start_on(
        d,
        HttpServer::new(compact_summary)
            .content(Content::Compact)
            .max_body_bytes(limit),
    );
    let exact = pattern(limit);
    let over = pattern(limit + 1);
    for (what, wire) in [
        ("CL", post_cl("/x", &exact)),
        ("chunked", post_chunked("/x", &exact)),
    ] {
        let r = exchange(srv.addr, &wire).unwrap();
        assert_eq!(r.status, 200, "{what} at the limit");
        assert!(r.text().ends_with(&summary(&exact)), "{what}");
    }
    for (what, wire) in [
        ("CL", post_cl("/x", &over)),
        ("chunked", post_chunked("/x", &over)),
    ] {
        let mut c = srv.connect();
        c.send(&wire);
        let r = c.read_reply().unwrap();
        assert_eq!(r.status, 413, "{what} one over the limit");
        assert_eq!(r.header("connection"), Some("close"));
        assert!(c.is_closed_by_server(), "{what}");
    }
}

fn compact_with_ureq_and_curl(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(compact_summary).content(Content::Compact),
    );
    let body = pattern(200_000);
    let mut res = agent().post(&srv.url("/u")).send(&body[..]).unwrap();
    assert_eq!(
        res.body_mut().read_to_string().unwrap(),
        format!("/u true Some(200000) {}", summary(&body))
    );
    // curl's chunked upload (and its Expect: 100-continue, if it sends one).
    let out = curl_upload(&srv.url("/curl"), &body);
    assert_eq!(out, format!("/curl true Some(200000) {}", summary(&body)));
}

/// `curl` sending `body` with `Transfer-Encoding: chunked`; its stdout.
fn curl_upload(url: &str, body: &[u8]) -> String {
    let mut child = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--noproxy", "*"])
        .args([
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            "@-",
            url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl runs");
    let mut stdin = child.stdin.take().unwrap();
    let owned = body.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&owned));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Sends `wire` from a thread (the server reads while we write) and reads
/// the replies here.
fn send_async(c: &Client, wire: Vec<u8>) -> std::thread::JoinHandle<()> {
    let mut s = c.stream().try_clone().unwrap();
    std::thread::spawn(move || s.write_all(&wire).unwrap())
}

fn streaming_large_content_length(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(streaming_summary).content(Content::Streaming),
    );
    let body = pattern(1 << 20);
    let mut c = srv.connect();
    let mut wire = post_cl("/big", &body);
    wire.extend(get("/after").bytes());
    let w = send_async(&c, wire);
    let r = c.read_reply().unwrap();
    assert_eq!(r.text(), format!("/big {}", summary(&body)));
    assert_eq!(
        r.header("connection"),
        None,
        "a fully read body keeps the connection"
    );
    let r = c.read_reply().unwrap();
    assert_eq!(r.text(), format!("/after {}", summary(b"")));
    w.join().unwrap();
}

fn streaming_large_chunked(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(streaming_summary).content(Content::Streaming),
    );
    let body = pattern(1 << 20);
    let mut c = srv.connect();
    let mut wire = post_chunked("/big", &body);
    wire.extend(post_cl("/small", b"abc"));
    let w = send_async(&c, wire);
    let r = c.read_reply().unwrap();
    assert_eq!(r.text(), format!("/big {}", summary(&body)));
    let r = c.read_reply().unwrap();
    assert_eq!(r.text(), format!("/small {}", summary(b"abc")));
    w.join().unwrap();
}

fn streaming_with_ureq_and_curl_chunked_upload(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(streaming_summary).content(Content::Streaming),
    );
    let body = pattern(1 << 20);
    // A reader body: ureq sends it chunked.
    let reader = std::io::Cursor::new(body.clone());
    let mut res = agent()
        .post(&srv.url("/ureq"))
        .send(ureq::SendBody::from_owned_reader(reader))
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.body_mut().read_to_string().unwrap(),
        format!("/ureq {}", summary(&body))
    );
    let mut res = agent().put(&srv.url("/ureq-cl")).send(&body[..]).unwrap();
    assert_eq!(
        res.body_mut().read_to_string().unwrap(),
        format!("/ureq-cl {}", summary(&body))
    );
    assert_eq!(
        curl_upload(&srv.url("/curl"), &body),
        format!("/curl {}", summary(&body))
    );
}

fn streaming_unread_body_closes(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(|| reply(format!("ignored {:?}", body_len()))).content(Content::Streaming),
    );
    for wire in [
        post_cl("/x", &pattern(1000)),
        post_chunked("/x", &pattern(1000)),
    ] {
        let mut c = srv.connect();
        let mut wire = wire;
        // Were the unread body skipped wrongly, this would be answered.
        wire.extend(get("/smuggled").bytes());
        c.send(&wire);
        let r = c.read_reply().unwrap();
        assert_eq!(r.status, 200);
        assert!(r.text().starts_with("ignored"));
        assert_eq!(
            r.header("connection"),
            Some("close"),
            "the rest of the body cannot be told from a request"
        );
        assert!(c.is_closed_by_server());
    }
}

fn nobody_server_refuses_bodies(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(|| reply(format!("{} {}", uri(), is_body()))),
    );
    for wire in [post_cl("/x", b"hello"), post_chunked("/x", b"hello")] {
        let mut c = srv.connect();
        c.send(&wire);
        let r = c.read_reply().unwrap();
        assert_eq!(r.status, 413);
        assert_eq!(r.header("connection"), Some("close"));
        assert!(c.is_closed_by_server());
    }
    // A zero length is no body.
    let r = exchange(srv.addr, post_cl("/empty", b"")).unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "/empty false"));
}

/// Sends a head with `Expect: 100-continue` and reads the interim answer
/// before sending any body byte.
fn expect_continue_exchange(srv: &TestServer, path: &str, body: &[u8]) -> Client {
    let mut c = srv.connect();
    c.stream()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    c.send(format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    ));
    let interim = c.read_reply().expect("100 Continue before the body");
    assert_eq!(
        (interim.version.as_str(), interim.status),
        ("HTTP/1.1", 100)
    );
    c.send(body);
    c
}

fn expect_continue_compact(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(compact_summary).content(Content::Compact),
    );
    let body = pattern(3000);
    let mut c = expect_continue_exchange(&srv, "/e", &body);
    let r = c.read_reply().unwrap();
    assert_eq!(r.text(), format!("/e true Some(3000) {}", summary(&body)));
    // The connection goes on; a body sent with the head needs no 100.
    let mut wire = post_cl("/f", b"xyz");
    wire.splice(wire.len() - 5..wire.len() - 5, *b"Expect: 100-continue\r\n");
    let r = c.request(&wire);
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&wire));
    assert!(r.text().starts_with("/f true Some(3)"), "{}", r.text());
}

fn expect_continue_streaming(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(streaming_summary).content(Content::Streaming),
    );
    let body = pattern(70_000);
    let mut c = expect_continue_exchange(&srv, "/s", &body);
    let r = c.read_reply().unwrap();
    assert_eq!(r.text(), format!("/s {}", summary(&body)));
    assert!(c.request(get("/again")).text().starts_with("/again"));
}

fn expect_continue_over_limit_is_413(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(compact_summary)
            .content(Content::Compact)
            .max_body_bytes(100),
    );
    let mut c = srv.connect();
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n");
    let r = c.read_reply().unwrap();
    assert_eq!(r.status, 413, "a final status instead of 100");
    assert!(c.is_closed_by_server());
}

fn expect_other_is_417(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(compact_summary).content(Content::Compact),
    );
    let mut c = srv.connect();
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 200-ok\r\n\r\n");
    let r = c.read_reply().unwrap();
    assert_eq!(r.status, 417);
    assert!(c.is_closed_by_server());
    let r = exchange(srv.addr, get("/fresh")).unwrap();
    assert_eq!(r.status, 200);
}

/// `read_body` on a server that is not Streaming: the whole body is already
/// in `body()`, and `read_body` says so instead of blocking.
#[test]
fn read_body_outside_streaming_mode() {
    let srv = TestServer::start(
        HttpServer::new(|| {
            let mut buf = [0u8; 16];
            let r = read_body(&mut buf);
            reply(format!("{:?} {}", r.map_err(|e| e.kind()), body().len()));
        })
        .threads(2)
        .content(Content::Compact),
    );
    let r = exchange(srv.addr, post_cl("/", b"hello")).unwrap();
    assert_eq!(r.text(), "Err(Unsupported) 5");
    let r = exchange(srv.addr, get("/")).unwrap();
    assert_eq!(r.text(), "Ok(0) 0");
}

/// Streaming reads through `std::io::Read` on the context shape.
#[test]
fn streaming_through_read_trait() {
    let srv = TestServer::start(
        HttpServer::with_context(|cx: &mut Http| {
            let mut all = Vec::new();
            let n = cx.request().read_to_end(&mut all).map_err(|e| e.kind());
            let text = format!("{n:?} {}", summary(&all));
            cx.reply(text);
        })
        .threads(2)
        .content(Content::Streaming),
    );
    let body = pattern(300_000);
    let c = srv.connect();
    let w = send_async(&c, post_chunked("/", &body));
    let mut c = c;
    let r = c.read_reply().unwrap();
    assert_eq!(r.text(), format!("Ok(300000) {}", summary(&body)));
    w.join().unwrap();
}

/// `cx.parts()` hands out the request and the response together; a body
/// read whole through the request half must not close the connection.
#[test]
fn streaming_through_parts_keeps_alive() {
    let srv = TestServer::start(
        HttpServer::with_context(|cx: &mut Http| {
            let (req, res) = cx.parts();
            let mut all = Vec::new();
            let n = req.read_to_end(&mut all).map_err(|e| e.kind());
            res.reply(format!("{n:?} {}", summary(&all)));
        })
        .threads(2)
        .content(Content::Streaming),
    );
    let body = pattern(10_000);
    let mut c = srv.connect();
    let mut wire = post_cl("/", &body);
    wire.extend(get("/next").bytes());
    c.send(&wire);
    let r = c.read_reply().unwrap();
    assert_eq!(r.text(), format!("Ok(10000) {}", summary(&body)));
    assert_eq!(r.header("connection"), None);
    assert_eq!(
        c.read_reply().unwrap().text(),
        format!("Ok(0) {}", summary(b""))
    );
}

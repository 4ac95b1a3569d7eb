//! HTTP/1.1 conformance over loopback (RFC 9112, RFC 9110): keep-alive,
//! HTTP/1.0, pipelining, HEAD, the Date header, and the refusals RFC 9112
//! asks for where framing is ambiguous (Transfer-Encoding with
//! Content-Length, duplicate or malformed lengths, a final coding other
//! than chunked, bad chunk sizes and line ends). Framing tests run on both
//! dispatchers.

#[macro_use]
mod support;

use guildenstern::prelude::*;
use std::process::Command;
use std::time::Duration;
use support::*;

/// Answers `METHOD URI #SOCKET`, with `/chunked` replying in chunks.
fn echo() {
    if is_uri("/chunked") {
        reply_chunked_start(200, &[("Content-Type", "text/plain")]);
        reply_chunk("hello").unwrap();
        reply_chunk(" world").unwrap();
        reply_chunked_finish().unwrap();
    } else if is_uri("/len") {
        reply("hello world");
    } else {
        let b = body();
        reply(format!(
            "{} {} {} #{}",
            method(),
            uri(),
            String::from_utf8_lossy(&b),
            thesocket().as_u64()
        ));
    }
}

fn echo_server(d: Dispatcher) -> TestServer {
    start_on(d, HttpServer::new(echo).content(Content::Compact))
}

/// The server-side socket id a reply of [`echo`] names.
fn socket_of(r: &Reply) -> String {
    let t = r.text();
    t.rsplit_once('#').expect("a socket id").1.to_owned()
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7).
fn is_imf_fixdate(s: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |r: std::ops::Range<usize>| s[r].bytes().all(|b| b.is_ascii_digit());
    s.len() == 29
        && s.is_ascii()
        && DAYS.contains(&&s[0..3])
        && &s[3..5] == ", "
        && digits(5..7)
        && &s[7..8] == " "
        && MONTHS.contains(&&s[8..11])
        && &s[11..12] == " "
        && digits(12..16)
        && &s[16..17] == " "
        && digits(17..19)
        && &s[19..20] == ":"
        && digits(20..22)
        && &s[22..23] == ":"
        && digits(23..25)
        && &s[25..] == " GMT"
}

fn assert_date(r: &Reply) {
    let date = r
        .header("date")
        .unwrap_or_else(|| panic!("no Date on {r:?}"));
    assert!(is_imf_fixdate(date), "Date {date:?} is not an IMF-fixdate");
}

on_both_dispatchers!(
    keep_alive_reuses_the_socket,
    keep_alive_with_ureq_agent,
    keep_alive_with_curl,
    connection_close_closes_after_the_response,
    http10_closes_by_default,
    http10_keep_alive_on_request,
    http10_response_has_no_transfer_encoding,
    pipelined_requests_answered_in_order,
    pipelined_requests_split_at_awkward_boundaries,
    pipelined_requests_one_byte_per_write,
    head_has_length_and_no_body,
    head_with_ureq,
    date_on_every_response,
    refusals_answer_then_close,
    accepted_shapes,
);

fn keep_alive_reuses_the_socket(d: Dispatcher) {
    let srv = echo_server(d);
    let mut c = srv.connect();
    let mut sockets = Vec::new();
    for i in 0..5 {
        let r = c.request(get(&format!("/k{i}")));
        assert_eq!(r.status, 200);
        assert!(r.text().starts_with(&format!("GET /k{i} ")), "{}", r.text());
        assert_eq!(
            r.header("connection"),
            None,
            "keep-alive is the 1.1 default"
        );
        sockets.push(socket_of(&r));
    }
    assert!(sockets.windows(2).all(|w| w[0] == w[1]), "{sockets:?}");
    // A second connection is another socket.
    let other = srv.connect().request(get("/other"));
    assert_ne!(socket_of(&other), sockets[0]);
}

fn keep_alive_with_ureq_agent(d: Dispatcher) {
    let srv = echo_server(d);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(IO_TIMEOUT))
        .build()
        .into();
    let mut sockets = Vec::new();
    for path in ["/a", "/b?x=1", "/c"] {
        let mut res = agent.get(&srv.url(path)).call().expect("ureq GET");
        assert_eq!(res.status(), 200);
        let text = res.body_mut().read_to_string().unwrap();
        assert!(text.starts_with(&format!("GET {path} ")), "{text}");
        sockets.push(text.rsplit_once('#').unwrap().1.to_owned());
    }
    assert!(
        sockets.windows(2).all(|w| w[0] == w[1]),
        "ureq reused one connection: {sockets:?}"
    );
}

fn keep_alive_with_curl(d: Dispatcher) {
    let srv = echo_server(d);
    let out = Command::new("curl")
        .args(["-sv", "--max-time", "10", "--noproxy", "*"])
        .arg(srv.url("/one"))
        .arg(srv.url("/two"))
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Re-using existing connection"), "{stderr}");
    let (one, two) = stdout.split_at(stdout.find("GET /two").expect("second reply"));
    assert!(one.starts_with("GET /one "), "{stdout}");
    assert_eq!(
        one.rsplit_once('#').unwrap().1,
        two.rsplit_once('#').unwrap().1
    );
}

fn connection_close_closes_after_the_response(d: Dispatcher) {
    let srv = echo_server(d);
    let mut c = srv.connect();
    let r = c.request("GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("GET /bye "));
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed_by_server());
}

fn http10_closes_by_default(d: Dispatcher) {
    let srv = echo_server(d);
    let mut c = srv.connect();
    let r = c.request("GET /old HTTP/1.0\r\n\r\n");
    assert_eq!(r.version, "HTTP/1.0");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("GET /old "));
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed_by_server());
}

fn http10_keep_alive_on_request(d: Dispatcher) {
    let srv = echo_server(d);
    let mut c = srv.connect();
    let ka = "Connection: keep-alive\r\n\r\n";
    let a = c.request(format!("GET /a HTTP/1.0\r\n{ka}"));
    let b = c.request(format!("GET /b HTTP/1.0\r\nHost: t\r\n{ka}"));
    for (r, path) in [(&a, "/a"), (&b, "/b")] {
        assert_eq!(r.version, "HTTP/1.0");
        assert_eq!(r.header("connection"), Some("keep-alive"));
        assert!(r.text().starts_with(&format!("GET {path} ")));
    }
    assert_eq!(socket_of(&a), socket_of(&b));
    // Without the option, HTTP/1.0 closes again.
    let last = c.request("GET /c HTTP/1.0\r\n\r\n");
    assert_eq!(last.header("connection"), Some("close"));
    assert!(c.is_closed_by_server());
}

fn http10_response_has_no_transfer_encoding(d: Dispatcher) {
    let srv = echo_server(d);
    let mut c = srv.connect();
    // Even a chunked reply and a keep-alive request: 1.0 has no chunked
    // coding (RFC 9112 §6.1), so the body is delimited by the close.
    let r = c.request("GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(r.version, "HTTP/1.0");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.text(), "hello world", "body read up to the close");
    assert!(c.is_closed_by_server());
}

/// Sixteen requests of every framing, as one byte string.
fn mixed_pipeline() -> (Vec<u8>, Vec<String>) {
    let mut wire = Vec::new();
    let mut want = Vec::new();
    for i in 0..16 {
        match i % 4 {
            0 => {
                wire.extend(get(&format!("/g/{i}")).bytes());
                want.push(format!("GET /g/{i} "));
            }
            1 => {
                let body = format!("body{i}");
                wire.extend(
                    format!(
                        "POST /p?i={i} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .bytes(),
                );
                want.push(format!("POST /p?i={i} {body} "));
            }
            2 => {
                wire.extend(
                    format!(
                        "PUT /c/{i} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
                         3\r\nabc\r\n2;x=y\r\n{i:02}\r\n0\r\n\r\n"
                    )
                    .bytes(),
                );
                want.push(format!("PUT /c/{i} abc{i:02} "));
            }
            _ => {
                wire.extend(format!("DELETE /d/{i} HTTP/1.1\r\nHost: t\r\n\r\n").bytes());
                want.push(format!("DELETE /d/{i} "));
            }
        }
    }
    (wire, want)
}

fn read_in_order(c: &mut Client, want: &[String]) {
    let mut socket = None;
    for w in want {
        let r = c
            .read_reply()
            .unwrap_or_else(|| panic!("no reply for {w:?}"));
        assert_eq!(r.status, 200, "{w}");
        assert!(
            r.text().starts_with(w.as_str()),
            "expected {w:?}, got {:?}",
            r.text()
        );
        let s = socket_of(&r);
        assert_eq!(*socket.get_or_insert_with(|| s.clone()), s);
    }
}

fn pipelined_requests_answered_in_order(d: Dispatcher) {
    let srv = echo_server(d);
    let (wire, want) = mixed_pipeline();
    let mut c = srv.connect();
    c.send(&wire);
    read_in_order(&mut c, &want);
    // The connection is still good afterwards.
    assert!(c.request(get("/after")).text().starts_with("GET /after "));
}

fn pipelined_requests_split_at_awkward_boundaries(d: Dispatcher) {
    let srv = echo_server(d);
    let (wire, want) = mixed_pipeline();
    // Cut between every CR and its LF, and at odd sizes elsewhere.
    let mut cuts: Vec<usize> = wire
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\r')
        .map(|(i, _)| i + 1)
        .collect();
    cuts.extend((0..wire.len()).step_by(7));
    cuts.push(wire.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut c = srv.connect();
    c.stream().set_nodelay(true).unwrap();
    let mut from = 0;
    for cut in cuts {
        c.send(&wire[from..cut]);
        from = cut;
    }
    read_in_order(&mut c, &want);
}

fn pipelined_requests_one_byte_per_write(d: Dispatcher) {
    let srv = echo_server(d);
    let (wire, want) = mixed_pipeline();
    let mut c = srv.connect();
    c.stream().set_nodelay(true).unwrap();
    // Answer by answer: each response proves the bytes before it were parsed
    // while the next request was still arriving a byte at a time.
    let ends = request_ends(&wire, &want);
    let mut answered = 0;
    for (i, byte) in wire.iter().enumerate() {
        c.send([*byte]);
        while answered < ends.len() && ends[answered] == i + 1 {
            let r = c.read_reply().expect("a reply");
            assert!(
                r.text().starts_with(want[answered].as_str()),
                "{:?}",
                r.text()
            );
            answered += 1;
        }
    }
    assert_eq!(answered, want.len());
}

/// The offset just past each request of [`mixed_pipeline`]: where the
/// next request's method starts (each starts a line after a blank one).
fn request_ends(wire: &[u8], want: &[String]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 0;
    for next in want.iter().skip(1) {
        let line = format!(
            "{} HTTP/1.1",
            next.split(' ').take(2).collect::<Vec<_>>().join(" ")
        );
        at += 1 + wire[at + 1..]
            .windows(line.len())
            .position(|w| w == line.as_bytes())
            .expect("next request present");
        ends.push(at);
    }
    ends.push(wire.len());
    ends
}

fn head_has_length_and_no_body(d: Dispatcher) {
    let srv = echo_server(d);
    let mut c = srv.connect();
    c.send(format!(
        "HEAD /len HTTP/1.1\r\nHost: t\r\n\r\n{}HEAD /chunked HTTP/1.1\r\nHost: t\r\n\r\n{}",
        get("/len"),
        get("/chunked")
    ));
    let head = c.read_reply_with(true).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some("11"),
        "the length a GET would have"
    );
    assert_date(&head);
    // Had the HEAD response carried a body, this parse would see its bytes.
    let full = c.read_reply().unwrap();
    assert_eq!(full.status, 200);
    assert_eq!(full.text(), "hello world");
    let head = c.read_reply_with(true).unwrap();
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    let full = c.read_reply().unwrap();
    assert_eq!(full.text(), "hello world");
    assert_eq!(full.header("transfer-encoding"), Some("chunked"));
}

fn head_with_ureq(d: Dispatcher) {
    let srv = echo_server(d);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(IO_TIMEOUT))
        .build()
        .into();
    let mut res = agent.head(&srv.url("/len")).call().unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-length"], "11");
    assert!(res.body_mut().read_to_vec().unwrap().is_empty());
    let mut res = agent.get(&srv.url("/len")).call().unwrap();
    assert_eq!(res.body_mut().read_to_string().unwrap(), "hello world");
}

fn date_on_every_response(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(|| {
            if is_uri("/404") {
                reply_code(404);
            } else if is_uri("/204") {
                reply_code(204);
            } else if is_uri("/chunked") {
                reply_chunked_start(200, &[]);
                reply_chunk("x").unwrap();
            } else if is_uri("/nothing") {
                // no reply: 500
            } else {
                reply("ok");
            }
        })
        .max_uri_bytes(64)
        .max_headers(4),
    );
    let mut c = srv.connect();
    for (path, status) in [
        ("/", 200),
        ("/404", 404),
        ("/204", 204),
        ("/chunked", 200),
        ("/nothing", 500),
    ] {
        let r = c.request(get(path));
        assert_eq!(r.status, status, "{path}");
        assert_date(&r);
    }
    let long = format!("/{}", "u".repeat(100));
    let refusals = [
        (get(&long), 414),
        ("GET / HTTP/2.0\r\nHost: t\r\n\r\n".to_owned(), 505),
        ("GET / HTTP/1.1\r\n\r\n".to_owned(), 400),
        (
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx".to_owned(),
            413,
        ),
        (
            "GET / HTTP/1.1\r\nHost: t\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n".to_owned(),
            431,
        ),
        (
            "GET / HTTP/1.1\r\nHost: t\r\nExpect: tea\r\n\r\n".to_owned(),
            417,
        ),
        (
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_owned(),
            501,
        ),
    ];
    for (raw, status) in refusals {
        let r = exchange(srv.addr, &raw).expect("a refusal");
        assert_eq!(r.status, status, "{raw:?}");
        assert_date(&r);
    }
}

/// Every refusal of RFC 9112 the server makes: the status, a Date,
/// `Connection: close`, then the close, and the server serves on.
fn refusals_answer_then_close(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(|| reply("ok"))
            .content(Content::Compact)
            .max_body_bytes(64)
            .max_uri_bytes(256)
            .max_header_bytes(1024)
            .max_headers(8),
    );
    let h = "Host: t\r\n";
    let post = |headers: &str, body: &str| format!("POST / HTTP/1.1\r\n{h}{headers}\r\n{body}");
    let chunked = |body: &str| post("Transfer-Encoding: chunked\r\n", body);
    let cl = |value: &str| post(&format!("Content-Length: {value}\r\n"), "hello");
    let cases: Vec<(&str, String, u16)> = vec![
        (
            "request line without version",
            format!("GET /\r\n{h}\r\n"),
            400,
        ),
        ("request line of one word", format!("HELLO\r\n{h}\r\n"), 400),
        (
            "invalid method token",
            format!("G(T / HTTP/1.1\r\n{h}\r\n"),
            400,
        ),
        (
            "method with a slash",
            format!("GE/T / HTTP/1.1\r\n{h}\r\n"),
            400,
        ),
        (
            "unsupported version",
            format!("GET / HTTP/2.0\r\n{h}\r\n"),
            505,
        ),
        (
            "garbage version 1.32",
            format!("GET / HTTP/1.32\r\n{h}\r\n"),
            400,
        ),
        (
            "garbage version HTTX",
            format!("GET / HTTX/1.1\r\n{h}\r\n"),
            400,
        ),
        (
            "garbage version lowercase",
            format!("GET / http/1.1\r\n{h}\r\n"),
            400,
        ),
        (
            "URI too long",
            format!("GET /{} HTTP/1.1\r\n{h}\r\n", "a".repeat(300)),
            414,
        ),
        (
            "request line with no LF before the head limit",
            format!("GET /{}", "a".repeat(1500)),
            414,
        ),
        (
            "header section over the limit",
            format!(
                "GET / HTTP/1.1\r\n{h}X-A: {}\r\nX-B: {}\r\n\r\n",
                "a".repeat(600),
                "b".repeat(600)
            ),
            431,
        ),
        (
            "header section over the limit, still arriving",
            format!("GET / HTTP/1.1\r\n{h}X-A: {}", "a".repeat(1500)),
            431,
        ),
        (
            "too many headers",
            format!(
                "GET / HTTP/1.1\r\n{h}{}\r\n",
                (0..9).map(|i| format!("X-{i}: v\r\n")).collect::<String>()
            ),
            431,
        ),
        (
            "Content-Length over the body limit",
            post("Content-Length: 65\r\n", &"x".repeat(65)),
            413,
        ),
        (
            "chunked body over the body limit",
            chunked(&format!("41\r\n{}\r\n0\r\n\r\n", "x".repeat(65))),
            413,
        ),
        (
            "CL and TE",
            post(
                "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                "0\r\n\r\n",
            ),
            400,
        ),
        (
            "TE and CL",
            post(
                "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                "0\r\n\r\n",
            ),
            400,
        ),
        (
            "TE in HTTP/1.0",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".into(),
            400,
        ),
        ("TE gzip", post("Transfer-Encoding: gzip\r\n", "hello"), 400),
        (
            "TE chunked, gzip",
            post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "TE xchunked",
            post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "TE gzip, chunked",
            post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
            501,
        ),
        (
            "two TE lines",
            post(
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                "0\r\n\r\n",
            ),
            400,
        ),
        (
            "duplicate CL, different",
            post("Content-Length: 1\r\nContent-Length: 0\r\n", "x"),
            400,
        ),
        (
            "duplicate CL, same",
            post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"),
            400,
        ),
        ("CL +5", cl("+5"), 400),
        ("CL -1", cl("-1"), 400),
        ("CL 0x10", cl("0x10"), 400),
        ("CL 1_0", cl("1_0"), 400),
        ("CL 5, 5", cl("5, 5"), 400),
        ("CL empty", cl(""), 400),
        ("CL 1Z", cl("1Z"), 400),
        ("CL over u64", cl("18446744073709551616"), 400),
        (
            "obs-fold",
            format!("GET / HTTP/1.1\r\n{h}X-A: a\r\n b\r\n\r\n"),
            400,
        ),
        (
            "whitespace before colon",
            format!("GET / HTTP/1.1\r\n{h}X-A : a\r\n\r\n"),
            400,
        ),
        (
            "tab before colon",
            post("Content-Length\t: 5\r\n", "hello"),
            400,
        ),
        (
            "whitespace before the first header",
            format!("GET / HTTP/1.1\r\n X-A: a\r\n{h}\r\n"),
            400,
        ),
        (
            "NUL in a value",
            format!("GET / HTTP/1.1\r\n{h}X-A: a\0b\r\n\r\n"),
            400,
        ),
        (
            "NUL in a name",
            format!("GET / HTTP/1.1\r\n{h}X\0A: a\r\n\r\n"),
            400,
        ),
        (
            "bare CR in a value",
            format!("GET / HTTP/1.1\r\n{h}X-A: a\rb\r\n\r\n"),
            400,
        ),
        (
            "bare CR in a name",
            format!("GET / HTTP/1.1\r\n{h}X\rA: a\r\n\r\n"),
            400,
        ),
        (
            "non-token name",
            format!("GET / HTTP/1.1\r\n{h}X(A): a\r\n\r\n"),
            400,
        ),
        (
            "empty name",
            format!("GET / HTTP/1.1\r\n{h}: a\r\n\r\n"),
            400,
        ),
        (
            "missing Host in 1.1",
            "GET / HTTP/1.1\r\nX-A: a\r\n\r\n".into(),
            400,
        ),
        (
            "duplicate Host",
            format!("GET / HTTP/1.1\r\n{h}Host: u\r\n\r\n"),
            400,
        ),
        ("chunk size 0x1", chunked("0x1\r\nx\r\n0\r\n\r\n"), 400),
        ("chunk size +1", chunked("+1\r\nx\r\n0\r\n\r\n"), 400),
        ("chunk size empty", chunked("\r\nx\r\n0\r\n\r\n"), 400),
        (
            "chunk size 1_0",
            chunked("1_0\r\nxxxxxxxxxxxxxxxx\r\n0\r\n\r\n"),
            400,
        ),
        (
            "chunk size overflow",
            chunked("1ffffffffffffffff\r\nx\r\n0\r\n\r\n"),
            400,
        ),
        ("chunk line with bare LF", chunked("1\nx\r\n0\r\n\r\n"), 400),
        ("chunk data with bare LF", chunked("1\r\nx\n0\r\n\r\n"), 400),
        (
            "chunk data longer than its size",
            chunked("1\r\nxy\r\n0\r\n\r\n"),
            400,
        ),
        (
            "bare CR in a chunk extension",
            chunked("1;a=\rb\r\nx\r\n0\r\n\r\n"),
            400,
        ),
    ];
    for (name, raw, status) in cases {
        let mut c = srv.connect();
        c.send(&raw);
        let r = c.read_reply().unwrap_or_else(|| panic!("{name}: no reply"));
        assert_eq!(r.status, status, "{name}: {raw:?}");
        assert_eq!(r.version, "HTTP/1.1", "{name}");
        assert_eq!(r.header("connection"), Some("close"), "{name}");
        assert_date(&r);
        assert!(
            c.is_closed_by_server(),
            "{name}: the server closes after refusing"
        );
        let fresh =
            exchange(srv.addr, get("/")).unwrap_or_else(|| panic!("{name}: no fresh reply"));
        assert_eq!(
            (fresh.status, fresh.text().as_str()),
            (200, "ok"),
            "{name}: serving on"
        );
    }
}

/// Shapes the server accepts: empty lines before a request line (RFC 9112
/// §2.2), bare-LF line ends in a head (§2.2 allows it), case-insensitive
/// `chunked`, `Content-Length: 0` with no body.
fn accepted_shapes(d: Dispatcher) {
    let srv = echo_server(d);
    let cases: Vec<(&str, String, &str)> = vec![
        ("leading CRLFs", format!("\r\n\r\n{}", get("/a")), "GET /a "),
        ("leading LF", format!("\n{}", get("/b")), "GET /b "),
        (
            "bare-LF head",
            "GET /c HTTP/1.1\nHost: t\n\n".into(),
            "GET /c ",
        ),
        (
            "Chunked in capitals",
            "POST /d HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: CHUNKED\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
                .into(),
            "POST /d hi ",
        ),
        (
            "Content-Length: 0",
            "POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".into(),
            "POST /e  ",
        ),
        (
            "Content-Length with OWS",
            "POST /f HTTP/1.1\r\nHost: t\r\nContent-Length:  2 \r\n\r\nok".into(),
            "POST /f ok ",
        ),
        (
            "no framing on POST",
            "POST /g HTTP/1.1\r\nHost: t\r\n\r\n".into(),
            "POST /g  ",
        ),
    ];
    for (name, raw, want) in cases {
        let r = exchange(srv.addr, &raw).unwrap_or_else(|| panic!("{name}: no reply"));
        assert_eq!(r.status, 200, "{name}");
        assert!(r.text().starts_with(want), "{name}: {:?}", r.text());
    }
    // An empty line between pipelined requests is skipped too.
    let mut c = srv.connect();
    c.send(format!("{}\r\n{}", get("/x"), get("/y")));
    assert!(c.read_reply().unwrap().text().starts_with("GET /x "));
    assert!(c.read_reply().unwrap().text().starts_with("GET /y "));
}

#[test]
fn head_timeout_answers_408_with_date() {
    let srv = TestServer::start(
        HttpServer::new(|| reply("ok"))
            .threads(2)
            .header_timeout(Duration::from_millis(200)),
    );
    let mut c = srv.connect();
    c.send("GET / HTTP/1.1\r\nHost: t\r\n");
    let r = c.read_reply().expect("a 408");
    assert_eq!(r.status, 408);
    assert_date(&r);
    assert!(c.is_closed_by_server());
}

//! Streaming `multipart/form-data` (RFC 7578) over loopback, on both
//! dispatchers: curl `-F` uploads (fields, binary files with CRLF and
//! delimiter-like bytes, chunked, `Expect: 100-continue`), a hand-built
//! body through ureq to a handler taking the context, and raw sockets for
//! malformed bodies, limits, pipelining after a refusal, and a handler
//! that stops reading mid-body.

#[macro_use]
mod support;

use guildenstern::multipart::{multipart_with, Event, Limits, MultipartError};
use guildenstern::prelude::*;
use std::io::Write;
use std::net::Shutdown;
use std::process::Command;
use support::*;

/// FNV-1a, 64 bits: enough to tell bodies apart.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One line per part: `name|filename|content type|bytes|checksum`.
fn line(name: &str, filename: Option<&str>, ct: Option<&str>, data: &[u8]) -> String {
    format!(
        "{name}|{}|{}|{}|{:016x}\n",
        filename.unwrap_or("-"),
        ct.unwrap_or("-"),
        data.len(),
        checksum(data)
    )
}

/// The handler under test: answers GETs with their target (to see that a
/// pipelined request was served), and multipart posts with one line per
/// part. `/limited` has small limits; `/first-part-only` stops reading after
/// the first part's header.
fn summarize() {
    if is_method("GET") {
        reply(format!("get {}", uri()));
        return;
    }
    let limits = if is_uri("/limited") {
        Limits::default().max_parts(3).max_part_header_bytes(256)
    } else {
        Limits::default()
    };
    let stop_early = is_uri("/first-part-only");
    let mut out = String::new();
    let read = (|| -> Result<(), MultipartError> {
        let mut mp = multipart_with(limits)?;
        let mut current: Option<(String, Option<String>, Option<String>)> = None;
        let (mut len, mut sum) = (0usize, 0xcbf2_9ce4_8422_2325u64);
        while let Some(event) = mp.next_event()? {
            match event {
                Event::Part(p) => {
                    if stop_early {
                        out = format!("stopped at {}", p.name());
                        return Ok(());
                    }
                    current = Some((
                        p.name().into_owned(),
                        p.filename().map(|f| f.into_owned()),
                        p.content_type().map(str::to_owned),
                    ));
                    (len, sum) = (0, 0xcbf2_9ce4_8422_2325);
                }
                Event::Data(d) => {
                    len += d.len();
                    sum = d.iter().fold(sum, |h, &b| {
                        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                    });
                }
                Event::PartEnd => {
                    let (n, f, ct) = current.take().expect("a part was open");
                    out += &format!(
                        "{n}|{}|{}|{len}|{sum:016x}\n",
                        f.as_deref().unwrap_or("-"),
                        ct.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        Ok(())
    })();
    match read {
        Ok(()) => reply(out),
        Err(e) => reply_with(e.status(), e.to_string(), &[("Content-Type", "text/plain")]),
    }
}

fn server(d: Dispatcher) -> TestServer {
    start_on(
        d,
        HttpServer::new(summarize)
            .content(Content::Streaming)
            .threads(2),
    )
}

/// Bytes that a careless parser would take for delimiters: CRLFs, `--`,
/// curl's boundary prefix, every byte value.
fn tricky_file(n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n + 300);
    let mut i = 0u32;
    while v.len() < n {
        v.extend_from_slice(b"\r\n--------------------------\r\n--");
        v.extend((0..=255u8).cycle().skip(i as usize % 256).take(200));
        v.extend_from_slice(b"\r\n\r\n--\r\n------------------------0123\r");
        i += 7;
    }
    v.truncate(n);
    v
}

/// A file under the temp dir named for this test process, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(tag: &str, bytes: &[u8]) -> TempFile {
        let p = std::env::temp_dir().join(format!("gs-multipart-{}-{tag}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        TempFile(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--noproxy", "*"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn curl_fields_and_files(d: Dispatcher) {
    let srv = server(d);
    let small = tricky_file(70_000);
    // Over 1 MiB: curl asks `Expect: 100-continue` first.
    let large = tricky_file(3 << 20);
    let (f1, f2) = (
        TempFile::new("small", &small),
        TempFile::new("large", &large),
    );
    for chunked in [false, true] {
        let mut args = vec![
            "-F".to_string(),
            "title=hello world".into(),
            "--form-string".into(),
            "note=a \"quoted\"; value\r\nwith CRLF".into(),
            "-F".into(),
            format!("small=@{};filename=grüße daten.bin", f1.path()),
            "-F".into(),
            format!("large=@{};type=application/x-test", f2.path()),
            "-F".into(),
            "empty=".into(),
        ];
        if chunked {
            args.extend(["-H".into(), "Transfer-Encoding: chunked".into()]);
        }
        args.push(srv.url("/upload"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let got = curl(&args);
        let large_name = f2.0.file_name().unwrap().to_str().unwrap();
        let want = [
            line("title", None, None, b"hello world"),
            line("note", None, None, b"a \"quoted\"; value\r\nwith CRLF"),
            line(
                "small",
                Some("grüße daten.bin"),
                Some("application/octet-stream"),
                &small,
            ),
            line(
                "large",
                Some(large_name),
                Some("application/x-test"),
                &large,
            ),
            line("empty", None, None, b""),
        ]
        .concat();
        assert_eq!(got, want, "chunked: {chunked}");
    }
}

/// A handler taking the context, reading a hand-built body sent by ureq.
fn ureq_hand_built_body_to_context_handler(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::with_context(|cx| {
            let (req, res) = cx.parts();
            let mut out = String::new();
            let read = Multipart::from_request(req).and_then(|mut mp| {
                while let Some(event) = mp.next_event()? {
                    match event {
                        Event::Part(p) => out += &format!("[{} {:?}]", p.name(), p.filename()),
                        Event::Data(d) => out += &String::from_utf8_lossy(d),
                        Event::PartEnd => out += "|",
                    }
                }
                Ok(())
            });
            match read {
                Ok(()) => res.reply(out),
                Err(e) => res.reply_with(e.status(), e.to_string().as_bytes(), &[]),
            }
        })
        .content(Content::Streaming),
    );
    // A quoted boundary using every special character RFC 2046 allows, and
    // data holding its prefixes.
    let boundary = "a'(b)+_,-./:=? z";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n\
         x\r\n--a'(b)+_,-./:=? \r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"f\"; filename=\"C:\\dir\\a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n--{boundary}y\r\n--{boundary}--\r\n"
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(IO_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let mut res = agent
        .post(&srv.url("/"))
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary=\"{boundary}\""),
        )
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.body_mut().read_to_string().unwrap(),
        format!("[text None]x\r\n--a'(b)+_,-./:=? |[f Some(\"C:\\\\dir\\\\a.txt\")]--{boundary}y|")
    );
}

/// A POST of `body` with this Content-Type (none when empty).
fn post(path: &str, content_type: &str, body: &str) -> String {
    let ct = if content_type.is_empty() {
        String::new()
    } else {
        format!("Content-Type: {content_type}\r\n")
    };
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const FD: &str = "multipart/form-data; boundary=B";

fn part(name: &str, data: &str) -> String {
    format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{data}\r\n")
}

/// Malformed bodies get 400 or 415 with the cause, and the request
/// pipelined behind each is still served on the same connection.
fn malformed_bodies_keep_the_connection(d: Dispatcher) {
    let srv = server(d);
    let ok = format!("{}--B--\r\n", part("a", "1"));
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("text/plain", ok.clone(), 415, "not multipart"),
        ("", ok.clone(), 415, "not multipart"),
        ("multipart/form-data", ok.clone(), 400, "no boundary"),
        (
            "multipart/form-data; boundary=\"B \"",
            ok.clone(),
            400,
            "does not end with a space",
        ),
        (
            Box::leak(format!("multipart/form-data; boundary={}", "b".repeat(71)).into_boxed_str()),
            ok.clone(),
            400,
            "1 to 70",
        ),
        (
            FD,
            format!("{}--B junk\r\n--B--", part("a", "1")),
            400,
            "after a boundary",
        ),
        (
            FD,
            format!("{}--Bjunk\r\n--B--", part("a", "1")),
            400,
            "after a boundary",
        ),
        (
            FD,
            format!("{}{}", part("a", "1"), "no close"),
            400,
            "before its close",
        ),
        (
            FD,
            format!("{}--B", part("a", "1")),
            400,
            "before its close",
        ),
        (FD, "no delimiter at all".into(), 400, "before its close"),
        (
            FD,
            "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--".into(),
            400,
            "without Content-Disposition",
        ),
        (
            FD,
            "--B\r\nContent-Disposition: form-data; name=\"open\r\n\r\nx\r\n--B--".into(),
            400,
            "invalid Content-Disposition",
        ),
    ];
    // Each body as is, and (where the error comes before the body's end)
    // with 100 KB after it, more than the reader's buffer takes at once:
    // the reader drains it, so the connection goes on.
    let padding = "x".repeat(100_000);
    for (ct, body, status, cause) in cases {
        let padded = format!("{body}{padding}");
        let bodies = if cause.contains("before its close") {
            vec![body]
        } else {
            vec![body, padded]
        };
        for body in bodies {
            let mut c = srv.connect();
            c.send(format!("{}{}", post("/", ct, &body), get("/next")));
            let r = c.read_reply().expect("an answer");
            let what = format!(
                "{ct:?} {:?}, {} bytes",
                &body[..body.len().min(80)],
                body.len()
            );
            assert_eq!(r.status, status, "{what}: {}", r.text());
            assert!(r.text().contains(cause), "{what}: {}", r.text());
            assert_ne!(r.header("connection"), Some("close"), "{what}");
            let next = c.read_reply().expect("the pipelined request is served");
            assert_eq!(next.text(), "get /next", "{what}");
        }
    }
    // Well-formed bodies on a kept connection, for contrast: the epilogue
    // is drained too.
    for body in [ok.clone(), format!("{ok}{padding}")] {
        let mut c = srv.connect();
        c.send(format!("{}{}", post("/", FD, &body), get("/next")));
        assert_eq!(c.read_reply().unwrap().text(), line("a", None, None, b"1"));
        assert_eq!(c.read_reply().unwrap().text(), "get /next");
    }
}

/// Limits answer 413 and the reader stops there. A small body the reader
/// had already taken whole keeps the connection (the pipelined request is
/// served); from a bigger one the rest is left unread, so the answer closes
/// the connection, and still arrives.
fn limits_answer_413(d: Dispatcher) {
    let srv = server(d);
    let parts = |n: usize| -> String {
        let names = ["a", "b", "c", "d"];
        names[..n].iter().map(|p| part(p, "1")).collect()
    };
    let three_parts = format!("{}--B--\r\n", parts(3));
    let four_parts = format!("{}--B--\r\n", parts(4));
    let long_header = format!(
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Long: {}\r\n\r\n1\r\n--B--",
        "h".repeat(300)
    );
    let r = exchange(srv.addr, post("/limited", FD, &three_parts)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    for (body, cause) in [
        (&four_parts, "more than 3 parts"),
        (&long_header, "too large"),
    ] {
        let mut c = srv.connect();
        c.send(format!("{}{}", post("/limited", FD, body), get("/next")));
        let r = c.read_reply().expect("an answer");
        assert_eq!(r.status, 413, "{}", r.text());
        assert!(r.text().contains(cause), "{}", r.text());
        assert_eq!(c.read_reply().expect("served").text(), "get /next");
    }
    let big = format!("{}{}--B--\r\n", parts(4), part("e", &"x".repeat(1 << 20)));
    let mut c = srv.connect();
    let mut w = c.stream().try_clone().unwrap();
    let wire = format!("{}{}", post("/limited", FD, &big), get("/next"));
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(wire.as_bytes());
    });
    let r = c.read_reply().expect("an answer");
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.header("connection"), Some("close"));
    assert!(ends(&mut c));
    writer.join().unwrap();
}

/// A body that ends early: a missing close delimiter with the whole body
/// sent (400, connection kept) and a client that stops sending (400).
fn truncated_bodies(d: Dispatcher) {
    let srv = server(d);
    let body = part("a", "some data");
    let mut c = srv.connect();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: {FD}\r\nContent-Length: {}\r\n\r\n",
        body.len() + 100
    );
    c.send(format!("{head}{body}"));
    c.stream().shutdown(Shutdown::Write).unwrap();
    let r = c.read_reply().expect("an answer");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("reading the multipart body failed"),
        "{}",
        r.text()
    );
}

/// A client that stops sending mid-body, connection open: the body
/// deadline passes and the answer is 408.
fn stalled_body_answers_408(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(summarize)
            .content(Content::Streaming)
            .body_timeout(std::time::Duration::from_millis(300)),
    );
    let body = part("a", "some data");
    let mut c = srv.connect();
    c.send(format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: {FD}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len() + 100
    ));
    let r = c.read_reply().expect("an answer");
    assert_eq!(r.status, 408, "{}", r.text());
    assert!(r.text().contains("body timeout"), "{}", r.text());
    assert_eq!(r.header("connection"), Some("close"));
}

/// A big malformed body: the reader drains only `drain_bytes` of it, so
/// the answer closes the connection; and a handler that stops reading
/// after the first part: its answer arrives while the client still sends.
fn answers_arrive_when_the_body_is_left_unread(d: Dispatcher) {
    let srv = server(d);
    let big = "x".repeat(4 << 20);
    for (path, body, status, text) in [
        ("/", format!("--Bjunk\r\n{big}"), 400, "after a boundary"),
        (
            "/first-part-only",
            format!("{}{}", part("first", &big), part("second", "2")),
            200,
            "stopped at first",
        ),
    ] {
        let mut c = srv.connect();
        let mut w = c.stream().try_clone().unwrap();
        let wire = post(path, FD, &body);
        let writer = std::thread::spawn(move || {
            // The server may close before reading everything.
            let _ = w.write_all(wire.as_bytes());
        });
        let r = c.read_reply().expect("an answer");
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(r.text().contains(text), "{path}: {}", r.text());
        assert_eq!(r.header("connection"), Some("close"), "{path}");
        assert!(ends(&mut c), "{path}: the connection ends");
        writer.join().unwrap();
    }
}

/// A client waiting for `100 Continue` with a body that will be refused
/// gets the refusal at once, not a `100 Continue` asking for the upload
/// (RFC 9110 §10.1.1); the answer closes the connection. A good one gets
/// its `100 Continue`.
fn expect_continue_refused_without_the_upload(d: Dispatcher) {
    let srv = server(d);
    let body = format!("{}--B--\r\n", part("a", "1"));
    for ct in ["text/plain", "multipart/form-data; boundary=\"B \""] {
        let mut c = srv.connect();
        c.send(format!(
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: {ct}\r\nExpect: 100-continue\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        ));
        let r = c.read_reply().expect("an answer");
        assert!(r.status == 415 || r.status == 400, "{ct}: {}", r.status);
        assert_eq!(r.header("connection"), Some("close"), "{ct}");
        assert!(ends(&mut c), "{ct}");
    }
    let mut c = srv.connect();
    c.send(format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: {FD}\r\nExpect: 100-continue\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    ));
    assert_eq!(c.read_reply().expect("100").status, 100);
    c.send(&body);
    assert_eq!(c.read_reply().unwrap().text(), line("a", None, None, b"1"));
}

/// A server that does not stream bodies cannot read multipart: 500, and
/// the handler's author reads why.
fn compact_server_answers_500(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(summarize)
            .content(Content::Compact)
            .threads(1),
    );
    let body = format!("{}--B--\r\n", part("a", "1"));
    let r = exchange(srv.addr, post("/", FD, &body)).expect("an answer");
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.text().contains("not streamed"), "{}", r.text());
}

/// Whether the server ends the connection (a FIN, or a reset when it
/// closes with the rest of a big body unread) within the client's deadline.
fn ends(c: &mut Client) -> bool {
    let mut sink = [0u8; 64 * 1024];
    loop {
        match std::io::Read::read(&mut c.reader, &mut sink) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

on_both_dispatchers!(
    curl_fields_and_files,
    ureq_hand_built_body_to_context_handler,
    malformed_bodies_keep_the_connection,
    limits_answer_413,
    truncated_bodies,
    stalled_body_answers_408,
    answers_arrive_when_the_body_is_left_unread,
    expect_continue_refused_without_the_upload,
    compact_server_answers_500,
);

//! A client that sends its requests and half-closes at once (its FIN may
//! arrive with the last bytes, as one readiness edge) gets every answer and
//! then the server's close right away, not at the idle timeout: both
//! dispatchers watch connections edge-triggered and must not lose the end.
//! A client refused while it still sends gets its refusal all the same.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::{status_of, until_closed, Closes, LIMIT};
use guildenstern::prelude::*;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{
    connect_with_deadline, get, send_beyond_the_buffers, wait_until, Client, TestServer,
};

on_both_dispatchers!(
    request_then_half_close_is_answered_and_closed,
    pipelined_requests_then_half_close_are_answered_and_closed,
    a_parked_connection_s_last_request_and_half_close_are_answered_and_closed,
    a_refused_client_still_sending_reads_the_refusal,
    a_timed_out_client_still_sending_reads_the_408,
    a_client_that_never_stops_sending_is_cut_off_as_abuse,
    urgent_data_in_a_request_does_not_stall_it,
);

/// Well below the idle and head timeouts set on the server.
const PROMPT: Duration = Duration::from_secs(5);

/// A server whose only worker is held in a `/hold` handler (on `holder`'s
/// connection) until `release` is set.
struct Held {
    srv: TestServer,
    holder: Client,
    release: Arc<AtomicBool>,
}

fn start_held(d: Dispatcher, configure: impl FnOnce(HttpServer) -> HttpServer) -> Held {
    start_holdable(d, configure).hold()
}

/// A server whose only worker can be held in a `/hold` handler.
struct Holdable {
    srv: TestServer,
    entered: Arc<AtomicBool>,
    release: Arc<AtomicBool>,
}

fn start_holdable(d: Dispatcher, configure: impl FnOnce(HttpServer) -> HttpServer) -> Holdable {
    let entered = Arc::new(AtomicBool::new(false));
    let release = Arc::new(AtomicBool::new(false));
    let (e, r) = (entered.clone(), release.clone());
    let srv = TestServer::start(configure(
        HttpServer::new(move || {
            if is_uri("/hold") {
                e.store(true, Ordering::SeqCst);
                wait_until(LIMIT, || r.load(Ordering::SeqCst));
            }
            reply("hello")
        })
        .dispatcher(d)
        .threads(1),
    ));
    Holdable {
        srv,
        entered,
        release,
    }
}

impl Holdable {
    /// Holds the only worker (from another connection) until released.
    fn hold(self) -> Held {
        let Holdable {
            srv,
            entered,
            release,
        } = self;
        let mut holder = srv.connect();
        holder.send(get("/hold"));
        assert!(wait_until(LIMIT, || entered.load(Ordering::SeqCst)));
        Held {
            srv,
            holder,
            release,
        }
    }
}

/// Sends `requests` GETs and the FIN while the server's only worker is
/// held in a handler on another connection, so that the bytes and the end
/// are both queued before the server reads any of them; then expects every
/// answer and the server's close well before the idle timeout. With
/// `served_first`, the connection was served a request and parked before
/// (a keep-alive connection's next edge, not the first look at a new one).
fn check(d: Dispatcher, requests: usize, served_first: bool) {
    let closes = Closes::default();
    let holdable = start_holdable(d, |b| {
        b.idle_timeout(Duration::from_secs(60))
            .header_timeout(Duration::from_secs(60))
            .on_close(closes.hook())
    });
    let mut s = connect_with_deadline(holdable.srv.addr, PROMPT);
    if served_first {
        s.write_all(get("/").as_bytes()).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.ends_with(b"hello") {
            let n = s.read(&mut buf).expect("the first answer");
            assert!(n > 0, "closed after the first request");
            got.extend_from_slice(&buf[..n]);
        }
    }
    let Held {
        srv: _srv,
        mut holder,
        release,
    } = holdable.hold();

    s.write_all(get("/").repeat(requests).as_bytes()).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let started = Instant::now();
    release.store(true, Ordering::SeqCst);
    assert!(holder.read_reply().is_some());

    let got = until_closed(&mut s).unwrap_or_else(|| panic!("not closed within {PROMPT:?}"));
    assert!(started.elapsed() < PROMPT);
    let text = String::from_utf8_lossy(&got);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), requests, "{text}");
    assert!(text.ends_with("hello"), "{text}");
    drop(holder);
    closes.wait_len(2);
    for (_, cause, _) in closes.all() {
        assert_eq!(cause, CloseCause::ClosedByClient);
    }
}

fn request_then_half_close_is_answered_and_closed(d: Dispatcher) {
    check(d, 1, false);
}

fn pipelined_requests_then_half_close_are_answered_and_closed(d: Dispatcher) {
    check(d, 3, false);
}

fn a_parked_connection_s_last_request_and_half_close_are_answered_and_closed(d: Dispatcher) {
    check(d, 1, true);
}

/// A byte of TCP urgent data in the middle of a request head: a read stops
/// short at the urgent mark, with the rest of the head behind it and no
/// new edge to come for those bytes (the urgent byte itself leaves the
/// stream). The head, queued whole while the only worker is held, is still
/// read to its end and answered, not left until the header timeout.
fn urgent_data_in_a_request_does_not_stall_it(d: Dispatcher) {
    use std::os::fd::AsRawFd;
    let holdable = start_holdable(d, |b| {
        b.idle_timeout(Duration::from_secs(60))
            .header_timeout(Duration::from_secs(60))
    });
    let mut s = connect_with_deadline(holdable.srv.addr, PROMPT);
    let Held {
        srv: _srv,
        mut holder,
        release,
    } = holdable.hold();
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap();
    // SAFETY: a valid socket and a one-byte buffer that outlives the call.
    let sent = unsafe { libc::send(s.as_raw_fd(), b"!".as_ptr().cast(), 1, libc::MSG_OOB) };
    assert_eq!(sent, 1, "urgent byte sent");
    s.write_all(b"\r\n").unwrap();
    release.store(true, Ordering::SeqCst);
    assert!(holder.read_reply().is_some());

    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"hello") {
        match s.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            r => panic!(
                "no answer within {PROMPT:?} ({r:?}), got {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    assert!(
        got.starts_with(b"HTTP/1.1 200 OK"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

/// A client refused at its request head (this server takes no bodies) that
/// goes on sending the rest of its ~200 KB upload has it all taken, and
/// reads the refusal: the lingering close drains a bounded total across
/// wake-ups. (It used to give up after 64 KiB in one read pass and close
/// with a reset while the client was still writing.) Over 64 KiB is queued
/// before the server reads a byte (its only worker is held), and the rest
/// of the upload is still being written.
fn a_refused_client_still_sending_reads_the_refusal(d: Dispatcher) {
    const UPLOAD: usize = 200 * 1024;
    let Held {
        srv,
        mut holder,
        release,
    } = start_held(d, |b| b.content(Content::NoBody));
    let mut s = connect_with_deadline(srv.addr, LIMIT);
    let mut upload =
        format!("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: {UPLOAD}\r\n\r\n").into_bytes();
    upload.resize(upload.len() + UPLOAD, b'x');
    let writer = send_beyond_the_buffers(&s, upload);
    release.store(true, Ordering::SeqCst);
    assert!(holder.read_reply().is_some());
    let result = writer.join().unwrap();
    let got = until_closed(&mut s).expect("closed");
    assert!(
        result.is_ok(),
        "the rest of the upload was refused: {result:?}"
    );
    assert_eq!(
        status_of(&got),
        Some(413),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

/// A client whose body stalls past the body timeout gets a 408, then goes
/// on sending the rest of its upload before it reads: the 408 is followed
/// by a lingering close, as a refusal is, so the rest is taken and the 408
/// read. (A close at once met the unread upload with a reset.)
fn a_timed_out_client_still_sending_reads_the_408(d: Dispatcher) {
    const UPLOAD: usize = 300 * 1024;
    let srv = TestServer::start(
        HttpServer::new(|| reply("hello"))
            .content(Content::Compact)
            .max_body_bytes(UPLOAD)
            .body_timeout(Duration::from_millis(200))
            .dispatcher(d)
            .threads(1),
    );
    let mut s = connect_with_deadline(srv.addr, LIMIT);
    let head = format!("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: {UPLOAD}\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&[b'x'; 1000]).unwrap();
    // The 408 has arrived (left unread) once the socket has a byte to peek.
    let mut first = [0u8; 1];
    assert_eq!(
        s.peek(&mut first).unwrap(),
        1,
        "an answer to the stalled body"
    );
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        w.write_all(&vec![b'x'; UPLOAD - 1000])?;
        w.shutdown(Shutdown::Write)
    });
    let result = writer.join().unwrap();
    let got = until_closed(&mut s).expect("closed, not reset");
    assert!(
        result.is_ok(),
        "the rest of the upload was refused: {result:?}"
    );
    assert_eq!(
        status_of(&got),
        Some(408),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

/// A refused client that keeps sending past the lingering close's budget
/// (64 MiB) is cut off, and its close says why: the drain's verdict, not
/// the refusal's.
fn a_client_that_never_stops_sending_is_cut_off_as_abuse(d: Dispatcher) {
    let closes = Closes::default();
    let srv = TestServer::start(
        HttpServer::new(|| reply("hello"))
            .on_close(closes.hook())
            .dispatcher(d)
            .threads(1),
    );
    let mut s = connect_with_deadline(srv.addr, LIMIT);
    // NoBody: refused with 413 at the head, then drained.
    let head = "POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 100000000\r\n\r\n";
    s.write_all(head.as_bytes()).unwrap();
    let piece = vec![b'x'; 1 << 20];
    let mut sent = 0usize;
    while sent < 100 << 20 && s.write_all(&piece).is_ok() {
        sent += piece.len();
    }
    assert!(sent < 100 << 20, "the server took all {sent} bytes");
    closes.wait_len(1);
    let (_, cause, msg) = closes.all().remove(0);
    assert_eq!(cause, CloseCause::ProtocolViolated, "{msg}");
    assert!(msg.contains("kept sending"), "{msg}");
}

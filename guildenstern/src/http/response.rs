//! Writing responses: the status line, a Date, framing headers, the body;
//! batched in one buffer so that a response (or a batch of pipelined ones)
//! leaves in one write.

use super::date::format_http_date;
use super::server::BoxedState;
use super::status::reason;
use crate::dispatch::sys::clock::unix_secs;
use crate::dispatch::{write_all, write_now, CloseCause, ConnRef, Server};
use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Bodies larger than this are written straight from the caller's slice
/// instead of being copied into the batch buffer.
const COPY_LIMIT: usize = 16 * 1024;
/// A batch larger than this is written at once.
pub(crate) const FLUSH_LIMIT: usize = 64 * 1024;
/// At most this much of the answers a client has not read is kept for it
/// (the kernel already holds up to its socket's send buffer); beyond, the
/// worker waits for the socket, up to the send timeout.
pub(crate) const UNSENT_LIMIT: usize = 256 * 1024;

/// Where the response to the current request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplyState {
    /// Nothing sent yet.
    None,
    /// A complete response was written (or queued).
    Done,
    /// `reply_start` announced this many body bytes still to come.
    Known(u64),
    /// `reply_chunked_start` was called; chunks may follow.
    Chunked,
}

/// The writing side of the request in flight.
///
/// A `HEAD` request runs the same handler as a `GET` (RFC 9110 §9.3.2):
/// the handler answers as for `GET`, and the answer keeps its status, its
/// header fields and its `Content-Length`, but no body is sent (body bytes
/// given are dropped, and streaming calls return `Ok`). A handler that
/// wants to skip expensive work for `HEAD` asks `is_method("HEAD")`.
pub struct Response {
    pub(crate) out: Vec<u8>,
    pub(crate) state: ReplyState,
    pub(crate) status: u16,
    /// HTTP minor version of the request (the response uses the same).
    pub(crate) minor: u8,
    /// Whether the connection may stay open after this response.
    pub(crate) keep_alive: bool,
    /// A HEAD request: headers only.
    pub(crate) head_only: bool,
    pub(crate) conn: Option<ConnRef<BoxedState>>,
    pub(crate) send_timeout: Duration,
    /// The first write error; later writes are skipped.
    pub(crate) failed: Option<(CloseCause, String)>,
    /// What the streaming calls return once `failed` is set (meaningless before).
    failed_kind: io::ErrorKind,
    /// Where the current answer's head starts in `out`, while none of `out`
    /// was written since it was put there: the head can still change.
    head_at: Option<usize>,
    /// Shared with the request: a streamed body is not read whole yet.
    pub(crate) body_unread: Rc<Cell<bool>>,
    /// The server answering (none in unit tests).
    pub(crate) server: Option<Server>,
}

impl Response {
    pub(crate) fn new(send_timeout: Duration, body_unread: Rc<Cell<bool>>) -> Self {
        Response {
            out: Vec::with_capacity(FLUSH_LIMIT + 1024),
            send_timeout,
            body_unread,
            ..Response::detached()
        }
    }

    /// A response with no connection and a small buffer: one short answer
    /// is built in it, to be written by the caller.
    pub(crate) fn detached() -> Self {
        Response {
            out: Vec::with_capacity(256),
            state: ReplyState::None,
            status: 0,
            minor: 1,
            keep_alive: true,
            head_only: false,
            conn: None,
            send_timeout: Duration::ZERO,
            failed: None,
            failed_kind: io::ErrorKind::Other,
            head_at: None,
            body_unread: Rc::default(),
            server: None,
        }
    }

    /// Whether anything of a response was sent (or queued) for this request.
    pub fn is_started(&self) -> bool {
        self.state != ReplyState::None
    }

    /// Answers with a status and an empty body.
    pub fn reply_code(&mut self, code: u16) {
        self.reply_with(code, b"", &[]);
    }

    /// Answers 200 with a body.
    pub fn reply(&mut self, body: impl AsRef<[u8]>) {
        self.reply_with(200, body.as_ref(), &[]);
    }

    /// Answers with a status, a body and header fields (`("Location", "/")`).
    ///
    /// Fields whose name or value could break the framing (CR, LF, a colon or
    /// space in the name) are dropped with an error logged. The framing
    /// fields `Content-Length`, `Transfer-Encoding` and `Connection` are the
    /// server's: given here they are dropped, with a debug message (end the
    /// connection with [`Http::close_socket`](super::Http::close_socket)).
    /// A 204 or 304 answer carries neither a body nor a Content-Length: `body`
    /// is dropped (for a 304 that names the length of the selected
    /// representation, see [`reply_start`](Self::reply_start)).
    pub fn reply_with(&mut self, code: u16, body: impl AsRef<[u8]>, headers: &[(&str, &str)]) {
        self.reply_with_bytes(code, body.as_ref(), headers)
    }

    fn reply_with_bytes(&mut self, code: u16, body: &[u8], headers: &[(&str, &str)]) {
        if !self.begin(code) {
            return;
        }
        let bodyless = has_no_content(code);
        let length = framed_length(code, body.len() as u64);
        self.write_head(code, headers, length, false);
        self.state = ReplyState::Done;
        if bodyless && !body.is_empty() {
            log::debug!(target: "guildenstern", "a {code} answer has no body; {} bytes dropped", body.len());
        }
        if self.head_only || bodyless || body.is_empty() {
            return;
        }
        if body.len() <= COPY_LIMIT {
            self.out.extend_from_slice(body);
            if self.out.len() >= FLUSH_LIMIT {
                self.write_now(b"");
            }
        } else {
            // The response is complete: what the socket does not take now
            // waits in the batch buffer, and the worker moves on.
            self.write_now(body);
        }
    }

    /// Starts a response whose body of `content_length` bytes follows in
    /// [`reply_more`](Self::reply_more) calls. Header fields as in
    /// [`reply_with`](Self::reply_with).
    ///
    /// A 204 answer carries no body and no Content-Length. A 304 answer
    /// carries no body but keeps this Content-Length: RFC 9110 §8.6 allows it
    /// when it is the length a 200 answer to the same request would have (a
    /// cache may use it), and no other value may be given. As for a HEAD
    /// request, `reply_more` then drops what it gets and returns `Ok`.
    pub fn reply_start(&mut self, code: u16, content_length: u64, headers: &[(&str, &str)]) {
        if !self.begin(code) {
            return;
        }
        let bodyless = has_no_content(code);
        let length = match code {
            304 => Some(content_length),
            _ => framed_length(code, content_length),
        };
        self.write_head(code, headers, length, false);
        self.state = if self.head_only || bodyless || content_length == 0 {
            ReplyState::Done
        } else {
            ReplyState::Known(content_length)
        };
        self.flush();
    }

    /// Sends more of a body started with [`reply_start`](Self::reply_start).
    ///
    /// # Errors
    /// When the client is gone: the connection broke (`BrokenPipe`,
    /// `ConnectionReset`, …) or the client read nothing for the send timeout
    /// (`TimedOut`). Nothing more is sent then, every later call returns the
    /// same kind of error at once, and the connection closes after the
    /// handler: a handler streaming a large body stops at the first error.
    /// `InvalidInput` (logged, the bytes dropped) without a `reply_start`
    /// before, or for bytes beyond the announced length. For a HEAD request
    /// and for 204 and 304 answers the bytes are dropped and `Ok` returned.
    pub fn reply_more(&mut self, bytes: impl AsRef<[u8]>) -> io::Result<()> {
        self.more_bytes(bytes.as_ref())
    }

    fn more_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.gone()?;
        if self.drops_body() {
            return Ok(());
        }
        let ReplyState::Known(left) = self.state else {
            log::error!(target: "guildenstern", "reply_more without reply_start");
            return Err(io::ErrorKind::InvalidInput.into());
        };
        if bytes.len() as u64 > left {
            log::error!(target: "guildenstern", "reply_more: {} bytes but only {left} announced", bytes.len());
            return Err(io::ErrorKind::InvalidInput.into());
        }
        self.flush_with(bytes);
        let left = left - bytes.len() as u64;
        self.state = if left == 0 {
            ReplyState::Done
        } else {
            ReplyState::Known(left)
        };
        self.gone()
    }

    /// Ends a body started with [`reply_start`](Self::reply_start) (the
    /// server ends it after the handler otherwise).
    ///
    /// # Errors
    /// As [`reply_more`](Self::reply_more); `InvalidInput` when fewer bytes
    /// were sent than announced: the connection then closes (the client
    /// would otherwise wait for them).
    pub fn reply_finish(&mut self) -> io::Result<()> {
        if let ReplyState::Known(left) = self.state {
            self.keep_alive = false;
            if self.failed.is_none() {
                log::warn!(target: "guildenstern", "reply_finish with {left} announced bytes unsent; closing");
                self.failed = Some((CloseCause::CloseCalled, "incomplete reply".into()));
                self.failed_kind = io::ErrorKind::InvalidInput;
            }
        }
        self.state = ReplyState::Done;
        self.flush();
        self.gone()
    }

    /// Starts a chunked response (HTTP/1.1; for HTTP/1.0 the body is sent
    /// as is and the connection closes after it). Header fields as in
    /// [`reply_with`](Self::reply_with). A 204 or 304 answer carries no
    /// body: the chunks are dropped and no `Transfer-Encoding` is sent.
    pub fn reply_chunked_start(&mut self, code: u16, headers: &[(&str, &str)]) {
        if !self.begin(code) {
            return;
        }
        let bodyless = has_no_content(code);
        if self.minor == 0 && !bodyless {
            self.keep_alive = false;
        }
        let length = bodyless.then(|| framed_length(code, 0)).flatten();
        self.write_head(code, headers, length, self.minor == 1 && !bodyless);
        self.state = if self.head_only || bodyless {
            ReplyState::Done
        } else {
            ReplyState::Chunked
        };
        self.flush();
    }

    /// Sends one chunk (an empty slice sends nothing).
    ///
    /// # Errors
    /// As [`reply_more`](Self::reply_more): the client is gone, or
    /// `InvalidInput` without a `reply_chunked_start` before.
    pub fn reply_chunk(&mut self, bytes: impl AsRef<[u8]>) -> io::Result<()> {
        self.chunk_bytes(bytes.as_ref())
    }

    fn chunk_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.gone()?;
        if self.state != ReplyState::Chunked {
            if self.drops_body() {
                return Ok(());
            }
            log::error!(target: "guildenstern", "reply_chunk without reply_chunked_start");
            return Err(io::ErrorKind::InvalidInput.into());
        }
        if bytes.is_empty() {
            return Ok(());
        }
        if self.minor == 1 {
            write_hex(&mut self.out, bytes.len());
            self.out.extend_from_slice(b"\r\n");
            self.flush_with_parts(bytes, b"\r\n");
        } else {
            self.flush_with(bytes);
        }
        self.gone()
    }

    /// Ends a chunked response (the server ends it after the handler otherwise).
    ///
    /// # Errors
    /// As [`reply_chunk`](Self::reply_chunk), when the client is gone.
    pub fn reply_chunked_finish(&mut self) -> io::Result<()> {
        if self.state == ReplyState::Chunked {
            if self.minor == 1 {
                self.out.extend_from_slice(b"0\r\n\r\n");
            }
            self.state = ReplyState::Done;
            self.flush();
        }
        self.gone()
    }

    /// The error the streaming calls return once a write failed.
    fn gone(&self) -> io::Result<()> {
        match self.failed {
            None => Ok(()),
            Some(_) => Err(self.failed_kind.into()),
        }
    }

    /// A complete answer that takes no body bytes (HEAD, 204, 304) was started.
    fn drops_body(&self) -> bool {
        self.state == ReplyState::Done && (self.head_only || has_no_content(self.status))
    }

    /// The connection closes after this answer: it says `Connection: close`,
    /// also when its head is still in the batch buffer. A head already
    /// written cannot change (a streamed answer, a body over 16 KiB).
    pub(crate) fn close_after(&mut self) {
        let was_open = std::mem::replace(&mut self.keep_alive, false);
        if !was_open || self.state == ReplyState::None {
            // The head, when it comes, says it.
            return;
        }
        let head = self
            .head_at
            .filter(|&at| {
                self.out
                    .get(at..)
                    .is_some_and(|h| h.starts_with(b"HTTP/1."))
            })
            .and_then(|at| {
                let end = self.out[at..].windows(4).position(|w| w == b"\r\n\r\n")?;
                Some(at + end + 2)
            });
        let Some(end) = head else {
            log::debug!(target: "guildenstern", "closing after an answer whose head was written without Connection: close");
            return;
        };
        const KEEP_ALIVE: &[u8] = b"Connection: keep-alive\r\n";
        let from = if self.out[..end].ends_with(KEEP_ALIVE) {
            end - KEEP_ALIVE.len()
        } else {
            end
        };
        self.out
            .splice(from..end, b"Connection: close\r\n".iter().copied());
    }

    fn begin(&mut self, code: u16) -> bool {
        if self.state != ReplyState::None {
            log::error!(target: "guildenstern", "a response was already sent; {code} dropped");
            return false;
        }
        if !(100..=999).contains(&code) || (100..200).contains(&code) {
            log::error!(target: "guildenstern", "status {code} cannot be a final response; 500 sent");
            self.status = 500;
            self.write_head(500, &[], Some(0), false);
            self.state = ReplyState::Done;
            return false;
        }
        self.status = code;
        true
    }

    /// Writes the status line and header section into the batch buffer.
    pub(crate) fn write_head(
        &mut self,
        code: u16,
        headers: &[(&str, &str)],
        content_length: Option<u64>,
        chunked: bool,
    ) {
        if self.body_unread.get() || self.server.as_ref().is_some_and(Server::is_stopping) {
            // The rest of the body could not be told from the next request,
            // or the server closes every connection after this answer.
            self.keep_alive = false;
        }
        self.head_at = Some(self.out.len());
        let out = &mut self.out;
        put_head_start(out, self.minor, code, content_length.is_some());
        if let Some(n) = content_length {
            write_dec(out, n);
            out.extend_from_slice(b"\r\n");
        } else if chunked {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        } else if !is_bodyless(code) {
            // HTTP/1.0 and no length: the end of the connection ends the body.
            self.keep_alive = false;
        }
        for (name, value) in headers {
            if !valid_field(name, value) {
                log::error!(target: "guildenstern", "header field {name:?} dropped: invalid name or value");
                continue;
            }
            if is_framing_field(name) {
                log::debug!(target: "guildenstern", "header field {name:?} dropped: the server writes the framing fields");
                continue;
            }
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if !self.keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if self.minor == 0 {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Writes what the socket takes now of the batch buffer and `tail`,
    /// and keeps the rest in the batch buffer (the connection parks with
    /// it); true when nothing is left. A rest over [`UNSENT_LIMIT`] is
    /// written out waiting for the socket instead, so that a client that
    /// does not read cannot make the server hold large answers for it.
    /// A write error is kept in `failed` (the rest is dropped).
    pub(crate) fn write_now(&mut self, tail: &[u8]) -> bool {
        self.head_at = None;
        let Some(conn) = self.conn.as_ref().filter(|_| self.failed.is_none()) else {
            self.out.clear();
            return true;
        };
        let parts = [&self.out[..], tail, b""];
        let total = self.out.len() + tail.len();
        let outcome = match write_now(&conn.stream, parts, 0) {
            Ok(n) if total - n > UNSENT_LIMIT => {
                let deadline = Instant::now() + self.send_timeout;
                let rest = [
                    &parts[0][n.min(parts[0].len())..],
                    &tail[n.saturating_sub(parts[0].len())..],
                    b"",
                ];
                write_all(&conn.stream, rest, deadline).map(|()| total)
            }
            r => r,
        };
        let had = self.out.len();
        match outcome {
            Ok(n) if n >= had => {
                self.out.clear();
                self.out.extend_from_slice(&tail[n - had..]);
            }
            Ok(n) => {
                self.out.drain(..n);
                self.out.extend_from_slice(tail);
            }
            Err(e) => {
                self.write_failed(e);
                self.out.clear();
            }
        }
        self.out.is_empty()
    }

    /// Keeps the first write error; the connection closes with it.
    fn write_failed(&mut self, e: io::Error) {
        let cause = if e.kind() == io::ErrorKind::TimedOut {
            CloseCause::TimedOut
        } else {
            CloseCause::ConnectionLost
        };
        self.failed_kind = e.kind();
        self.failed = Some((cause, format!("writing response: {e}")));
    }

    /// Writes the batch buffer now, waiting for the socket up to the send timeout.
    pub(crate) fn flush(&mut self) {
        self.flush_with_parts(b"", b"");
    }

    fn flush_with(&mut self, tail: &[u8]) {
        self.flush_with_parts(tail, b"");
    }

    /// Writes the batch buffer followed by `a` and `b`, in as few writes as the socket allows.
    fn flush_with_parts(&mut self, a: &[u8], b: &[u8]) {
        self.head_at = None;
        if self.out.is_empty() && a.is_empty() && b.is_empty() {
            return;
        }
        if self.failed.is_none() {
            if let Some(conn) = &self.conn {
                let deadline = Instant::now() + self.send_timeout;
                if let Err(e) = write_all(&conn.stream, [&self.out[..], a, b], deadline) {
                    self.write_failed(e);
                }
            }
        }
        self.out.clear();
    }
}

/// Statuses whose responses carry no body and no Content-Length.
fn is_bodyless(code: u16) -> bool {
    code == 204 || code == 304 || (100..200).contains(&code)
}

/// Statuses whose answer carries no content: the bodyless ones, and 205,
/// which must not have content (RFC 9110 §15.3.6) but is framed as usual.
fn has_no_content(code: u16) -> bool {
    is_bodyless(code) || code == 205
}

/// The Content-Length an answer with `code` and a body of `len` bytes
/// carries: none for the bodyless statuses, 0 for 205, else `len`.
fn framed_length(code: u16, len: u64) -> Option<u64> {
    match code {
        205 => Some(0),
        _ if is_bodyless(code) => None,
        _ => Some(len),
    }
}

/// Fields that frame the message (RFC 9112 §6.1, §6.3) or say whether the
/// connection goes on: the server writes them.
fn is_framing_field(name: &str) -> bool {
    ["content-length", "transfer-encoding", "connection"]
        .iter()
        .any(|f| name.eq_ignore_ascii_case(f))
}

fn valid_field(name: &str, value: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        && value
            .bytes()
            .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Room for the longest head start: `HTTP/1.1 `, a code, a space, the
/// longest reason phrase (31 bytes), CRLF, `Date: ` and a date, CRLF,
/// `Content-Length: `.
const HEAD_START_CAP: usize = 128;

/// The start of an answer's head, which only the version, the status and
/// the second change: `HTTP/1.1 200 OK\r\nDate: …\r\nContent-Length: `.
/// Formatted once per thread and reused while those stay the same.
struct HeadStart {
    /// Unix second, status, minor version (status 0: nothing yet).
    key: (u64, u16, u8),
    bytes: [u8; HEAD_START_CAP],
    /// Bytes in use, `Content-Length: ` included.
    len: usize,
    /// Where `Content-Length: ` starts.
    length_at: usize,
}

impl HeadStart {
    fn fill(&mut self, key: (u64, u16, u8)) {
        let (secs, code, minor) = key;
        let mut date = [0; 29];
        format_http_date(secs, &mut date);
        let digits = [
            b'0' + (code / 100 % 10) as u8,
            b'0' + (code / 10 % 10) as u8,
            b'0' + (code % 10) as u8,
        ];
        let parts: [&[u8]; 8] = [
            if minor == 0 {
                b"HTTP/1.0 "
            } else {
                b"HTTP/1.1 "
            },
            &digits,
            b" ",
            reason(code).as_bytes(),
            b"\r\nDate: ",
            &date,
            b"\r\n",
            b"Content-Length: ",
        ];
        let mut at = 0;
        for (i, part) in parts.iter().enumerate() {
            if i == parts.len() - 1 {
                self.length_at = at;
            }
            self.bytes[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        self.len = at;
        self.key = key;
    }
}

/// Appends the status line, the Date field and, if `length`, the name of
/// the Content-Length field (its value follows).
fn put_head_start(out: &mut Vec<u8>, minor: u8, code: u16, length: bool) {
    thread_local! {
        static HEAD_START: RefCell<HeadStart> = const {
            RefCell::new(HeadStart {
                key: (0, 0, 0),
                bytes: [0; HEAD_START_CAP],
                len: 0,
                length_at: 0,
            })
        };
    }
    // `begin` lets only three-digit codes through.
    debug_assert!((100..=999).contains(&code), "{code}");
    let key = (unix_secs(), code, minor);
    HEAD_START.with(|start| {
        let mut start = start.borrow_mut();
        if start.key != key {
            start.fill(key);
        }
        let end = if length { start.len } else { start.length_at };
        out.extend_from_slice(&start.bytes[..end]);
    });
}

/// Appends `n` in decimal; lengths under 10 000 without a copy loop.
pub(crate) fn write_dec(out: &mut Vec<u8>, n: u64) {
    let d = |k: u64| b'0' + (n / k % 10) as u8;
    match n {
        0..=9 => out.push(d(1)),
        10..=99 => out.extend_from_slice(&[d(10), d(1)]),
        100..=999 => out.extend_from_slice(&[d(100), d(10), d(1)]),
        1000..=9999 => out.extend_from_slice(&[d(1000), d(100), d(10), d(1)]),
        _ => write_dec_long(out, n),
    }
}

fn write_dec_long(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

fn write_hex(out: &mut Vec<u8>, mut n: usize) {
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b"0123456789abcdef"[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: &Response) -> String {
        String::from_utf8(r.out.clone()).unwrap()
    }

    #[test]
    fn small_reply_is_one_buffer() {
        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        r.reply("hello world");
        let t = text(&r);
        assert!(t.starts_with("HTTP/1.1 200 OK\r\nDate: "), "{t}");
        assert!(
            t.ends_with("\r\nContent-Length: 11\r\n\r\nhello world"),
            "{t}"
        );
    }

    /// The cached start of a head follows the status, the version and
    /// the clock, from one answer to the next on the same thread.
    #[test]
    fn head_start_follows_status_and_version() {
        for (minor, code, line) in [
            (1, 200, "HTTP/1.1 200 OK\r\n"),
            (1, 404, "HTTP/1.1 404 Not Found\r\n"),
            (0, 404, "HTTP/1.0 404 Not Found\r\n"),
            (1, 407, "HTTP/1.1 407 Proxy Authentication Required\r\n"),
            (1, 599, "HTTP/1.1 599 \r\n"),
            (1, 200, "HTTP/1.1 200 OK\r\n"),
        ] {
            let mut r = Response::new(Duration::from_secs(1), Rc::default());
            r.minor = minor;
            r.reply_with(code, "abc", &[]);
            let t = text(&r);
            assert!(t.starts_with(line), "{t}");
            let date = &t[line.len()..];
            let now = unix_secs();
            let mut want = [0; 29];
            format_http_date(now, &mut want);
            let mut before = [0; 29];
            format_http_date(now - 1, &mut before);
            let shown = date.strip_prefix("Date: ").unwrap().as_bytes();
            assert!(
                shown.starts_with(&want) || shown.starts_with(&before),
                "{t}"
            );
            assert!(t.contains("GMT\r\nContent-Length: 3\r\n"), "{t}");
            assert!(t.ends_with("\r\n\r\nabc"), "{t}");
        }
    }

    #[test]
    fn head_keeps_length_drops_body() {
        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        r.head_only = true;
        r.reply("hello");
        assert!(text(&r).ends_with("Content-Length: 5\r\n\r\n"));
    }

    #[test]
    fn no_length_on_204_and_close_on_http10() {
        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        r.minor = 0;
        r.keep_alive = false;
        r.reply_code(204);
        let t = text(&r);
        assert!(t.starts_with("HTTP/1.0 204 No Content\r\n"));
        assert!(!t.contains("Content-Length"));
        assert!(t.contains("Connection: close\r\n"));
    }

    #[test]
    fn invalid_fields_are_dropped() {
        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        r.reply_with(
            303,
            b"",
            &[
                ("Location", "/a"),
                ("X", "a\r\nInjected: 1"),
                ("Bad Name", "v"),
            ],
        );
        let t = text(&r);
        assert!(t.contains("Location: /a\r\n"));
        assert!(!t.contains("Injected"));
        assert!(!t.contains("Bad Name"));
    }

    #[test]
    fn close_after_a_reply_patches_its_head() {
        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        r.reply("first");
        r.state = ReplyState::None;
        r.reply_with(200, b"hi", &[("X-A", "1")]);
        r.close_after();
        let t = text(&r);
        assert_eq!(t.matches("Connection: close\r\n").count(), 1, "{t}");
        assert!(t.ends_with("X-A: 1\r\nConnection: close\r\n\r\nhi"), "{t}");
        // The earlier answer in the batch is untouched.
        assert!(t.contains("Content-Length: 5\r\n\r\nfirst"), "{t}");

        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        r.minor = 0;
        r.reply("x");
        r.close_after();
        let t = text(&r);
        assert!(!t.contains("keep-alive"), "{t}");
        assert!(t.ends_with("Connection: close\r\n\r\nx"), "{t}");
    }

    #[test]
    fn framing_fields_and_bodyless_statuses() {
        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        r.reply_with(
            200,
            b"ab",
            &[
                ("content-LENGTH", "9"),
                ("Transfer-Encoding", "chunked"),
                ("Connection", "x"),
            ],
        );
        let t = text(&r);
        assert!(t.ends_with("\r\nContent-Length: 2\r\n\r\nab"), "{t}");
        assert_eq!(
            t.to_ascii_lowercase().matches("content-length").count(),
            1,
            "{t}"
        );
        assert!(!t.contains("chunked") && !t.contains("Connection"), "{t}");

        // Body bytes for a 304 or 204 are dropped, not an error (the heads
        // are flushed here, without a connection: see the integration tests).
        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        r.reply_start(304, 7, &[]);
        assert!(r.reply_more(b"abc").is_ok());
        assert!(r.reply_finish().is_ok());
        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        r.reply_chunked_start(204, &[]);
        assert!(r.reply_chunk(b"abc").is_ok());
        assert!(r.reply_chunked_finish().is_ok());
    }

    #[test]
    fn misuse_is_an_error() {
        let mut r = Response::new(Duration::from_secs(1), Rc::default());
        let kind = |e: io::Result<()>| e.unwrap_err().kind();
        assert_eq!(kind(r.reply_more(b"a")), io::ErrorKind::InvalidInput);
        assert_eq!(kind(r.reply_chunk(b"a")), io::ErrorKind::InvalidInput);
        r.reply_start(200, 2, &[]);
        assert_eq!(kind(r.reply_more(b"abc")), io::ErrorKind::InvalidInput);
        assert!(r.reply_more(b"a").is_ok());
        assert_eq!(kind(r.reply_finish()), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn numbers() {
        let mut v = Vec::new();
        for n in [0, 7, 10, 42, 99, 100, 999, 1000, 4096, 9999, 10_000, 65_536] {
            let mut one = Vec::new();
            write_dec(&mut one, n);
            assert_eq!(one, n.to_string().as_bytes());
        }
        write_dec(&mut v, 0);
        v.push(b' ');
        write_dec(&mut v, 18_446_744_073_709_551_615);
        v.push(b' ');
        write_hex(&mut v, 0x1f3);
        assert_eq!(v, b"0 18446744073709551615 1f3");
    }
}

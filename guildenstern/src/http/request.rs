//! The reading side of the request in flight: borrowed views into the
//! connection's buffer, and the streaming body reader.

use super::chunked::ChunkedDecoder;
use super::config::HttpConfig;
use super::framing::eq_ignore_case;
use super::head::{Framing, Head};
use super::server::{BoxedState, HttpState};
use crate::dispatch::sys::{wait_fd, Wait};
use crate::dispatch::{write_all, ConnRef, SocketId};
use std::cell::Cell;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// Where the body of the request in flight is.
#[derive(Debug)]
pub(crate) enum Body {
    /// No body.
    Empty,
    /// In the connection buffer, at this range from the request's start.
    Buffered(usize, usize),
    /// Decoded from chunks into the connection's body buffer.
    Decoded,
    /// Not read yet: the handler pulls it (Streaming).
    Stream(Stream),
}

/// Progress of a streamed body.
#[derive(Debug)]
pub(crate) struct Stream {
    /// Offset from the request's start of the next unread buffered byte.
    pub(crate) pos: usize,
    pub(crate) kind: StreamKind,
    pub(crate) continue_sent: bool,
}

#[derive(Debug)]
pub(crate) enum StreamKind {
    Length(u64),
    Chunked(ChunkedDecoder),
    Done,
}

/// Request data of the request in flight. Every view borrows from the
/// connection's buffer: nothing is copied.
pub struct Request {
    pub(crate) st: BoxedState,
    pub(crate) head: Head,
    pub(crate) body: Body,
    pub(crate) cfg: Arc<HttpConfig>,
    pub(crate) conn: Option<ConnRef<BoxedState>>,
    /// The body buffer is lent out (`with_body`): other views are unavailable.
    pub(crate) lent: bool,
    /// Shared with the response: a streamed body is not read whole yet, so
    /// a response written now must close the connection.
    pub(crate) body_unread: Rc<Cell<bool>>,
}

impl Request {
    pub(crate) fn new(cfg: Arc<HttpConfig>, body_unread: Rc<Cell<bool>>) -> Self {
        Request {
            st: Box::new(HttpState::new()),
            head: Head::new(cfg.max_headers),
            body: Body::Empty,
            cfg,
            conn: None,
            lent: false,
            body_unread,
        }
    }

    fn bytes(&self) -> &[u8] {
        assert!(
            !self.lent,
            "guildenstern: request accessors are unavailable inside with_body; read them before it"
        );
        &self.st.buf[self.st.start..self.st.filled]
    }

    pub(crate) fn method_bytes(&self) -> &[u8] {
        &self.bytes()[self.head.method.range()]
    }

    fn text(&self, range: std::ops::Range<usize>) -> &str {
        std::str::from_utf8(&self.bytes()[range]).unwrap_or("")
    }

    /// The request target as sent (path and query), e.g. `/a?b=1`.
    pub fn uri(&self) -> &str {
        if !self.cfg.parse_request_line {
            return "";
        }
        self.text(self.head.target.range())
    }

    /// Whether the request target equals `uri`.
    pub fn is_uri(&self, uri: &str) -> bool {
        self.uri() == uri
    }

    /// Whether the request target starts with `prefix`.
    pub fn starts_uri(&self, prefix: &str) -> bool {
        self.uri().starts_with(prefix)
    }

    /// The path of the request target, percent-decoded (`%2F` becomes `/`,
    /// `+` stays a plus), without the query; borrowed when nothing needed
    /// decoding. Route on [`raw_path`](Self::raw_path) where an encoded
    /// slash must stay distinct from a separator.
    pub fn path(&self) -> std::borrow::Cow<'_, str> {
        super::target::path(self.uri())
    }

    /// The path of the request target as sent, without the query.
    pub fn raw_path(&self) -> &str {
        super::target::raw_path(self.uri())
    }

    /// Whether the decoded path equals `path` (no copy unless it has escapes).
    pub fn is_path(&self, path: &str) -> bool {
        self.path() == path
    }

    /// The query as sent, without the `?`; `None` when the target has none.
    pub fn query(&self) -> Option<&str> {
        super::target::query(self.uri())
    }

    /// The decoded value of the first query parameter named `name` (`+` is
    /// a space, `%XX` a byte), as for a form; borrowed when nothing needed decoding.
    pub fn query_value(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        super::target::query_value(self.uri(), name)
    }

    /// Every query parameter, decoded, in order.
    pub fn query_pairs(&self) -> super::form::FormFields<'_> {
        super::target::query_pairs(self.uri())
    }

    /// The method, e.g. `GET`.
    pub fn method(&self) -> &str {
        if !self.cfg.parse_request_line {
            return "";
        }
        self.text(self.head.method.range())
    }

    /// Whether the method equals `method` (case-sensitive, as methods are).
    pub fn is_method(&self, method: &str) -> bool {
        self.method() == method
    }

    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub fn http_minor_version(&self) -> u8 {
        self.head.minor
    }

    /// The value of a header field the server keeps, by case-insensitive
    /// name; the first one if repeated.
    ///
    /// Only the fields named by the `headers` option are kept (all of them
    /// with `all_headers`): for any other name this is `None` even when the
    /// client sent the field. Asking for a name the server does not keep is
    /// logged at debug level, once per name and worker thread, as the
    /// likely cause of a surprising `None`.
    pub fn header(&self, name: &str) -> Option<&str> {
        let b = self.bytes();
        let found = self
            .head
            .fields
            .iter()
            .find(|(n, _)| eq_ignore_case(&b[n.range()], name.as_bytes()))
            .map(|(_, v)| std::str::from_utf8(&b[v.range()]).unwrap_or(""));
        if found.is_none() && !self.cfg.keeps(name) {
            super::config::note_undeclared(name);
        }
        found
    }

    /// Every header field the server keeps, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let b = self.bytes();
        self.head.fields.iter().map(move |(n, v)| {
            (
                std::str::from_utf8(&b[n.range()]).unwrap_or(""),
                std::str::from_utf8(&b[v.range()]).unwrap_or(""),
            )
        })
    }

    /// The request head as received (request line and header section).
    pub fn raw_head(&self) -> &[u8] {
        &self.bytes()[..self.head.len]
    }

    /// The body (Compact servers); empty for other content modes and
    /// bodiless requests.
    pub fn body(&self) -> &[u8] {
        match self.body {
            Body::Buffered(a, b) => &self.bytes()[a..b],
            Body::Decoded => &self.st.body,
            _ => &[],
        }
    }

    /// Whether the request has a body.
    pub fn is_body(&self) -> bool {
        self.head.framing != Framing::None
    }

    /// The declared body length: Content-Length, or for a decoded chunked
    /// body its decoded length; `None` when not known in advance (a streamed chunked body).
    pub fn body_len(&self) -> Option<u64> {
        match (&self.body, self.head.framing) {
            (Body::Decoded, _) => Some(self.st.body.len() as u64),
            (_, Framing::Length(n)) => Some(n),
            (_, Framing::None) => Some(0),
            (_, Framing::Chunked) => None,
        }
    }

    /// The value of a field of an `application/x-www-form-urlencoded` body.
    pub fn form_value(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        super::form::form_value(self.body(), name)
    }

    /// The id of the connection the request came on.
    pub fn socket(&self) -> SocketId {
        self.conn
            .as_ref()
            .map(|c| c.id)
            .expect("a request in flight has a connection")
    }

    /// Whether the whole body has been read (always true outside Streaming mode).
    pub fn is_body_complete(&self) -> bool {
        !matches!(&self.body, Body::Stream(s) if !matches!(s.kind, StreamKind::Done))
    }

    /// Reads the next bytes of a streamed body into `out`; `Ok(0)` at its end.
    /// Blocks on this request's own socket only, up to the body deadline.
    ///
    /// # Errors
    /// `TimedOut` when the client sends nothing within the body timeout,
    /// `InvalidData` for a malformed chunked body, `UnexpectedEof` when the
    /// client closes early, `Unsupported` on a server not in Streaming mode.
    pub fn read_body(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let r = self.read_stream(out);
        self.body_unread.set(!self.is_body_complete());
        r
    }

    fn read_stream(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let Body::Stream(stream) = &mut self.body else {
            return match self.body {
                Body::Empty => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the body is not streamed",
                )),
            };
        };
        if out.is_empty() {
            return Ok(0);
        }
        let conn = self
            .conn
            .as_ref()
            .expect("a request in flight has a connection");
        let st = &mut self.st;
        let deadline = Instant::now() + self.cfg.body_timeout;
        loop {
            let buffered = st.start + stream.pos..st.filled;
            match &mut stream.kind {
                StreamKind::Done => return Ok(0),
                StreamKind::Length(left) => {
                    if !buffered.is_empty() {
                        let n = buffered.len().min(out.len()).min(*left as usize);
                        out[..n].copy_from_slice(&st.buf[buffered.start..buffered.start + n]);
                        stream.pos += n;
                        *left -= n as u64;
                        if *left == 0 {
                            stream.kind = StreamKind::Done;
                        }
                        return Ok(n);
                    }
                    // Nothing buffered: read straight into the caller's buffer.
                    let want = out.len().min(*left as usize);
                    send_continue(conn, &mut stream.continue_sent, self.head.expect_continue)?;
                    let n = read_socket(&conn.stream, &mut out[..want], deadline)?;
                    *left -= n as u64;
                    if *left == 0 {
                        stream.kind = StreamKind::Done;
                    }
                    return Ok(n);
                }
                StreamKind::Chunked(dec) => {
                    // Feeding at most `out.len()` bytes bounds the data handed back.
                    let input =
                        &st.buf[buffered.start..buffered.end.min(buffered.start + out.len())];
                    let step = dec.decode(input).map_err(|e| {
                        io::Error::new(io::ErrorKind::InvalidData, format!("{e:?}"))
                    })?;
                    if !step.data.is_empty() {
                        let n = step.data.len();
                        out[..n].copy_from_slice(step.data);
                        stream.pos += step.consumed;
                        if step.done {
                            stream.kind = StreamKind::Done;
                        }
                        return Ok(n);
                    }
                    stream.pos += step.consumed;
                    if step.done {
                        stream.kind = StreamKind::Done;
                        return Ok(0);
                    }
                    if step.consumed > 0 {
                        continue;
                    }
                    // Need more bytes: reuse the space of what was consumed, after the head.
                    let keep_from = st.start + stream.pos;
                    let head_end = st.start + self.head.len;
                    st.buf.copy_within(keep_from..st.filled, head_end);
                    st.filled = head_end + (st.filled - keep_from);
                    stream.pos = self.head.len;
                    if st.filled == st.buf.len() {
                        st.buf.resize(st.buf.len() * 2, 0);
                    }
                    send_continue(conn, &mut stream.continue_sent, self.head.expect_continue)?;
                    let n = read_socket(&conn.stream, &mut st.buf[st.filled..], deadline)?;
                    st.filled += n;
                }
            }
        }
    }

    /// Whether the client waits for `100 Continue` before sending the body
    /// and has not been sent it: a refusal now spares it the upload.
    pub(crate) fn awaits_continue(&self) -> bool {
        self.head.expect_continue && matches!(&self.body, Body::Stream(s) if !s.continue_sent)
    }

    /// How many bytes of the buffer this request used, from its start.
    pub(crate) fn consumed_len(&self) -> usize {
        match &self.body {
            Body::Empty | Body::Decoded => self.head.len,
            Body::Buffered(_, end) => *end,
            Body::Stream(s) => s.pos,
        }
    }
}

/// `Read` over a streamed body: `std::io::copy` and friends work on it.
impl Read for Request {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_body(buf)
    }
}

/// Sends `100 Continue` before the first read from the socket, if the client asked.
fn send_continue(conn: &ConnRef<BoxedState>, sent: &mut bool, expected: bool) -> io::Result<()> {
    if expected && !*sent {
        *sent = true;
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        write_all(
            &conn.stream,
            [b"HTTP/1.1 100 Continue\r\n\r\n", b"", b""],
            deadline,
        )?;
    }
    Ok(())
}

/// One read from a non-blocking socket, waiting with poll up to `deadline`.
fn read_socket(
    mut s: &std::net::TcpStream,
    out: &mut [u8],
    deadline: Instant,
) -> io::Result<usize> {
    loop {
        match s.read(out) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if !wait_fd(s.as_fd(), Wait::Readable, deadline)? {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "body timeout"));
                }
            }
            Err(e) => return Err(e),
        }
    }
}

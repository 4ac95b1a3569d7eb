//! The HTTP protocol on the dispatchers: accumulates request heads (and
//! Compact bodies) in the connection's state, runs the handler for each
//! complete request, answers pipelined requests in order with one write per
//! batch, and refuses bad input with the status RFC 9112 asks for.

use super::chunked::ChunkedDecoder;
use super::config::{Content, Handler, HttpConfig, OnClose};
use super::context::Http;
use super::framing::find_head_end;
use super::head::{self, Framing, Reject};
use super::request::{Body, Request, Stream, StreamKind};
use super::response::{ReplyState, Response, FLUSH_LIMIT};
use crate::dispatch::{grow_within, panic_message, INITIAL_BUFFER, READS_PER_WAKEUP};
use crate::dispatch::{
    write_now, CloseCause, ConnRef, DeadlineKind, Expiry, Flow, Io, Protocol, Server, SocketId,
};
use log::Level;
use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;

/// Limits on chunk extensions and trailers of chunked bodies.
const CHUNK_META_LIMIT: usize = 16 * 1024;

thread_local! {
    /// The context of this worker thread, present between requests; taken
    /// out while a context-taking handler runs.
    pub(crate) static CX: RefCell<Option<Box<Http>>> = const { RefCell::new(None) };
}

/// A connection's state as the dispatcher holds it: boxed, so that a
/// wake-up moves a pointer in and out of the worker's context, not the
/// whole state (measured: about 180 instructions a keep-alive request).
pub(crate) type BoxedState = Box<HttpState>;

/// The per-connection state: the read buffer and parse progress.
pub(crate) struct HttpState {
    pub(crate) buf: Vec<u8>,
    /// Where the current request starts in `buf`.
    pub(crate) start: usize,
    /// End of the bytes read.
    pub(crate) filled: usize,
    /// How far (from `start`) the search for the end of the head got.
    scanned: usize,
    phase: Phase,
    /// The bytes after the last request start a head whose deadline is not
    /// armed yet: it is armed if the head proves partial (a complete one,
    /// the usual case when requests are pipelined, is served at once).
    head_due: bool,
    /// A decoded chunked body (Compact).
    pub(crate) body: Vec<u8>,
    served: u64,
    /// Answers the peer has not taken yet (boxed: rare, and the state is
    /// moved in and out of the worker on every wake-up).
    unsent: Option<Box<Unsent>>,
}

/// Answers a peer reads slower than it gets them: written when the socket
/// is writable again, before any further request is served.
struct Unsent {
    out: Vec<u8>,
    /// How much of `out` went out since.
    sent: usize,
    /// What follows once `out` is written (a close after the last answer).
    then: Option<Flow>,
    /// The request's own deadline (head or body) when the answers parked:
    /// restored once they are out, not restarted.
    deadline: (DeadlineKind, u64),
}

/// Where the current request of a parked connection stands.
#[derive(Debug)]
enum Phase {
    /// No byte of the next request yet.
    Fresh,
    /// Part of a head.
    Head,
    /// A complete head of `head_len` bytes; its Compact body is arriving.
    Body { head_len: usize, framing: Pending },
}

#[derive(Debug)]
enum Pending {
    Length(usize),
    Chunked(ChunkedDecoder),
}

impl HttpState {
    pub(crate) fn new() -> Self {
        HttpState {
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            filled: 0,
            scanned: 0,
            phase: Phase::Fresh,
            head_due: false,
            body: Vec::new(),
            served: 0,
            unsent: None,
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.filled]
    }

    /// Whether a request has begun: more of a head than the blank lines
    /// allowed before one, or a body arriving.
    fn request_started(&self) -> bool {
        matches!(self.phase, Phase::Body { .. })
            || self.pending().iter().any(|b| !matches!(b, b'\r' | b'\n'))
    }

    /// An answer that ends the connection, to the request that has begun
    /// (outside a worker: a deadline, a stop): `status` with `text` as a
    /// plain-text body, none to a `HEAD`, and `Connection: close`.
    fn last_answer(&self, status: u16, text: &str) -> Vec<u8> {
        let mut res = Response::detached();
        res.keep_alive = false;
        res.head_only = self.pending().starts_with(b"HEAD ");
        let headers: &[(&str, &str)] = if text.is_empty() {
            &[]
        } else {
            &[("Content-Type", "text/plain")]
        };
        res.reply_with(status, text, headers);
        res.out
    }

    /// The buffer is full: makes room for more of the current request, up
    /// to `limit` bytes of it; false when that many are buffered already.
    fn grow(&mut self, limit: usize) -> bool {
        grow_within(&mut self.buf, &mut self.start, &mut self.filled, limit)
    }

    /// Drops the current request's bytes.
    fn consume(&mut self, n: usize) {
        self.start += n;
        self.scanned = 0;
        if self.start >= self.filled {
            self.start = 0;
            self.filled = 0;
            if self.buf.len() > 16 * INITIAL_BUFFER {
                self.buf = vec![0; INITIAL_BUFFER];
            }
            if self.body.capacity() > 16 * INITIAL_BUFFER {
                self.body = Vec::new();
            }
        }
        self.phase = if self.start == self.filled {
            Phase::Fresh
        } else {
            Phase::Head
        };
        self.head_due = matches!(self.phase, Phase::Head);
    }
}

/// What every worker of a server shares.
pub(crate) struct HttpShared {
    pub(crate) cfg: HttpConfig,
    pub(crate) handler: Handler,
    pub(crate) on_close: Option<OnClose>,
}

/// The HTTP protocol.
pub(crate) struct HttpProto {
    shared: Arc<HttpShared>,
    cfg: Arc<HttpConfig>,
}

impl HttpProto {
    pub(crate) fn new(shared: Arc<HttpShared>) -> Self {
        let cfg = Arc::new(shared.cfg.clone());
        HttpProto { shared, cfg }
    }
}

/// What the buffered bytes hold.
enum Next {
    /// A request ready for its handler.
    Request,
    /// Not a complete request yet.
    NeedBytes,
    /// A request to refuse.
    Reject(Reject),
    /// A Compact body is still to come; this much of it is buffered.
    BodyPending(usize),
}

impl Protocol for HttpProto {
    type State = BoxedState;

    fn new_state(&self) -> BoxedState {
        Box::new(HttpState::new())
    }

    fn on_open(&self, io: &Io<'_, Self>, _state: &mut BoxedState) {
        io.set_deadline(DeadlineKind::Head, self.cfg.header_timeout);
    }

    fn on_ready(&self, io: &Io<'_, Self>, state: &mut BoxedState) -> Flow {
        // Missing only if serving a connection panicked (that connection
        // was closed): the worker goes on with a new one.
        let mut cx = CX
            .with(|c| c.borrow_mut().take())
            .unwrap_or_else(|| self.worker_context(&io.core.server()));
        std::mem::swap(&mut cx.req.st, state);
        cx.req.conn = Some(io.conn.clone());
        cx.res.conn = Some(io.conn.clone());
        cx.res.failed = None;
        let (mut cx, flow) = self.drive(io, cx);
        // Whatever was not sent belongs to this connection alone (it moved
        // into its state, or the connection closes): never to the next one.
        cx.res.out.clear();
        cx.req.conn = None;
        cx.res.conn = None;
        cx.req.body = Body::Empty;
        std::mem::swap(&mut cx.req.st, state);
        CX.with(|c| *c.borrow_mut() = Some(cx));
        flow
    }

    fn on_deadline(&self, io: &Io<'_, Self>, state: &mut BoxedState, kind: DeadlineKind) -> Expiry {
        if matches!(kind, DeadlineKind::Head | DeadlineKind::Body) && state.request_started() {
            let _ = io.stream().write(&state.last_answer(408, ""));
            return Expiry::Linger;
        }
        Expiry::Close
    }

    fn on_close(
        &self,
        server: &Server,
        id: SocketId,
        cause: CloseCause,
        msg: &str,
        _state: &mut BoxedState,
    ) {
        if let Some(f) = &self.shared.on_close {
            if catch_unwind(AssertUnwindSafe(|| f(server, id, cause, msg))).is_err() {
                log::error!(target: "guildenstern", "[{}] on_close callback panicked", server.name());
            }
        }
    }

    fn on_shutdown(&self, conn: &ConnRef<BoxedState>, state: &mut BoxedState) -> Option<Vec<u8>> {
        // Answers waiting for a slow reader: the stop writes them.
        let mut ends = false;
        let mut owed = state.unsent.take().map(|unsent| {
            ends = unsent.then.is_some();
            let mut rest = unsent.out;
            rest.drain(..unsent.sent);
            rest
        });
        if !ends && !conn.is_lingering() {
            if let Some(refusal) = refuse_unserved(&conn.stream, state) {
                owed.get_or_insert_with(Vec::new)
                    .extend_from_slice(&refusal);
            }
        }
        owed
    }

    fn thread_start(&self, server: &Server) {
        let cx = self.worker_context(server);
        CX.with(|c| *c.borrow_mut() = Some(cx));
        crate::context::enter_thread(server);
    }

    fn housekeeping_start(&self, server: &Server) {
        // Close callbacks may run here: `server()` answers as on a worker,
        // and a WebSocket send from one never waits for a client.
        crate::context::enter_thread(server);
    }

    fn thread_stop(&self, _server: &Server) {
        CX.with(|c| c.borrow_mut().take());
        crate::context::leave_thread();
    }
}

impl HttpProto {
    /// A worker's context, with no connection in it.
    fn worker_context(&self, server: &Server) -> Box<Http> {
        let body_unread = Rc::new(Cell::new(false));
        let mut res = Response::new(self.cfg.send_timeout, body_unread.clone());
        res.server = Some(server.clone());
        Box::new(Http {
            req: Request::new(self.cfg.clone(), body_unread),
            res,
            server: server.clone(),
            close: None,
            in_handler: false,
        })
    }

    /// Serves what the socket has: every complete request in order, then
    /// parks the connection, or closes it.
    fn drive(&self, io: &Io<'_, Self>, mut cx: Box<Http>) -> (Box<Http>, Flow) {
        if let Some(mut unsent) = cx.req.st.unsent.take() {
            // Woken because the socket is writable (or readable: those
            // bytes wait): earlier answers first.
            match write_now(io.stream(), [&unsent.out, b"", b""], unsent.sent) {
                Ok(sent) if sent < unsent.out.len() => {
                    if sent > unsent.sent {
                        // The client reads: the send timeout starts over.
                        io.set_deadline(DeadlineKind::Send, self.cfg.send_timeout);
                    }
                    unsent.sent = sent;
                    cx.req.st.unsent = Some(unsent);
                    return (cx, Flow::ParkWritable);
                }
                Ok(_) => {}
                Err(e) => {
                    let msg = format!("writing response: {e}");
                    return (cx, Flow::Close(CloseCause::ConnectionLost, msg));
                }
            }
            if let Some(flow) = unsent.then {
                return (cx, flow);
            }
            let (kind, at) = unsent.deadline;
            if matches!(kind, DeadlineKind::Head | DeadlineKind::Body) {
                io.conn.set_deadline(kind, at);
            }
        }
        // On the epoll dispatcher a short read means the socket was
        // drained: a byte that comes later raises the next event, so no
        // second read is needed; an end of stream that came with the last
        // bytes is read by the one more serve the dispatcher gives a
        // connection whose event reported it. On mio, reads go on until
        // `WouldBlock` (see `Io::short_read_drains`).
        let mut drained = false;
        let mut reads = 0;
        loop {
            if let Some((cause, msg)) = cx.res.failed.take() {
                // The connection is gone: no further handler runs for it.
                return (cx, Flow::Close(cause, msg));
            }
            match self.next_request(&mut cx) {
                Next::Request => {
                    cx = self.run_handler(io, cx);
                    if let Some(flow) = self.after_request(io, &mut cx) {
                        let flow = self.settle(io, &mut cx, flow);
                        return (cx, flow);
                    }
                    if cx.res.out.len() >= FLUSH_LIMIT && !cx.res.write_now(b"") {
                        // The peer reads slower than it asks: serve the
                        // requests it pipelined once it has taken these answers.
                        let flow = self.park_writable(io, &mut cx, None);
                        return (cx, flow);
                    }
                    continue;
                }
                Next::Reject(r) => {
                    let flow = self.refuse(io, r, &mut cx.res);
                    let flow = self.settle(io, &mut cx, flow);
                    return (cx, flow);
                }
                Next::BodyPending(have) => self.expect_body(io, &mut cx, have),
                Next::NeedBytes => {
                    let st = &mut cx.req.st;
                    if st.head_due {
                        st.head_due = false;
                        if matches!(st.phase, Phase::Head) {
                            io.set_deadline(DeadlineKind::Head, self.cfg.header_timeout);
                        }
                    }
                }
            }
            if drained {
                let flow = self.park(io, &mut cx);
                return (cx, flow);
            }
            let st = &mut cx.req.st;
            if st.filled == st.buf.len() {
                if let Err(r) = self.make_room(st) {
                    let flow = self.refuse(io, r, &mut cx.res);
                    let flow = self.settle(io, &mut cx, flow);
                    return (cx, flow);
                }
            }
            if reads == READS_PER_WAKEUP {
                let flow = self.settle(io, &mut cx, Flow::Yield);
                return (cx, flow);
            }
            reads += 1;
            let st = &mut cx.req.st;
            let space = st.buf.len() - st.filled;
            match (&io.conn.stream).read(&mut st.buf[st.filled..]) {
                Ok(0) => {
                    let msg = if matches!(st.phase, Phase::Fresh) {
                        ""
                    } else {
                        "closed mid-request"
                    };
                    let flow = Flow::Close(CloseCause::ClosedByClient, msg.into());
                    let flow = self.settle(io, &mut cx, flow);
                    return (cx, flow);
                }
                Ok(n) => {
                    if matches!(st.phase, Phase::Fresh) {
                        st.phase = Phase::Head;
                        io.set_deadline(DeadlineKind::Head, self.cfg.header_timeout);
                    } else if matches!(st.phase, Phase::Body { .. }) {
                        io.set_deadline(DeadlineKind::Body, self.cfg.body_timeout);
                    }
                    st.filled += n;
                    drained = n < space && io.short_read_drains();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let flow = self.park(io, &mut cx);
                    return (cx, flow);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let flow = Flow::Close(CloseCause::ConnectionLost, e.to_string());
                    return (cx, flow);
                }
            }
        }
    }

    /// Writes what the socket takes of the answers, then goes on with
    /// `flow`; if some are left, parks the connection until it is writable.
    fn settle(&self, io: &Io<'_, Self>, cx: &mut Http, flow: Flow) -> Flow {
        if !cx.res.write_now(b"") {
            let then = match flow {
                Flow::Park | Flow::ParkWritable | Flow::Yield => None,
                f => Some(f),
            };
            return self.park_writable(io, cx, then);
        }
        match (cx.res.failed.take(), flow) {
            (Some((cause, msg)), Flow::Park | Flow::Yield) => Flow::Close(cause, msg),
            (_, flow) => flow,
        }
    }

    /// Keeps the unsent answers in the connection's state, to be written
    /// when the socket is writable; `then` follows once they are.
    fn park_writable(&self, io: &Io<'_, Self>, cx: &mut Http, then: Option<Flow>) -> Flow {
        // An exact copy (at most `UNSENT_LIMIT` bytes): the worker keeps its
        // batch buffer.
        let out = cx.res.out[..].to_vec();
        cx.res.out.clear();
        let deadline = io.conn.deadline();
        cx.req.st.unsent = Some(Box::new(Unsent {
            out,
            sent: 0,
            then,
            deadline,
        }));
        io.set_deadline(DeadlineKind::Send, self.cfg.send_timeout);
        Flow::ParkWritable
    }

    /// Writes the batch and parks the connection with the right deadline.
    fn park(&self, io: &Io<'_, Self>, cx: &mut Http) -> Flow {
        let flow = self.settle(io, cx, Flow::Park);
        if !matches!(flow, Flow::Park) {
            return flow;
        }
        if matches!(cx.req.st.phase, Phase::Fresh)
            && io.deadline_kind() != DeadlineKind::Idle
            && cx.req.st.served > 0
        {
            io.set_deadline(DeadlineKind::Idle, self.cfg.idle_timeout);
        }
        Flow::Park
    }

    /// The buffer is full without a complete request: grow it within the
    /// limits, or say which limit was hit.
    fn make_room(&self, st: &mut HttpState) -> Result<(), Reject> {
        let limit = match st.phase {
            Phase::Body {
                head_len,
                framing: Pending::Length(n),
            } => head_len + n,
            Phase::Body {
                head_len,
                framing: Pending::Chunked(_),
            } => head_len + 2 * CHUNK_META_LIMIT,
            _ => self.cfg.max_header_bytes,
        };
        if st.grow(limit) {
            return Ok(());
        }
        Err(if matches!(st.phase, Phase::Body { .. }) {
            too_large("request body too large")
        } else {
            head_too_large(st.pending())
        })
    }

    /// Looks at the buffered bytes: a complete request, not yet, or a refusal.
    fn next_request(&self, cx: &mut Http) -> Next {
        let cfg = &*self.cfg;
        let req = &mut cx.req;
        let st = &mut req.st;
        if let Phase::Body { head_len, .. } = st.phase {
            let Phase::Body { framing, .. } = &mut st.phase else {
                unreachable!()
            };
            match framing {
                Pending::Length(n) => {
                    let end = head_len + *n;
                    if st.filled - st.start < end {
                        return Next::NeedBytes;
                    }
                    req.body = Body::Buffered(head_len, end);
                }
                Pending::Chunked(dec) => {
                    let mut dec = std::mem::replace(dec, ChunkedDecoder::new(0, 0));
                    let r = decode_compact(st, head_len, &mut dec, cfg);
                    st.phase = Phase::Body {
                        head_len,
                        framing: Pending::Chunked(dec),
                    };
                    match r {
                        Ok(false) => return Next::NeedBytes,
                        Ok(true) => req.body = Body::Decoded,
                        Err(r) => return Next::Reject(r),
                    }
                }
            }
            return match head::parse(&st.buf[st.start..st.start + head_len], cfg, &mut req.head) {
                Ok(true) => Next::Request,
                _ => Next::Reject(bad("request head changed")),
            };
        }
        // Blank lines before a request line are ignored (RFC 9112 §2.2).
        while st.start < st.filled && matches!(st.buf[st.start], b'\r' | b'\n') && st.scanned == 0 {
            st.start += 1;
        }
        if st.start == st.filled {
            st.start = 0;
            st.filled = 0;
            return Next::NeedBytes;
        }
        let pending = &st.buf[st.start..st.filled];
        // The common case, a whole head at hand, is parsed at once (httparse
        // stops at its end). A head that is partial, refused or too long, or
        // the rest of one already found partial, goes the careful way:
        // `settle_head` scans for the end and parses only up to it, so that
        // a head is judged the same however its bytes were split, and a
        // slow head is scanned once, not parsed again on every read.
        let parsed =
            st.scanned == 0 && matches!(head::parse(pending, cfg, &mut req.head), Ok(true));
        if !parsed || req.head.len > cfg.max_header_bytes {
            if let Err(next) = settle_head(pending, &mut st.scanned, cfg, &mut req.head) {
                return next;
            }
        }
        st.scanned = 0;
        let head_len = req.head.len;
        let have = pending.len() - head_len;
        match (req.head.framing, cfg.content) {
            (Framing::None, _) => {
                req.body = Body::Empty;
                Next::Request
            }
            (_, Content::NoBody) => Next::Reject(too_large("this server takes no request bodies")),
            (framing, Content::Streaming) => {
                let kind = match framing {
                    Framing::Length(n) => StreamKind::Length(n),
                    _ => {
                        StreamKind::Chunked(ChunkedDecoder::new(CHUNK_META_LIMIT, CHUNK_META_LIMIT))
                    }
                };
                req.body = Body::Stream(Stream {
                    pos: head_len,
                    kind,
                    continue_sent: have > 0,
                });
                req.body_unread.set(true);
                Next::Request
            }
            (Framing::Length(n), Content::Compact) => {
                if n > cfg.max_body_bytes as u64 {
                    return Next::Reject(too_large("request body too large"));
                }
                let n = n as usize;
                if have >= n {
                    req.body = Body::Buffered(head_len, head_len + n);
                    return Next::Request;
                }
                // The buffer grows as the body arrives (`make_room`), not
                // to the declared length up front.
                st.phase = Phase::Body {
                    head_len,
                    framing: Pending::Length(n),
                };
                Next::BodyPending(have)
            }
            (Framing::Chunked, Content::Compact) => {
                st.body.clear();
                let mut dec = ChunkedDecoder::new(CHUNK_META_LIMIT, CHUNK_META_LIMIT);
                match decode_compact(st, head_len, &mut dec, cfg) {
                    Ok(true) => {
                        req.body = Body::Decoded;
                        Next::Request
                    }
                    Ok(false) => {
                        st.phase = Phase::Body {
                            head_len,
                            framing: Pending::Chunked(dec),
                        };
                        Next::BodyPending(have)
                    }
                    Err(r) => Next::Reject(r),
                }
            }
        }
    }

    /// A Compact body is still to come: arm the body deadline and answer
    /// `Expect: 100-continue` if the client waits for it.
    fn expect_body(&self, io: &Io<'_, Self>, cx: &mut Http, have: usize) {
        io.set_deadline(DeadlineKind::Body, self.cfg.body_timeout);
        if cx.req.head.expect_continue && have == 0 {
            // After the answers before it; what the socket does not take
            // now is written when the connection parks.
            cx.res
                .out
                .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            cx.res.write_now(b"");
        }
    }

    /// Runs the handler for the request in `cx`, catching panics.
    fn run_handler(&self, io: &Io<'_, Self>, mut cx: Box<Http>) -> Box<Http> {
        let minor = cx.req.head.minor;
        let res = &mut cx.res;
        res.state = ReplyState::None;
        res.minor = minor;
        res.keep_alive = cx.req.head.keep_alive && !io.stopping();
        res.head_only = cx.req.method_bytes() == b"HEAD";
        cx.close = None;
        crate::context::set_socket(Some(io.id()));
        if matches!(cx.req.body, Body::Stream(_)) {
            // The handler may block reading its body: send earlier answers first.
            cx.res.flush();
        }
        let outcome = match &self.shared.handler {
            Handler::Plain(f) => {
                cx.in_handler = true;
                CX.with(|c| *c.borrow_mut() = Some(cx));
                let r = catch_unwind(AssertUnwindSafe(f));
                cx = CX
                    .with(|c| c.borrow_mut().take())
                    .expect("the context is put back after the handler");
                cx.in_handler = false;
                cx.req.lent = false;
                r
            }
            Handler::Context(f) => catch_unwind(AssertUnwindSafe(|| f(&mut cx))),
        };
        crate::context::set_socket(None);
        if let Err(panic) = outcome {
            let what = panic_message(&*panic);
            io.core.log(
                Level::Error,
                format_args!("handler panicked on {}: {what}", io.id()),
            );
            cx.close_socket_with(CloseCause::HandlerPanicked, what);
            if cx.res.state == ReplyState::None {
                cx.res.reply_code(500);
            }
        } else {
            match cx.res.state {
                ReplyState::None => {
                    if cx.close.is_none() {
                        io.core.log(
                            Level::Warn,
                            format_args!(
                                "handler returned without replying to {} {}; 500 sent",
                                cx.req.method(),
                                cx.req.uri()
                            ),
                        );
                        cx.res.reply_code(500);
                    }
                }
                // A failure is kept in `res.failed`: the connection closes.
                ReplyState::Chunked => {
                    let _ = cx.res.reply_chunked_finish();
                }
                ReplyState::Known(_) => {
                    let _ = cx.res.reply_finish();
                }
                ReplyState::Done => {}
            }
        }
        cx
    }

    /// Consumes the request and decides whether the connection goes on.
    fn after_request(&self, io: &Io<'_, Self>, cx: &mut Http) -> Option<Flow> {
        let body_complete = cx.req.is_body_complete();
        let used = cx.req.consumed_len();
        let st = &mut cx.req.st;
        st.served += 1;
        st.consume(used);
        cx.req.body = Body::Empty;
        cx.req.body_unread.set(false);
        if let Some((cause, msg)) = cx.res.failed.take() {
            return Some(Flow::Close(cause, msg));
        }
        // An answer that ends the connection is followed by a lingering
        // close, as a refusal is: requests the client sent meanwhile would
        // turn a close at once into a reset, which can discard the answer.
        if let Some((cause, msg)) = cx.close.take() {
            return Some(Flow::Linger(cause, msg));
        }
        if !body_complete {
            return Some(Flow::Linger(
                CloseCause::CloseCalled,
                "request body left unread".into(),
            ));
        }
        if io.stopping() && !cx.res.keep_alive {
            // Lingering: requests the client pipelined behind this one and
            // we did not read would turn the close into a reset, and a reset
            // can discard answers the client has not read yet. (An answer
            // begun before the stop did not say `Connection: close`: the
            // connection goes on, so that what the client sent behind it is
            // answered, by a worker or by the stop's refusal.)
            return Some(Flow::Linger(CloseCause::Shutdown, "server stopping".into()));
        }
        if !cx.res.keep_alive {
            return Some(Flow::Linger(
                CloseCause::ClosedByClient,
                "no keep-alive requested".into(),
            ));
        }
        // Bytes of a next request: its head deadline is armed if that
        // head proves partial (`head_due`), not for every pipelined request.
        None
    }

    /// Answers a refused request and closes after a lingering drain.
    fn refuse(&self, io: &Io<'_, Self>, r: Reject, res: &mut Response) -> Flow {
        io.core.log(
            Level::Debug,
            format_args!("refusing request on {}: {} {}", io.id(), r.status, r.msg),
        );
        res.state = ReplyState::None;
        res.keep_alive = false;
        res.head_only = false;
        if res.minor > 1 {
            res.minor = 1;
        }
        res.reply_with(
            r.status,
            r.msg.as_bytes(),
            &[("Content-Type", "text/plain")],
        );
        Flow::Linger(r.cause, format!("{} {}", r.status, r.msg))
    }
}

/// At the stop, a request that no worker served: its bytes came before
/// the stop but after the workers' last wait, or it waits behind answers a
/// slow reader has not taken. Reads what the socket holds (without
/// blocking) and, if a request has started, refuses it with 503 and
/// `Connection: close`: the client learns that it was not processed (and
/// neither was anything it pipelined behind it) and may send it again.
fn refuse_unserved(mut stream: &TcpStream, st: &mut HttpState) -> Option<Vec<u8>> {
    if st.filled < st.buf.len() {
        if let Ok(n) = stream.read(&mut st.buf[st.filled..]) {
            st.filled += n;
        }
    }
    st.request_started()
        .then(|| st.last_answer(503, "server stopping"))
}

/// Decodes what has arrived of a chunked Compact body into `st.body`,
/// dropping the raw bytes it used; true when the body is complete.
fn decode_compact(
    st: &mut HttpState,
    head_len: usize,
    dec: &mut ChunkedDecoder,
    cfg: &HttpConfig,
) -> Result<bool, Reject> {
    let from = st.start + head_len;
    let mut pos = from;
    let done = loop {
        let step = dec
            .decode(&st.buf[pos..st.filled])
            .map_err(|_| bad("malformed chunked body"))?;
        if st.body.len() + step.data.len() > cfg.max_body_bytes {
            return Err(too_large("request body too large"));
        }
        st.body.extend_from_slice(step.data);
        pos += step.consumed;
        if step.done {
            break true;
        }
        if step.consumed == 0 && step.data.is_empty() {
            break false;
        }
    };
    // The head stays; the raw chunks it used go, so the next request (if
    // pipelined) follows the head directly.
    st.buf.copy_within(pos..st.filled, from);
    st.filled -= pos - from;
    Ok(done)
}

/// The slow way to a request head: finds its end (resuming the scan at
/// `scanned`), checks the size limit, then parses the head alone. `Ok` when
/// `head` holds it; otherwise what to do: wait for more bytes (`scanned`
/// says how far the scan got) or refuse.
fn settle_head(
    pending: &[u8],
    scanned: &mut usize,
    cfg: &HttpConfig,
    head: &mut head::Head,
) -> Result<(), Next> {
    let Some(end) = find_head_end(pending, *scanned) else {
        // The buffer may have room beyond the limit: refuse as soon as
        // the unfinished head is longer than the limit allows.
        if pending.len() > cfg.max_header_bytes {
            return Err(Next::Reject(head_too_large(pending)));
        }
        *scanned = pending.len();
        return Err(Next::NeedBytes);
    };
    if end > cfg.max_header_bytes {
        return Err(Next::Reject(Reject {
            status: 431,
            cause: CloseCause::SecurityThreatened,
            msg: "request head too large",
        }));
    }
    match head::parse(&pending[..end], cfg, head) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Next::Reject(bad("malformed request head"))),
        Err(r) => Err(Next::Reject(r)),
    }
}

const fn bad(msg: &'static str) -> Reject {
    Reject {
        status: 400,
        cause: CloseCause::ProtocolViolated,
        msg,
    }
}

/// An unfinished head over the limit: 414 while still in the request line
/// (no LF yet), 431 after it (RFC 9112 §3, RFC 6585 §5).
fn head_too_large(pending: &[u8]) -> Reject {
    if pending.contains(&b'\n') {
        Reject {
            status: 431,
            cause: CloseCause::SecurityThreatened,
            msg: "request head too large",
        }
    } else {
        Reject {
            status: 414,
            cause: CloseCause::SecurityThreatened,
            msg: "request line too long",
        }
    }
}

const fn too_large(msg: &'static str) -> Reject {
    Reject {
        status: 413,
        cause: CloseCause::SecurityThreatened,
        msg,
    }
}

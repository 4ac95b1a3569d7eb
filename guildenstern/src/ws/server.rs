//! The WebSocket protocol on the dispatchers: the opening handshake, then
//! frames parsed from the connection's own buffer (a partial frame stays
//! there until the rest arrives), messages reassembled and validated, the
//! close handshake, pings.

use super::config::{Receive, WsShared};
use super::context::{MsgAt, Ws};
use super::frame::{self, code, Kind, Role, Utf8Stream};
use super::handshake::{self, UpgradeAnswer, UpgradeRequest};
use super::mask::with_frame;
use super::send::SendError;
use super::send::{close_frame_now, close_frame_owed, flush, has_unsent, put, Patience};
use crate::dispatch::{grow_within, panic_message, INITIAL_BUFFER, READS_PER_WAKEUP};
use crate::dispatch::{
    CloseCause, ConnRef, DeadlineKind, Expiry, Flow, Io, Protocol, Server, SocketId,
};
use crate::http::config::HttpConfig;
use crate::http::framing::find_head_end;
use crate::http::head::{self, Head};
use log::Level;
use std::any::Any;
use std::cell::RefCell;
use std::io::{self, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// `Conn::flags` bit: a close frame was sent (or queued); nothing may
/// follow it. Set under the outbox lock, with the frame.
pub(crate) const CLOSE_SENT: u8 = 1;
/// `Conn::flags` bit: the handshake answer was written; frames may be sent.
pub(crate) const OPEN: u8 = 2;

thread_local! {
    /// The context the accessors of argument-free callbacks reach: a blank
    /// one, whose contents are swapped with the worker's while a callback runs.
    static CX: RefCell<Option<Box<Ws>>> = const { RefCell::new(None) };
    /// The worker's own context, taken while it serves a connection.
    static WORK: RefCell<Option<Box<Ws>>> = const { RefCell::new(None) };
    /// The data of the connection whose close callback runs on this
    /// thread (the outer `Some` while one runs).
    static CLOSING: RefCell<Option<SocketData>> = const { RefCell::new(None) };
}

/// What an application keeps per connection (see `ws::set_socket_data`).
pub(crate) type SocketData = Option<Box<dyn Any + Send>>;

/// Runs `f` on the data of the connection whose callback (or close
/// callback) runs on this thread.
pub(crate) fn with_data<R>(f: impl FnOnce(&mut SocketData) -> R) -> R {
    let closing = CLOSING.with(|c| c.try_borrow_mut().ok()?.take());
    match closing {
        Some(mut data) => {
            let r = f(&mut data);
            CLOSING.with(|c| *c.borrow_mut() = Some(data));
            r
        }
        None => with_ws(|cx| f(&mut cx.st.data)),
    }
}

/// Swaps the worker's context into the accessors' slot (and back).
fn lend(cx: &mut Ws, in_handler: bool) {
    CX.with(|c| {
        let mut slot = c.borrow_mut();
        let lent = slot
            .as_mut()
            .expect("worker threads have a WebSocket context");
        std::mem::swap(&mut **lent, cx);
        lent.in_handler = in_handler;
    });
}

/// Runs `f` on the context of the WebSocket callback running on this thread.
pub(crate) fn with_ws<R>(f: impl FnOnce(&mut Ws) -> R) -> R {
    CX.with(|c| {
        let mut slot = c.try_borrow_mut().unwrap_or_else(|_| {
            panic!("guildenstern: a WebSocket accessor was called inside another accessor's closure")
        });
        match slot.as_mut() {
            Some(cx) if cx.in_handler => f(cx),
            _ => panic!(
                "guildenstern: WebSocket accessors work only inside an argument-free WebSocket callback"
            ),
        }
    })
}

/// Like [`with_ws`] with a shared borrow, so read-only accessors and
/// replies nest (a reply inside `with_message`'s closure).
pub(crate) fn with_ws_ref<R>(f: impl FnOnce(&Ws) -> R) -> R {
    CX.with(|c| {
        let slot = c.try_borrow().unwrap_or_else(|_| {
            panic!("guildenstern: a WebSocket accessor was called inside with_ws_context's closure")
        });
        match slot.as_ref() {
            Some(cx) if cx.in_handler => f(cx),
            _ => panic!(
                "guildenstern: WebSocket accessors work only inside an argument-free WebSocket callback"
            ),
        }
    })
}

/// Per-connection state, boxed: a wake-up swaps it into the worker's
/// context and back, which moves a pointer instead of its fields.
pub(crate) struct WsState(Box<Fields>);

impl std::ops::Deref for WsState {
    type Target = Fields;
    fn deref(&self) -> &Fields {
        &self.0
    }
}

impl std::ops::DerefMut for WsState {
    fn deref_mut(&mut self) -> &mut Fields {
        &mut self.0
    }
}

/// What [`WsState`] holds.
pub(crate) struct Fields {
    pub(crate) buf: Vec<u8>,
    start: usize,
    filled: usize,
    open: bool,
    /// The data kind of a message arriving in fragments.
    frag: Option<Kind>,
    pub(crate) msg: Vec<u8>,
    /// The UTF-8 check of the text message in flight.
    utf8: Utf8Stream,
    /// Payload bytes of the frame at `start` already unmasked (and checked).
    unmasked: usize,
    awaiting_pong: bool,
    peer_close: Option<u16>,
    /// What follows once the queued output is written (the lingering
    /// close after our close frame).
    then: Option<Flow>,
    /// The application's data for this connection.
    pub(crate) data: SocketData,
}

impl WsState {
    fn new() -> Self {
        WsState(Box::new(Fields {
            buf: vec![0; INITIAL_BUFFER],
            ..Fields::empty()
        }))
    }

    /// The state of a client connection whose handshake is done: what came
    /// after the server's answer is buffered already.
    pub(crate) fn opened(leftover: &[u8], data: SocketData) -> Self {
        let mut buf = vec![0; INITIAL_BUFFER.max(leftover.len())];
        buf[..leftover.len()].copy_from_slice(leftover);
        WsState(Box::new(Fields {
            buf,
            filled: leftover.len(),
            open: true,
            data,
            ..Fields::empty()
        }))
    }
}

impl Fields {
    /// Whether bytes wait in the buffer.
    pub(crate) fn has_input(&self) -> bool {
        self.filled > self.start
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start >= self.filled {
            self.start = 0;
            self.filled = 0;
            if self.buf.len() > 64 * INITIAL_BUFFER {
                self.buf = vec![0; INITIAL_BUFFER];
            }
        }
    }
}

/// The WebSocket protocol, as a server or as a client.
pub(crate) struct WsProto {
    pub(crate) shared: Arc<WsShared>,
    pub(crate) role: Role,
    head_cfg: HttpConfig,
}

/// What the frames in the buffer asked for.
enum Step {
    More,
    Flow(Flow),
}

impl WsProto {
    /// A worker's context, with no connection in it.
    fn blank_context(&self, server: &Server) -> Box<Ws> {
        Box::new(Ws {
            st: WsState::new_empty(),
            at: MsgAt::None,
            binary: false,
            conn: None,
            server: server.clone(),
            core: server
                .downcast()
                .expect("a WebSocket worker serves a WebSocket server"),
            in_handler: false,
        })
    }

    pub(crate) fn new(shared: Arc<WsShared>, role: Role) -> Self {
        let head_cfg = HttpConfig {
            all_headers: true,
            max_header_bytes: shared.cfg.max_header_bytes,
            ..HttpConfig::default()
        };
        WsProto {
            shared,
            role,
            head_cfg,
        }
    }

    pub(crate) fn send_timeout(&self) -> Duration {
        self.shared.cfg.send_timeout
    }

    pub(crate) fn close_timeout(&self) -> Duration {
        self.shared.cfg.close_timeout
    }

    /// Reads what the socket has into the buffer. `Ok(true)`: the socket
    /// was drained (`WouldBlock`, or a read shorter than the room it had).
    fn read(&self, io: &Io<'_, Self>, st: &mut Fields, limit: usize) -> Result<bool, Flow> {
        if st.filled == st.buf.len()
            && !grow_within(&mut st.buf, &mut st.start, &mut st.filled, limit)
        {
            return Err(Flow::Close(
                CloseCause::SecurityThreatened,
                "buffer limit".into(),
            ));
        }
        let space = st.buf.len() - st.filled;
        loop {
            match (&io.conn.stream).read(&mut st.buf[st.filled..]) {
                Ok(0) => {
                    return Err(Flow::Close(
                        CloseCause::ClosedByClient,
                        "end of stream".into(),
                    ))
                }
                Ok(n) => {
                    // On the epoll dispatcher a short read drained the socket,
                    // as on the HTTP path: what comes later raises a new edge,
                    // and a FIN that came with these bytes was reported with
                    // their event, after which the dispatcher serves the
                    // connection once more (its `hangup`). No second read to
                    // learn `WouldBlock`: one syscall less per message. On
                    // mio a FIN that came with these bytes raises no new edge
                    // and the hang-up the poller noted may be spent already,
                    // so the caller reads on until `WouldBlock` or the end.
                    st.filled += n;
                    return Ok(n < space && io.short_read_drains());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Flow::Close(CloseCause::ConnectionLost, e.to_string())),
            }
        }
    }

    fn handshake(&self, io: &Io<'_, Self>, cx: &mut Ws) -> Option<Flow> {
        let st: &mut Fields = &mut cx.st;
        let pending = &st.buf[st.start..st.filled];
        let end = find_head_end(pending, 0)?;
        let mut head = Head::new(self.head_cfg.max_headers);
        let refuse = |status: u16, msg: &str| {
            let resp = handshake::refusal_response(status, msg);
            let _ = put(io.core, io.conn, Patience::Serving, [&resp, b"", b""], 0);
            Some(Flow::Linger(
                CloseCause::ProtocolViolated,
                format!("handshake refused: {status} {msg}"),
            ))
        };
        if end > self.shared.cfg.max_header_bytes {
            return refuse(431, "request head too large");
        }
        match head::parse(&pending[..end], &self.head_cfg, &mut head) {
            Ok(true) => {}
            Ok(false) => return refuse(400, "malformed request"),
            Err(r) => return refuse(r.status, r.msg),
        }
        let req = UpgradeRequest {
            buf: &pending[..end],
            head: &head,
            socket: io.id(),
            data: RefCell::new(None),
        };
        let key = match handshake::validate(&req) {
            Ok(k) => k,
            Err(r) => return refuse(r.status, r.msg),
        };
        let answer = match &self.shared.on_upgrade {
            Some(f) => match catch_unwind(AssertUnwindSafe(|| f(&req))) {
                Ok(a) => a,
                Err(_) => {
                    io.core
                        .log(Level::Error, format_args!("upgrade callback panicked"));
                    return refuse(500, "upgrade callback failed");
                }
            },
            None => UpgradeAnswer::Accept,
        };
        let protocol = match &answer {
            UpgradeAnswer::Accept => None,
            UpgradeAnswer::AcceptProtocol(p) if req.protocols().any(|o| o == p) => Some(p.as_str()),
            UpgradeAnswer::AcceptProtocol(p) => {
                io.core.log(
                    Level::Error,
                    format_args!("upgrade callback chose {p:?}, which the client did not offer"),
                );
                return refuse(500, "no common subprotocol");
            }
            UpgradeAnswer::Decline(status) => {
                let status = if (400..600).contains(status) {
                    *status
                } else {
                    403
                };
                return refuse(status, "upgrade declined");
            }
        };
        let resp = handshake::accept_response(key, protocol);
        let data = req.data.take();
        match self.shared.cfg.ping_interval {
            Some(every) => io.set_deadline(DeadlineKind::Idle, every),
            None => io.conn.set_deadline(DeadlineKind::None, 0),
        }
        if let Err(e) = put(
            io.core,
            io.conn,
            Patience::Serving,
            [&resp, b"", b""],
            // Open as the answer goes out, under the outbox lock: a client
            // that has read it is already among `sockets()`, and frames other
            // threads send from now on go after it.
            OPEN,
        ) {
            return Some(Flow::Close(CloseCause::ConnectionLost, e.to_string()));
        }
        st.consume(end);
        st.open = true;
        st.data = data;
        if let Some(f) = &self.shared.after_upgrade {
            cx.at = MsgAt::None;
            cx.binary = false;
            if let Err(flow) = self.call_plain(io, cx, &**f) {
                return Some(flow);
            }
        }
        None
    }

    /// Runs a callback with the thread-local context in place.
    fn call(&self, io: &Io<'_, Self>, cx: &mut Ws, f: impl FnOnce(&mut Ws)) -> Result<(), Flow> {
        crate::context::set_socket(Some(io.id()));
        let r = catch_unwind(AssertUnwindSafe(|| f(cx)));
        crate::context::set_socket(None);
        r.map_err(|p| {
            let what = panic_message(&*p);
            io.core.log(
                Level::Error,
                format_args!("WebSocket callback panicked on {}: {what}", io.id()),
            );
            close_frame_now(io.core, io.conn, 1011, "internal error");
            Flow::Linger(CloseCause::HandlerPanicked, what)
        })
    }

    /// Runs an argument-free callback with the context lent to the accessors.
    fn call_plain(
        &self,
        io: &Io<'_, Self>,
        cx: &mut Ws,
        f: &(dyn Fn() + Send + Sync),
    ) -> Result<(), Flow> {
        lend(cx, true);
        let r = self.call(io, cx, |_| f());
        lend(cx, false);
        r
    }

    /// Hands a complete message to the receive callback.
    fn deliver(&self, io: &Io<'_, Self>, cx: &mut Ws, at: MsgAt, binary: bool) -> Result<(), Flow> {
        cx.at = at;
        cx.binary = binary;
        let r = match &self.shared.receive {
            Receive::Context(f) => self.call(io, cx, |cx| f(cx)),
            Receive::Plain(f) => self.call_plain(io, cx, &**f),
        };
        cx.at = MsgAt::None;
        r
    }

    /// Processes the frames in the buffer: every complete one, and what has
    /// arrived of the next. A partial frame is unmasked and its UTF-8 (if
    /// it carries text) checked as it comes, so each byte is looked at once
    /// and a bad one fails the connection before the frame ends (§8.1).
    fn frames(&self, io: &Io<'_, Self>, cx: &mut Ws) -> Step {
        let max = self.shared.cfg.max_message_bytes;
        loop {
            let st: &mut Fields = &mut cx.st;
            let avail = st.filled - st.start;
            let h = match frame::parse(&st.buf[st.start..st.filled], max, self.role) {
                Ok(Some(h)) => h,
                Ok(None) => return Step::More,
                Err((c, why)) => return Step::Flow(self.fail(io, c, why)),
            };
            // Where the frame belongs, known from its header (§5.4).
            let text = match (h.kind, st.frag) {
                (Kind::Text | Kind::Binary, Some(_)) => {
                    return Step::Flow(self.fail(
                        io,
                        code::PROTOCOL,
                        "new message inside a fragmented one",
                    ))
                }
                (Kind::Continue, None) => {
                    return Step::Flow(self.fail(
                        io,
                        code::PROTOCOL,
                        "continuation without a message",
                    ))
                }
                (Kind::Continue, Some(kind)) => {
                    if st.msg.len() + h.payload_len > max {
                        return Step::Flow(self.fail(io, code::TOO_BIG, "message too big"));
                    }
                    kind == Kind::Text
                }
                (kind, _) => kind == Kind::Text,
            };
            if h.kind == Kind::Text && st.unmasked == 0 {
                st.utf8.reset();
            }
            let total = h.header_len + h.payload_len;
            let from = st.start + h.header_len;
            // Payload bytes unmasked (and checked) while the frame was partial.
            let done = st.unmasked;
            if avail < total {
                let here = avail - h.header_len;
                if here > done {
                    let part = &mut st.buf[from + done..from + here];
                    frame::unmask_at(part, h.mask, done);
                    if text && !st.utf8.feed(part) {
                        return Step::Flow(self.fail(
                            io,
                            code::INVALID_DATA,
                            "text message is not UTF-8",
                        ));
                    }
                    st.unmasked = here;
                }
                // The buffer grows as bytes arrive, not to the declared length:
                // a header alone must not cost the memory it announces.
                return Step::More;
            }
            st.unmasked = 0;
            frame::unmask_at(&mut st.buf[from + done..st.start + total], h.mask, done);
            let p = from..st.start + total;
            match h.kind {
                Kind::Text | Kind::Binary if h.fin => {
                    // A whole message: the rest of its text checked in place.
                    let rest = &st.buf[p.start + done..p.end];
                    if text && !(st.utf8.feed(rest) && st.utf8.is_complete()) {
                        return Step::Flow(self.fail(
                            io,
                            code::INVALID_DATA,
                            "text message is not UTF-8",
                        ));
                    }
                    if let Err(flow) = self.deliver(io, cx, MsgAt::Buf(p), !text) {
                        return Step::Flow(flow);
                    }
                }
                Kind::Text | Kind::Binary | Kind::Continue => {
                    // A fragment: the rest of its text checked once copied
                    // into the message, where it tends to start word-aligned
                    // (the message grows by whole fragments): `from_utf8` is
                    // faster there than at the odd offsets of the buffer.
                    if h.kind != Kind::Continue {
                        st.frag = Some(h.kind);
                        st.msg.clear();
                    }
                    let before = st.msg.len();
                    st.msg.extend_from_slice(&st.buf[p]);
                    let rest = &st.msg[before + done..];
                    if text && !(st.utf8.feed(rest) && (!h.fin || st.utf8.is_complete())) {
                        return Step::Flow(self.fail(
                            io,
                            code::INVALID_DATA,
                            "text message is not UTF-8",
                        ));
                    }
                    if h.fin {
                        st.frag = None;
                        if let Err(flow) = self.deliver(io, cx, MsgAt::Reassembled, !text) {
                            return Step::Flow(flow);
                        }
                        if cx.st.msg.capacity() > 64 * INITIAL_BUFFER {
                            cx.st.msg = Vec::new();
                        }
                    }
                }
                Kind::Ping => {
                    let pong = with_frame(self.role, Kind::Pong, &st.buf[p], |parts| {
                        put(io.core, io.conn, Patience::Serving, parts, 0)
                    });
                    match pong {
                        // After our close frame, no pong.
                        Ok(()) | Err(SendError::Closing) => {}
                        Err(e) => {
                            return Step::Flow(Flow::Close(
                                CloseCause::ConnectionLost,
                                e.to_string(),
                            ))
                        }
                    }
                }
                Kind::Pong => st.awaiting_pong = false,
                Kind::Close => return Step::Flow(self.peer_close(io, &mut cx.st, p)),
            }
            cx.st.consume(total);
        }
    }

    /// The client sent a close frame: answer it (unless we started the
    /// handshake) and close.
    fn peer_close(&self, io: &Io<'_, Self>, st: &mut Fields, p: std::ops::Range<usize>) -> Flow {
        let (c, reason) = match frame::close_payload(&st.buf[p]) {
            Ok(Some((c, reason))) => (Some(c), reason.to_owned()),
            Ok(None) => (None, String::new()),
            Err((c, why)) => return self.fail(io, c, why),
        };
        st.peer_close = c;
        let we_started = io.conn.flags.load(Ordering::Acquire) & CLOSE_SENT != 0;
        if we_started {
            return Flow::Close(CloseCause::CloseCalled, reason);
        }
        close_frame_now(io.core, io.conn, c.unwrap_or(code::NORMAL), "");
        Flow::Linger(CloseCause::ClosedByClient, reason)
    }

    /// A protocol violation: close frame with `c`, then a lingering close.
    fn fail(&self, io: &Io<'_, Self>, c: u16, why: &'static str) -> Flow {
        io.core.log(
            Level::Debug,
            format_args!("closing {} with {c}: {why}", io.id()),
        );
        close_frame_now(io.core, io.conn, c, why);
        let cause = if c == code::TOO_BIG {
            CloseCause::SecurityThreatened
        } else {
            CloseCause::ProtocolViolated
        };
        Flow::Linger(cause, format!("{c} {why}"))
    }
}

impl Protocol for WsProto {
    type State = WsState;

    fn new_state(&self) -> WsState {
        WsState::new()
    }

    fn on_open(&self, io: &Io<'_, Self>, _state: &mut WsState) {
        match (self.role, self.shared.cfg.ping_interval) {
            (Role::Server, _) => {
                io.set_deadline(DeadlineKind::Head, self.shared.cfg.handshake_timeout)
            }
            // A client registers a connection whose handshake is done.
            (Role::Client, every) => {
                io.conn.flags.fetch_or(OPEN, Ordering::AcqRel);
                match every {
                    Some(every) => io.set_deadline(DeadlineKind::Idle, every),
                    None => io.conn.set_deadline(DeadlineKind::None, 0),
                }
            }
        }
    }

    fn on_ready(&self, io: &Io<'_, Self>, state: &mut WsState) -> Flow {
        // Missing only if serving a connection panicked (that connection
        // was closed): the worker goes on with a new one.
        let mut cx = WORK
            .with(|c| c.borrow_mut().take())
            .unwrap_or_else(|| self.blank_context(&io.core.server()));
        std::mem::swap(&mut cx.st, state);
        cx.conn = Some(io.conn.clone());
        let flow = catch_unwind(AssertUnwindSafe(|| self.drive(io, &mut cx)));
        cx.conn = None;
        // Back to the connection also after a panic: its close callback
        // needs to know whether it was open, and the close code it got.
        std::mem::swap(&mut cx.st, state);
        match flow {
            Ok(flow) => {
                WORK.with(|c| *c.borrow_mut() = Some(cx));
                flow
            }
            // The dispatcher logs it and closes the connection; the next
            // connection gets a fresh context, not this one.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    fn on_deadline(&self, io: &Io<'_, Self>, state: &mut WsState, kind: DeadlineKind) -> Expiry {
        match (kind, self.shared.cfg.ping_interval) {
            (DeadlineKind::Idle, Some(every)) if state.open && !state.awaiting_pong => {
                // Queued like any frame: the timer never waits for a
                // socket, and no ping follows a close frame (checked
                // under the outbox lock).
                let ping = with_frame(self.role, Kind::Ping, b"", |parts| {
                    put(io.core, io.conn, Patience::Never, parts, 0)
                });
                match ping {
                    Ok(()) => state.awaiting_pong = true,
                    // A close went out (its own deadline replaced this
                    // one), or output waits (the send deadline did).
                    Err(SendError::Closing | SendError::Full) => {}
                    Err(_) => return Expiry::Close,
                }
                Expiry::Renew(every)
            }
            _ => Expiry::Close,
        }
    }

    fn on_close(
        &self,
        server: &Server,
        id: SocketId,
        cause: CloseCause,
        msg: &str,
        state: &mut WsState,
    ) {
        // What was queued goes with the connection.
        state.then = None;
        let code = state.peer_close;
        if let (Some(f), true) = (&self.shared.on_close, state.open) {
            // The connection's data, for `ws::with_socket_data` in `f`.
            let outer = CLOSING.with(|c| c.replace(Some(state.data.take())));
            if catch_unwind(AssertUnwindSafe(|| f(server, id, cause, code, msg))).is_err() {
                log::error!(target: "guildenstern", "[{}] on_close callback panicked", server.name());
            }
            CLOSING.with(|c| *c.borrow_mut() = outer);
        }
        state.data = None;
    }

    fn is_listed(&self, conn: &ConnRef<WsState>) -> bool {
        conn.flags.load(Ordering::Acquire) & OPEN != 0
    }

    fn on_shutdown(&self, conn: &ConnRef<WsState>, state: &mut WsState) -> Option<Vec<u8>> {
        // Then the stop waits (a little) for the client's answer, also when
        // a sender's close went out before.
        if state.open {
            let reason = match self.role {
                Role::Server => "server shutting down",
                Role::Client => "client shutting down",
            };
            Some(close_frame_owed(self.role, conn, code::GOING_AWAY, reason))
        } else {
            // A refused handshake's answer, not written yet.
            let rest = conn.out.lock().take();
            if !rest.is_empty() {
                return Some(rest);
            }
            // A handshake no worker took: refused, so that the client
            // knows it was not served and may try again.
            let mut scratch = [0u8; 512];
            let read = (&conn.stream).read(&mut scratch).unwrap_or(0);
            let begun = state.buf[state.start..state.filled]
                .iter()
                .chain(&scratch[..read])
                .any(|b| !matches!(b, b'\r' | b'\n'));
            begun.then(|| handshake::refusal_response(503, "server stopping"))
        }
    }

    fn thread_start(&self, server: &Server) {
        WORK.with(|c| *c.borrow_mut() = Some(self.blank_context(server)));
        CX.with(|c| *c.borrow_mut() = Some(self.blank_context(server)));
        crate::context::enter_thread(server);
    }

    fn housekeeping_start(&self, server: &Server) {
        // Close callbacks may run here (deadlines, the stop): a send from
        // them is a worker's, which never waits for a client, and
        // `server()` answers as it does on a worker.
        crate::context::enter_thread(server);
    }

    fn thread_stop(&self, _server: &Server) {
        CX.with(|c| c.borrow_mut().take());
        WORK.with(|c| c.borrow_mut().take());
        crate::context::leave_thread();
    }
}

impl WsProto {
    /// Writes what the connection owes first, then serves its input; output
    /// left unwritten parks the connection until the socket is writable,
    /// reading nothing more meanwhile (what a lingering close waits for
    /// goes on once it is written).
    fn drive(&self, io: &Io<'_, Self>, cx: &mut Ws) -> Flow {
        match flush(io.core, io.conn) {
            Ok(true) => {}
            Ok(false) => return Flow::ParkWritable,
            Err(e) => return Flow::Close(CloseCause::ConnectionLost, format!("sending: {e}")),
        }
        if let Some(then) = cx.st.then.take() {
            return then;
        }
        let flow = self.serve_input(io, cx);
        if !has_unsent(io.conn) {
            return flow;
        }
        match flow {
            Flow::Close(..) => flow,
            Flow::Linger(..) => {
                cx.st.then = Some(flow);
                Flow::ParkWritable
            }
            Flow::Park | Flow::ParkWritable | Flow::Yield => Flow::ParkWritable,
        }
    }

    fn serve_input(&self, io: &Io<'_, Self>, cx: &mut Ws) -> Flow {
        let limit = if cx.st.open {
            self.shared.cfg.max_message_bytes.saturating_add(14)
        } else {
            self.shared.cfg.max_header_bytes
        };
        let mut reads = 0;
        // Whether input was handled in this wake-up, so that a reply may be
        // owed (`drive` found the outbox empty before).
        let mut served = false;
        loop {
            if !cx.st.open {
                served = true;
                if let Some(flow) = self.handshake(io, cx) {
                    return flow;
                }
            }
            if cx.st.open && cx.st.has_input() {
                served = true;
                if let Step::Flow(flow) = self.frames(io, cx) {
                    return flow;
                }
            }
            let limit = if cx.st.open {
                self.shared.cfg.max_message_bytes.saturating_add(14)
            } else {
                limit
            };
            if reads == READS_PER_WAKEUP {
                // What is buffered was handled above; the rest after the others.
                return Flow::Yield;
            }
            if served && has_unsent(io.conn) {
                // The client reads slower than it sends: what it sent next
                // (or its end of stream) waits until it took the answers.
                return Flow::ParkWritable;
            }
            reads += 1;
            match self.read(io, &mut cx.st, limit) {
                Ok(true) => {
                    // Drained: handle what came, then park.
                    if !cx.st.open {
                        if let Some(flow) = self.handshake(io, cx) {
                            return flow;
                        }
                        if !cx.st.open
                            && cx.st.filled - cx.st.start >= self.shared.cfg.max_header_bytes
                        {
                            return Flow::Close(
                                CloseCause::SecurityThreatened,
                                "handshake too large".into(),
                            );
                        }
                    }
                    if cx.st.open {
                        if let Step::Flow(flow) = self.frames(io, cx) {
                            return flow;
                        }
                    }
                    return Flow::Park;
                }
                Ok(false) => {}
                Err(flow) => return flow,
            }
        }
    }
}

impl WsState {
    fn new_empty() -> Self {
        WsState(Box::new(Fields::empty()))
    }
}

impl Fields {
    fn empty() -> Self {
        Fields {
            buf: Vec::new(),
            start: 0,
            filled: 0,
            open: false,
            frag: None,
            msg: Vec::new(),
            utf8: Utf8Stream::default(),
            unmasked: 0,
            awaiting_pong: false,
            peer_close: None,
            then: None,
            data: None,
        }
    }
}

//! The context of a WebSocket callback: the message in flight (borrowed
//! from the connection's buffer) and replies to its connection.

use super::frame::Kind;
use super::send::{send_on, SendError, WsCore};
use super::server::WsState;
use crate::dispatch::{ConnRef, Server, SocketId};
use std::any::Any;
use std::sync::Arc;

/// Where the message in flight lies.
#[derive(Clone, Debug)]
pub(crate) enum MsgAt {
    /// No message (the after-upgrade callback).
    None,
    /// A single-frame message, unmasked in place in the read buffer.
    Buf(std::ops::Range<usize>),
    /// A message reassembled from fragments.
    Reassembled,
}

/// The message in flight and its connection. Receive callbacks in the
/// explicit shape (`fn receive(cx: &mut Ws)`) get it; the thread-local
/// accessors of the argument-free shape reach the same object.
///
/// ```no_run
/// # use guildenstern::prelude::*;
/// # use guildenstern::ws::Ws;
/// fn echo(cx: &mut Ws) {
///     // Replies borrow `cx` immutably, so the message needs no copy.
///     let _ = if cx.is_binary() { cx.reply_binary(cx.message()) } else { cx.reply_text(cx.text()) };
/// }
/// ```
pub struct Ws {
    pub(crate) st: WsState,
    pub(crate) at: MsgAt,
    pub(crate) binary: bool,
    pub(crate) conn: Option<ConnRef<WsState>>,
    pub(crate) server: Server,
    /// The same server, as what replies go through (no downcast per reply).
    pub(crate) core: Arc<WsCore>,
    pub(crate) in_handler: bool,
}

impl Ws {
    /// The message (text or binary), borrowed.
    pub fn message(&self) -> &[u8] {
        match &self.at {
            MsgAt::None => &[],
            MsgAt::Buf(r) => &self.st.buf[r.clone()],
            MsgAt::Reassembled => &self.st.msg,
        }
    }

    /// The text of a text message ("" for a binary one). Text messages are
    /// validated as UTF-8 before the callback runs.
    pub fn text(&self) -> &str {
        if self.binary {
            return "";
        }
        std::str::from_utf8(self.message()).unwrap_or("")
    }

    /// Whether the message is binary.
    pub fn is_binary(&self) -> bool {
        self.binary
    }

    /// The id of the connection the message came on.
    pub fn socket(&self) -> SocketId {
        self.conn
            .as_ref()
            .map(|c| c.id)
            .expect("a WebSocket callback has a connection")
    }

    /// The server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    fn conn(&self) -> &ConnRef<WsState> {
        self.conn
            .as_ref()
            .expect("a WebSocket callback has a connection")
    }

    /// Stores data for this connection, replacing what was stored; the
    /// connection's callbacks reach it until it closes (its close callback
    /// included, through [`with_socket_data`](crate::ws::with_socket_data)).
    pub fn set_socket_data<T: Any + Send>(&mut self, value: T) {
        self.st.data = Some(Box::new(value));
    }

    /// Calls `f` with the connection's data if it holds a `T` (`None` if
    /// there is none or it is of another type).
    pub fn with_socket_data<T: Any + Send, R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.st.data.as_mut()?.downcast_mut::<T>().map(f)
    }

    /// Sends a text message to this connection: written, or queued whole
    /// behind what the client has not read (never waited for: the
    /// connection reads nothing more until its output is written).
    ///
    /// # Errors
    /// See [`SendError`]; the connection is closed on a write failure.
    pub fn reply_text(&self, text: &str) -> Result<(), SendError> {
        send_on(&self.core, self.conn(), Kind::Text, text.as_bytes())
    }

    /// Sends a binary message to this connection.
    ///
    /// # Errors
    /// See [`SendError`].
    pub fn reply_binary(&self, bytes: &[u8]) -> Result<(), SendError> {
        send_on(&self.core, self.conn(), Kind::Binary, bytes)
    }
}

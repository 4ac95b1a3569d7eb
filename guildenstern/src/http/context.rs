//! The per-request context handed to handlers: the request (read side) and
//! the response (write side), plus what a handler may do to its connection.

use super::request::Request;
use super::response::Response;
use crate::dispatch::{CloseCause, Server, SocketId};
use std::any::Any;

/// The request in flight and its response. Handlers in the explicit shape
/// (`fn handler(cx: &mut Http)`) receive it; the thread-local accessors of
/// the argument-free shape reach the same object.
///
/// Reading and writing at once without copies:
/// ```no_run
/// # use guildenstern::prelude::*;
/// fn echo(cx: &mut Http) {
///     let (req, res) = cx.parts();
///     res.reply(req.body());
/// }
/// ```
pub struct Http {
    pub(crate) req: Request,
    pub(crate) res: Response,
    pub(crate) server: Server,
    pub(crate) close: Option<(CloseCause, String)>,
    /// True while an argument-free handler runs (the accessors check it).
    pub(crate) in_handler: bool,
}

impl Http {
    /// The request (read side) and the response (write side), borrowed together.
    pub fn parts(&mut self) -> (&mut Request, &mut Response) {
        (&mut self.req, &mut self.res)
    }

    /// The request.
    pub fn request(&mut self) -> &mut Request {
        &mut self.req
    }

    /// The response.
    pub fn response(&mut self) -> &mut Response {
        &mut self.res
    }

    /// The server this request came to.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The id of the current connection.
    pub fn socket(&self) -> SocketId {
        self.req.socket()
    }

    /// Closes the current connection once the handler returns (after the
    /// response, if any, is written); the on-close callback gets `msg` with
    /// [`CloseCause::CloseCalled`].
    ///
    /// The answer says `Connection: close`, whether this is called before
    /// or after replying, except where its head was already written when
    /// this is called: after `reply_start` or `reply_chunked_start`, a
    /// `reply_with` body over 16 KiB, or an answer that filled the batch of
    /// pipelined answers (64 KiB) and so went out at once. Calling it
    /// before replying always works; behind a proxy that reuses upstream
    /// connections, do that.
    /// The close lingers: what the client still sends is read and dropped
    /// for a short while, so that it can read the whole answer.
    pub fn close_socket(&mut self, msg: impl Into<String>) {
        self.close_socket_with(CloseCause::CloseCalled, msg);
    }

    /// Closes the current connection once the handler returns, with the
    /// cause the on-close callback will get (e.g. `SecurityThreatened` for a
    /// client the handler judged abusive).
    pub fn close_socket_with(&mut self, cause: CloseCause, msg: impl Into<String>) {
        self.res.close_after();
        self.close = Some((cause, msg.into()));
    }

    /// Stores per-connection data, replacing what was there; it lives until the connection closes.
    pub fn set_socket_data<T: Any + Send>(&mut self, value: T) {
        if let Some(c) = &self.req.conn {
            *c.data.lock() = Some(Box::new(value));
        }
    }

    /// Calls `f` with the connection's data if it holds a `T`.
    pub fn with_socket_data<T: Any + Send, R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let c = self.req.conn.as_ref()?;
        let mut guard = c.data.lock();
        guard.as_mut()?.downcast_mut::<T>().map(f)
    }

    // Convenience forwarders, so that `cx.uri()` and `cx.reply(..)` read well.

    /// See [`Request::uri`].
    pub fn uri(&self) -> &str {
        self.req.uri()
    }
    /// See [`Request::is_uri`].
    pub fn is_uri(&self, uri: &str) -> bool {
        self.req.is_uri(uri)
    }
    /// See [`Request::starts_uri`].
    pub fn starts_uri(&self, prefix: &str) -> bool {
        self.req.starts_uri(prefix)
    }
    /// See [`Request::path`].
    pub fn path(&self) -> std::borrow::Cow<'_, str> {
        self.req.path()
    }
    /// See [`Request::is_path`].
    pub fn is_path(&self, path: &str) -> bool {
        self.req.is_path(path)
    }
    /// See [`Request::query_value`].
    pub fn query_value(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.req.query_value(name)
    }
    /// See [`Request::method`].
    pub fn method(&self) -> &str {
        self.req.method()
    }
    /// See [`Request::is_method`].
    pub fn is_method(&self, method: &str) -> bool {
        self.req.is_method(method)
    }
    /// See [`Request::header`].
    pub fn header(&self, name: &str) -> Option<&str> {
        self.req.header(name)
    }
    /// See [`Request::body`].
    pub fn body(&self) -> &[u8] {
        self.req.body()
    }
    /// See [`Request::is_body`].
    pub fn is_body(&self) -> bool {
        self.req.is_body()
    }
    /// See [`Response::reply`].
    pub fn reply(&mut self, body: impl AsRef<[u8]>) {
        self.response().reply(body)
    }
    /// See [`Response::reply_code`].
    pub fn reply_code(&mut self, code: u16) {
        self.response().reply_code(code)
    }
    /// See [`Response::reply_with`].
    pub fn reply_with(&mut self, code: u16, body: impl AsRef<[u8]>, headers: &[(&str, &str)]) {
        self.response().reply_with(code, body, headers)
    }
}

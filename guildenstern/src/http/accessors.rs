//! Thread-local accessors for argument-free handlers: `reply("hi")`,
//! `uri()`, `header("origin")`… They reach the request in flight on the
//! calling worker thread; called anywhere else they panic with a clear message.
//!
//! Comparisons (`is_uri`, `starts_uri`, `is_method`) never copy; the
//! accessors returning `String` or `Vec<u8>` copy, and a `with_*` twin lends
//! the bytes to a closure instead.

use super::context::Http;
use super::request::{Body, Request};
use super::server::CX;
use crate::dispatch::CloseCause;
use std::any::Any;
use std::io;

/// Runs `f` on the context of the handler running on this thread.
///
/// # Panics
/// Outside an argument-free HTTP handler (on another thread, in a handler
/// taking `&mut Http`, in a callback), or when called from inside `with_body`'s
/// closure for something other than replying.
pub fn with_http<R>(f: impl FnOnce(&mut Http) -> R) -> R {
    CX.with(|c| {
        let mut slot = c.try_borrow_mut().unwrap_or_else(|_| {
            panic!("guildenstern: an HTTP accessor was called inside another accessor's closure")
        });
        match slot.as_mut() {
            Some(cx) if cx.in_handler => f(cx),
            _ => panic!(
                "guildenstern: HTTP accessors work only inside an argument-free HTTP handler \
                 (a handler taking `&mut Http` uses its argument)"
            ),
        }
    })
}

/// Runs `f` on the request in flight (borrowed, no copies).
pub fn with_request<R>(f: impl FnOnce(&Request) -> R) -> R {
    with_http(|cx| f(&cx.req))
}

/// The request target (path and query), copied.
pub fn uri() -> String {
    with_http(|cx| cx.req.uri().to_owned())
}

/// Whether the request target equals `uri`.
pub fn is_uri(uri: &str) -> bool {
    with_http(|cx| cx.req.is_uri(uri))
}

/// Whether the request target starts with `prefix`.
pub fn starts_uri(prefix: &str) -> bool {
    with_http(|cx| cx.req.starts_uri(prefix))
}

/// The percent-decoded path, without the query, copied (see
/// [`Request::path`]; [`is_path`] compares without a copy).
pub fn path() -> String {
    with_http(|cx| cx.req.path().into_owned())
}

/// Whether the percent-decoded path equals `path`.
pub fn is_path(path: &str) -> bool {
    with_http(|cx| cx.req.is_path(path))
}

/// The query as sent, without the `?`, copied; `None` when there is none.
pub fn query() -> Option<String> {
    with_http(|cx| cx.req.query().map(str::to_owned))
}

/// The decoded value of the first query parameter named `name`, copied
/// (see [`Request::query_value`]).
pub fn query_value(name: &str) -> Option<String> {
    with_http(|cx| cx.req.query_value(name).map(|v| v.into_owned()))
}

/// Every query parameter, decoded, copied (see [`Request::query_pairs`]).
pub fn query_pairs() -> Vec<(String, String)> {
    with_http(|cx| {
        cx.req
            .query_pairs()
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect()
    })
}

/// The method, copied.
pub fn method() -> String {
    with_http(|cx| cx.req.method().to_owned())
}

/// Whether the method equals `method`.
pub fn is_method(method: &str) -> bool {
    with_http(|cx| cx.req.is_method(method))
}

/// A kept header field's value, copied. Only the fields named in the
/// `headers` option are kept (every one with `all_headers`): for any other
/// name this is `None`, and the first such call on a worker is logged at
/// debug level (see [`Request::header`]).
pub fn header(name: &str) -> Option<String> {
    with_http(|cx| cx.req.header(name).map(str::to_owned))
}

/// Whether a kept header field equals `value` (no copy).
pub fn is_header(name: &str, value: &str) -> bool {
    with_http(|cx| cx.req.header(name) == Some(value))
}

/// The body (Compact), copied.
pub fn body() -> Vec<u8> {
    with_http(|cx| cx.req.body().to_vec())
}

/// Lends the body (Compact) to `f` without copying. Inside `f` the reply
/// functions work; other request accessors do not (read them before).
///
/// # Panics
/// Besides as [`with_http`]: when called inside another `with_body`'s
/// closure (that closure has the body already). In a handler, the panic is
/// answered 500 and logged, as any other.
pub fn with_body<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    let lent = with_http(|cx| {
        let req = &mut cx.req;
        assert!(
            !req.lent,
            "guildenstern: with_body was called inside with_body's closure; use the slice it lends"
        );
        let (buf, range, into_body) = match req.body {
            Body::Buffered(a, b) => {
                let range = req.st.start + a..req.st.start + b;
                (std::mem::take(&mut req.st.buf), range, false)
            }
            Body::Decoded => {
                let n = req.st.body.len();
                (std::mem::take(&mut req.st.body), 0..n, true)
            }
            _ => (Vec::new(), 0..0, false),
        };
        req.lent = true;
        Lent {
            buf,
            range,
            into_body,
        }
    });
    f(&lent.buf[lent.range.clone()])
}

/// A body lent by `with_body`; dropping it (also on unwind) gives it back.
struct Lent {
    buf: Vec<u8>,
    range: std::ops::Range<usize>,
    into_body: bool,
}

impl Drop for Lent {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        CX.with(|c| {
            if let Ok(mut slot) = c.try_borrow_mut() {
                if let Some(cx) = slot.as_mut() {
                    let req = &mut cx.req;
                    if self.into_body {
                        req.st.body = buf;
                    } else if !buf.is_empty() || req.st.buf.is_empty() {
                        req.st.buf = buf;
                    }
                    req.lent = false;
                }
            }
        });
    }
}

/// Whether the request has a body.
pub fn is_body() -> bool {
    with_http(|cx| cx.req.is_body())
}

/// The body length, when known (see [`Request::body_len`]).
pub fn body_len() -> Option<u64> {
    with_http(|cx| cx.req.body_len())
}

/// The decoded value of an `application/x-www-form-urlencoded` body field, copied.
pub fn form_value(name: &str) -> Option<String> {
    with_http(|cx| cx.req.form_value(name).map(|v| v.into_owned()))
}

/// Reads the next piece of a streamed body (Streaming); `Ok(0)` at its end.
///
/// # Errors
/// As [`Request::read_body`].
pub fn read_body(out: &mut [u8]) -> io::Result<usize> {
    // No `sync` here: the response head is written later, when the handler
    // replies (`Http::response` checks then whether the body was read whole).
    with_http(|cx| cx.req.read_body(out))
}

/// The request head as received, copied.
pub fn raw_head() -> Vec<u8> {
    with_http(|cx| cx.req.raw_head().to_vec())
}

/// Closes the current connection after the handler (see [`Http::close_socket`]).
pub fn close_socket(msg: impl Into<String>) {
    with_http(|cx| cx.close_socket(msg))
}

/// Closes the current connection after the handler, with a cause (see
/// [`Http::close_socket_with`]).
pub fn close_socket_with(cause: CloseCause, msg: impl Into<String>) {
    with_http(|cx| cx.close_socket_with(cause, msg))
}

/// Stores data for the current connection (see [`Http::set_socket_data`]).
pub fn set_socket_data<T: Any + Send>(value: T) {
    with_http(|cx| cx.set_socket_data(value))
}

/// Calls `f` with the current connection's data, if it holds a `T`.
pub fn with_socket_data<T: Any + Send, R>(f: impl FnOnce(&mut T) -> R) -> Option<R> {
    with_http(|cx| cx.with_socket_data(f))
}

/// Whether a response was started for the current request.
pub fn is_replied() -> bool {
    with_http(|cx| cx.res.is_started())
}

/// Answers 200 with a body.
pub fn reply(body: impl AsRef<[u8]>) {
    with_http(|cx| cx.reply(body))
}

/// Answers with a status and no body.
pub fn reply_code(code: u16) {
    with_http(|cx| cx.reply_code(code))
}

/// Answers with a status, a body and header fields.
pub fn reply_with(code: u16, body: impl AsRef<[u8]>, headers: &[(&str, &str)]) {
    with_http(|cx| cx.reply_with(code, body.as_ref(), headers))
}

/// Starts a response of known length (see [`Response::reply_start`](super::Response::reply_start)).
pub fn reply_start(code: u16, content_length: u64, headers: &[(&str, &str)]) {
    with_http(|cx| cx.response().reply_start(code, content_length, headers))
}

/// Sends more of a response started with [`reply_start`].
///
/// # Errors
/// When the client is gone (stop streaming then), or on misuse; see
/// [`Response::reply_more`](super::Response::reply_more).
pub fn reply_more(bytes: impl AsRef<[u8]>) -> io::Result<()> {
    with_http(|cx| cx.response().reply_more(bytes.as_ref()))
}

/// Ends a response started with [`reply_start`].
///
/// # Errors
/// See [`Response::reply_finish`](super::Response::reply_finish).
pub fn reply_finish() -> io::Result<()> {
    with_http(|cx| cx.response().reply_finish())
}

/// Starts a chunked response.
pub fn reply_chunked_start(code: u16, headers: &[(&str, &str)]) {
    with_http(|cx| cx.response().reply_chunked_start(code, headers))
}

/// Sends one chunk of a chunked response.
///
/// # Errors
/// When the client is gone (stop streaming then), or on misuse; see
/// [`Response::reply_chunk`](super::Response::reply_chunk).
pub fn reply_chunk(bytes: impl AsRef<[u8]>) -> io::Result<()> {
    with_http(|cx| cx.response().reply_chunk(bytes.as_ref()))
}

/// Ends a chunked response.
///
/// # Errors
/// When the client is gone; see
/// [`Response::reply_chunked_finish`](super::Response::reply_chunked_finish).
pub fn reply_chunked_finish() -> io::Result<()> {
    with_http(|cx| cx.response().reply_chunked_finish())
}

//! JSON answers (the `json` feature): a value serialized with serde into a
//! buffer each worker keeps and reuses.

use super::accessors::with_http;
use super::{Http, Response};
use std::cell::RefCell;

thread_local! {
    /// The serialization buffer of this worker.
    static JSON: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Buffers larger than this are not kept after an answer.
const KEEP: usize = 64 * 1024;

impl Response {
    /// Answers `status` with `value` as JSON (`Content-Type:
    /// application/json`).
    ///
    /// # Errors
    /// When serde cannot serialize `value` (a map with keys that are not
    /// strings, a `Serialize` implementation that fails): nothing is sent,
    /// and the handler answers as it sees fit (if it does not, the server
    /// answers 500, as for any handler that does not reply).
    ///
    /// ```no_run
    /// use guildenstern::prelude::*;
    ///
    /// #[http_server(port = 8080)]
    /// fn status(cx: &mut Http) {
    ///     let body = std::collections::BTreeMap::from([("ok", true)]);
    ///     let _ = cx.response().reply_json(200, &body);
    /// }
    /// ```
    pub fn reply_json<T: serde::Serialize + ?Sized>(
        &mut self,
        status: u16,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        JSON.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            let written = serde_json::to_writer(&mut *buf, value);
            if written.is_ok() {
                self.reply_with(status, &buf[..], &[("Content-Type", "application/json")]);
            }
            if buf.capacity() > KEEP {
                *buf = Vec::new();
            }
            written
        })
    }
}

impl Http {
    /// See [`Response::reply_json`].
    pub fn reply_json<T: serde::Serialize + ?Sized>(
        &mut self,
        status: u16,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        self.response().reply_json(status, value)
    }
}

/// Answers `status` with `value` as JSON (see [`Response::reply_json`]).
///
/// # Errors
/// When serde cannot serialize `value`; nothing is sent then.
pub fn reply_json<T: serde::Serialize + ?Sized>(
    status: u16,
    value: &T,
) -> Result<(), serde_json::Error> {
    with_http(|cx| cx.reply_json(status, value))
}

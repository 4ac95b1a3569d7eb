//! Thread-local accessors for argument-free WebSocket callbacks:
//! `message_text()`, `reply_text(..)`… Called anywhere else they panic with
//! a clear message. `thesocket()` and `server()` work here too.

use super::context::Ws;
use super::send::SendError;
use super::server::{with_data, with_ws, with_ws_ref};
use std::any::Any;

/// Runs `f` on the context of the callback running on this thread.
///
/// # Panics
/// Outside an argument-free WebSocket callback.
pub fn with_ws_context<R>(f: impl FnOnce(&mut Ws) -> R) -> R {
    with_ws(f)
}

/// The message in flight, copied.
pub fn message() -> Vec<u8> {
    with_ws_ref(|cx| cx.message().to_vec())
}

/// The text of a text message, copied ("" for a binary one).
pub fn message_text() -> String {
    with_ws_ref(|cx| cx.text().to_owned())
}

/// Lends the message to `f` without copying; replies work inside `f`.
pub fn with_message<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    with_ws_ref(|cx| f(cx.message()))
}

/// Whether the message equals `text` (no copy).
pub fn is_message(text: &str) -> bool {
    with_ws_ref(|cx| cx.message() == text.as_bytes())
}

/// Whether the message is binary.
pub fn is_binary() -> bool {
    with_ws_ref(|cx| cx.is_binary())
}

/// Sends a text message to the current connection.
///
/// # Errors
/// See [`SendError`].
pub fn reply_text(text: &str) -> Result<(), SendError> {
    with_ws_ref(|cx| cx.reply_text(text))
}

/// Sends a binary message to the current connection.
///
/// # Errors
/// See [`SendError`].
pub fn reply_binary(bytes: &[u8]) -> Result<(), SendError> {
    with_ws_ref(|cx| cx.reply_binary(bytes))
}

/// Stores data for the current connection, replacing what was stored
/// (see [`UpgradeRequest::set_socket_data`](crate::ws::UpgradeRequest::set_socket_data)
/// to store it from the upgrade callback, and
/// [`Clientele::connect_with_data`](crate::client::Clientele::connect_with_data)
/// for a client connection).
///
/// # Panics
/// Outside an argument-free WebSocket callback or a WebSocket close callback.
pub fn set_socket_data<T: Any + Send>(value: T) {
    with_data(|d| *d = Some(Box::new(value)))
}

/// Calls `f` with the current connection's data if it holds a `T`. Works
/// in the argument-free callbacks (after-upgrade, receive) and in the
/// close callback, which sees the data one last time.
///
/// # Panics
/// Outside an argument-free WebSocket callback or a WebSocket close callback.
pub fn with_socket_data<T: Any + Send, R>(f: impl FnOnce(&mut T) -> R) -> Option<R> {
    with_data(|d| d.as_mut()?.downcast_mut::<T>().map(f))
}

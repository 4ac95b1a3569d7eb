//! The connection-context layer: which server and which connection the
//! calling worker thread is serving. Every protocol sets it around its
//! handlers, so `thesocket()` and `server()` work in all of them.

use crate::dispatch::{Server, SocketId};
use std::cell::{Cell, RefCell};

thread_local! {
    static SERVER: RefCell<Option<Server>> = const { RefCell::new(None) };
    static SOCKET: Cell<Option<SocketId>> = const { Cell::new(None) };
}

/// A worker thread of `server` starts.
pub(crate) fn enter_thread(server: &Server) {
    SERVER.with(|s| *s.borrow_mut() = Some(server.clone()));
}

/// A worker thread ends.
pub(crate) fn leave_thread() {
    SERVER.with(|s| s.borrow_mut().take());
    SOCKET.with(|s| s.set(None));
}

/// Marks the connection a handler is about to serve (`None` after it).
pub(crate) fn set_socket(id: Option<SocketId>) {
    SOCKET.with(|s| s.set(id));
}

/// Whether the calling thread is a worker of a server (which must never
/// wait for a client).
pub(crate) fn on_worker() -> bool {
    SERVER.with(|s| s.borrow().is_some())
}

/// Whether the calling thread runs a handler of connection `id` of `server`.
pub(crate) fn serving(server: &Server, id: SocketId) -> bool {
    SOCKET.with(|s| s.get()) == Some(id)
        && SERVER.with(|s| s.borrow().as_ref().is_some_and(|s| s.is_same(server)))
}

/// The connection the running handler serves.
///
/// # Panics
/// Outside a handler or callback that serves a connection.
pub fn thesocket() -> SocketId {
    SOCKET
        .with(|s| s.get())
        .expect("guildenstern: thesocket() called outside a handler")
}

/// The server whose worker thread this is.
///
/// # Panics
/// On a thread that is not a worker of a server.
pub fn server() -> Server {
    SERVER
        .with(|s| s.borrow().clone())
        .expect("guildenstern: server() called outside a worker thread")
}

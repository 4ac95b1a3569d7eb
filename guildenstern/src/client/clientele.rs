//! A clientele: one client-mode dispatcher (no port) serving many
//! WebSocket client connections with the server's protocol code, in the
//! client's role.

use super::error::ClientError;
use super::handshake::{self, WsUrl};
use crate::dispatch::{self, worker_options, CloseCause, Core, Options, Server, SocketId};
use crate::error::Error;
use crate::ws::{
    self, ws_options, OnWsClose, Receive, Role, SendError, Ws, WsConfig, WsProto, WsShared, WsState,
};
use std::any::Any;
use std::sync::Arc;

/// Builds a [`Clientele`]. The receive callback comes in the server's two
/// shapes: argument-free, reaching the message through the thread-local
/// accessors ([`message_text`](crate::ws::message_text),
/// [`reply_text`](crate::ws::reply_text), `thesocket()` …), or taking the
/// context (`fn(cx: &mut Ws)`). Every WebSocket option of
/// [`WsServer`](crate::ws::WsServer) is here too. A clientele listens on
/// no port; its worker threads default to the server default, at most 4.
///
/// ```no_run
/// use guildenstern::client::WsClientele;
/// use guildenstern::prelude::*;
///
/// let clientele = WsClientele::new(|| println!("got {}", message_text()))
///     .threads(2)
///     .start()
///     .expect("threads start");
/// let id = clientele.connect("ws://127.0.0.1:9001/").expect("server up");
/// clientele.send_text(id, "hello").expect("connection open");
/// ```
pub struct WsClientele {
    options: Options,
    ws: WsConfig,
    receive: Receive,
    on_close: Option<OnWsClose>,
}

impl WsClientele {
    fn with_receive(receive: Receive) -> Self {
        let mut options = Options::new("clientele");
        // Client mode: no listener; a client needs few threads.
        options.dispatch.port = 0;
        options.dispatch.any_port = false;
        options.dispatch.threads = options.dispatch.threads.min(4);
        WsClientele {
            options,
            ws: WsConfig::default(),
            receive,
            on_close: None,
        }
    }

    /// A clientele whose receive callback reaches the message through the
    /// thread-local accessors (`message`, `reply_text`, …).
    pub fn new(receive: impl Fn() + Send + Sync + 'static) -> Self {
        Self::with_receive(Receive::Plain(Box::new(receive)))
    }

    /// A clientele whose receive callback takes the context explicitly.
    pub fn with_context(receive: impl Fn(&mut Ws) + Send + Sync + 'static) -> Self {
        Self::with_receive(Receive::Context(Box::new(receive)))
    }

    worker_options!("clientele");

    ws_options!();

    /// Runs once for every connection that closes, whichever side or
    /// thread closes it: the cause, the close code the server sent (if it
    /// sent one) and a message. The connection's data is still there:
    /// [`with_socket_data`](crate::ws::with_socket_data) reaches it. See
    /// [`WsServer::on_close`](crate::ws::WsServer::on_close).
    pub fn on_close(
        mut self,
        f: impl Fn(&Server, SocketId, CloseCause, Option<u16>, &str) + Send + Sync + 'static,
    ) -> Self {
        self.on_close = Some(Box::new(f));
        self
    }

    /// Validates the options and starts the workers (no port is bound).
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid option, [`Error::Io`] when threads
    /// cannot be started.
    pub fn start(self) -> Result<Clientele, Error> {
        self.options.dispatch.validate()?;
        self.ws.check()?;
        let shared = Arc::new(WsShared {
            cfg: self.ws,
            receive: self.receive,
            on_upgrade: None,
            after_upgrade: None,
            on_close: self.on_close,
        });
        let server = dispatch::start(WsProto::new(shared, Role::Client), self.options)?;
        let core = server
            .downcast::<Core<WsProto>>()
            .expect("a clientele runs the WebSocket protocol");
        Ok(Clientele { server, core })
    }
}

/// A running clientele: WebSocket client connections served by one
/// client-mode dispatcher. Cheap to clone, usable from any thread.
///
/// Each connection is known by its [`SocketId`], as on a server: the
/// `ws::send_*` functions and [`Server::close`] take
/// [`Clientele::server`] and the id. A connection that closes (whichever
/// side closes it) is gone; reconnecting is the caller's choice (the
/// close callback sees the cause and can call [`Clientele::connect`]).
#[derive(Clone)]
pub struct Clientele {
    server: Server,
    core: Arc<Core<WsProto>>,
}

impl Clientele {
    /// Opens a connection to a `ws://` URL: connects, performs the opening
    /// handshake on the calling thread (within the handshake timeout; the
    /// server's `Sec-WebSocket-Accept` is checked), then hands the
    /// connection to the clientele's workers. Returns its id.
    ///
    /// The calling thread waits for the server's answer (up to the
    /// handshake timeout): connect from the application's threads, or,
    /// from a callback, only where holding up that worker is acceptable
    /// (a reconnect in `on_close`, say). Frames the server sent with its
    /// answer are delivered like any other.
    ///
    /// # Errors
    /// See [`ClientError`]: a bad URL, no connection, a refused or invalid
    /// upgrade, a stopping clientele.
    pub fn connect(&self, url: &str) -> Result<SocketId, ClientError> {
        self.open(&WsUrl::parse(url)?, None)
    }

    /// Like [`connect`](Self::connect), the connection carrying `data`
    /// from the start: its callbacks reach it with
    /// [`ws::with_socket_data`](crate::ws::with_socket_data) (or
    /// [`Ws::with_socket_data`]), its close callback included.
    ///
    /// # Errors
    /// See [`ClientError`].
    pub fn connect_with_data<T: Any + Send>(
        &self,
        url: &str,
        data: T,
    ) -> Result<SocketId, ClientError> {
        self.open(&WsUrl::parse(url)?, Some(Box::new(data)))
    }

    /// Opens `n` connections to the same URL, one after the other. Stops
    /// at the first failure and returns it; the connections opened before
    /// it stay open (see [`sockets`](Self::sockets)).
    ///
    /// # Errors
    /// See [`ClientError`].
    pub fn connect_many(&self, url: &str, n: usize) -> Result<Vec<SocketId>, ClientError> {
        let url = WsUrl::parse(url)?;
        (0..n).map(|_| self.open(&url, None)).collect()
    }

    fn open(
        &self,
        url: &WsUrl,
        data: Option<Box<dyn Any + Send>>,
    ) -> Result<SocketId, ClientError> {
        if self.server.is_stopping() {
            return Err(ClientError::Register(std::io::Error::other(
                "the clientele is stopping",
            )));
        }
        if self.core.table.len() >= self.core.cfg.max_connections {
            return Err(ClientError::Register(std::io::Error::other(
                "the clientele has max_connections open",
            )));
        }
        let cfg = &self.core.proto.shared.cfg;
        let opened = handshake::open(url, cfg.handshake_timeout, cfg.max_header_bytes)?;
        let state = WsState::opened(&opened.leftover, data);
        let buffered = state.has_input();
        let conn = self
            .core
            .register_with(opened.stream, state)
            .map_err(ClientError::Register)?;
        if buffered {
            // Frames that came with the answer raise no readiness event:
            // a worker serves them once the socket shows writable (at once).
            self.core.want_writable(&conn);
        }
        Ok(conn.id)
    }

    /// The clientele as a [`Server`] handle (client mode: no port), for
    /// `ws::send_*`, [`Server::close`] and the rest.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The ids of the open connections (a snapshot).
    pub fn sockets(&self) -> Vec<SocketId> {
        self.server.sockets()
    }

    /// How many connections are open.
    pub fn connections(&self) -> usize {
        self.server.connections()
    }

    /// Whether the connection with this id is open.
    pub fn is_open(&self, id: SocketId) -> bool {
        self.server.is_open(id)
    }

    /// Sends a text message on a connection, from any thread; see
    /// [`ws::send_text`](crate::ws::send_text).
    ///
    /// # Errors
    /// See [`SendError`].
    pub fn send_text(&self, id: SocketId, text: &str) -> Result<(), SendError> {
        ws::send_text(&self.server, id, text)
    }

    /// Sends a binary message on a connection, from any thread.
    ///
    /// # Errors
    /// See [`SendError`].
    pub fn send_binary(&self, id: SocketId, bytes: &[u8]) -> Result<(), SendError> {
        ws::send_binary(&self.server, id, bytes)
    }

    /// Starts the close handshake on a connection; see
    /// [`ws::send_close`](crate::ws::send_close).
    ///
    /// # Errors
    /// See [`SendError`].
    pub fn close(&self, id: SocketId, code: u16, reason: &str) -> Result<(), SendError> {
        ws::send_close(&self.server, id, code, reason)
    }

    /// Closes every connection (close 1001 first) and stops the workers;
    /// returns at once. See [`Server::stop`].
    pub fn stop(&self) {
        self.server.stop()
    }

    /// Blocks until the clientele has stopped.
    pub fn join(&self) {
        self.server.join()
    }
}

impl std::fmt::Debug for Clientele {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clientele")
            .field("name", &self.server.name())
            .field("connections", &self.connections())
            .finish()
    }
}

//! The WebSocket server builder: every option, its default, its validation.

use super::context::Ws;
use super::frame::Role;
use super::handshake::{UpgradeAnswer, UpgradeRequest};
use super::server::WsProto;
use crate::dispatch::{
    self, builder_options, CloseCause, OnThread, Options, Server, SocketId, Startable,
};
use crate::error::Error;
use crate::limits::{MAX_MESSAGE_BYTES, MIN_HEADER_BYTES};
use std::sync::Arc;
use std::time::Duration;

/// The WebSocket options of a server.
#[derive(Clone, Debug)]
pub(crate) struct WsConfig {
    pub(crate) max_message_bytes: usize,
    pub(crate) max_header_bytes: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) send_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) ping_interval: Option<Duration>,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_message_bytes: 16 * 1024 * 1024,
            max_header_bytes: 16 * 1024,
            handshake_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            ping_interval: None,
        }
    }
}

impl WsConfig {
    /// The checks `start` makes.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.max_message_bytes == 0
            || self.max_message_bytes > MAX_MESSAGE_BYTES
            || self.max_header_bytes < MIN_HEADER_BYTES
        {
            return Err(Error::Config(format!(
                "max_message_bytes must be 1..={MAX_MESSAGE_BYTES} and max_header_bytes ≥ {MIN_HEADER_BYTES}"
            )));
        }
        if self.handshake_timeout.is_zero()
            || self.send_timeout.is_zero()
            || self.close_timeout.is_zero()
            || self.ping_interval.is_some_and(|d| d.is_zero())
        {
            return Err(Error::Config(
                "WebSocket timeouts must be longer than zero".into(),
            ));
        }
        Ok(())
    }
}

/// The receive callback in one of its two shapes.
pub(crate) enum Receive {
    Plain(Box<dyn Fn() + Send + Sync>),
    Context(Box<dyn Fn(&mut Ws) + Send + Sync>),
}

pub(crate) type OnUpgrade = Box<dyn Fn(&UpgradeRequest<'_>) -> UpgradeAnswer + Send + Sync>;
pub(crate) type OnWsClose =
    Box<dyn Fn(&Server, SocketId, CloseCause, Option<u16>, &str) + Send + Sync>;

/// What every worker of a WebSocket server shares.
pub(crate) struct WsShared {
    pub(crate) cfg: WsConfig,
    pub(crate) receive: Receive,
    pub(crate) on_upgrade: Option<OnUpgrade>,
    pub(crate) after_upgrade: Option<OnThread>,
    pub(crate) on_close: Option<OnWsClose>,
}

/// The WebSocket options a server and a clientele share, as builder
/// methods of a builder with a `ws: WsConfig` field.
macro_rules! ws_options {
    () => {
        /// Bytes of a message (all its fragments) at most; beyond, close 1009. Default: 16 MiB.
        pub fn max_message_bytes(mut self, n: usize) -> Self {
            self.ws.max_message_bytes = n;
            self
        }

        /// Bytes of the upgrade request head (a client: of the answer head) at most. Default: 16 KiB.
        pub fn max_header_bytes(mut self, n: usize) -> Self {
            self.ws.max_header_bytes = n;
            self
        }

        /// The opening handshake must be done within this time (a server:
        /// the upgrade request arrives; a client: the server answers). Default: 10 s.
        pub fn handshake_timeout(mut self, d: std::time::Duration) -> Self {
            self.ws.handshake_timeout = d;
            self
        }

        /// Output a client does not read waits in its connection's queue this
        /// long (restarted whenever the client reads some), then the connection
        /// is closed (`TimedOut`); a thread that is not a worker, sending past
        /// [`MAX_UNSENT`](crate::ws::MAX_UNSENT), waits this long for room.
        /// Default: 10 s.
        pub fn send_timeout(mut self, d: std::time::Duration) -> Self {
            self.ws.send_timeout = d;
            self
        }

        /// After sending a close frame, wait this long for the client's. Default: 5 s.
        pub fn close_timeout(mut self, d: std::time::Duration) -> Self {
            self.ws.close_timeout = d;
            self
        }

        /// Ping every connection this often; one whose pong has not come back by
        /// the next ping is closed. Default: no pings.
        pub fn ping_interval(mut self, d: std::time::Duration) -> Self {
            self.ws.ping_interval = Some(d);
            self
        }
    };
}
pub(crate) use ws_options;

/// Builds a WebSocket server. Every option of the `#[ws_server]` attribute
/// is a method of the same name here (durations without the `_ms` suffix).
///
/// ```no_run
/// use guildenstern::prelude::*;
/// use guildenstern::ws::WsServer;
///
/// let server = WsServer::new(|| {
///     let _ = reply_text(&message_text());
/// })
/// .port(9001)
/// .start()
/// .expect("port 9001 is free");
/// server.join();
/// ```
pub struct WsServer {
    options: Options,
    ws: WsConfig,
    receive: Receive,
    on_upgrade: Option<OnUpgrade>,
    after_upgrade: Option<OnThread>,
    on_close: Option<OnWsClose>,
}

impl WsServer {
    fn with_receive(receive: Receive) -> Self {
        WsServer {
            options: Options::new("ws"),
            ws: WsConfig::default(),
            receive,
            on_upgrade: None,
            after_upgrade: None,
            on_close: None,
        }
    }

    builder_options!("ws");

    /// A server whose receive callback reaches the message through the
    /// thread-local accessors (`message`, `reply_text`, …).
    pub fn new(receive: impl Fn() + Send + Sync + 'static) -> Self {
        Self::with_receive(Receive::Plain(Box::new(receive)))
    }

    /// A server whose receive callback takes the context explicitly.
    pub fn with_context(receive: impl Fn(&mut Ws) + Send + Sync + 'static) -> Self {
        Self::with_receive(Receive::Context(Box::new(receive)))
    }

    ws_options!();

    /// Decides whether an upgrade request is accepted (and with which
    /// subprotocol). Default: accept every valid request, no subprotocol.
    pub fn on_upgrade(
        mut self,
        f: impl Fn(&UpgradeRequest<'_>) -> UpgradeAnswer + Send + Sync + 'static,
    ) -> Self {
        self.on_upgrade = Some(Box::new(f));
        self
    }

    /// Runs once a connection is upgraded, with the accessors available
    /// (`thesocket()`, `reply_text` to greet the client).
    pub fn after_upgrade(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.after_upgrade = Some(Box::new(f));
        self
    }

    /// Runs once for every upgraded connection that closes, whichever thread
    /// closes it (never for one whose handshake did not complete): the
    /// cause, the close code the peer sent (if it sent one) and a message.
    /// A close while a callback of the connection runs is reported after
    /// that callback returned. The connection's data is still there:
    /// [`with_socket_data`](crate::ws::with_socket_data) reaches it.
    ///
    /// It runs on the thread that closed the connection: a worker, the
    /// server's housekeeping thread (deadlines, the stop), or a thread of
    /// the application whose `send_*`, multicast or `Server::close` found
    /// the client gone, inside that call. So it must not take a lock that
    /// such a caller may hold while sending; sends from it never wait for
    /// a client when it runs on a worker or the housekeeping thread.
    pub fn on_close(
        mut self,
        f: impl Fn(&Server, SocketId, CloseCause, Option<u16>, &str) + Send + Sync + 'static,
    ) -> Self {
        self.on_close = Some(Box::new(f));
        self
    }

    /// Validates the options, binds the port and starts the workers.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid option, [`Error::Bind`] when the port
    /// cannot be bound, [`Error::Io`] when threads cannot be started.
    pub fn start(self) -> Result<Server, Error> {
        self.options.check("a WebSocket server")?;
        self.ws.check()?;
        let shared = Arc::new(WsShared {
            cfg: self.ws,
            receive: self.receive,
            on_upgrade: self.on_upgrade,
            after_upgrade: self.after_upgrade,
            on_close: self.on_close,
        });
        dispatch::start(WsProto::new(shared, Role::Server), self.options)
    }
}

impl Startable for WsServer {
    fn start_server(self: Box<Self>) -> Result<Server, Error> {
        (*self).start()
    }
}

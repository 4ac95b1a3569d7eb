//! The WebSocket server builder: every option, its default, its validation.

use super::context::Ws;
use super::handshake::{UpgradeAnswer, UpgradeRequest};
use super::server::WsProto;
use crate::dispatch::{self, CloseCause, DispatchConfig, Dispatcher, Server, SocketId, Startable};
use crate::error::Error;
use log::LevelFilter;
use std::net::IpAddr;
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

/// The receive callback in one of its two shapes.
pub(crate) enum Receive {
    Plain(Box<dyn Fn() + Send + Sync>),
    Context(Box<dyn Fn(&mut Ws) + Send + Sync>),
}

pub(crate) type OnUpgrade = Box<dyn Fn(&UpgradeRequest<'_>) -> UpgradeAnswer + Send + Sync>;
pub(crate) type OnWsClose =
    Box<dyn Fn(&Server, SocketId, CloseCause, Option<u16>, &str) + Send + Sync>;
type OnThread = Box<dyn Fn() + Send + Sync>;

/// What every worker of a WebSocket server shares.
pub(crate) struct WsShared {
    pub(crate) cfg: WsConfig,
    pub(crate) receive: Receive,
    pub(crate) on_upgrade: Option<OnUpgrade>,
    pub(crate) after_upgrade: Option<OnThread>,
    pub(crate) on_close: Option<OnWsClose>,
    pub(crate) on_thread_start: Option<OnThread>,
    pub(crate) on_thread_stop: Option<OnThread>,
}

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
    dispatch: DispatchConfig,
    ws: WsConfig,
    receive: Receive,
    on_upgrade: Option<OnUpgrade>,
    after_upgrade: Option<OnThread>,
    on_close: Option<OnWsClose>,
    on_thread_start: Option<OnThread>,
    on_thread_stop: Option<OnThread>,
    bad_address: Option<String>,
}

impl WsServer {
    fn with_receive(receive: Receive) -> Self {
        WsServer {
            dispatch: DispatchConfig::new("ws"),
            ws: WsConfig::default(),
            receive,
            on_upgrade: None,
            after_upgrade: None,
            on_close: None,
            on_thread_start: None,
            on_thread_stop: None,
            bad_address: None,
        }
    }

    /// A server whose receive callback reaches the message through the
    /// thread-local accessors (`message`, `reply_text`, …).
    pub fn new(receive: impl Fn() + Send + Sync + 'static) -> Self {
        Self::with_receive(Receive::Plain(Box::new(receive)))
    }

    /// A server whose receive callback takes the context explicitly.
    pub fn with_context(receive: impl Fn(&mut Ws) + Send + Sync + 'static) -> Self {
        Self::with_receive(Receive::Context(Box::new(receive)))
    }

    /// The port to listen on (required; 1..=65535).
    pub fn port(mut self, port: u16) -> Self {
        self.dispatch.port = port;
        self.dispatch.any_port = false;
        self
    }

    /// Listen on a free port chosen by the system (tests).
    pub fn any_port(mut self) -> Self {
        self.dispatch.any_port = true;
        self
    }

    /// The address to bind. Default: all IPv4 interfaces.
    pub fn address(mut self, address: &str) -> Self {
        match address.parse::<IpAddr>() {
            Ok(a) => self.dispatch.address = a,
            Err(_) => self.bad_address = Some(address.to_owned()),
        }
        self
    }

    /// Which dispatcher delivers readiness. Default: epoll on Linux.
    pub fn dispatcher(mut self, dispatcher: Dispatcher) -> Self {
        self.dispatch.dispatcher = dispatcher;
        self
    }

    /// Worker threads. Default: 2 × cores, at least 8.
    pub fn threads(mut self, threads: usize) -> Self {
        self.dispatch.threads = threads;
        self
    }

    /// The name in logs and thread names. Default: `"ws"`.
    pub fn name(mut self, name: &str) -> Self {
        self.dispatch.name = name.to_owned();
        self
    }

    /// The most verbose level this server logs at. Default: `Info`.
    pub fn log_level(mut self, level: LevelFilter) -> Self {
        self.dispatch.log_level = level;
        self
    }

    /// Open connections at most; accepting pauses at the cap. Default: 10,000.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.dispatch.max_connections = n;
        self
    }

    /// Bytes of a message (all its fragments) at most; beyond, close 1009. Default: 16 MiB.
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.ws.max_message_bytes = n;
        self
    }

    /// Bytes of the upgrade request head at most. Default: 16 KiB.
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.ws.max_header_bytes = n;
        self
    }

    /// The upgrade request must arrive within this time. Default: 10 s.
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.ws.handshake_timeout = d;
        self
    }

    /// A message must be taken by the client within this time. Default: 10 s.
    pub fn send_timeout(mut self, d: Duration) -> Self {
        self.ws.send_timeout = d;
        self
    }

    /// After sending a close frame, wait this long for the client's. Default: 5 s.
    pub fn close_timeout(mut self, d: Duration) -> Self {
        self.ws.close_timeout = d;
        self
    }

    /// Ping every connection this often; one whose pong has not come back by
    /// the next ping is closed. Default: no pings.
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.ws.ping_interval = Some(d);
        self
    }

    /// How long a stop waits for callbacks in flight. Default: 10 s.
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.dispatch.shutdown_grace = d;
        self
    }

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

    /// Runs once for every upgraded connection that closes: the cause, the
    /// close code the client sent (if it sent one) and a message.
    pub fn on_close(
        mut self,
        f: impl Fn(&Server, SocketId, CloseCause, Option<u16>, &str) + Send + Sync + 'static,
    ) -> Self {
        self.on_close = Some(Box::new(f));
        self
    }

    /// Runs first on every worker thread.
    pub fn on_thread_start(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_thread_start = Some(Box::new(f));
        self
    }

    /// Runs last on every worker thread.
    pub fn on_thread_stop(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_thread_stop = Some(Box::new(f));
        self
    }

    /// Validates the options, binds the port and starts the workers.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid option, [`Error::Bind`] when the port
    /// cannot be bound, [`Error::Io`] when threads cannot be started.
    pub fn start(self) -> Result<Server, Error> {
        if let Some(bad) = self.bad_address {
            return Err(Error::Config(format!("{bad:?} is not an IP address")));
        }
        if self.dispatch.port == 0 && !self.dispatch.any_port {
            return Err(Error::Config(
                "a WebSocket server needs a port (1..=65535)".into(),
            ));
        }
        let c = &self.ws;
        if c.max_message_bytes == 0 || c.max_header_bytes < 256 {
            return Err(Error::Config(
                "max_message_bytes must be ≥ 1 and max_header_bytes ≥ 256".into(),
            ));
        }
        if c.handshake_timeout.is_zero()
            || c.send_timeout.is_zero()
            || c.close_timeout.is_zero()
            || c.ping_interval.is_some_and(|d| d.is_zero())
        {
            return Err(Error::Config(
                "WebSocket timeouts must be longer than zero".into(),
            ));
        }
        let shared = Arc::new(WsShared {
            cfg: self.ws,
            receive: self.receive,
            on_upgrade: self.on_upgrade,
            after_upgrade: self.after_upgrade,
            on_close: self.on_close,
            on_thread_start: self.on_thread_start,
            on_thread_stop: self.on_thread_stop,
        });
        dispatch::start(WsProto::new(shared), self.dispatch)
    }
}

impl Startable for WsServer {
    fn start_server(self: Box<Self>) -> Result<Server, Error> {
        (*self).start()
    }
}

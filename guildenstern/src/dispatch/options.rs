//! The options every server has, whatever its protocol, and the builder
//! methods that set them: each protocol's builder embeds [`Options`] and
//! invokes [`builder_options!`] once, so the methods exist in one place.

use super::DispatchConfig;
use crate::error::Error;

/// A hook run on every worker thread.
pub(crate) type OnThread = Box<dyn Fn() + Send + Sync>;

/// The protocol-independent part of a server builder.
pub(crate) struct Options {
    pub(crate) dispatch: DispatchConfig,
    /// An address given that did not parse (reported by `start`).
    pub(crate) bad_address: Option<String>,
    pub(crate) on_thread_start: Option<OnThread>,
    pub(crate) on_thread_stop: Option<OnThread>,
}

impl Options {
    pub(crate) fn new(name: &str) -> Self {
        Options {
            dispatch: DispatchConfig::new(name),
            bad_address: None,
            on_thread_start: None,
            on_thread_stop: None,
        }
    }

    /// The checks `start` makes before anything is bound; `what` names the
    /// server in the message ("an HTTP server").
    pub(crate) fn check(&self, what: &str) -> Result<(), Error> {
        if let Some(bad) = &self.bad_address {
            return Err(Error::Config(format!("{bad:?} is not an IP address")));
        }
        if self.dispatch.port == 0 && !self.dispatch.any_port {
            return Err(Error::Config(format!("{what} needs a port (1..=65535)")));
        }
        Ok(())
    }
}

/// The builder methods of the options in [`Options`], for a builder with an
/// `options: Options` field; `$name` is the default server name.
macro_rules! builder_options {
    ($name:literal) => {
        /// The port to listen on (required; 1..=65535).
        pub fn port(mut self, port: u16) -> Self {
            self.options.dispatch.port = port;
            self.options.dispatch.any_port = false;
            self
        }

        /// Listen on a free port chosen by the system (tests); read it with
        /// [`Server::port`](crate::Server::port).
        pub fn any_port(mut self) -> Self {
            self.options.dispatch.any_port = true;
            self
        }

        /// The address to bind, e.g. `"127.0.0.1"` or `"::"`. Default: all
        /// IPv4 interfaces. An address that does not parse is reported by `start`.
        pub fn address(mut self, address: &str) -> Self {
            match address.parse::<std::net::IpAddr>() {
                Ok(a) => self.options.dispatch.address = a,
                Err(_) => self.options.bad_address = Some(address.to_owned()),
            }
            self
        }

        $crate::dispatch::worker_options!($name);
    };
}
pub(crate) use builder_options;

/// The builder methods every server has, a client-mode one (a WebSocket
/// clientele) included: all of [`builder_options!`] but the listening ones.
macro_rules! worker_options {
    ($name:literal) => {
        /// Which dispatcher delivers readiness. Default: epoll on Linux,
        /// portable elsewhere.
        pub fn dispatcher(mut self, dispatcher: $crate::dispatch::Dispatcher) -> Self {
            self.options.dispatch.dispatcher = dispatcher;
            self
        }

        /// Worker threads (also the cap on handlers running at once).
        /// Default: 2 × the cores the process may run on. Raise it for
        /// handlers that block (on a database, another service).
        pub fn threads(mut self, threads: usize) -> Self {
            self.options.dispatch.threads = threads;
            self
        }

        #[doc = concat!("The name in logs and thread names. Default: `\"", $name, "\"`.")]
        pub fn name(mut self, name: &str) -> Self {
            self.options.dispatch.name = name.to_owned();
            self
        }

        /// The most verbose level this server logs at. Default: `Info`.
        pub fn log_level(mut self, level: log::LevelFilter) -> Self {
            self.options.dispatch.log_level = level;
            self
        }

        /// Open connections at most; accepting pauses at the cap. Default: 10,000.
        pub fn max_connections(mut self, n: usize) -> Self {
            self.options.dispatch.max_connections = n;
            self
        }

        /// How long a stop waits for handlers in flight, and then for clients
        /// to take what they are still owed (answers not read yet, a
        /// WebSocket close). Default: 10 s.
        pub fn shutdown_grace(mut self, d: std::time::Duration) -> Self {
            self.options.dispatch.shutdown_grace = d;
            self
        }

        /// Runs first on every worker thread.
        pub fn on_thread_start(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
            self.options.on_thread_start = Some(Box::new(f));
            self
        }

        /// Runs last on every worker thread.
        pub fn on_thread_stop(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
            self.options.on_thread_stop = Some(Box::new(f));
            self
        }
    };
}
pub(crate) use worker_options;

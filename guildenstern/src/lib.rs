//! GuildenStern: a modular, multithreading HTTP/1.1 upstream server framework
//! with synchronous handlers, meant to run behind nginx or HAProxy.
//!
//! One server is one port with its own worker threads and tuning. A handler
//! is a plain function; it reaches the request in flight through thread-local
//! accessors, or takes an explicit context.
//!
//! ```no_run
//! use guildenstern::prelude::*;
//!
//! #[http_server(port = 8080)]
//! fn hello() {
//!     reply("hello world");
//! }
//!
//! fn main() {
//!     guildenstern::serve![hello];
//! }
//! ```
//!
//! Layers, bottom to top: [`dispatch`] (sockets, readiness, workers,
//! deadlines, shutdown) → connection context ([`thesocket`], [`server`]) →
//! [`http`] (requests, replies, accessors) → [`ws`] (WebSocket server) and
//! [`multipart`] (streaming `multipart/form-data` bodies) → [`client`]
//! (WebSocket clients on a client-mode dispatcher).
#![deny(missing_docs)]

pub mod client;
mod context;
pub mod dispatch;
mod error;
pub mod http;
pub mod limits;
pub mod multipart;
pub mod ws;

pub use context::{server, thesocket};
pub use dispatch::{serve, shutdown, CloseCause, Dispatcher, Server, SocketId, Startable};
pub use error::Error;
pub use guildenstern_macros::{http_server, ws_client, ws_receive, ws_server};

/// Everything a server program usually needs.
pub mod prelude {
    pub use crate::context::{server, thesocket};
    pub use crate::dispatch::{CloseCause, Dispatcher, Server, SocketId};
    pub use crate::http::*;
    pub use crate::multipart::{multipart, Multipart};
    pub use crate::ws::{
        is_binary, is_message, message, message_text, reply_binary, reply_text, with_message,
        UpgradeAnswer, UpgradeRequest, Ws, WsServer,
    };
    pub use crate::{http_server, ws_client, ws_receive, ws_server};
    pub use log::LevelFilter;
}

/// Starts the listed servers, handles SIGINT and SIGTERM, and blocks until
/// every server has stopped.
///
/// Each server is a function made by `#[http_server]` or `#[ws_server]`,
/// or a builder value ([`HttpServer`](http::HttpServer),
/// [`WsServer`](ws::WsServer)), whose handlers may be closures that
/// capture shared state:
///
/// ```no_run
/// use guildenstern::prelude::*;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
///
/// #[http_server(port = 8080)]
/// fn hello() {
///     reply("hello");
/// }
///
/// fn main() {
///     let hits = Arc::new(AtomicU64::new(0));
///     let counter = HttpServer::new(move || {
///         let n = hits.fetch_add(1, Ordering::Relaxed) + 1;
///         reply(n.to_string());
///     })
///     .port(8081);
///     guildenstern::serve![hello, counter];
/// }
/// ```
///
/// When a server cannot start (a port in use, an invalid option), the reason
/// is printed to standard error and the process exits with status 1; use
/// [`serve`](fn@serve) to handle the error instead.
#[macro_export]
macro_rules! serve {
    ($($server:expr),+ $(,)?) => {
        $crate::__private::serve_or_exit(::std::vec![
            $($crate::__private::IntoStartable::into_startable($server)),+
        ])
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::client::WsClientele;
    pub use crate::dispatch::Dispatcher;
    pub use crate::http::{Content, Http, HttpServer};
    pub use crate::limits;
    pub use crate::ws::{Ws, WsServer};
    pub use log::LevelFilter;
    pub use std::time::Duration;

    use crate::dispatch::Startable;

    /// What `serve!` takes: a builder, or a function that makes one.
    pub trait IntoStartable {
        fn into_startable(self) -> Box<dyn Startable>;
    }

    impl<F: FnOnce() -> S, S: Startable + 'static> IntoStartable for F {
        fn into_startable(self) -> Box<dyn Startable> {
            Box::new(self())
        }
    }

    impl IntoStartable for HttpServer {
        fn into_startable(self) -> Box<dyn Startable> {
            Box::new(self)
        }
    }

    impl IntoStartable for WsServer {
        fn into_startable(self) -> Box<dyn Startable> {
            Box::new(self)
        }
    }

    pub fn serve_or_exit(servers: Vec<Box<dyn Startable>>) {
        if let Err(e) = crate::dispatch::serve(servers) {
            eprintln!("guildenstern: {e}");
            std::process::exit(1);
        }
    }
}

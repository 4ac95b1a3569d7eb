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
//! [`multipart`] (streaming `multipart/form-data` bodies).
#![deny(missing_docs)]

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
pub use guildenstern_macros::{http_server, ws_server};

/// Everything a server program usually needs.
pub mod prelude {
    pub use crate::context::{server, thesocket};
    pub use crate::dispatch::{CloseCause, Dispatcher, Server, SocketId};
    pub use crate::http::*;
    pub use crate::multipart::{multipart, Event, Multipart, MultipartError, Part};
    pub use crate::ws::{
        is_binary, is_message, message, message_text, reply_binary, reply_text, with_message,
        UpgradeAnswer, UpgradeRequest, Ws, WsServer,
    };
    pub use crate::{http_server, ws_server};
    pub use log::LevelFilter;
}

/// Starts the listed servers (functions made by `#[http_server]`), handles
/// SIGINT and SIGTERM, and blocks until every server has stopped.
///
/// When a server cannot start (a port in use, an invalid option), the reason
/// is printed to standard error and the process exits with status 1; use
/// [`serve`](fn@serve) to handle the error instead.
#[macro_export]
macro_rules! serve {
    ($($server:path),+ $(,)?) => {
        $crate::__private::serve_or_exit(::std::vec![$($crate::__private::boxed($server())),+])
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::dispatch::Dispatcher;
    pub use crate::http::{Content, HttpServer};
    pub use crate::limits;
    pub use crate::ws::WsServer;
    pub use log::LevelFilter;
    pub use std::time::Duration;

    use crate::dispatch::Startable;

    pub fn boxed<S: Startable + 'static>(s: S) -> Box<dyn Startable> {
        Box::new(s)
    }

    pub fn serve_or_exit(servers: Vec<Box<dyn Startable>>) {
        if let Err(e) = crate::dispatch::serve(servers) {
            eprintln!("guildenstern: {e}");
            std::process::exit(1);
        }
    }
}

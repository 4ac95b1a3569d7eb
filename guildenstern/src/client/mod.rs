//! The WebSocket client: a *clientele* is a client-mode dispatcher (a
//! server with no port) that owns many client connections and serves them
//! with the WebSocket server's own code in the client's role — the same
//! frame parser, UTF-8 checks, fragment reassembly, control frames, close
//! handshake, limits and per-connection outbox. What differs is only what
//! RFC 6455 makes differ: the client opens the connection with the opening
//! handshake (checking the server's `Sec-WebSocket-Accept`), masks every
//! frame it sends with a fresh random key, and fails the connection (1002)
//! on a masked frame from the server.
//!
//! ```no_run
//! use guildenstern::client::WsClientele;
//! use guildenstern::prelude::*;
//!
//! let clientele = WsClientele::new(|| {
//!     println!("{} got {}", thesocket(), message_text());
//! })
//! .start()
//! .expect("threads start");
//! for id in clientele.connect_many("ws://127.0.0.1:9001/", 100).expect("server up") {
//!     let _ = clientele.send_text(id, "hello");
//! }
//! ```
//!
//! `ws://` only: TLS is the reverse proxy's job, as on the server side.

mod clientele;
mod error;
mod handshake;

pub use clientele::{Clientele, WsClientele};
pub use error::ClientError;

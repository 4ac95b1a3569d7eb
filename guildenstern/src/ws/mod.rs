//! The WebSocket server (RFC 6455) on the dispatchers.
//!
//! A WebSocket server is a port of its own: it answers the opening
//! handshake, then exchanges frames. Messages reach a receive callback;
//! any thread can send to any connection ([`send_text`], [`multicast_text`],
//! [`send_close`], …): a frame is written as far as the socket takes it, the
//! rest queued in order and written as the client reads (see
//! [`MAX_UNSENT`]); no worker waits for a client. The accept key is
//! tungstenite's; frames are parsed and formatted here.
//!
//! A connection may carry one value of the application's from its upgrade
//! to its close ([`UpgradeRequest::set_socket_data`], [`with_socket_data`]).
//!
//! The same code serves the client side ([`crate::client`]): frames are
//! parsed, checked and answered by role — a server wants its peer's frames
//! masked and sends its own unmasked; a client the other way round, each
//! of its frames masked with a fresh random key.

mod accessors;
mod config;
mod context;
mod frame;
pub(crate) mod handshake;
mod mask;
mod send;
mod server;

pub use accessors::*;
pub use config::WsServer;
pub use context::Ws;
pub use handshake::{UpgradeAnswer, UpgradeRequest};
pub use send::{
    multicast_binary, multicast_text, send_binary, send_close, send_ping, send_text, SendError,
    MAX_UNSENT,
};

pub(crate) use config::{ws_options, OnWsClose, Receive, WsConfig, WsShared};
pub(crate) use frame::Role;
pub(crate) use server::{WsProto, WsState};

use guildenstern::dispatch::{CloseCause, Server, SocketId};
use guildenstern::prelude::*;

fn check_origin(request: &UpgradeRequest) -> UpgradeAnswer {
    let _ = request;
    UpgradeAnswer::Accept
}

fn greet() {
    let _ = reply_text("welcome");
}

fn log_close(
    _server: &Server,
    _id: SocketId,
    _cause: CloseCause,
    _code: Option<u16>,
    _message: &str,
) {
}

mod hooks {
    pub fn start() {}
    pub fn stop() {}
}

/// Every key once.
#[ws_server(
    port = 9001,
    address = "127.0.0.1",
    dispatcher = Portable,
    threads = 2,
    name = "every-key",
    log_level = Debug,
    max_connections = 1000,
    max_message_bytes = 1_048_576,
    max_header_bytes = 8192,
    handshake_timeout_ms = 10000,
    send_timeout_ms = 10000,
    close_timeout_ms = 5000,
    ping_interval_ms = 30000,
    shutdown_grace_ms = 0,
    on_upgrade = check_origin,
    after_upgrade = greet,
    on_close = log_close,
    on_thread_start = hooks::start,
    on_thread_stop = hooks::stop,
)]
fn every_key() {
    let _ = reply_text(&message_text());
}

/// The remaining enum values.
#[ws_server(port = 9002, dispatcher = Epoll, log_level = Off)]
fn epoll_off(cx: &mut Ws) {
    let _ = cx;
}

#[ws_server(port = 9003, log_level = Error, address = "::1")]
fn error() {}

#[ws_server(port = 9004, log_level = Warn, max_connections = 1usize)]
fn warn() {}

#[ws_server(port = 9005, log_level = Info, ping_interval_ms = 10u64)]
fn info() {}

#[ws_server(port = 65535, log_level = Trace, on_upgrade = self::check_origin)]
fn trace() {}

fn main() {
    let _servers = [
        every_key(),
        epoll_off(),
        error(),
        warn(),
        info(),
        trace(),
    ];
}

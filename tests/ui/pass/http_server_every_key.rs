use guildenstern::dispatch::{CloseCause, Server, SocketId};
use guildenstern::prelude::*;

fn log_close(_server: &Server, _id: SocketId, _cause: CloseCause, _message: &str) {}

mod hooks {
    pub fn start() {}
    pub fn stop() {}
}

/// Every key once.
#[http_server(
    port = 8080,
    address = "127.0.0.1",
    content = Streaming,
    headers = ["origin", "x-forwarded-for"],
    all_headers = false,
    parse_request_line = true,
    dispatcher = Portable,
    threads = 2,
    name = "every-key",
    log_level = Debug,
    max_connections = 1000,
    max_header_bytes = 8192,
    max_headers = 64,
    max_uri_bytes = 4096,
    max_body_bytes = 1_048_576,
    header_timeout_ms = 5000,
    body_timeout_ms = 30000,
    idle_timeout_ms = 60000,
    send_timeout_ms = 30000,
    shutdown_grace_ms = 0,
    on_close = log_close,
    on_thread_start = hooks::start,
    on_thread_stop = hooks::stop,
)]
fn every_key() {
    reply("every key");
}

/// The remaining enum values.
#[http_server(port = 8081, content = NoBody, dispatcher = Epoll, log_level = Off)]
fn epoll_off(cx: &mut Http) {
    let _ = cx;
}

#[http_server(port = 8082, content = Compact, log_level = Error, address = "::1")]
fn compact_error() {}

#[http_server(port = 8083, log_level = Warn, all_headers = true)]
fn warn() {}

#[http_server(port = 8084, log_level = Info, threads = 1usize)]
fn info() {}

#[http_server(port = 65535, log_level = Trace, idle_timeout_ms = 10u64)]
fn trace() {}

fn main() {
    let _servers = [
        every_key(),
        epoll_off(),
        compact_error(),
        warn(),
        info(),
        trace(),
    ];
}

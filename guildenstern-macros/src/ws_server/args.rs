//! The attribute: `port = 9001, max_message_bytes = 65536, …`, its keys
//! declared with the shared `keys!` (the keys every server attribute has
//! named alone). Every WebSocket-only value has one of the shared checks.

use syn::Path;

use crate::common::args::Num;

use super::WS;
use crate::common::checks::{check_count, check_millis, check_port, hook_call};
use crate::common::keys;

keys! {
    /// The `#[ws_server]` attribute as written.
    pub(super) struct Args for WS;
    port: Num => "a port number, as in `port = 9001`", |s| check_port(s, &WS);
    address;
    dispatcher;
    threads;
    name;
    log_level;
    max_connections;
    max_message_bytes: Num => "a number of bytes, as in `max_message_bytes = 65536`", check_count;
    max_header_bytes;
    handshake_timeout_ms: Num => "milliseconds, as in `handshake_timeout_ms = 10000`", check_millis;
    send_timeout_ms;
    close_timeout_ms: Num => "milliseconds, as in `close_timeout_ms = 5000`", check_millis;
    ping_interval_ms: Num => "milliseconds, as in `ping_interval_ms = 30000`", check_millis;
    shutdown_grace_ms;
    on_upgrade: Path => "a path to a function, as in `on_upgrade = check_origin`", hook_call;
    after_upgrade: Path => "a path to a function, as in `after_upgrade = greet`", hook_call;
    on_close;
    on_thread_start;
    on_thread_stop;
}

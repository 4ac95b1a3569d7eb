//! The attribute: `threads = 2, max_message_bytes = 65536, …`: the keys of
//! a clientele (a server's without the listening ones and the upgrade
//! hooks, which a client has no use for).

use crate::common::args::Num;

use super::CLIENT;
use crate::common::checks::{check_count, check_millis};
use crate::common::keys;

keys! {
    /// The `#[ws_client]` attribute as written.
    pub(super) struct Args for CLIENT;
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
    on_close;
    on_thread_start;
    on_thread_stop;
}

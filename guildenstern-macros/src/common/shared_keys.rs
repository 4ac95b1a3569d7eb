//! The keys every server attribute has, defined once. An attribute lists
//! one by its name alone in its [`keys!`](super::keys) (as in `threads;`),
//! which takes the value kind, the accepted form and the check from here.

use syn::{Ident, LitStr, Path};

use super::args::Num;

use super::checks::{
    check_address, check_count, check_dispatcher, check_header_bytes, check_log_level,
    check_millis, check_threads, hook_call, str_call,
};
use super::{Call, Setting};

/// One module per key: `Value`, `EXPECTED` and `check`.
macro_rules! shared_keys {
    ($( $key:ident: $value:ty => $expected:literal, $check:ident; )*) => {
        $(
            #[doc = concat!("The `", stringify!($key), "` key.")]
            pub(crate) mod $key {
                use super::*;

                /// The value's syntactic kind.
                pub(crate) type Value = $value;

                /// The accepted form, for messages.
                pub(crate) const EXPECTED: &str = $expected;

                /// The value's check, into its builder call.
                pub(crate) fn check(setting: Setting<Value>) -> syn::Result<Call> {
                    $check(setting)
                }
            }
        )*
    };
}

shared_keys! {
    address: LitStr => "an IP address string, as in `address = \"127.0.0.1\"`", check_address;
    dispatcher: Ident => "one of `Epoll`, `Portable`", check_dispatcher;
    threads: Num => "a thread count, as in `threads = 4`", check_threads;
    name: LitStr => "a string, as in `name = \"api\"`", str_call;
    log_level: Ident => "one of `Off`, `Error`, `Warn`, `Info`, `Debug`, `Trace`", check_log_level;
    max_connections: Num => "an integer, as in `max_connections = 10000`", check_count;
    max_header_bytes: Num => "a number of bytes, as in `max_header_bytes = 8192`", check_header_bytes;
    send_timeout_ms: Num => "milliseconds, as in `send_timeout_ms = 30000`", check_millis;
    shutdown_grace_ms: Num => "milliseconds, as in `shutdown_grace_ms = 5000`", check_millis;
    on_close: Path => "a path to a function, as in `on_close = log_close`", hook_call;
    on_thread_start: Path => "a path to a function, as in `on_thread_start = init_worker`", hook_call;
    on_thread_stop: Path => "a path to a function, as in `on_thread_stop = finish_worker`", hook_call;
}

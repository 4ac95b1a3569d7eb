use guildenstern::prelude::*;

const PORT: u16 = 8080;
const WORKERS: usize = 4;

// Numeric keys take constants and expressions as well as literals.
#[http_server(port = PORT, threads = WORKERS * 2, idle_timeout_ms = 60 * 1000,
              max_body_bytes = 1 << 20, max_header_bytes = { 8 * 1024 })]
fn hello() {
    reply("hello");
}

#[ws_server(port = PORT + 1, max_message_bytes = usize::pow(2, 20), ping_interval_ms = 30_000)]
fn echo() {}

fn main() {
    let _ = (hello(), echo());
}

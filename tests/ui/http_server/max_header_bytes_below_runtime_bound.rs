use guildenstern::prelude::*;

// The runtime refuses fewer than 256 bytes at start; the attribute says so
// at compile time, through the runtime's own bound.
#[http_server(port = 8080, max_header_bytes = 100)]
fn hello() {
    reply("hello");
}

fn main() {}

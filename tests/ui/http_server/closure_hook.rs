use guildenstern::prelude::*;

// One error for the closure, not one per comma among its parameters.
#[http_server(port = 8080, on_close = |_server, _socket, _cause, _msg| {})]
fn hello() {
    reply("hello");
}

fn main() {}

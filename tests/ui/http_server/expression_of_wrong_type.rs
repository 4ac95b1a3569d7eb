use guildenstern::prelude::*;

const PORT: u16 = 8080;

// An expression is typed by rustc: a u16 is no thread count.
#[http_server(port = PORT, threads = PORT)]
fn hello() {
    reply("hello");
}

fn main() {}

use guildenstern::prelude::*;

#[http_server(threads = 4)]
fn hello() {
    reply("hello");
}

fn main() {}

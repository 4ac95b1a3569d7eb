use guildenstern::prelude::*;

#[http_server(port = 8080, threads = 0)]
fn hello() {
    reply("hello");
}

fn main() {}

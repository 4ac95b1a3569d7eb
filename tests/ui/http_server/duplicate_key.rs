use guildenstern::prelude::*;

#[http_server(port = 8080, threads = 2, port = 8081)]
fn hello() {
    reply("hello");
}

fn main() {}

use guildenstern::prelude::*;

#[http_server(port = 8080, address = "localhost")]
fn hello() {
    reply("hello");
}

fn main() {}

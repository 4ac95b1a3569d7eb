use guildenstern::prelude::*;

#[http_server(port = 0)]
fn hello() {
    reply("hello");
}

fn main() {}

use guildenstern::prelude::*;

#[http_server(port = 70000)]
fn hello() {
    reply("hello");
}

fn main() {}

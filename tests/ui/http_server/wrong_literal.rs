use guildenstern::prelude::*;

#[http_server(port = "8080")]
fn hello() {
    reply("hello");
}

fn main() {}

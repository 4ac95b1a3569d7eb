use guildenstern::prelude::*;

#[http_server(port = 8080, workers = 4)]
fn hello() {
    reply("hello");
}

fn main() {}

use guildenstern::prelude::*;

#[http_server(port = 8080, content = Chunked)]
fn hello() {
    reply("hello");
}

fn main() {}

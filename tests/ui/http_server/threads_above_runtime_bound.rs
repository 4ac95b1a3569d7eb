use guildenstern::prelude::*;

#[http_server(port = 8080, threads = 5000, max_headers = 600)]
fn hello() {
    reply("hello");
}

fn main() {}

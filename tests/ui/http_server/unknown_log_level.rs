use guildenstern::prelude::*;

#[http_server(port = 8080, log_level = Verbose)]
fn hello() {
    reply("hello");
}

fn main() {}

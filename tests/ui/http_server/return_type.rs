use guildenstern::prelude::*;

#[http_server(port = 8080)]
fn hello() -> &'static str {
    "hello"
}

fn main() {}

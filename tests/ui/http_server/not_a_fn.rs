use guildenstern::prelude::*;

#[http_server(port = 8080)]
struct Hello {
    greeting: &'static str,
}

fn main() {}

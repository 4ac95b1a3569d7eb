use guildenstern::prelude::*;

#[http_server(port = 8080, dispatcher = Kqueue)]
fn hello() {
    reply("hello");
}

fn main() {}

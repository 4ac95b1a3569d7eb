use guildenstern::prelude::*;

#[http_server(port = 8080, headers = ["origin", "x forwarded for"])]
fn hello() {
    reply("hello");
}

fn main() {}

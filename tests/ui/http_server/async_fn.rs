use guildenstern::prelude::*;

#[http_server(port = 8080)]
async fn hello() {
    reply("hello");
}

fn main() {}

use guildenstern::prelude::*;

#[http_server(port = 8080)]
fn hello<T: Default>() {
    let _ = T::default();
    reply("hello");
}

fn main() {}

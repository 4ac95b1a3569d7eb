use guildenstern::prelude::*;

#[http_server(port = 8080)]
fn hello(cx: &mut Http, greeting: &str) {
    let _ = (cx, greeting);
}

fn main() {}

//! The smallest server: port 8080 answers every request with "hello world".
//!
//! `cargo run --release --example helloworld`, then `curl http://127.0.0.1:8080/`.

use guildenstern::prelude::*;

#[http_server(port = 8080, content = NoBody)]
fn hello() {
    reply("hello world");
}

fn main() {
    guildenstern_examples::init_logging();
    println!("serving http://127.0.0.1:8080/ (Ctrl-C stops)");
    guildenstern::serve![hello];
}

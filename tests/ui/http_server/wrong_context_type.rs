use guildenstern::prelude::*;

// rustc, not the macro, rejects this; the error must land on `&mut String`.
#[http_server(port = 8080)]
fn hello(cx: &mut String) {
    cx.push('!');
}

fn main() {}

use guildenstern::prelude::*;

fn not_a_close_hook(code: u16) {
    let _ = code;
}

// rustc, not the macro, rejects this; the error must land on the hook's path.
#[http_server(port = 8080, on_close = not_a_close_hook)]
fn hello() {
    reply("hello");
}

fn main() {}

use guildenstern::prelude::*;

#[ws_client(port = 9001)]
fn got() {
    let _ = message_text();
}

fn main() {}

use guildenstern::prelude::*;

#[ws_receive(max_message_bytes = 65536)]
fn chat() {
    let _ = reply_text(&message_text());
}

fn main() {}

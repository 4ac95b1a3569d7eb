use guildenstern::prelude::*;

#[ws_server(max_message_bytes = 65536)]
fn echo() {
    let _ = reply_text(&message_text());
}

fn main() {}

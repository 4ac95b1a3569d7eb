use guildenstern::prelude::*;

#[ws_server(port = 0)]
fn echo() {
    let _ = reply_text(&message_text());
}

fn main() {}

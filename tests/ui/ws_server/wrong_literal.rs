use guildenstern::prelude::*;

#[ws_server(port = 9001, ping_interval_ms = "30s")]
fn echo() {
    let _ = reply_text(&message_text());
}

fn main() {}

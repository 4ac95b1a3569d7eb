use guildenstern::prelude::*;

#[ws_server(port = 9001, threads = 2, port = 9002)]
fn echo() {
    let _ = reply_text(&message_text());
}

fn main() {}

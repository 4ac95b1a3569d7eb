use guildenstern::prelude::*;

#[ws_server(port = 9001)]
async fn echo() {
    let _ = reply_text(&message_text());
}

fn main() {}

use guildenstern::prelude::*;

// `content` is an `#[http_server]` key; a WebSocket server has no such key.
#[ws_server(port = 9001, content = NoBody)]
fn echo() {
    let _ = reply_text(&message_text());
}

fn main() {}

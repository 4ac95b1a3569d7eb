use guildenstern::prelude::*;
use guildenstern::ws::WsServer;

/// `#[ws_receive]` is `#[ws_server]` by another name: the same builder,
/// keys and shapes.
#[ws_receive(port = 5051)]
fn chat() {
    let _ = reply_text(&message_text());
}

#[ws_receive(port = 5052, max_message_bytes = 1024, threads = 2)]
pub fn with_context(cx: &mut Ws) {
    let _ = cx.reply_text(cx.text());
}

fn main() {
    let _servers: [WsServer; 2] = [chat(), with_context()];
}

use guildenstern::prelude::*;

/// The explicit-context shape.
#[ws_server(port = 9001, max_message_bytes = 65536)]
fn echo(cx: &mut Ws) {
    let text = cx.text().to_owned();
    let _ = cx.reply_text(&text);
}

/// Any pattern may bind the context.
#[ws_server(port = 9002)]
pub fn ignore(_: &mut Ws) {}

fn main() {
    let _servers = [echo(), ignore()];
}

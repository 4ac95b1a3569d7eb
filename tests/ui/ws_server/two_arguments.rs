use guildenstern::prelude::*;

#[ws_server(port = 9001)]
fn echo(cx: &mut Ws, prefix: &str) {
    let _ = cx.reply_text(prefix);
}

fn main() {}

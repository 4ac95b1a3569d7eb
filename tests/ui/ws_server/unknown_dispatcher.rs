use guildenstern::prelude::*;

#[ws_server(port = 9001, dispatcher = Kqueue)]
fn echo() {
    let _ = reply_text(&message_text());
}

fn main() {}

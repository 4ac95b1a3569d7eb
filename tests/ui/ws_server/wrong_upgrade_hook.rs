use guildenstern::prelude::*;

fn allow_all(_request: &UpgradeRequest) -> bool {
    true
}

// rustc, not the macro, rejects this; the error must land on the hook's path.
#[ws_server(port = 9001, on_upgrade = allow_all)]
fn echo() {
    let _ = reply_text(&message_text());
}

fn main() {}

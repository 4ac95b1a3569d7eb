use guildenstern::prelude::*;

#[ws_receive(port = 5051)]
fn chat() -> String {
    message_text()
}

fn main() {}

use guildenstern::prelude::*;

#[ws_client(threads = 2)]
fn got(cx: &mut Http) {
    let _ = cx;
}

fn main() {}

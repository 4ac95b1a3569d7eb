use guildenstern::prelude::*;

// rustc, not the macro, rejects this; the error must land on `Http`.
#[ws_server(port = 9001)]
fn echo(cx: &mut Http) {
    let _ = cx;
}

fn main() {}

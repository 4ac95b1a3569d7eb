use guildenstern::prelude::*;

#[ws_server(port = 9001, max_header_bytes = 255)]
fn echo() {}

fn main() {}

use guildenstern::prelude::*;

#[ws_client(threads = 0, threads = 2, max_message_bytes = "big", log_level = Loud)]
fn got() {}

fn main() {}

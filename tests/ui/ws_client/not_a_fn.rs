use guildenstern::prelude::*;

#[ws_client]
struct Got;

fn main() {}

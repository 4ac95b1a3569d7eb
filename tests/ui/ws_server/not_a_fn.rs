use guildenstern::prelude::*;

#[ws_server(port = 9001)]
enum Echo {
    Text,
    Binary,
}

fn main() {}

use guildenstern::prelude::*;

#[http_server(port = 8080, thread = 4, max_headers_bytes = 8192)]
fn hello() {
    reply("hello");
}

fn main() {
    // The handler still expands: no second error here.
    guildenstern::serve![hello];
}

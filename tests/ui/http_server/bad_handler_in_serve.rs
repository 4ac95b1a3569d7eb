use guildenstern::prelude::*;

// The signature error is the only one: `serve!` sees a builder function.
#[http_server(port = 8080)]
fn hello(a: &mut Http, b: u8) {
    let _ = (a, b);
}

fn main() {
    guildenstern::serve![hello];
}

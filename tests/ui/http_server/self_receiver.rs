use guildenstern::prelude::*;

struct Site;

impl Site {
    #[http_server(port = 8080)]
    fn hello(&self) {
        reply("hello");
    }
}

fn main() {}

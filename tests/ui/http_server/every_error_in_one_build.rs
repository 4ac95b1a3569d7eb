use guildenstern::prelude::*;

// Not one misuse but many: the single .stderr shows that one build reports
// all of them, each on its own tokens.
#[http_server(port = 0, bogus = 1, threads = "4", content = Chunked, port = 80)]
async fn hello<T>(a: T, b: T) -> u8 {
    let _ = (a, b);
    1
}

fn main() {}

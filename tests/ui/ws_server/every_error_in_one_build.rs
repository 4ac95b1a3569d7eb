use guildenstern::prelude::*;

// Not one misuse but many: the single .stderr shows that one build reports
// all of them, each on its own tokens.
#[ws_server(port = 0, headers = ["origin"], ping_interval_ms = "1s", dispatcher = epoll, port = 80)]
async fn echo<T>(a: T, b: T) -> String {
    let _ = (a, b);
    String::new()
}

fn main() {}

use guildenstern::prelude::*;

/// The explicit-context shape.
#[http_server(port = 8080, content = Compact)]
fn echo(cx: &mut Http) {
    let _ = cx;
    reply("echo");
}

/// Any pattern may bind the context.
#[http_server(port = 8081)]
pub fn ignore(_: &mut Http) {
    reply("ignored");
}

fn main() {
    let _servers = [echo(), ignore()];
}

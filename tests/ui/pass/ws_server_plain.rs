use guildenstern::prelude::*;

/// The argument-free shape: the callback reaches the message through the
/// thread-local accessors. Doc comments, attributes and visibility stay.
#[ws_server(port = 9001)]
#[allow(unused_variables)]
pub fn echo() {
    let unused = 1;
    let _ = reply_text(&message_text());
}

/// An explicit `()` return type is accepted too.
#[ws_server(port = 9002, threads = 4,)]
fn unit() -> () {
    let _ = reply_binary(&message());
}

mod nested {
    use guildenstern::prelude::*;

    #[ws_server(port = 9003)]
    pub(crate) fn inside() {
        let _ = reply_text("nested");
    }
}

fn main() {
    // The attribute turns each callback into a fn returning its builder,
    // which `serve!` starts like an HTTP server's.
    let _servers = [echo(), unit(), nested::inside()];
}

use guildenstern::prelude::*;

/// The argument-free shape: the handler reaches the request through the
/// thread-local accessors. Doc comments, attributes and visibility stay.
#[http_server(port = 8080)]
#[allow(unused_variables)]
pub fn hello() {
    let unused = 1;
    reply("hello");
}

/// An explicit `()` return type is accepted too.
#[http_server(port = 8081, content = NoBody, threads = 4,)]
fn unit() -> () {
    reply("unit");
}

mod nested {
    use guildenstern::prelude::*;

    #[http_server(port = 8082)]
    pub(crate) fn inside() {
        reply("nested");
    }
}

fn main() {
    // The attribute turns each handler into a fn returning its builder.
    let _servers = [hello(), unit(), nested::inside()];
}

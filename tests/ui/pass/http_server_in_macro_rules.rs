use guildenstern::prelude::*;

// The attribute inside `macro_rules!`, with its values passed in as
// fragments (which reach the macro wrapped in invisible groups).
macro_rules! server {
    ($name:ident, $port:literal, $content:ident, $threads:expr) => {
        #[http_server(port = $port, content = $content, threads = $threads)]
        fn $name() {
            reply(stringify!($name));
        }
    };
}

server!(first, 8080, NoBody, 2);
server!(second, 8081, Compact, 4);

fn main() {
    let _servers = [first(), second()];
}

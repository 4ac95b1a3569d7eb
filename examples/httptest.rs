//! One handler on two servers: port 8070 with 1 worker, port 8071 with 40.
//! `/close` answers 204 and closes the connection, `/stop` answers "stop"
//! and shuts both servers down, anything else (whatever the method) answers
//! `replyfromport<port>`. The on-close callback prints every closing socket.
//!
//! `cargo run --example httptest`, then `curl http://127.0.0.1:8071/x`.

use guildenstern::prelude::*;

fn handle() {
    if is_uri("/close") {
        reply_code(204);
        close_socket("/close requested");
    } else if is_uri("/stop") {
        reply("stop");
        guildenstern::shutdown();
    } else {
        reply(format!("replyfromport{}", server().port()));
    }
}

fn closed(_server: &Server, socket: SocketId, cause: CloseCause, msg: &str) {
    println!("socket {socket} closed: {cause} {msg}");
}

#[http_server(port = 8070, threads = 1, content = Compact, on_close = closed, name = "one")]
fn one_thread() {
    handle();
}

#[http_server(port = 8071, threads = 40, content = Compact, on_close = closed, name = "forty")]
fn forty_threads() {
    handle();
}

fn main() {
    guildenstern_examples::init_logging();
    guildenstern::serve![one_thread, forty_threads];
    println!("httptest stopped");
}

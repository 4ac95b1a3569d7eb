use guildenstern::prelude::*;

// The close hook of an HTTP server: a WebSocket server's also gets the
// client's close code.
fn log_close(_server: &Server, _id: SocketId, _cause: CloseCause, _message: &str) {}

// rustc, not the macro, rejects this; the error must land on the hook's path.
#[ws_server(port = 9001, on_close = log_close)]
fn echo() {
    let _ = reply_text(&message_text());
}

fn main() {}

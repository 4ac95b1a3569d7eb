use guildenstern::client::WsClientele;
use guildenstern::prelude::*;

/// A clientele's receive callback: no key is required.
#[ws_client]
fn got() {
    println!("{}", message_text());
}

fn gone(_: &Server, _: SocketId, _: CloseCause, _: Option<u16>, _: &str) {}

#[ws_client(
    threads = 2,
    dispatcher = Portable,
    name = "load",
    max_message_bytes = 65536,
    handshake_timeout_ms = 2000,
    ping_interval_ms = 30000,
    on_close = gone,
)]
pub fn counted(cx: &mut Ws) {
    let _ = cx.reply_text(cx.text());
}

fn main() {
    let _builders: [WsClientele; 2] = [got(), counted()];
}

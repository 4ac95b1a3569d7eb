//! The Autobahn TestSuite's client cases for our WebSocket client: drives
//! a fuzzing server (kosoku `-m fuzzingserver`, run by
//! `scripts/autobahn-client.sh`) with a clientele that echoes every
//! message back, the way the suite expects of a client under test.
//!
//! `gs-autobahn-client URL [AGENT]`, URL as `ws://127.0.0.1:9011`. It asks
//! for the number of cases, runs each on a connection of its own (one at a
//! time, until the server closes it), then asks for the reports. Exit
//! status 0 once every case ran.

use guildenstern::client::{Clientele, WsClientele};
use guildenstern::prelude::*;
use std::sync::mpsc::{channel, Receiver};
use std::sync::Mutex;
use std::time::Duration;

/// How long one case may take before the run gives up on it.
const CASE_LIMIT: Duration = Duration::from_secs(120);

fn main() {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9011".into());
    let agent = args.next().unwrap_or_else(|| "guildenstern".into());
    let (closed_tx, closed) = channel::<SocketId>();
    let closed_tx = Mutex::new(closed_tx);
    let (count_tx, count) = channel::<String>();
    let count_tx = Mutex::new(count_tx);
    let clientele = WsClientele::with_context(move |cx: &mut Ws| {
        if cx.with_socket_data(|_: &mut CountCase| ()).is_some() {
            let _ = count_tx.lock().unwrap().send(cx.text().to_owned());
            return;
        }
        let _ = if cx.is_binary() {
            cx.reply_binary(cx.message())
        } else {
            cx.reply_text(cx.text())
        };
    })
    .on_close(move |_, id, _, _, _| {
        let _ = closed_tx.lock().unwrap().send(id);
    })
    .name("autobahn-client")
    .threads(2)
    .max_message_bytes(64 << 20)
    .log_level(LevelFilter::Warn)
    .start()
    .expect("the clientele starts");

    let id = connect_with(&clientele, &format!("{base}/getCaseCount"), CountCase);
    let n: usize = count
        .recv_timeout(CASE_LIMIT)
        .expect("the case count")
        .trim()
        .parse()
        .expect("a number of cases");
    wait_closed(&closed, id);
    println!("{n} cases");
    for case in 1..=n {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        let id = connect_with(&clientele, &url, Echo);
        wait_closed(&closed, id);
    }
    let id = connect_with(
        &clientele,
        &format!("{base}/updateReports?agent={agent}"),
        Echo,
    );
    wait_closed(&closed, id);
    clientele.stop();
    clientele.join();
    println!("{n} cases run");
}

/// Marks the connection that asks for the case count.
struct CountCase;
/// Marks a case's connection.
struct Echo;

fn connect_with<T: Send + 'static>(clientele: &Clientele, url: &str, data: T) -> SocketId {
    clientele
        .connect_with_data(url, data)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// Waits until connection `id` closed (earlier closes were of earlier cases).
fn wait_closed(closed: &Receiver<SocketId>, id: SocketId) {
    loop {
        match closed.recv_timeout(CASE_LIMIT) {
            Ok(c) if c == id => return,
            Ok(_) => {}
            Err(e) => panic!("connection {id} did not close: {e}"),
        }
    }
}

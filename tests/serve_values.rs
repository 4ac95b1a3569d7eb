//! `serve!` takes builder values as well as attribute-made functions, so a
//! handler can be a closure that shares state through an `Arc` instead of a
//! global. Alone in its binary: `shutdown()` stops every server of the process.

mod support;

use guildenstern::prelude::*;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::process::loopback;
use support::{exchange, get, wait_until};

const MADE: u16 = 18471;
const BUILT: u16 = 18472;

#[http_server(port = 18471, address = "127.0.0.1", threads = 1)]
fn made() {
    reply("made by the attribute");
}

#[test]
fn serve_takes_builders_with_shared_state() {
    let hits = Arc::new(AtomicU64::new(0));
    let counted = hits.clone();
    let built = HttpServer::new(move || {
        let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
        reply(n.to_string());
    })
    .address("127.0.0.1")
    .port(BUILT)
    .threads(2);
    let serving = std::thread::spawn(move || guildenstern::serve![made, built]);
    for port in [MADE, BUILT] {
        let up = wait_until(Duration::from_secs(20), || {
            TcpStream::connect(loopback(port)).is_ok()
        });
        assert!(up, "port {port} is served");
    }
    for i in 1..=3 {
        let r = exchange(loopback(BUILT), get("/")).expect("an answer");
        assert_eq!(r.text(), i.to_string());
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "the test sees the same state"
    );
    let r = exchange(loopback(MADE), get("/")).expect("an answer");
    assert_eq!(r.text(), "made by the attribute");
    guildenstern::shutdown();
    serving.join().expect("serve! returns after shutdown");
}

//! A clientele of 5,000 connections to one server of ours, every message
//! counted both ways: each client sends, the server echoes, then the
//! server multicasts one message to all of them.

mod support;
mod ws_util;

use guildenstern::client::WsClientele;
use guildenstern::prelude::*;
use guildenstern::ws;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const CLIENTS: usize = 5_000;
const EACH: usize = 4;

/// Both ends of every connection live in this process: two descriptors a
/// connection, and some to spare. Raises the soft limit if it is lower.
fn enough_descriptors() -> bool {
    let want = (2 * CLIENTS + 256) as libc::rlim_t;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return false;
    }
    if lim.rlim_cur >= want {
        return true;
    }
    if lim.rlim_max < want {
        return false;
    }
    lim.rlim_cur = want;
    // SAFETY: setrlimit reads the struct we own.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 }
}

#[test]
fn five_thousand_clients_every_message_counted() {
    assert!(
        enough_descriptors(),
        "this test needs {} open files (ulimit -n)",
        2 * CLIENTS + 256
    );
    let at_server = Arc::new(AtomicUsize::new(0));
    let counted = at_server.clone();
    let server = WsServer::new(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        let _ = reply_text(&message_text());
    })
    .address("127.0.0.1")
    .any_port()
    .threads(2)
    .start()
    .unwrap();

    let echoes = Arc::new(AtomicUsize::new(0));
    let multicasts = Arc::new(AtomicUsize::new(0));
    let (e, m) = (echoes.clone(), multicasts.clone());
    let clientele = WsClientele::new(move || {
        if is_message("to all") {
            m.fetch_add(1, Ordering::Relaxed);
        } else {
            assert!(message_text().starts_with("msg "));
            e.fetch_add(1, Ordering::Relaxed);
        }
    })
    .threads(2)
    .max_connections(CLIENTS + 10)
    .start()
    .unwrap();
    let ids = clientele
        .connect_many(&format!("ws://127.0.0.1:{}/", server.port()), CLIENTS)
        .expect("every client connects");
    assert_eq!(ids.len(), CLIENTS);
    assert_eq!(clientele.connections(), CLIENTS);
    assert!(support::wait_until(ws_util::WAIT, || server
        .sockets()
        .len()
        == CLIENTS));

    for i in 0..EACH {
        for &id in &ids {
            clientele.send_text(id, &format!("msg {i}")).unwrap();
        }
    }
    let total = CLIENTS * EACH;
    let limit = Duration::from_secs(60);
    assert!(
        support::wait_until(limit, || echoes.load(Ordering::Relaxed) == total),
        "echoes: {} of {total}, at the server {}",
        echoes.load(Ordering::Relaxed),
        at_server.load(Ordering::Relaxed)
    );
    assert_eq!(at_server.load(Ordering::Relaxed), total);

    let failed = ws::multicast_text(&server, &server.sockets(), "to all", ws_util::WAIT);
    assert!(failed.is_empty(), "{} receivers failed", failed.len());
    assert!(
        support::wait_until(limit, || multicasts.load(Ordering::Relaxed) == CLIENTS),
        "multicast: {} of {CLIENTS}",
        multicasts.load(Ordering::Relaxed)
    );
    // Nothing more arrived than was sent.
    assert_eq!(echoes.load(Ordering::Relaxed), total);

    clientele.stop();
    clientele.join();
    assert!(support::wait_until(limit, || server.connections() == 0));
    server.stop();
    server.join();
}

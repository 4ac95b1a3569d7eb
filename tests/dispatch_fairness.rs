//! A client that sends without pause does not keep the only worker from the
//! other connections: after a bounded number of reads in one wake-up the
//! connection yields and is served again after the others, and nothing of
//! its stream is lost or reordered across those turns.
//!
//! (On loopback, TCP flow control also lets the socket run dry now and then
//! — about every 95 KiB here — which parks the connection anyway; so this
//! test shows that a yielding flood is served whole and in order, and that
//! the other client gets in before the flood ends, rather than telling the
//! read budget from those natural pauses.)

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::LIMIT;
use guildenstern::prelude::*;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use support::{exchange, get, wait_until, TestServer};

on_both_dispatchers!(a_client_sending_without_pause_does_not_starve_the_others);

/// Some tens of microseconds of computing (a handler with work to do).
fn busy_work() -> u64 {
    let mut x = 1u64;
    for i in 0..20_000u64 {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    x
}

fn a_client_sending_without_pause_does_not_starve_the_others(d: Dispatcher) {
    // The handler takes a while, so the flood's requests pile up in the
    // socket: every read is full, and only the read budget makes the worker
    // turn to someone else before the flood is over.
    const BATCH: usize = 1_000;
    const BATCHES: usize = 20;
    const TOTAL: usize = BATCH * BATCHES;
    let srv = TestServer::start(
        HttpServer::new(|| {
            if is_uri("/other") {
                reply("other");
            } else {
                std::hint::black_box(busy_work());
                reply("x");
            }
        })
        .dispatcher(d)
        .threads(1),
    );
    let flood = srv.connect();
    let mut writer = flood.stream().try_clone().unwrap();
    let sender = thread::spawn(move || {
        let batch = get("/").repeat(BATCH);
        for _ in 0..BATCHES {
            writer.write_all(batch.as_bytes())?;
        }
        Ok::<_, std::io::Error>(())
    });
    let answered = Arc::new(AtomicUsize::new(0));
    let reader = {
        let answered = answered.clone();
        let mut flood = flood;
        thread::spawn(move || {
            for _ in 0..TOTAL {
                match flood.read_reply() {
                    Some(r) if r.text() == "x" => answered.fetch_add(1, Ordering::Relaxed),
                    other => panic!(
                        "flood answer {}: {other:?}",
                        answered.load(Ordering::Relaxed)
                    ),
                };
            }
        })
    };
    assert!(wait_until(LIMIT, || answered.load(Ordering::Relaxed) > 0));

    let r = exchange(srv.addr, get("/other")).expect("the other client is answered");
    let flood_answered = answered.load(Ordering::Relaxed);
    assert_eq!(r.text(), "other");
    assert!(
        flood_answered < TOTAL,
        "the other client waited until the flood of {TOTAL} requests was served"
    );

    sender.join().unwrap().expect("the flood was sent");
    reader.join().expect("every flood request was answered");
    assert_eq!(answered.load(Ordering::Relaxed), TOTAL);
}

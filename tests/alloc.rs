//! Zero heap allocations per request on the hello-world path, after warm-up,
//! on both dispatchers: a counting global allocator sees every allocation of
//! the process (server workers, housekeeping thread and this client alike).

mod support;

use guildenstern::prelude::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use support::alloc::{allocations_during, stop_and_assert_no_allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";

/// Sends one request and reads its whole response into `buf`, allocation-free.
fn round_trip(stream: &mut TcpStream, buf: &mut [u8]) {
    stream.write_all(REQUEST).unwrap();
    let mut got = 0;
    loop {
        let n = stream.read(&mut buf[got..]).unwrap();
        assert!(n > 0, "server closed the connection");
        got += n;
        if let Some(head) = buf[..got].windows(4).position(|w| w == b"\r\n\r\n") {
            if got >= head + 4 + b"hello world".len() {
                assert!(buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
                assert_eq!(&buf[got - 11..got], b"hello world");
                return;
            }
        }
    }
}

/// Allocations during `count` pipelined batches of `depth` requests each.
fn pipelined(stream: &mut TcpStream, depth: usize, count: usize, batch: &[u8], buf: &mut [u8]) {
    for _ in 0..count {
        stream.write_all(batch).unwrap();
        let mut seen = 0;
        let mut got = 0;
        while seen < depth {
            let n = stream.read(&mut buf[got..]).unwrap();
            assert!(n > 0);
            got += n;
            seen = buf[..got]
                .windows(11)
                .filter(|w| *w == b"hello world")
                .count();
        }
    }
}

fn check(dispatcher: Dispatcher) {
    let server = HttpServer::new(|| reply("hello world"))
        .address("127.0.0.1")
        .any_port()
        .threads(2)
        .dispatcher(dispatcher)
        .start()
        .unwrap();
    let mut stream = TcpStream::connect(server.local_addr().unwrap()).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let depth = 16;
    let batch: Vec<u8> = REQUEST.repeat(depth);

    for _ in 0..2_000 {
        round_trip(&mut stream, &mut buf);
    }
    pipelined(&mut stream, depth, 200, &batch, &mut buf);

    let keep_alive = allocations_during(|| {
        for _ in 0..5_000 {
            round_trip(&mut stream, &mut buf);
        }
    });
    let pipelined = allocations_during(|| pipelined(&mut stream, depth, 500, &batch, &mut buf));

    stop_and_assert_no_allocations(
        server,
        stream,
        dispatcher,
        &[
            (keep_alive, "5,000 keep-alive requests"),
            (pipelined, "8,000 pipelined requests"),
        ],
    );
}

#[test]
fn hello_world_path_does_not_allocate() {
    check(Dispatcher::Epoll);
    check(Dispatcher::Portable);
}

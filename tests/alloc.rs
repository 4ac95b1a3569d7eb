//! Zero heap allocations per request on the hello-world path, after warm-up,
//! on both dispatchers: a counting global allocator sees every allocation of
//! the process (server workers, housekeeping thread and this client alike).

use guildenstern::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers every operation to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

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

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..5_000 {
        round_trip(&mut stream, &mut buf);
    }
    let keep_alive = ALLOCATIONS.load(Ordering::SeqCst) - before;

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    pipelined(&mut stream, depth, 500, &batch, &mut buf);
    let pipelined = ALLOCATIONS.load(Ordering::SeqCst) - before;

    drop(stream);
    server.stop();
    server.join();
    assert_eq!(
        keep_alive, 0,
        "{dispatcher:?}: heap allocations during 5,000 keep-alive requests"
    );
    assert_eq!(
        pipelined, 0,
        "{dispatcher:?}: heap allocations during 8,000 pipelined requests"
    );
}

#[test]
fn hello_world_path_does_not_allocate() {
    check(Dispatcher::Epoll);
    check(Dispatcher::Portable);
}

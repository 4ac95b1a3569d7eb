//! may_minihttp hello world for the comparison benchmarks: 127.0.0.1:3001,
//! "hello world" to every request.
//!
//! `may-hello [WORKERS]`: may's scheduler with WORKERS worker threads
//! (default 2, one per CPU of the benchmark machine).

use std::io;

use may_minihttp::{HttpServer, HttpService, Request, Response};

#[derive(Clone)]
struct Hello;

impl HttpService for Hello {
    fn call(&mut self, _req: Request, res: &mut Response) -> io::Result<()> {
        res.body("hello world");
        Ok(())
    }
}

fn main() {
    let workers = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2);
    may::config().set_workers(workers);
    let server = HttpServer(Hello)
        .start("127.0.0.1:3001")
        .expect("bind 127.0.0.1:3001");
    println!("may-hello on http://127.0.0.1:3001/");
    server.join().expect("server coroutine");
}

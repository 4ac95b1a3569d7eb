//! `gs-testserver`: an HTTP server in a process of its own, for the
//! integration tests that need one (signals, a low descriptor limit).
//!
//! Usage: `gs-testserver [epoll|portable] [THREADS]`
//!
//! It binds 127.0.0.1 on a port chosen by the system, serves through
//! [`guildenstern::serve`] (so SIGINT and SIGTERM stop it) and prints to
//! stdout, one line each:
//! - `listening PORT` once the server is up;
//! - `thread start NAME` and `thread stop NAME` from the worker hooks;
//! - `serve returned` when `serve` has returned, before exiting with 0.
//!
//! Routes: `/stop` calls [`guildenstern::shutdown`] and answers `stopping`;
//! anything else answers `hello`. Log records (level info and above) go to
//! stderr through a small `log` backend of its own.

use guildenstern::prelude::*;
use guildenstern::{Error, Startable};
use std::process::ExitCode;

/// Writes every log record at info level or above to stderr, one line each.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{} {}: {}", record.level(), record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLog = StderrLog;

/// Starts the HTTP server and announces its port, so the test can connect.
struct Announced(HttpServer);

impl Startable for Announced {
    fn start_server(self: Box<Self>) -> Result<Server, Error> {
        let server = self.0.start()?;
        println!("listening {}", server.port());
        Ok(server)
    }
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("?").to_owned()
}

fn handler() {
    if is_uri("/stop") {
        guildenstern::shutdown();
        reply("stopping");
    } else {
        reply("hello");
    }
}

fn main() -> ExitCode {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
    let mut args = std::env::args().skip(1);
    let dispatcher = match args.next().as_deref() {
        None | Some("epoll") => Dispatcher::Epoll,
        Some("portable") => Dispatcher::Portable,
        Some(other) => {
            eprintln!("gs-testserver: unknown dispatcher {other:?}");
            return ExitCode::from(2);
        }
    };
    let threads = match args.next().map(|t| t.parse::<usize>()) {
        None => 2,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("gs-testserver: bad thread count: {e}");
            return ExitCode::from(2);
        }
    };
    let server = HttpServer::new(handler)
        .name("testserver")
        .address("127.0.0.1")
        .any_port()
        .dispatcher(dispatcher)
        .threads(threads)
        .on_thread_start(|| println!("thread start {}", thread_name()))
        .on_thread_stop(|| println!("thread stop {}", thread_name()));
    match guildenstern::serve(vec![Box::new(Announced(server))]) {
        Ok(()) => {
            println!("serve returned");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gs-testserver: {e}");
            ExitCode::FAILURE
        }
    }
}

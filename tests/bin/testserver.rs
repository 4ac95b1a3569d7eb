//! `gs-testserver`: an HTTP server in a process of its own, for the
//! integration tests that need one (signals, a low descriptor limit).
//!
//! Usage: `gs-testserver [epoll|portable] [THREADS] [twice]`
//!
//! It binds 127.0.0.1 on a port chosen by the system, serves through
//! [`guildenstern::serve`] (so SIGINT and SIGTERM stop it) and prints to
//! stdout, one line each:
//! - `listening PORT` once the server is up;
//! - `thread start NAME` and `thread stop NAME` from the worker hooks;
//! - `serve returned` when `serve` has returned, before exiting with 0.
//!
//! With `twice`, two servers each get a `serve` call of their own, on two
//! threads (the second starts once the first announced its port); the
//! process exits with 0 once both returned.
//!
//! Routes: `/stop` calls [`guildenstern::shutdown`] and answers `stopping`;
//! `/stop-self` stops only this server and answers `stopping`; `/hang`
//! prints `hanging` and answers only once its standard input ends, that is
//! when the test that started it lets it go (a handler that holds a stop
//! up); anything else answers `hello`. Log records (level info and
//! above) go to stderr through a small `log` backend of its own.

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

/// Starts the HTTP server and announces its port, so the test can connect
/// (and tells `started`, if given).
struct Announced(HttpServer, Option<std::sync::mpsc::Sender<()>>);

impl Startable for Announced {
    fn start_server(self: Box<Self>) -> Result<Server, Error> {
        let server = self.0.start()?;
        println!("listening {}", server.port());
        if let Some(started) = self.1 {
            let _ = started.send(());
        }
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
    } else if is_uri("/stop-self") {
        guildenstern::server().stop();
        reply("stopping");
    } else if is_uri("/hang") {
        println!("hanging");
        // Blocks until the test closes the pipe (or ends): no timer.
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
        reply("hung");
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
    let twice = match args.next().as_deref() {
        None => false,
        Some("twice") => true,
        Some(other) => {
            eprintln!("gs-testserver: unknown mode {other:?}");
            return ExitCode::from(2);
        }
    };
    let server = |name: &str| {
        HttpServer::new(handler)
            .name(name)
            .address("127.0.0.1")
            .any_port()
            .dispatcher(dispatcher)
            .threads(threads)
            .on_thread_start(|| println!("thread start {}", thread_name()))
            .on_thread_stop(|| println!("thread stop {}", thread_name()))
    };
    let first = if twice {
        let (started, first_started) = std::sync::mpsc::channel();
        let first = server("first");
        let t = std::thread::spawn(move || serve_one(Announced(first, Some(started))));
        if first_started.recv().is_err() {
            return t.join().unwrap_or(ExitCode::FAILURE);
        }
        Some(t)
    } else {
        None
    };
    let code = serve_one(Announced(server("testserver"), None));
    match first.map(|t| t.join()) {
        Some(Ok(c)) if c == ExitCode::SUCCESS => code,
        Some(_) => ExitCode::FAILURE,
        None => code,
    }
}

/// Serves one server; prints `serve returned` when `serve` returned.
fn serve_one(server: Announced) -> ExitCode {
    match guildenstern::serve(vec![Box::new(server)]) {
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

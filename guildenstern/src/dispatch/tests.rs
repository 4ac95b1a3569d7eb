//! The dispatch layer on its own, with a minimal line protocol over real
//! loopback sockets: what happens when serving a connection panics.

use super::SocketId;
use super::{
    start, CloseCause, DeadlineKind, Dispatcher, Expiry, Flow, Io, Options, Protocol, Server,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::Duration;

/// Answers each line it reads with `ok <line>`; a line `panic` panics in
/// the protocol code itself (not in a callback).
struct Lines {
    closes: Mutex<Sender<(CloseCause, String)>>,
}

impl Protocol for Lines {
    type State = Vec<u8>;

    fn new_state(&self) -> Vec<u8> {
        Vec::new()
    }

    fn on_open(&self, _io: &Io<'_, Self>, _state: &mut Vec<u8>) {}

    fn on_ready(&self, io: &Io<'_, Self>, state: &mut Vec<u8>) -> Flow {
        let mut buf = [0u8; 512];
        loop {
            match io.stream().read(&mut buf) {
                Ok(0) => return Flow::Close(CloseCause::ClosedByClient, String::new()),
                Ok(n) => state.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Flow::Close(CloseCause::ConnectionLost, e.to_string()),
            }
        }
        while let Some(end) = state.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = state.drain(..=end).collect();
            if line.starts_with(b"panic") {
                panic!("a bug in the protocol");
            }
            if line.starts_with(b"arm") {
                // The deadline's handling panics, on the housekeeping thread.
                io.set_deadline(DeadlineKind::Idle, Duration::from_millis(1));
            }
            let _ = io.stream().write_all(&[b"ok ", &line[..]].concat());
        }
        Flow::Park
    }

    fn on_deadline(&self, _io: &Io<'_, Self>, _state: &mut Vec<u8>, _kind: DeadlineKind) -> Expiry {
        panic!("a bug in a deadline");
    }

    fn on_close(
        &self,
        _server: &Server,
        _id: SocketId,
        cause: CloseCause,
        msg: &str,
        _state: &mut Vec<u8>,
    ) {
        let _ = self.closes.lock().unwrap().send((cause, msg.to_owned()));
    }
}

fn lines_server(d: Dispatcher) -> (Server, Receiver<(CloseCause, String)>) {
    let (tx, rx) = channel();
    let mut options = Options::new("lines");
    options.dispatch.address = [127, 0, 0, 1].into();
    options.dispatch.any_port = true;
    options.dispatch.threads = 1;
    options.dispatch.dispatcher = d;
    let proto = Lines {
        closes: Mutex::new(tx),
    };
    (start(proto, options).expect("starts"), rx)
}

fn ask(stream: &TcpStream, line: &str) -> String {
    (&*stream).write_all(line.as_bytes()).unwrap();
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).unwrap();
    answer
}

/// A panic while serving one connection closes that connection with
/// `InternalError`; the only worker lives on and serves the next one.
fn a_panic_costs_the_connection_not_the_worker(d: Dispatcher) {
    let (server, closes) = lines_server(d);
    let addr = server.local_addr().unwrap();
    let timeout = Some(Duration::from_secs(10));
    for round in 0..3 {
        let a = TcpStream::connect(addr).unwrap();
        a.set_read_timeout(timeout).unwrap();
        assert_eq!(ask(&a, "hello\n"), "ok hello\n");
        (&a).write_all(b"panic\n").unwrap();
        let mut rest = Vec::new();
        let _ = (&a).read_to_end(&mut rest);
        assert!(rest.is_empty(), "round {round}: closed without an answer");
        let (cause, msg) = closes.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(cause, CloseCause::InternalError);
        assert_eq!(msg, "a bug in the protocol");
    }
    let b = TcpStream::connect(addr).unwrap();
    b.set_read_timeout(timeout).unwrap();
    assert_eq!(ask(&b, "still there\n"), "ok still there\n");
    server.stop();
    server.join();
}

/// A panic while a deadline fires closes that connection; the housekeeping
/// thread lives on (the next deadline fires too) and the server still stops.
fn a_deadline_panic_costs_the_connection_not_the_timer(d: Dispatcher) {
    let (server, closes) = lines_server(d);
    let addr = server.local_addr().unwrap();
    for round in 0..2 {
        let a = TcpStream::connect(addr).unwrap();
        a.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(ask(&a, "arm\n"), "ok arm\n");
        let (cause, msg) = closes.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(cause, CloseCause::InternalError, "round {round}");
        assert_eq!(msg, "a bug in a deadline");
    }
    server.stop();
    server.join();
}

#[cfg(target_os = "linux")]
#[test]
fn epoll_deadline_panic_costs_the_connection_not_the_timer() {
    a_deadline_panic_costs_the_connection_not_the_timer(Dispatcher::Epoll);
}

#[test]
fn portable_deadline_panic_costs_the_connection_not_the_timer() {
    a_deadline_panic_costs_the_connection_not_the_timer(Dispatcher::Portable);
}

#[cfg(target_os = "linux")]
#[test]
fn epoll_panic_costs_the_connection_not_the_worker() {
    a_panic_costs_the_connection_not_the_worker(Dispatcher::Epoll);
}

#[test]
fn portable_panic_costs_the_connection_not_the_worker() {
    a_panic_costs_the_connection_not_the_worker(Dispatcher::Portable);
}

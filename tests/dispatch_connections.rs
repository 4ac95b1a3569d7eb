//! Connections on both dispatchers: the connection cap, closing any socket
//! from another thread, on-close exactly once, registering a socket the
//! application connected, and churn with concurrent closes.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::{id_of, until_closed, Closes, LIMIT};
use guildenstern::prelude::*;
use guildenstern::Error;
use std::collections::HashSet;
use std::io::{self, Read};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use support::{connect_with_deadline, exchange, get, wait_until, Client, TestServer};

on_both_dispatchers!(
    connection_cap_pauses_and_resumes_accepting,
    server_close_from_another_thread,
    close_socket_in_a_handler,
    on_close_runs_once_per_connection,
    register_serves_a_socket_connected_by_the_application,
    churn_with_concurrent_closes,
);

fn id_server(d: Dispatcher, closes: &Closes) -> HttpServer {
    HttpServer::new(|| reply(thesocket().as_u64().to_string()))
        .dispatcher(d)
        .threads(2)
        .on_close(closes.hook())
}

/// At the cap, a further connection is not served until one of the open
/// ones closes; then it is.
fn connection_cap_pauses_and_resumes_accepting(d: Dispatcher) {
    const CAP: usize = 3;
    let closes = Closes::default();
    let srv = TestServer::start(id_server(d, &closes).max_connections(CAP));
    let mut open: Vec<Client> = (0..CAP).map(|_| srv.connect()).collect();
    let ids: Vec<u64> = open
        .iter_mut()
        .map(|c| id_of(&c.request(get("/"))))
        .collect();
    assert_eq!(srv.server.connections(), CAP);

    // The kernel completes the handshake, but the server does not take it.
    let mut extra = srv.connect();
    extra.send(get("/"));
    // The open ones are still served, after the extra request was sent: by
    // then a server that took the extra connection would have answered it
    // too, the workers being free.
    for (c, id) in open.iter_mut().zip(&ids) {
        assert_eq!(id_of(&c.request(get("/"))), *id);
    }
    assert_eq!(srv.server.connections(), CAP);
    extra.stream().set_nonblocking(true).unwrap();
    let mut b = [0u8; 1];
    match extra.reader.read(&mut b) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("a connection beyond the cap was served: {other:?}"),
    }
    extra.stream().set_nonblocking(false).unwrap();

    drop(open.remove(0));
    extra
        .stream()
        .set_read_timeout(Some(support::IO_TIMEOUT))
        .unwrap();
    let r = extra.read_reply().expect("served once a slot is free");
    assert_eq!(r.status, 200);
    let extra_id = id_of(&r);
    assert!(!ids.contains(&extra_id));
    assert_eq!(
        closes.wait_for(ids[0]).0,
        CloseCause::ClosedByClient,
        "{:?}",
        closes.all()
    );
    assert_eq!(srv.server.connections(), CAP);
}

/// `Server::close` from another thread closes an idle keep-alive connection:
/// the client sees end of stream and on_close gets the same id, cause and
/// message; the id is then unknown.
fn server_close_from_another_thread(d: Dispatcher) {
    let closes = Closes::default();
    let (tx, rx) = mpsc::channel::<SocketId>();
    let srv = TestServer::start(
        HttpServer::new(move || {
            tx.send(thesocket()).unwrap();
            reply("ok")
        })
        .dispatcher(d)
        .threads(2)
        .on_close(closes.hook()),
    );
    let mut c = srv.connect();
    assert_eq!(c.request(get("/")).status, 200);
    let id = rx.recv_timeout(LIMIT).unwrap();
    assert!(srv.server.is_open(id));

    let server = srv.server.clone();
    let closer =
        std::thread::spawn(move || server.close(id, CloseCause::SecurityThreatened, "go away"));
    assert!(closer.join().unwrap(), "close found no such socket");
    assert_eq!(until_closed(&mut c.reader), Some(Vec::new()));
    assert_eq!(
        closes.wait_for(id.as_u64()),
        (CloseCause::SecurityThreatened, "go away".to_owned())
    );
    assert!(!srv.server.is_open(id));
    assert!(!srv.server.close(id, CloseCause::CloseCalled, "again"));
    // Another connection, possibly in the same slot, is not touched by the old id.
    let mut c2 = srv.connect();
    assert_eq!(c2.request(get("/")).status, 200);
    let id2 = rx.recv_timeout(LIMIT).unwrap();
    assert_ne!(id2, id);
    assert!(!srv.server.close(id, CloseCause::CloseCalled, "stale"));
    assert_eq!(c2.request(get("/")).status, 200);
    assert_eq!(closes.of(id.as_u64()).len(), 1);
    assert!(closes.of(id2.as_u64()).is_empty());
}

/// `close_socket` in a handler: the response goes out, then the connection
/// closes with CloseCalled and the message.
fn close_socket_in_a_handler(d: Dispatcher) {
    let closes = Closes::default();
    let srv = TestServer::start(
        HttpServer::new(|| {
            if is_uri("/bye") {
                close_socket("bye");
            }
            reply(thesocket().as_u64().to_string())
        })
        .dispatcher(d)
        .threads(2)
        .on_close(closes.hook()),
    );
    let mut c = srv.connect();
    let id = id_of(&c.request(get("/")));
    let r = c.request(get("/bye"));
    assert_eq!((r.status, id_of(&r)), (200, id));
    assert_eq!(r.header("connection"), Some("close"));
    assert!(until_closed(&mut c.reader).is_some(), "left open");
    assert_eq!(
        closes.wait_for(id),
        (CloseCause::CloseCalled, "bye".to_owned())
    );
}

/// Clients that disconnect normally give one on_close call each, with
/// ClosedByClient; a connection open at stop gives one, with Shutdown.
fn on_close_runs_once_per_connection(d: Dispatcher) {
    let closes = Closes::default();
    let srv = TestServer::start(id_server(d, &closes));
    let mut ids = Vec::new();
    for _ in 0..5 {
        let mut c = srv.connect();
        let id = id_of(&c.request(get("/")));
        assert_eq!(id_of(&c.request(get("/"))), id);
        ids.push(id);
    }
    closes.wait_len(ids.len());
    let mut open = srv.connect();
    let open_id = id_of(&open.request(get("/")));
    srv.server.stop();
    srv.server.join();
    for id in &ids {
        assert_eq!(
            closes.of(*id),
            vec![(CloseCause::ClosedByClient, String::new())],
            "socket {id}"
        );
    }
    assert_eq!(closes.of(open_id).len(), 1);
    assert_eq!(closes.of(open_id)[0].0, CloseCause::Shutdown);
    assert_eq!(closes.len(), ids.len() + 1, "{:?}", closes.all());
    assert!(until_closed(&mut open.reader).is_some());
}

/// A socket the test connected itself, handed to the server with
/// `register`, is served like an accepted one.
fn register_serves_a_socket_connected_by_the_application(d: Dispatcher) {
    let closes = Closes::default();
    let srv = TestServer::start(id_server(d, &closes));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = Client::connect(listener.local_addr().unwrap());
    let (accepted, _) = listener.accept().unwrap();
    let id = srv.server.register(accepted).expect("registered");
    assert!(srv.server.is_open(id));
    for _ in 0..2 {
        let r = client.request(get("/"));
        assert_eq!((r.status, id_of(&r)), (200, id.as_u64()));
    }
    drop(client);
    assert_eq!(closes.wait_for(id.as_u64()).0, CloseCause::ClosedByClient);
    assert!(!srv.server.is_open(id));
}

/// An HTTP server needs a port: without one (client mode) start fails.
#[test]
fn http_server_without_a_port_is_a_config_error() {
    for builder in [
        HttpServer::new(|| reply("x")),
        HttpServer::new(|| reply("x")).port(0),
    ] {
        match builder.address("127.0.0.1").start() {
            Err(Error::Config(msg)) => assert!(msg.contains("port"), "{msg}"),
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }
}

/// Two threads open and close connections quickly while another closes
/// sockets through `Server::close`: every connection gets one on_close, none
/// stays registered, and the server keeps answering.
fn churn_with_concurrent_closes(d: Dispatcher) {
    const CLIENT_THREADS: usize = 2;
    const PER_THREAD: usize = 400;
    let closes = Closes::default();
    let (tx, rx) = mpsc::channel::<SocketId>();
    let srv = TestServer::start(
        HttpServer::new(move || {
            let _ = tx.send(thesocket());
            reply("ok")
        })
        .dispatcher(d)
        .threads(2)
        .on_close(closes.hook()),
    );
    let done = Arc::new(AtomicBool::new(false));
    let closed_by_us = Arc::new(AtomicUsize::new(0));
    let closer = {
        let (server, done, closed_by_us) = (srv.server.clone(), done.clone(), closed_by_us.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            loop {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(id) => {
                        // Every third request's socket.
                        n = (n + 1) % 3;
                        if n == 0 && server.close(id, CloseCause::CloseCalled, "churn") {
                            closed_by_us.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    Err(_) if done.load(Ordering::SeqCst) => break,
                    Err(_) => {}
                }
            }
        })
    };
    let responses = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENT_THREADS)
        .map(|_| {
            let (addr, responses) = (srv.addr, responses.clone());
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let mut s = connect_with_deadline(addr, LIMIT);
                    let requests = 1 + i % 2;
                    let mut c = Client {
                        reader: io::BufReader::new(s.try_clone().unwrap()),
                    };
                    for _ in 0..requests {
                        if io::Write::write_all(&mut s, get("/").as_bytes()).is_err() {
                            break;
                        }
                        let asked = Instant::now();
                        match c.read_reply() {
                            Some(r) => {
                                assert_eq!(r.status, 200);
                                responses.fetch_add(1, Ordering::SeqCst);
                            }
                            // Closed by the closer thread; running into the
                            // read deadline instead is a failure.
                            None => {
                                assert!(asked.elapsed() < LIMIT, "neither answered nor closed");
                                break;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client thread");
    }
    done.store(true, Ordering::SeqCst);
    closer.join().unwrap();

    let total = CLIENT_THREADS * PER_THREAD;
    closes.wait_len(total);
    assert!(
        wait_until(LIMIT, || srv.server.connections() == 0),
        "{} connections still registered",
        srv.server.connections()
    );
    let all = closes.all();
    assert_eq!(all.len(), total, "one on_close per connection");
    let distinct: HashSet<u64> = all.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(distinct.len(), total);
    let by_us = all
        .iter()
        .filter(|(_, c, m)| *c == CloseCause::CloseCalled && m == "churn")
        .count();
    assert_eq!(by_us, closed_by_us.load(Ordering::SeqCst));
    assert!(by_us > 0);
    assert!(responses.load(Ordering::SeqCst) >= total / 2);
    // Still answering.
    let r = exchange(srv.addr, get("/")).expect("an answer after the churn");
    assert_eq!(r.status, 200);
}

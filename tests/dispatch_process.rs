//! A server in a child process (`gs-testserver`), on both dispatchers:
//! accepting survives running out of descriptors, SIGTERM and SIGINT end
//! `serve` cleanly, and so does `shutdown()` called from a handler.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::ChildServer;
use guildenstern::Dispatcher;
use support::{exchange, get, Client};

on_both_dispatchers!(
    accepting_recovers_after_descriptors_run_out,
    sigterm_ends_serve,
    sigint_ends_serve,
    shutdown_from_a_handler_ends_serve,
);

fn arg(d: Dispatcher) -> &'static str {
    match d {
        Dispatcher::Epoll => "epoll",
        Dispatcher::Portable => "portable",
    }
}

/// The child exits with 0, after every worker ran its stop hook and `serve`
/// returned.
fn assert_clean_exit(child: &mut ChildServer, threads: usize) {
    let status = child.wait_exit().expect("the server process exits");
    assert!(
        status.success(),
        "exit status {status:?}; stderr: {:?}",
        child.drain_stderr()
    );
    let out = child.all_stdout();
    let stops = out.iter().filter(|l| l.starts_with("thread stop ")).count();
    assert_eq!(stops, threads, "stdout: {out:?}");
    assert_eq!(
        out.last().map(String::as_str),
        Some("serve returned"),
        "{out:?}"
    );
}

/// Under an open-file limit of 40, 60 connections exhaust the descriptors:
/// the server logs the accept error, keeps serving the connections it has,
/// and accepts again once they are closed.
fn accepting_recovers_after_descriptors_run_out(d: Dispatcher) {
    let mut child = ChildServer::spawn(Some(40), &[arg(d), "2"]);
    let mut clients: Vec<Client> = (0..60).map(|_| Client::connect(child.addr)).collect();
    let logged = child.wait_stderr(|l| l.contains("accept failed"));
    assert!(
        logged.is_some(),
        "no accept error logged; stderr: {:?}",
        child.err_lines
    );
    assert!(logged.unwrap().starts_with("ERROR"));
    // The first connections were accepted before the descriptors ran out.
    for c in clients.iter_mut().take(5) {
        let r = c.request(get("/"));
        assert_eq!((r.status, r.text().as_str()), (200, "hello"));
    }
    drop(clients);
    for _ in 0..3 {
        let r = exchange(child.addr, get("/")).expect("accepting resumed");
        assert_eq!((r.status, r.text().as_str()), (200, "hello"));
    }
    child.signal(libc::SIGTERM);
    assert_clean_exit(&mut child, 2);
}

fn signal_ends_serve(d: Dispatcher, sig: libc::c_int) {
    let mut child = ChildServer::spawn(None, &[arg(d), "2"]);
    let mut c = Client::connect(child.addr);
    let r = c.request(get("/"));
    assert_eq!((r.status, r.text().as_str()), (200, "hello"));
    child.signal(sig);
    assert_clean_exit(&mut child, 2);
    assert!(c.is_closed_by_server());
}

fn sigterm_ends_serve(d: Dispatcher) {
    signal_ends_serve(d, libc::SIGTERM);
}

fn sigint_ends_serve(d: Dispatcher) {
    signal_ends_serve(d, libc::SIGINT);
}

/// `guildenstern::shutdown()` from a handler answers and ends `serve`.
fn shutdown_from_a_handler_ends_serve(d: Dispatcher) {
    let mut child = ChildServer::spawn(None, &[arg(d), "2"]);
    let r = exchange(child.addr, get("/stop")).expect("an answer");
    assert_eq!((r.status, r.text().as_str()), (200, "stopping"));
    assert_clean_exit(&mut child, 2);
}

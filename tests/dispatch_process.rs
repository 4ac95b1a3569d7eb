//! A server in a child process (`gs-testserver`), on both dispatchers:
//! accepting survives running out of descriptors, SIGTERM and SIGINT end
//! `serve` cleanly, and so does `shutdown()` called from a handler; a
//! signal during a stop ends the process at once; two `serve` calls at
//! once keep each other's signal handling.

#[macro_use]
mod support;
mod dispatch_util;

use dispatch_util::ChildServer;
use guildenstern::Dispatcher;
use std::os::unix::process::ExitStatusExt;
use support::{exchange, get, Client};

on_both_dispatchers!(
    accepting_recovers_after_descriptors_run_out,
    sigterm_ends_serve,
    sigint_ends_serve,
    shutdown_from_a_handler_ends_serve,
    a_second_ctrl_c_during_a_stop_ends_the_process,
    a_signal_during_a_stop_begun_by_shutdown_ends_the_process,
    one_serve_ending_leaves_the_other_its_signal_handling,
);

fn arg(d: Dispatcher) -> &'static str {
    match d {
        Dispatcher::Epoll => "epoll",
        Dispatcher::Portable => "portable",
    }
}

/// The child exits with 0; its whole stdout.
fn exits_cleanly(child: &mut ChildServer) -> Vec<String> {
    let status = child.wait_exit().expect("the server process exits");
    assert!(
        status.success(),
        "exit status {status:?}; stderr: {:?}",
        child.drain_stderr()
    );
    child.all_stdout()
}

/// The child exits with 0, after every worker ran its stop hook and `serve`
/// returned.
fn assert_clean_exit(child: &mut ChildServer, threads: usize) {
    let out = exits_cleanly(child);
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

/// A handler that holds the stop up (it answers only when the child's
/// standard input ends, when the test drops it: far beyond the grace period) is running on `child`; returns its client.
fn hold_a_stop_up(child: &mut ChildServer) -> Client {
    let mut c = Client::connect(child.addr);
    c.send(get("/hang"));
    assert!(child.wait_stdout(|l| l == "hanging").is_some());
    c
}

/// The child was ended by `sig` (not by a stop that ran its course).
fn assert_killed_by(child: &mut ChildServer, sig: libc::c_int) {
    let status = child.wait_exit().expect("the server process exits");
    assert_eq!(
        status.signal(),
        Some(sig),
        "exit status {status:?}; stderr: {:?}",
        child.drain_stderr()
    );
}

/// Ctrl-C twice: the first begins the stop, which waits for a slow handler;
/// the second ends the process at once, by SIGINT.
fn a_second_ctrl_c_during_a_stop_ends_the_process(d: Dispatcher) {
    let mut child = ChildServer::spawn(None, &[arg(d), "2"]);
    let _hang = hold_a_stop_up(&mut child);
    child.signal(libc::SIGINT);
    assert!(child
        .wait_stderr(|l| l.contains("signal 2 received"))
        .is_some());
    child.signal(libc::SIGINT);
    assert_killed_by(&mut child, libc::SIGINT);
}

/// A stop begun by `shutdown()` (from a handler) and held up by a slow
/// handler: SIGTERM ends the process at once.
fn a_signal_during_a_stop_begun_by_shutdown_ends_the_process(d: Dispatcher) {
    let mut child = ChildServer::spawn(None, &[arg(d), "2"]);
    let _hang = hold_a_stop_up(&mut child);
    let r = exchange(child.addr, get("/stop")).expect("an answer");
    assert_eq!(r.text(), "stopping");
    child.signal(libc::SIGTERM);
    assert_killed_by(&mut child, libc::SIGTERM);
}

/// Two servers, each in a `serve` call of its own: the first one stops
/// (by itself) and its `serve` returns; SIGTERM still stops the second one
/// cleanly (the first `serve` did not take the signal handling away).
fn one_serve_ending_leaves_the_other_its_signal_handling(d: Dispatcher) {
    let mut child = ChildServer::spawn(None, &[arg(d), "2", "twice"]);
    assert!(child.wait_stdout(|l| l.starts_with("listening ")).is_some());
    let r = exchange(child.addr, get("/stop-self")).expect("an answer");
    assert_eq!(r.text(), "stopping");
    assert!(child.wait_stdout(|l| l == "serve returned").is_some());
    child.signal(libc::SIGTERM);
    let out = exits_cleanly(&mut child);
    let returned = out.iter().filter(|l| *l == "serve returned").count();
    assert_eq!(returned, 2, "{out:?}");
}

//! Behind real reverse proxies, as the framework is meant to run: nginx
//! (HTTP/1.0 to the upstream, HTTP/1.1 keep-alive to the upstream, a
//! WebSocket passed through) and HAProxy (keep-alive with reused server
//! connections, a WebSocket) in front of `examples/httptest` and
//! `examples/wsecho`, each driven by real clients for a few seconds. Every
//! answer must be the upstream's own (no 502 or 504 made up by the proxy),
//! every echo correct, and the proxy must log no error.
//!
//! nginx and haproxy come from Debian's packages (`./run-tests` installs
//! them). The servers use fixed ports, so these tests take turns.

mod support;
mod ws_util;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};
use support::process::{loopback, Process};
use tungstenite::Message;

static TURN: Mutex<()> = Mutex::new(());

/// How long each proxy is driven, and a cap on requests per client.
const DRIVE: Duration = Duration::from_secs(5);
const MAX_REQUESTS: usize = 20_000;
const HTTP_CLIENTS: usize = 8;
const WS_CLIENTS: usize = 8;

const HTTPTEST: u16 = 8071;
const WSECHO: u16 = 19001;

/// The upstreams: httptest (its 40-worker server on 8071) and wsecho on 19001.
struct Upstreams {
    _httptest: Process,
    _wsecho: Process,
}

fn upstreams() -> Upstreams {
    Upstreams {
        _httptest: Process::example("httptest", &[], &[8070, HTTPTEST]),
        _wsecho: Process::example("wsecho", &["19001", "4"], &[WSECHO]),
    }
}

/// A Debian system program, also where root's PATH is not set.
fn program(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("{name} is not installed (./run-tests installs it)"))
}

fn config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/proxy")
        .join(name)
}

/// A directory of its own for one proxy run, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("gs-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tmp")).expect("scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// nginx in the foreground, one process, with `tests/proxy/nginx.conf`.
fn nginx(scratch: &Scratch) -> Process {
    let mut cmd = Command::new(program("nginx"));
    cmd.arg("-p")
        .arg(&scratch.0)
        .arg("-e")
        .arg(scratch.0.join("error.log"))
        .arg("-c")
        .arg(config("nginx.conf"));
    Process::start("nginx", cmd, &[18080, 18081, 18082])
}

/// The lines nginx logged at error level or above.
fn nginx_errors(scratch: &Scratch) -> Vec<String> {
    std::fs::read_to_string(scratch.0.join("error.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// HAProxy in the foreground with `tests/proxy/haproxy.cfg`, logging each
/// request to stdout.
fn haproxy() -> Process {
    let mut cmd = Command::new(program("haproxy"));
    cmd.arg("-db").arg("-f").arg(config("haproxy.cfg"));
    Process::start("haproxy", cmd, &[18090, 18091])
}

/// What a run of clients saw: requests made and what went wrong.
#[derive(Default)]
struct Tally {
    requests: usize,
    wrong: Vec<String>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.requests += other.requests;
        self.wrong.extend(other.wrong);
    }

    fn assert_clean(&self, what: &str, at_least: usize) {
        assert!(
            self.wrong.is_empty(),
            "{what}: {} of {} wrong, first: {:?}",
            self.wrong.len(),
            self.requests,
            &self.wrong[..self.wrong.len().min(5)]
        );
        assert!(
            self.requests >= at_least,
            "{what}: only {} requests",
            self.requests
        );
    }
}

/// Runs `clients` threads of `one` until [`DRIVE`] passed or each made
/// [`MAX_REQUESTS`]; `one(client, i)` makes request `i` and says what was wrong.
/// `finish` ends each client's session.
fn drive<S>(
    clients: usize,
    setup: impl Fn(usize) -> S + Sync,
    one: impl Fn(&mut S, usize) -> Option<String> + Sync,
    finish: impl Fn(S) -> Option<String> + Sync,
) -> Tally {
    let end = Instant::now() + DRIVE;
    let mut total = Tally::default();
    thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let (setup, one, finish) = (&setup, &one, &finish);
                s.spawn(move || {
                    let mut state = setup(c);
                    let mut t = Tally::default();
                    while t.requests < MAX_REQUESTS && Instant::now() < end {
                        if let Some(w) = one(&mut state, t.requests) {
                            t.wrong.push(w);
                        }
                        t.requests += 1;
                    }
                    t.wrong.extend(finish(state));
                    t
                })
            })
            .collect();
        for h in handles {
            total.add(h.join().expect("client thread"));
        }
    });
    total
}

/// Keep-alive HTTP clients through the proxy on `port`: GETs, POSTs with
/// bodies of many sizes, and `/close`, whose answer ends the upstream
/// connection (httptest's `close_socket`).
fn drive_http(port: u16) -> Tally {
    let base = format!("http://127.0.0.1:{port}");
    drive(
        HTTP_CLIENTS,
        |_| -> ureq::Agent {
            ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(10)))
                .http_status_as_error(false)
                .build()
                .into()
        },
        |agent, i| {
            let (expect, result) = match i % 10 {
                3 => (204, agent.get(&format!("{base}/close")).call()),
                5 | 8 => {
                    let body = vec![b'p'; (i * 37) % 20_000];
                    (200, agent.post(&format!("{base}/post/{i}")).send(&body[..]))
                }
                _ => (200, agent.get(&format!("{base}/get/{i}")).call()),
            };
            let mut res = match result {
                Ok(r) => r,
                Err(e) => return Some(format!("request {i}: {e}")),
            };
            let status = res.status().as_u16();
            let body = res.body_mut().read_to_string().unwrap_or_default();
            let want = if expect == 200 {
                "replyfromport8071"
            } else {
                ""
            };
            (status != expect || body != want).then(|| format!("request {i}: {status} {body:?}"))
        },
        |_| None,
    )
}

/// WebSocket clients through the proxy on `port`, each echoing messages
/// of many sizes, text and binary, over one connection.
fn drive_ws(port: u16) -> Tally {
    drive(
        WS_CLIENTS,
        |c| {
            let url = format!("ws://127.0.0.1:{port}/client{c}");
            ws_util::ws_client(loopback(port), url)
        },
        |ws, i| {
            let len = (i * 131) % 70_000;
            let sent = if i % 2 == 0 {
                Message::text("é".repeat(len / 2))
            } else {
                Message::binary(vec![(i % 251) as u8; len])
            };
            if let Err(e) = ws.send(sent.clone()) {
                return Some(format!("message {i}: send: {e}"));
            }
            match ws.read() {
                Ok(got) if got == sent => None,
                Ok(got) => Some(format!("message {i}: echo of {} bytes", got.len())),
                Err(e) => Some(format!("message {i}: read: {e}")),
            }
        },
        |mut ws| {
            // The close handshake, answered by the server through the proxy.
            if let Err(e) = ws.close(None) {
                return Some(format!("close: {e}"));
            }
            loop {
                match ws.read() {
                    Ok(_) => continue,
                    Err(tungstenite::Error::ConnectionClosed) => return None,
                    Err(e) => return Some(format!("close: {e}")),
                }
            }
        },
    )
}

#[test]
fn behind_nginx() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let _up = upstreams();
    let scratch = Scratch::new("nginx");
    let _nginx = nginx(&scratch);
    let runs = [
        ("nginx, HTTP/1.0 upstream", drive_http(18080)),
        ("nginx, HTTP/1.1 keep-alive upstream", drive_http(18081)),
        ("nginx, WebSocket", drive_ws(18082)),
    ];
    let errors = nginx_errors(&scratch);
    assert!(errors.is_empty(), "nginx logged errors: {errors:#?}");
    for (what, tally) in runs {
        tally.assert_clean(what, 100);
    }
}

#[test]
fn behind_haproxy() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let _up = upstreams();
    let haproxy = haproxy();
    drive_http(18090).assert_clean("HAProxy, keep-alive", 100);
    drive_ws(18091).assert_clean("HAProxy, WebSocket", 100);
    // Each log line: "<status> <termination state> <method> <uri>"; a
    // WebSocket is logged (101) when its tunnel ends. A status the proxy
    // made up (5xx, or -1: no answer) or a termination that began at the
    // server side ('S', 's') is an error.
    let mut lines = Vec::new();
    let tunnels_logged = support::wait_until(Duration::from_secs(10), || {
        lines.extend(haproxy.lines_so_far());
        lines.iter().filter(|l| l.starts_with("101 ")).count() >= WS_CLIENTS
    });
    assert!(tunnels_logged, "HAProxy logged the WebSockets: {lines:#?}");
    let errors: Vec<&String> = lines
        .iter()
        .filter(|l| {
            let mut f = l.split(' ');
            let status: i32 = f.next().and_then(|s| s.parse().ok()).unwrap_or(-1);
            let state = f.next().unwrap_or("");
            !((200..300).contains(&status) || status == 101) || state.starts_with(['S', 's'])
        })
        .collect();
    assert!(errors.is_empty(), "HAProxy logged errors: {errors:#?}");
}

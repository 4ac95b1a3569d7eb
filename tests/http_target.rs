//! The request target's parts, from real clients: the decoded path, the
//! query and its parameters, in both handler shapes; and `header(name)`
//! for a field the server does not keep, which is `None` and logged.

#[macro_use]
mod support;

use guildenstern::prelude::*;
use std::process::Command;
use std::sync::Mutex;
use support::*;

on_both_dispatchers!(plain_accessors_split_the_target, context_accessors_borrow);

/// Answers the decoded path, whether it is `/café/a+b`, the raw query,
/// `q`, and every pair.
fn describe() {
    let pairs: Vec<String> = query_pairs()
        .into_iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    reply(format!(
        "{}|{}|{:?}|{:?}|{}",
        path(),
        is_path("/café/a+b"),
        query(),
        query_value("q"),
        pairs.join(",")
    ));
}

fn plain_accessors_split_the_target(d: Dispatcher) {
    let s = start_on(d, HttpServer::new(describe));
    let out = Command::new("curl")
        .args(["-s", "--noproxy", "*"])
        .arg(s.url("/caf%C3%A9/a+b?q=rust+http&page=2&q=x&e=%C3%A9"))
        .output()
        .expect("curl runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/café/a+b|true|Some(\"q=rust+http&page=2&q=x&e=%C3%A9\")|Some(\"rust http\")|q=rust http,page=2,q=x,e=é"
    );
    let r = s.connect().request(get("/plain"));
    assert_eq!(r.text(), "/plain|false|None|None|");
}

fn context_accessors_borrow(d: Dispatcher) {
    let s = start_on(
        d,
        HttpServer::with_context(|cx: &mut Http| {
            let answer = format!(
                "{} {:?} {}",
                cx.path(),
                cx.query_value("name"),
                cx.is_path("/a/b")
            );
            // The same body types as the free `reply_with`: a String here.
            cx.reply_with(200, answer, &[("Content-Type", "text/plain")]);
        }),
    );
    let r = s.connect().request(get("/a%2Fb?name=J%C3%BCrgen"));
    assert_eq!(r.text(), "/a/b Some(\"Jürgen\") true");
}

/// Debug records of the framework, kept for the test to read.
struct Recorder(Mutex<Vec<String>>);

impl log::Log for Recorder {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target() == "guildenstern"
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            self.0.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

static RECORDER: Recorder = Recorder(Mutex::new(Vec::new()));

#[test]
fn an_undeclared_header_is_none_and_logged_once() {
    log::set_logger(&RECORDER).unwrap();
    log::set_max_level(log::LevelFilter::Debug);
    let s = TestServer::start(
        HttpServer::new(|| {
            let kept = header("x-kept");
            let other = header("Origin");
            reply(format!("{kept:?} {other:?}"));
        })
        .headers(&["x-kept"])
        .threads(1),
    );
    let mut c = s.connect();
    for _ in 0..3 {
        let r = c.request("GET / HTTP/1.1\r\nHost: t\r\nX-Kept: 1\r\nOrigin: o\r\n\r\n");
        assert_eq!(r.text(), "Some(\"1\") None");
    }
    let logged: Vec<String> = RECORDER
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("header("))
        .cloned()
        .collect();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(logged[0].contains("\"Origin\"") && logged[0].contains("`headers`"));
}

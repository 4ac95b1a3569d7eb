//! The examples behave as documented: each is started as a child process
//! (cargo builds the examples before the tests), driven over loopback with a
//! raw client and curl, and ended by its PID. They use fixed ports, so these
//! tests take turns.

mod support;

use std::io::Read;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;
use support::process::{loopback as addr, Process};
use support::{connect_with_deadline, exchange, get, Client};

static TURN: Mutex<()> = Mutex::new(());

#[test]
fn helloworld_answers_hello_world() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let _ex = Process::example("helloworld", &[], &[8080]);
    let out = Command::new("curl")
        .args(["-s", "http://127.0.0.1:8080/"])
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello world");
}

#[test]
fn getandpost_prints_say_and_redirects_to_origin() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut ex = Process::example("getandpost", &[], &[5050, 5051]);
    let form = exchange(addr(5050), get("/")).expect("form");
    assert_eq!(form.status, 200);
    assert!(form.text().contains(r#"action="http://localhost:5051""#));
    let body = "say=Hello+from+a+test%21";
    let post = format!(
        "POST / HTTP/1.1\r\nHost: localhost:5051\r\nOrigin: http://localhost:5050\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = exchange(addr(5051), post).expect("answer to the post");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("http://localhost:5050"));
    assert_eq!(ex.expect_line("Hello from"), "Hello from a test!");
}

#[test]
fn httptest_replies_closes_and_stops() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut ex = Process::example("httptest", &[], &[8070, 8071]);
    for (port, method) in [(8070, "GET"), (8071, "DELETE"), (8071, "PUT")] {
        let req = format!("{method} /anything HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        let r = exchange(addr(port), req).expect("reply");
        assert_eq!(r.text(), format!("replyfromport{port}"));
    }
    let mut c = Client::connect(addr(8071));
    let r = c.request(get("/close"));
    assert_eq!(r.status, 204);
    assert!(c.is_closed_by_server());
    let line = ex.expect_line("/close requested");
    assert!(line.contains("close called"), "{line}");
    let r = exchange(addr(8070), get("/stop")).expect("stop reply");
    assert_eq!(r.text(), "stop");
    let status = ex.wait_exit().expect("httptest ends after /stop");
    assert!(status.success());
}

#[test]
fn replychunked_streams_five_chunks() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let _ex = Process::example("replychunked", &[], &[5050]);
    let page = exchange(addr(5050), get("/")).expect("page");
    assert!(page.text().contains(r#"href="/download""#));
    let mut c = connect_with_deadline(addr(5050), Duration::from_secs(10));
    std::io::Write::write_all(
        &mut c,
        b"GET /download HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).unwrap();
    assert!(raw.contains("Transfer-Encoding: chunked\r\n"), "{raw}");
    let body = exchange(addr(5050), get("/download"))
        .expect("download")
        .text();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 5, "{body}");
    for (i, l) in lines.iter().enumerate() {
        assert!(l.starts_with(&format!("chunk {}: ", i + 1)), "{l}");
    }
}

#[test]
fn streamingpost_reads_the_big_field_in_pieces() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut ex = Process::example("streamingpost", &[], &[5050, 5051]);
    let form = exchange(addr(5050), get("/")).expect("form");
    assert!(form.body.len() > 240_000);
    let file = std::env::temp_dir().join(format!("gs-streamingpost-{}.txt", std::process::id()));
    std::fs::write(&file, format!("data={}", "x".repeat(240_000))).unwrap();
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-H",
            "Origin: http://localhost:5050",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg("http://127.0.0.1:5051/")
        .output()
        .expect("curl runs");
    let _ = std::fs::remove_file(&file);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "303 http://localhost:5050/"
    );
    let line = ex.expect_line("received");
    assert!(line.contains("received 240005 bytes"), "{line}");
    assert!(line.ends_with("ok"), "{line}");
}

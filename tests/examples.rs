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

#[test]
fn multipart_prints_each_part_and_answers_a_summary() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut ex = Process::example("multipart", &[], &[5050]);
    let form = exchange(addr(5050), get("/")).expect("form");
    assert_eq!(form.status, 200);
    let page = form.text();
    assert!(page.contains(r#"enctype="multipart/form-data""#), "{page}");
    assert!(page.contains(r#"type="file""#), "{page}");
    // A binary file with CRLFs and curl-boundary-like bytes in it.
    let mut data: Vec<u8> = (0..=255u8).cycle().take(50_000).collect();
    data.extend_from_slice(b"\r\n------------------------\r\n--\r\n");
    let file = std::env::temp_dir().join(format!("gs-multipart-{}.bin", std::process::id()));
    std::fs::write(&file, &data).unwrap();
    let out = Command::new("curl")
        .args(["-s", "-F", "title=from curl", "-F"])
        .arg(format!("upload=@{};filename=photo.bin", file.display()))
        .arg("http://127.0.0.1:5050/")
        .output()
        .expect("curl runs");
    let _ = std::fs::remove_file(&file);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("<tr><td>title</td><td></td><td>9</td></tr>"),
        "{summary}"
    );
    let row = format!(
        "<tr><td>upload</td><td>photo.bin</td><td>{}</td></tr>",
        data.len()
    );
    assert!(summary.contains(&row), "{summary}");
    assert_eq!(ex.expect_line("part \"title\""), "part \"title\": 9 bytes");
    assert_eq!(
        ex.expect_line("part \"upload\""),
        format!("part \"upload\" file \"photo.bin\": {} bytes", data.len())
    );
    assert_eq!(
        ex.expect_line("upload complete"),
        "upload complete: 2 parts"
    );
    // A post that is not multipart gets 415, and the server says why.
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-d", "a=1"])
        .arg("http://127.0.0.1:5050/")
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "415");
    let line = ex.expect_line("upload refused");
    assert!(line.contains("415"), "{line}");
}

#[test]
fn wsclient_makes_its_round_trips_with_its_own_server_and_with_wsecho() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut ex = Process::example("wsclient", &["50", "5000"], &[]);
    assert_eq!(
        ex.expect_line("clients connected"),
        "50 clients connected to ws://127.0.0.1:9002/"
    );
    let line = ex.expect_line("round trips by");
    assert!(
        line.starts_with("5000 round trips by 50 clients in "),
        "{line}"
    );
    assert!(ex.wait_exit().expect("wsclient ends").success());

    let _echo = Process::example("wsecho", &["9001"], &[9001]);
    let mut ex = Process::example("wsclient", &["20", "1000", "ws://127.0.0.1:9001/"], &[]);
    let line = ex.expect_line("round trips by");
    assert!(
        line.starts_with("1000 round trips by 20 clients in "),
        "{line}"
    );
    assert!(ex.wait_exit().expect("wsclient ends").success());
}

#[test]
fn wsmulticast_every_client_counts_every_message() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut ex = Process::example("wsmulticast", &["200", "25"], &[]);
    assert_eq!(ex.expect_line("clients connected"), "200 clients connected");
    assert_eq!(
        ex.expect_line("every client"),
        "every client got all 25 messages"
    );
    assert!(ex.wait_exit().expect("wsmulticast ends").success());
}

#[test]
fn websocketdiscussion_relays_to_the_others_and_the_bots_answer() {
    use tungstenite::Message;
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut ex = Process::example("websocketdiscussion", &["3"], &[5050, 5051]);
    for i in 1..=3 {
        ex.expect_line(&format!("bot{i} joined"));
    }
    let page = exchange(addr(5050), get("/")).expect("page");
    assert!(page.text().contains("new WebSocket("), "{}", page.text());
    let join = |name: &str| {
        let stream = connect_with_deadline(addr(5051), Duration::from_secs(10));
        let (ws, _) = tungstenite::client(format!("ws://127.0.0.1:5051/?name={name}"), stream)
            .expect("the discussion accepts");
        ws
    };
    // The next text message that is no notice.
    let said = |ws: &mut tungstenite::WebSocket<std::net::TcpStream>| loop {
        match ws.read().expect("a message") {
            Message::Text(t) if !t.starts_with("* ") => return t.to_string(),
            _ => {}
        }
    };
    let mut ann = join("ann");
    ex.expect_line("ann joined");
    let mut bob = join("bob");
    ex.expect_line("bob joined");
    ann.send(Message::Text("hello bob".into())).unwrap();
    assert_eq!(said(&mut bob), "ann: hello bob");
    bob.send(Message::Text("hello ann".into())).unwrap();
    assert_eq!(said(&mut ann), "bob: hello ann");
    // Three bots answer; both hear them.
    ann.send(Message::Text("bots?".into())).unwrap();
    assert_eq!(said(&mut bob), "ann: bots?");
    for ws in [&mut ann, &mut bob] {
        let mut heard: Vec<String> = (0..3).map(|_| said(ws)).collect();
        heard.sort();
        assert_eq!(
            heard,
            [
                "bot1: bot1 is here",
                "bot2: bot2 is here",
                "bot3: bot3 is here"
            ]
        );
    }
    // A name that is not plain becomes a guest's.
    let _guest = join("%3Cscript%3E");
    assert!(ex.expect_line(" joined").starts_with("guest-"));
    ann.close(None).unwrap();
    ex.expect_line("ann left");
}

#[test]
fn broadcast_relays_every_message_to_every_client() {
    use tungstenite::Message;
    type Socket = tungstenite::WebSocket<std::net::TcpStream>;
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let _ex = Process::example("broadcast", &[], &[9004]);
    let join = || {
        let stream = connect_with_deadline(addr(9004), Duration::from_secs(10));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let (ws, _) = tungstenite::client("ws://127.0.0.1:9004/", stream).expect("upgrade");
        ws
    };
    // `sender` sends `msg`; every client in `all` gets it next.
    let relay = |all: &mut [Socket], sender: usize, msg: Message| {
        all[sender].send(msg.clone()).unwrap();
        for ws in all.iter_mut() {
            assert_eq!(ws.read().expect("the relayed message"), msg);
        }
    };
    // Each client joins and says hello: once its own hello comes back it
    // is among the receivers, and the clients before it hear it too.
    let mut all: Vec<Socket> = Vec::new();
    for i in 0..3 {
        all.push(join());
        relay(&mut all, i, Message::Text(format!("hello from {i}").into()));
    }
    for round in 0..3 {
        for i in 0..3 {
            relay(
                &mut all,
                i,
                Message::Text(format!("{round}: text from {i}").into()),
            );
            relay(
                &mut all,
                i,
                Message::Binary(vec![i as u8, round, 0, 255].into()),
            );
        }
    }
    for ws in &mut all {
        ws.close(None).unwrap();
    }
}

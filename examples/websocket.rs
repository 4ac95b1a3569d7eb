//! A page for a browser that talks to a WebSocket server.
//!
//! Port 5050 serves the page; its script opens a WebSocket to port 5051 on
//! the host the page came from. The buttons:
//!
//! - "say hallo": the server answers with 100 numbered messages
//!   ("hallo 1" … "hallo 100"), each multicast to every connected page;
//! - "close": the page closes its socket with code 4321, and the server's
//!   close callback prints `socket N closed with code 4321`;
//! - "shutdown": the server sends close 1001 to every page, then shuts both
//!   servers down and the process exits.
//!
//! `cargo run --example websocket`, then open http://localhost:5050/ in a
//! browser (or several).

use guildenstern::prelude::*;
use guildenstern::ws::{multicast_text, send_close};
use std::time::Duration;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GuildenStern WebSocket example</title>
<style>
  body { font-family: sans-serif; margin: 2em; }
  #status { font-weight: bold; }
  #status[data-state="open"] { color: green; }
  #status[data-state="closed"] { color: firebrick; }
  #messages { columns: 5; }
</style>
</head>
<body>
<h1>GuildenStern WebSocket example</h1>
<p>Status: <span id="status" data-state="connecting">connecting…</span></p>
<p>
  <button id="hallo">say hallo</button>
  <button id="close">close</button>
  <button id="shutdown">shutdown</button>
</p>
<p>Received: <span id="count">0</span> messages</p>
<ol id="messages"></ol>
<script>
  const status = document.getElementById("status");
  const list = document.getElementById("messages");
  const count = document.getElementById("count");
  let received = 0;
  // The WebSocket server is on the same host as this page, port 5051.
  const ws = new WebSocket("ws://" + location.hostname + ":5051/");
  ws.onopen = () => {
    status.textContent = "open";
    status.dataset.state = "open";
  };
  ws.onmessage = (event) => {
    received += 1;
    const item = document.createElement("li");
    item.id = "msg-" + received;
    item.className = "message";
    item.textContent = event.data;
    list.appendChild(item);
    count.textContent = String(received);
  };
  ws.onclose = (event) => {
    status.textContent = "closed with code " + event.code;
    status.dataset.state = "closed";
    status.dataset.code = String(event.code);
  };
  ws.onerror = () => {
    status.dataset.error = "true";
  };
  document.getElementById("hallo").onclick = () => ws.send("hallo");
  document.getElementById("close").onclick = () => ws.close(4321, "closed by the page");
  document.getElementById("shutdown").onclick = () => ws.send("shutdown");
</script>
</body>
</html>
"#;

#[http_server(port = 5050, name = "page")]
fn page() {
    if is_uri("/") {
        reply_with(200, PAGE, &[("Content-Type", "text/html; charset=utf-8")]);
    } else {
        reply_code(404);
    }
}

#[ws_server(port = 5051, name = "websocket", after_upgrade = upgraded, on_close = closed)]
fn websocket() {
    let server = server();
    if is_message("hallo") {
        // Every open page gets every message; a page too slow to take one
        // within a second is closed by the multicast.
        let sockets = server.sockets();
        for i in 1..=100 {
            let text = format!("hallo {i}");
            multicast_text(&server, &sockets, &text, Duration::from_secs(1));
        }
    } else if is_message("shutdown") {
        println!("shutdown requested by socket {}", thesocket());
        for socket in server.sockets() {
            if let Err(e) = send_close(&server, socket, 1001, "server shutting down") {
                println!("socket {socket}: close not sent: {e}");
            }
        }
        guildenstern::shutdown();
    } else {
        println!("socket {} sent {:?}", thesocket(), message_text());
    }
}

fn upgraded() {
    println!("socket {} opened", thesocket());
}

fn closed(_server: &Server, socket: SocketId, cause: CloseCause, code: Option<u16>, msg: &str) {
    match code {
        Some(code) => println!("socket {socket} closed with code {code} ({cause}) {msg}"),
        None => println!("socket {socket} closed without a code ({cause}) {msg}"),
    }
}

fn main() {
    guildenstern_examples::init_logging();
    println!("open http://localhost:5050/");
    guildenstern::serve![page, websocket];
    println!("websocket example stopped");
}

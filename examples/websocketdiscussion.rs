//! A discussion: a chat page where what one browser tab sends reaches all
//! the others, and a few bots (a clientele) taking part.
//!
//! Port 5050 serves the page; its script opens a WebSocket to port 5051
//! with the name the page was given (`/?name=ann`; a guest name
//! otherwise). The server keeps each connection's name as its data (set
//! when the upgrade request arrives), prefixes every message with it and
//! multicasts it to every other connection, and announces who joins and
//! leaves. Each bot answers a message that asks `bots?`.
//!
//! `cargo run --example websocketdiscussion [bots]` (default 10 bots),
//! then open http://localhost:5050/?name=ann in a browser tab and
//! http://localhost:5050/?name=bob in another.

use guildenstern::prelude::*;
use guildenstern::ws::{self, multicast_text, UpgradeAnswer, UpgradeRequest};
use guildenstern::Startable;
use std::time::Duration;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GuildenStern discussion</title>
<style>
  body { font-family: sans-serif; margin: 2em; }
  #status[data-state="open"] { color: green; }
  #status[data-state="closed"] { color: firebrick; }
  #messages { list-style: none; padding: 0; }
  .mine { color: steelblue; }
  .notice { color: gray; font-style: italic; }
</style>
</head>
<body>
<h1>Discussion</h1>
<p>You are <b id="me"></b>. Status: <span id="status" data-state="connecting">connecting…</span></p>
<form id="say">
  <input id="text" autocomplete="off" placeholder="say something (ask: bots?)" size="40">
  <button id="send" type="submit">send</button>
</form>
<ul id="messages"></ul>
<script>
  const params = new URLSearchParams(location.search);
  const me = params.get("name") || "guest-" + Math.floor(Math.random() * 10000);
  document.getElementById("me").textContent = me;
  const status = document.getElementById("status");
  const list = document.getElementById("messages");
  const text = document.getElementById("text");
  const show = (line, kind) => {
    const item = document.createElement("li");
    item.className = "message " + kind;
    item.textContent = line;
    list.appendChild(item);
  };
  const ws = new WebSocket("ws://" + location.hostname + ":5051/?name=" + encodeURIComponent(me));
  ws.onopen = () => { status.textContent = "open"; status.dataset.state = "open"; };
  ws.onmessage = (event) => show(event.data, event.data.startsWith("* ") ? "notice" : "theirs");
  ws.onclose = (event) => {
    status.textContent = "closed with code " + event.code;
    status.dataset.state = "closed";
  };
  document.getElementById("say").onsubmit = (event) => {
    event.preventDefault();
    if (text.value && ws.readyState === WebSocket.OPEN) {
      ws.send(text.value);
      show(me + ": " + text.value, "mine");
      text.value = "";
    }
  };
</script>
</body>
</html>
"#;

#[http_server(port = 5050, name = "page")]
fn page() {
    if path() == "/" {
        reply_with(200, PAGE, &[("Content-Type", "text/html; charset=utf-8")]);
    } else {
        reply_code(404);
    }
}

/// A participant's name: the data of its connection.
struct Name(String);

/// The name in `?name=…` if it is a plain one, else a guest name.
fn name_in(uri: &str, socket: SocketId) -> String {
    let asked = uri
        .split_once('?')
        .into_iter()
        .flat_map(|(_, query)| query.split('&'))
        .find_map(|pair| pair.strip_prefix("name="))
        .unwrap_or("");
    let plain = asked.len() <= 20
        && !asked.is_empty()
        && asked
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        asked.to_owned()
    } else {
        format!("guest-{}", socket.as_u64() & 0xffff)
    }
}

/// The upgrade request names the participant: kept as the connection's data.
fn join(req: &UpgradeRequest<'_>) -> UpgradeAnswer {
    req.set_socket_data(Name(name_in(req.uri(), req.socket())));
    UpgradeAnswer::Accept
}

fn my_name() -> String {
    ws::with_socket_data(|n: &mut Name| n.0.clone()).unwrap_or_default()
}

/// Sends `line` to every participant but `except`.
fn to_others(server: &Server, except: SocketId, line: &str) {
    let others: Vec<SocketId> = server
        .sockets()
        .into_iter()
        .filter(|&s| s != except)
        .collect();
    multicast_text(server, &others, line, Duration::from_secs(1));
}

fn joined() {
    let name = my_name();
    println!("{name} joined");
    to_others(&server(), thesocket(), &format!("* {name} joined"));
}

fn left(server: &Server, socket: SocketId, _: CloseCause, _: Option<u16>, _: &str) {
    let name = my_name();
    println!("{name} left");
    to_others(server, socket, &format!("* {name} left"));
}

#[ws_receive(
    port = 5051,
    name = "discussion",
    on_upgrade = join,
    after_upgrade = joined,
    on_close = left
)]
fn discussion(cx: &mut Ws) {
    let name = cx
        .with_socket_data(|n: &mut Name| n.0.clone())
        .unwrap_or_default();
    let line = format!("{name}: {}", cx.text());
    println!("{line}");
    to_others(cx.server(), cx.socket(), &line);
}

/// A bot answers whoever asks for bots.
#[ws_client(name = "bots", threads = 1)]
fn bot(cx: &mut Ws) {
    if cx.text().contains("bots?") && !cx.text().starts_with("* ") {
        let name = cx
            .with_socket_data(|n: &mut Name| n.0.clone())
            .unwrap_or_default();
        let _ = cx.reply_text(&format!("{name} is here"));
    }
}

/// The bots: a clientele that `serve!` starts after the discussion (the
/// list's order), each bot joining under its own name. `serve!` waits for
/// it as for the servers, and a shutdown stops it with them.
struct Bots(usize);

impl Startable for Bots {
    fn start_server(self: Box<Self>) -> Result<Server, guildenstern::Error> {
        let bots = bot().start()?;
        for i in 1..=self.0 {
            let name = format!("bot{i}");
            let url = format!("ws://127.0.0.1:5051/?name={name}");
            if let Err(e) = bots.connect_with_data(&url, Name(name)) {
                eprintln!("websocketdiscussion: a bot cannot join: {e}");
            }
        }
        Ok(bots.server().clone())
    }
}

fn main() {
    guildenstern_examples::init_logging();
    let bots: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    println!("open http://localhost:5050/?name=ann and http://localhost:5050/?name=bob");
    guildenstern::serve![page, discussion, move || Bots(bots)];
}

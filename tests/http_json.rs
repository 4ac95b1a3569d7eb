//! JSON answers (the `json` feature) over loopback: a serde value in both
//! handler shapes, read back by a real client; a value serde cannot write
//! sends nothing, and the handler's own answer goes out instead.

#[macro_use]
mod support;

use guildenstern::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use support::*;

on_both_dispatchers!(
    a_value_is_answered_as_json,
    an_unserializable_value_sends_nothing
);

#[derive(Serialize)]
struct Greeting<'a> {
    to: &'a str,
    times: u32,
    tags: Vec<&'a str>,
}

fn a_value_is_answered_as_json(d: Dispatcher) {
    let plain = start_on(
        d,
        HttpServer::new(|| {
            let g = Greeting {
                to: "wörld",
                times: 3,
                tags: vec!["a", "\"b\""],
            };
            reply_json(201, &g).unwrap();
        }),
    );
    let r = plain.connect().request(get("/"));
    assert_eq!(r.status, 201);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.text(), r#"{"to":"wörld","times":3,"tags":["a","\"b\""]}"#);

    let context = start_on(
        d,
        HttpServer::with_context(|cx: &mut Http| {
            let n = cx.query_value("n").and_then(|n| n.parse::<u32>().ok());
            cx.reply_json(200, &[n, None]).unwrap();
        }),
    );
    let mut c = context.connect();
    assert_eq!(c.request(get("/?n=7")).text(), "[7,null]");
    // The worker's buffer is reused: a shorter answer is not followed by
    // the rest of the longer one.
    assert_eq!(c.request(get("/?n=x")).text(), "[null,null]");
    assert_eq!(c.request(get("/?n=1")).text(), "[1,null]");
}

fn an_unserializable_value_sends_nothing(d: Dispatcher) {
    let srv = start_on(
        d,
        HttpServer::new(|| {
            // JSON object keys must be strings.
            let bad: HashMap<(u8, u8), u8> = HashMap::from([((1, 2), 3)]);
            match reply_json(200, &bad) {
                Ok(()) => {}
                Err(e) => reply_with(500, format!("cannot answer: {e}"), &[]),
            }
        }),
    );
    let r = srv.connect().request(get("/"));
    assert_eq!(r.status, 500);
    assert!(r.text().starts_with("cannot answer: "), "{}", r.text());
}

//! Two servers, two dispatchers: a form on port 5050 (portable dispatcher,
//! no bodies) posts to port 5051 (epoll dispatcher, 20 threads, reading only
//! the `origin` header), which prints the posted `say` field and redirects
//! the browser back with 303.
//!
//! `cargo run --example getandpost`, then open http://localhost:5050/.

use guildenstern::prelude::*;

const FORM: &str = r#"<!doctype html><title>GuildenStern example</title><body>
<form action="http://localhost:5051" method="post" accept-charset="utf-8">
<input name="say" value="Hi"><button>Send</button></form></body>"#;

#[http_server(port = 5050, content = NoBody, dispatcher = Portable, name = "get")]
fn get_form() {
    reply_with(200, FORM, &[("Content-Type", "text/html; charset=utf-8")]);
}

#[http_server(
    port = 5051,
    content = Compact,
    dispatcher = Epoll,
    threads = 20,
    headers = ["origin"],
    name = "post"
)]
fn post_form(cx: &mut Http) {
    let (req, res) = cx.parts();
    match req.form_value("say") {
        Some(say) => println!("{say}"),
        None => println!("(no say field)"),
    }
    let back = req.header("origin").unwrap_or("http://localhost:5050");
    res.reply_with(303, b"", &[("Location", back)]);
}

fn main() {
    guildenstern_examples::init_logging();
    println!("open http://localhost:5050/");
    guildenstern::serve![get_form, post_form];
}

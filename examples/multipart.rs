//! Multipart uploads: port 5050 serves a form with text fields and a file
//! input (`enctype="multipart/form-data"`) that posts to itself. The server
//! reads the upload while it streams in, in constant memory whatever the
//! files' size, prints each part's name, file name and size, and answers
//! with a summary page.
//!
//! `cargo run --example multipart`, then open http://localhost:5050/.

use guildenstern::multipart::{Event, MultipartError};
use guildenstern::prelude::*;

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>multipart upload</title>
<form method="post" action="/" enctype="multipart/form-data">
<p><label>title <input name="title" value="holiday"></label></p>
<p><label>comment <textarea name="comment">a few words</textarea></label></p>
<p><label>files <input type="file" name="upload" multiple></label></p>
<p><button>upload</button></p>
</form>
"#;

const HTML: (&str, &str) = ("Content-Type", "text/html; charset=utf-8");

/// What the server learned of one part.
struct Received {
    name: String,
    filename: Option<String>,
    size: u64,
}

#[http_server(port = 5050, content = Streaming, name = "multipart")]
fn upload() {
    if !is_method("POST") {
        reply_with(200, PAGE, &[HTML]);
        return;
    }
    match receive() {
        Ok(parts) => reply_with(200, summary(&parts), &[HTML]),
        Err(e) => {
            println!("upload refused with {}: {e}", e.status());
            reply_with(e.status(), e.to_string(), &[("Content-Type", "text/plain")]);
        }
    }
}

/// Reads the upload part by part; only sizes are kept, never the data.
fn receive() -> Result<Vec<Received>, MultipartError> {
    let mut mp = multipart()?;
    let mut parts = Vec::new();
    while let Some(event) = mp.next_event()? {
        match event {
            Event::Part(part) => parts.push(Received {
                name: part.name().into_owned(),
                filename: part.filename().map(|f| f.into_owned()),
                size: 0,
            }),
            Event::Data(piece) => {
                if let Some(p) = parts.last_mut() {
                    p.size += piece.len() as u64;
                }
            }
            Event::PartEnd => {
                if let Some(p) = parts.last() {
                    match &p.filename {
                        Some(f) => println!("part {:?} file {f:?}: {} bytes", p.name, p.size),
                        None => println!("part {:?}: {} bytes", p.name, p.size),
                    }
                }
            }
        }
    }
    println!("upload complete: {} parts", parts.len());
    Ok(parts)
}

fn summary(parts: &[Received]) -> String {
    let mut page = String::from(
        "<!doctype html>\n<meta charset=\"utf-8\"><title>upload received</title>\n\
         <h1>upload received</h1>\n<table id=\"parts\">\n\
         <tr><th>name</th><th>file name</th><th>bytes</th></tr>\n",
    );
    for p in parts {
        page += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&p.name),
            escape(p.filename.as_deref().unwrap_or("")),
            p.size
        );
    }
    page += "</table>\n<p><a href=\"/\">upload more</a></p>\n";
    page
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn main() {
    guildenstern_examples::init_logging();
    println!("open http://localhost:5050/");
    guildenstern::serve![upload];
}

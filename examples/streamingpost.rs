//! Streaming request bodies: port 5050 serves a form whose hidden field
//! carries about 240 KB; the Streaming server on port 5051 reads the post
//! piece by piece (constant memory), checks its length and redirects back.
//!
//! `cargo run --example streamingpost`, then open http://localhost:5050/.

use guildenstern::prelude::*;
use std::sync::OnceLock;

/// Bytes of the hidden field's value.
const FIELD_BYTES: usize = 240_000;

fn page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        format!(
            r#"<!doctype html><title>streaming post</title>
<form action="http://localhost:5051" method="post">
<input type="hidden" name="data" value="{}"><button>post {} bytes</button></form>"#,
            "x".repeat(FIELD_BYTES),
            FIELD_BYTES
        )
    })
}

#[http_server(port = 5050, name = "form")]
fn form() {
    reply_with(200, page(), &[("Content-Type", "text/html")]);
}

#[http_server(port = 5051, content = Streaming, headers = ["origin"], name = "upload")]
fn upload() {
    let mut piece = [0u8; 16 * 1024];
    let (mut total, mut pieces) = (0usize, 0usize);
    loop {
        match read_body(&mut piece) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                pieces += 1;
            }
            Err(e) => {
                println!("upload failed after {total} bytes: {e}");
                reply_code(400);
                return;
            }
        }
    }
    // "data=" and the field value; a browser may encode nothing else here.
    let expected = "data=".len() + FIELD_BYTES;
    println!(
        "received {total} bytes in {pieces} pieces (expected {expected}): {}",
        if total == expected { "ok" } else { "MISMATCH" }
    );
    let back = header("origin").unwrap_or_else(|| "http://localhost:5050".into());
    reply_with(303, "", &[("Location", &back)]);
}

fn main() {
    guildenstern_examples::init_logging();
    println!("open http://localhost:5050/");
    guildenstern::serve![form, upload];
}

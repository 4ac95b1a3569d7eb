//! actix-web hello world for the comparison benchmarks: 127.0.0.1:3002,
//! "hello world" to every request.
//!
//! `actix-hello [WORKERS]`: WORKERS actix worker threads (default 2, one
//! per CPU of the benchmark machine). SIGTERM stops it within a second.

use actix_web::{web, App, HttpServer};

async fn hello() -> &'static str {
    "hello world"
}

fn main() -> std::io::Result<()> {
    let workers = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2);
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(|| App::new().default_service(web::to(hello)))
            .workers(workers)
            .shutdown_timeout(1)
            .bind(("127.0.0.1", 3002))?;
        println!("actix-hello on http://127.0.0.1:3002/");
        server.run().await
    })
}

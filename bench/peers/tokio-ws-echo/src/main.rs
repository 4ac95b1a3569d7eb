//! tokio-tungstenite WebSocket echo server for the comparison benchmarks:
//! every text and binary message comes back as it was sent.
//!
//! `tokio-ws-echo [PORT [WORKERS]]`: listens on 127.0.0.1:PORT (default
//! 9002) with tokio's multi-thread runtime and WORKERS worker threads
//! (default 2, one per CPU of the benchmark machine).

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};

async fn echo(stream: TcpStream) {
    stream.set_nodelay(true).ok();
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        // Pings are answered by tungstenite itself; a close ends the stream.
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            return;
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|a| a.parse().ok()).unwrap_or(9002);
    let workers = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        println!("tokio-ws-echo on 127.0.0.1:{port}");
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(echo(stream));
        }
    });
}

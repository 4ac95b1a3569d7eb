//! tokio-tungstenite broadcast relay for the comparison benchmarks: every
//! text and binary message a client sends goes to every connected client,
//! the sender included (the peer of examples/broadcast).
//!
//! `tokio-ws-broadcast [PORT [WORKERS]]`: listens on 127.0.0.1:PORT
//! (default 9005) with tokio's multi-thread runtime and WORKERS worker
//! threads (default 2, one per CPU of the benchmark machine). One
//! `tokio::sync::broadcast` channel: each connection's task sends what it
//! receives into the channel and writes what the channel brings to its
//! client. A client that falls more than CAPACITY messages behind is
//! closed (it would miss messages otherwise).

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_tungstenite::tungstenite::Message;

const CAPACITY: usize = 4096;

async fn relay(stream: TcpStream, hub: broadcast::Sender<Message>) {
    stream.set_nodelay(true).ok();
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let mut relayed = hub.subscribe();
    let (mut sink, mut source) = ws.split();
    loop {
        tokio::select! {
            received = source.next() => match received {
                // Messages are reference-counted: the channel clones a pointer.
                Some(Ok(msg)) if msg.is_text() || msg.is_binary() => {
                    let _ = hub.send(msg);
                }
                // Pings are answered by tungstenite itself; a close ends the stream.
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            next = relayed.recv() => match next {
                Ok(msg) => {
                    if sink.send(msg).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_) | RecvError::Closed) => return,
            },
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|a| a.parse().ok()).unwrap_or(9005);
    let workers = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let (hub, _) = broadcast::channel(CAPACITY);
        println!("tokio-ws-broadcast on 127.0.0.1:{port}");
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(relay(stream, hub.clone()));
        }
    });
}

//! Sending from any thread: a thread that is not a worker writes to a
//! connection while the server echoes the client's own messages (frames
//! never interleave), and a multicast to 1,000 connections gives up on the
//! few whose clients stopped reading without holding up the others.

#[macro_use]
mod support;
mod ws_util;

use guildenstern::prelude::*;
use guildenstern::ws::{
    multicast_binary, multicast_text, send_binary, send_close, send_ping, send_text, SendError,
};
use std::net::TcpStream;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};
use ws_util::*;

on_both_dispatchers!(sends_from_another_thread_never_interleave_with_echoes);

/// A message that says who sent it, its number and its own length, so a
/// reader can check it whole: `tag-n-len-` then `len` filler bytes.
fn numbered(tag: &str, n: usize, len: usize) -> String {
    let filler = char::from(b'a' + (n % 26) as u8);
    format!("{tag}-{n}-{len}-{}", filler.to_string().repeat(len))
}

/// Checks a message made by [`numbered`]; returns its tag and number.
fn check_numbered(m: &[u8]) -> (String, usize) {
    let text = std::str::from_utf8(m).expect("UTF-8");
    let mut parts = text.splitn(4, '-');
    let tag = parts.next().unwrap().to_owned();
    let n: usize = parts.next().unwrap().parse().unwrap();
    let len: usize = parts.next().unwrap().parse().unwrap();
    let filler = parts.next().unwrap();
    assert_eq!(filler.len(), len, "{tag}-{n}: truncated or merged");
    let want = char::from(b'a' + (n % 26) as u8);
    assert!(filler.chars().all(|c| c == want), "{tag}-{n}: corrupt");
    (tag, n)
}

/// Lengths that cross the 7-, 16- and 64-bit length encodings.
fn length(n: usize) -> usize {
    match n % 50 {
        0 => 100_000,
        1 => 65_536,
        2 => 126,
        3 => 125,
        k => k * 37,
    }
}

fn sends_from_another_thread_never_interleave_with_echoes(d: Dispatcher) {
    const ECHOES: usize = 600;
    const PUSHES: usize = 400;
    let (b, ids) = reporting_ids(echo());
    let t = WsTest::start_on(b, d);
    let stream = support::connect_with_deadline(t.addr, WAIT);
    stream.set_write_timeout(Some(WAIT)).unwrap();
    let write_half = stream.try_clone().unwrap();
    let (mut reader, _) = tungstenite::client(t.url("/"), stream).expect("handshake");
    let mut writer = WebSocket::from_raw_socket(write_half, Role::Client, None);
    let id = ids.recv_timeout(WAIT).unwrap();

    let start = Arc::new(Barrier::new(4));
    let pushers: Vec<_> = ["pa", "pb"]
        .into_iter()
        .map(|tag| {
            let (server, start) = (t.server.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for n in 0..PUSHES {
                    let m = numbered(tag, n, length(n + 7));
                    send_text(&server, id, &m).unwrap_or_else(|e| panic!("{tag}-{n}: {e}"));
                }
            })
        })
        .collect();
    let client = {
        let start = start.clone();
        thread::spawn(move || {
            start.wait();
            for n in 0..ECHOES {
                let m = numbered("echo", n, length(n));
                let msg = if n % 3 == 0 {
                    Message::binary(m.into_bytes())
                } else {
                    Message::text(m)
                };
                writer.send(msg).unwrap();
            }
            writer
        })
    };
    start.wait();

    let mut next = std::collections::HashMap::new();
    for _ in 0..ECHOES + 2 * PUSHES {
        let (tag, n, binary) = match reader.read().expect("a message") {
            Message::Text(t) => {
                let (tag, n) = check_numbered(t.as_bytes());
                (tag, n, false)
            }
            Message::Binary(b) => {
                let (tag, n) = check_numbered(&b);
                (tag, n, true)
            }
            other => panic!("unexpected {other:?}"),
        };
        let want = next.entry(tag.clone()).or_insert(0usize);
        assert_eq!(n, *want, "{tag}: out of order");
        *want += 1;
        assert_eq!(binary, tag == "echo" && n % 3 == 0, "{tag}-{n}: wrong kind");
    }
    for p in pushers {
        p.join().unwrap();
    }
    let _writer = client.join().unwrap();
    assert_eq!(next.get("echo"), Some(&ECHOES));
    assert_eq!(next.get("pa"), Some(&PUSHES));
    assert_eq!(next.get("pb"), Some(&PUSHES));
    assert!(t.server.is_open(id));
    assert!(t.closes_so_far().is_empty());
}

#[test]
fn send_functions_from_a_plain_thread() {
    let (b, ids) = reporting_ids(echo());
    let t = WsTest::start(b);
    let mut raw = t.raw();
    let id = ids.recv_timeout(WAIT).unwrap();
    let s = t.server.clone();
    thread::spawn(move || {
        send_text(&s, id, "text from afar").unwrap();
        send_binary(&s, id, &[0, 1, 2, 3]).unwrap();
        send_ping(&s, id, b"are you there").unwrap();
        assert!(matches!(
            send_ping(&s, id, &[0u8; 126]),
            Err(SendError::Invalid(_))
        ));
        assert_eq!(multicast_binary(&s, &[id], &[9; 70_000], WAIT), vec![]);
        assert_eq!(multicast_text(&s, &[], "nobody", WAIT), vec![]);
    })
    .join()
    .unwrap();
    let f = raw.frame();
    assert_eq!((f.fin, f.opcode, f.text()), (true, TEXT, "text from afar"));
    let f = raw.frame();
    assert_eq!((f.opcode, &f.payload[..]), (BINARY, &[0u8, 1, 2, 3][..]));
    let f = raw.frame();
    assert_eq!((f.opcode, &f.payload[..]), (PING, &b"are you there"[..]));
    raw.send_frame(FIN | PONG, b"are you there");
    let f = raw.frame();
    assert_eq!((f.opcode, f.payload.len()), (BINARY, 70_000));
    assert!(f.payload.iter().all(|b| *b == 9));

    // Ids that are not open.
    drop(raw);
    assert_eq!(t.next_close().id, id);
    assert!(matches!(
        send_text(&t.server, id, "x"),
        Err(SendError::NotOpen)
    ));
    assert_eq!(multicast_text(&t.server, &[id], "x", WAIT), vec![id]);
    // No second close for it: the next close is that of another connection.
    let other = t.raw();
    let other_id = ids.recv_timeout(WAIT).unwrap();
    drop(other);
    assert_eq!(t.next_close().id, other_id);

    // Not a WebSocket server.
    let http = support::TestServer::start(HttpServer::new(|| reply("x")));
    assert!(matches!(
        send_text(&http.server, id, "x"),
        Err(SendError::NotWebSocket)
    ));
    assert!(matches!(
        send_close(&http.server, id, 1000, ""),
        Err(SendError::NotWebSocket)
    ));
    assert_eq!(multicast_text(&http.server, &[id], "x", WAIT), vec![id]);
}

/// A multicast to many connections, some of which never read (Linux: it
/// sizes socket buffers with setsockopt and reads `tcp_wmem`).
#[cfg(target_os = "linux")]
mod multicast {
    use super::*;
    use std::collections::HashSet;
    use std::io::Read;
    use std::sync::mpsc::Sender;

    const CLIENTS: usize = 1_000;
    const READER_THREADS: usize = 4;
    const MESSAGE: usize = 64 * 1024;
    /// Short next to the 10 s send timeout; long enough for loopback readers.
    const DEADLINE: Duration = Duration::from_secs(2);

    /// Rounds after which a stalled client must have been given up on: the
    /// server's send buffer grows up to `tcp_wmem`'s maximum (several MiB on
    /// loopback, whose segments are 64 KiB) before a write would block, and
    /// then up to `MAX_UNSENT` bytes are queued for it.
    fn round_limit() -> usize {
        let wmem_max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
            .ok()
            .and_then(|s| s.split_whitespace().nth(2)?.parse::<usize>().ok())
            .unwrap_or(4 << 20);
        (wmem_max + guildenstern::ws::MAX_UNSENT) / MESSAGE + 16
    }

    fn stalled(i: usize) -> bool {
        i % 100 == 37
    }

    /// Raises the soft limit on open files to the hard limit.
    fn raise_open_files_limit(need: u64) {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `lim` is a valid, writable rlimit.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        if lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            // SAFETY: `lim` is a valid rlimit with soft ≤ hard.
            assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
        }
        assert!(
            lim.rlim_cur >= need,
            "this test needs {need} open files; the hard limit is {}",
            lim.rlim_max
        );
    }

    /// The `round`-th multicast message: its number, then filler.
    fn round_message(round: usize) -> String {
        let m = format!("round {round:06} ");
        let filler = char::from(b'a' + (round % 26) as u8);
        m.clone() + &filler.to_string().repeat(MESSAGE - m.len())
    }

    /// Reads one whole server frame into `buf` (no allocation); returns the payload length.
    fn read_frame_into(s: &mut TcpStream, buf: &mut [u8]) -> usize {
        s.read_exact(&mut buf[..2]).expect("a frame header");
        assert_eq!(buf[0], FIN | TEXT, "frame header {:?}", &buf[..2]);
        let len = match buf[1] {
            127 => {
                s.read_exact(&mut buf[..8]).unwrap();
                u64::from_be_bytes(buf[..8].try_into().unwrap()) as usize
            }
            126 => {
                s.read_exact(&mut buf[..2]).unwrap();
                usize::from(u16::from_be_bytes([buf[0], buf[1]]))
            }
            n => usize::from(n),
        };
        s.read_exact(&mut buf[..len]).expect("a whole payload");
        len
    }

    /// One reader thread: on each round number it reads that round's message
    /// from every one of its sockets and checks it; `None` ends it. Returns
    /// the sockets, still open.
    fn reader(
        mut socks: Vec<TcpStream>,
        rounds: Receiver<Option<usize>>,
        done: Sender<usize>,
    ) -> Vec<TcpStream> {
        let mut buf = vec![0u8; MESSAGE + 16];
        while let Ok(Some(round)) = rounds.recv() {
            let want = round_message(round);
            for s in &mut socks {
                let len = read_frame_into(s, &mut buf);
                assert_eq!(len, MESSAGE);
                assert_eq!(&buf[..13], &want.as_bytes()[..13], "round {round}");
                assert_eq!(buf[len - 1], want.as_bytes()[len - 1], "round {round}");
            }
            done.send(round).unwrap();
        }
        // The last word: a short message after every round.
        for s in &mut socks {
            let len = read_frame_into(s, &mut buf);
            assert_eq!(&buf[..len], b"that was all");
        }
        done.send(usize::MAX).unwrap();
        socks
    }

    #[test]
    fn multicast_gives_up_on_clients_that_do_not_read() {
        raise_open_files_limit(2 * CLIENTS as u64 + 200);
        let (tx, upgraded) = mpsc::channel();
        let tx = Mutex::new(tx);
        let t = WsTest::start(WsServer::with_context(|_| {}).on_upgrade(move |req| {
            let i: usize = req.uri().trim_start_matches("/c/").parse().unwrap();
            tx.lock().unwrap().send((i, req.socket())).unwrap();
            UpgradeAnswer::Accept
        }));

        // Connect everyone; learn each connection's id on the server.
        let mut ids = vec![None; CLIENTS];
        let mut readers: Vec<Vec<TcpStream>> = (0..READER_THREADS).map(|_| Vec::new()).collect();
        let mut idle = Vec::new();
        for i in 0..CLIENTS {
            let stream = if stalled(i) {
                connect_small_window(t.addr)
            } else {
                TcpStream::connect(t.addr).unwrap()
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            stream.set_write_timeout(Some(WAIT)).unwrap();
            let stream = Raw::upgrade_stream(stream, &format!("/c/{i}")).into_stream();
            let (n, id) = upgraded.recv_timeout(WAIT).unwrap();
            assert_eq!(n, i);
            ids[i] = Some(id);
            if stalled(i) {
                idle.push(stream);
            } else {
                readers[i % READER_THREADS].push(stream);
            }
        }
        let ids: Vec<SocketId> = ids.into_iter().map(Option::unwrap).collect();
        let stalled_ids: HashSet<SocketId> = (0..CLIENTS)
            .filter(|i| stalled(*i))
            .map(|i| ids[i])
            .collect();
        assert_eq!(stalled_ids.len(), 10);
        assert_eq!(t.server.connections(), CLIENTS);

        let (done_tx, done) = mpsc::channel();
        let mut round_txs = Vec::new();
        let threads: Vec<_> = readers
            .into_iter()
            .map(|socks| {
                let (rtx, rrx) = mpsc::channel();
                round_txs.push(rtx);
                let done_tx = done_tx.clone();
                thread::spawn(move || reader(socks, rrx, done_tx))
            })
            .collect();
        let wait_readers = |round: usize| {
            for _ in 0..READER_THREADS {
                let got = done
                    .recv_timeout(Duration::from_secs(60))
                    .expect("a reader thread finished the round");
                assert_eq!(got, round);
            }
        };

        // Multicast until every stalled client has been given up on.
        let mut targets = ids.clone();
        let mut failed_all: HashSet<SocketId> = HashSet::new();
        let mut round = 0;
        let limit = round_limit();
        while failed_all.len() < stalled_ids.len() {
            assert!(
                round < limit,
                "stalled clients still taking data after {limit} rounds"
            );
            for r in &round_txs {
                r.send(Some(round)).unwrap();
            }
            let failed = multicast_text(&t.server, &targets, &round_message(round), DEADLINE);
            wait_readers(round);
            for id in &failed {
                assert!(
                    stalled_ids.contains(id),
                    "round {round}: reader {id} failed"
                );
                assert!(failed_all.insert(*id), "round {round}: {id} failed twice");
            }
            targets.retain(|id| !failed.contains(id));
            if !failed.is_empty() {
                eprintln!(
                    "round {round}: {} stalled clients given up on",
                    failed.len()
                );
            }
            round += 1;
        }
        assert!(round >= 2, "the stalled clients took no message at all");

        // Those were closed as timed out; nobody else was.
        let mut closed = HashSet::new();
        for _ in 0..stalled_ids.len() {
            let c = t.next_close();
            assert_eq!(c.cause, CloseCause::TimedOut, "{c:?}");
            assert!(closed.insert(c.id));
        }
        assert_eq!(closed, stalled_ids);
        assert!(t.closes_so_far().is_empty());
        assert_eq!(t.server.connections(), CLIENTS - stalled_ids.len());

        // A last message to everyone: the closed ones come back unsent.
        for r in &round_txs {
            r.send(None).unwrap();
        }
        let failed: HashSet<SocketId> = multicast_text(&t.server, &ids, "that was all", DEADLINE)
            .into_iter()
            .collect();
        assert_eq!(failed, stalled_ids);
        wait_readers(usize::MAX);
        let socks: Vec<Vec<TcpStream>> = threads.into_iter().map(|th| th.join().unwrap()).collect();
        assert!(t.closes_so_far().is_empty(), "{:?}", t.closes_so_far());
        drop((socks, idle));
    }
}

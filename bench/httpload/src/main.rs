//! Sends a fixed number of GET requests to a server on loopback and checks
//! every answer is a 200 with a Content-Length body.
//!
//! `httpload ADDR REQUESTS CONNECTIONS DEPTH [browser]`: REQUESTS in all, spread over
//! CONNECTIONS sockets (one thread each); each socket writes DEPTH requests
//! at once (1 = keep-alive, one request in flight; 16 = pipelined) and
//! reads DEPTH answers before the next write. REQUESTS must be a multiple
//! of CONNECTIONS * DEPTH. The request is wrk's (`GET /` with a Host
//! field only), or with `browser` one with the eight fields a browser
//! sends (`Connection: keep-alive` among them). Exits non-zero on any error
//! or unexpected answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::exit;
use std::time::Duration;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
const BROWSER: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n\
Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nPriority: u=0, i\r\n\r\n";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let browser = args.len() == 5 && args[4] == "browser";
    if args.len() != 4 && !browser {
        eprintln!("usage: httpload ADDR REQUESTS CONNECTIONS DEPTH [browser]");
        exit(2);
    }
    let addr: SocketAddr = args[0].parse().expect("ADDR: ip:port");
    assert!(addr.ip().is_loopback(), "loopback addresses only");
    let num = |s: &str| -> usize { s.parse().expect("a number") };
    let (total, conns, depth) = (num(&args[1]), num(&args[2]), num(&args[3]));
    assert!(
        conns > 0 && depth > 0 && total % (conns * depth) == 0,
        "REQUESTS = k * CONNECTIONS * DEPTH"
    );
    let rounds = total / (conns * depth);
    let threads: Vec<_> = (0..conns)
        .map(|_| std::thread::spawn(move || run(addr, rounds, depth, browser)))
        .collect();
    let mut ok = 0;
    for t in threads {
        match t.join() {
            Ok(Ok(n)) => ok += n,
            Ok(Err(e)) => {
                eprintln!("httpload: {e}");
                exit(1);
            }
            Err(_) => exit(1),
        }
    }
    if ok != total {
        eprintln!("httpload: {ok} answers for {total} requests");
        exit(1);
    }
}

fn run(addr: SocketAddr, rounds: usize, depth: usize, browser: bool) -> Result<usize, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_nodelay(true).ok();
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let batch = if browser { BROWSER } else { REQUEST }.repeat(depth);
    let mut buf = vec![0u8; 64 * 1024];
    let mut answers = 0;
    for _ in 0..rounds {
        s.write_all(&batch).map_err(|e| format!("write: {e}"))?;
        let (mut have, mut pos, mut got) = (0, 0, 0);
        while got < depth {
            if let Some(n) = parse(&buf[pos..have])? {
                pos += n;
                got += 1;
                continue;
            }
            if pos > 0 {
                buf.copy_within(pos..have, 0);
                have -= pos;
                pos = 0;
            }
            if have == buf.len() {
                return Err("answer too large".into());
            }
            let n = s.read(&mut buf[have..]).map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("server closed the connection".into());
            }
            have += n;
        }
        if pos != have {
            return Err("bytes beyond the answers asked for".into());
        }
        answers += depth;
    }
    Ok(answers)
}

/// The length of the complete 200 answer at the start of `b`, if whole.
fn parse(b: &[u8]) -> Result<Option<usize>, String> {
    let Some(end) = b.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&b[..end]).map_err(|_| "non-UTF-8 head")?;
    if !head.starts_with("HTTP/1.1 200 ") {
        return Err(format!("unexpected answer: {head:?}"));
    }
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .ok_or("no Content-Length")?;
    let whole = end + 4 + len;
    Ok((b.len() >= whole).then_some(whole))
}

//! Shared helpers of the integration tests: a server on an ephemeral
//! loopback port that stops when dropped, and a raw-socket client that reads
//! whole HTTP responses.
#![allow(dead_code, unused_macros)]

pub mod alloc;
pub mod process;

use guildenstern::prelude::*;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Turns each listed `fn name(Dispatcher)` into two tests, `epoll::name` and
/// `portable::name`.
macro_rules! on_both_dispatchers {
    ($($name:ident),+ $(,)?) => {
        mod epoll {
            $(
                #[test]
                fn $name() {
                    super::$name(guildenstern::Dispatcher::Epoll)
                }
            )+
        }
        mod portable {
            $(
                #[test]
                fn $name() {
                    super::$name(guildenstern::Dispatcher::Portable)
                }
            )+
        }
    };
}

/// A running server on 127.0.0.1 and an ephemeral port; stopped and joined on drop.
pub struct TestServer {
    pub server: Server,
    pub addr: SocketAddr,
}

impl TestServer {
    pub fn start(builder: HttpServer) -> TestServer {
        let server = builder
            .address("127.0.0.1")
            .any_port()
            .start()
            .expect("test server starts");
        let addr = server.local_addr().expect("listening");
        TestServer { server, addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.stop();
        self.server.join();
    }
}

/// Starts `builder` with two workers on dispatcher `d`.
pub fn start_on(d: Dispatcher, builder: HttpServer) -> TestServer {
    TestServer::start(builder.dispatcher(d).threads(2))
}

/// One parsed response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw HTTP/1.x client over one connection; every read has a deadline.
pub struct Client {
    pub reader: BufReader<TcpStream>,
}

pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let s = connect_with_deadline(addr, IO_TIMEOUT);
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            reader: BufReader::new(s),
        }
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.reader
            .get_mut()
            .write_all(bytes.as_ref())
            .expect("send");
    }

    /// Reads one response; `head_only` for answers to HEAD.
    pub fn read_reply_with(&mut self, head_only: bool) -> Option<Reply> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let mut parts = line.trim_end().splitn(3, ' ');
        let version = parts.next()?.to_owned();
        let status: u16 = parts.next()?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).ok()?;
            let h = h.trim_end_matches(['\r', '\n']);
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':')?;
            headers.push((n.to_owned(), v.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            version,
            headers,
            body: Vec::new(),
        };
        if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
            return Some(reply);
        }
        if let Some(n) = reply.header("content-length") {
            let n: usize = n.parse().ok()?;
            let mut body = vec![0; n];
            self.reader.read_exact(&mut body).ok()?;
            reply.body = body;
        } else if reply.header("transfer-encoding").is_some() {
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).ok()?;
                let n = usize::from_str_radix(size.trim(), 16).ok()?;
                let mut chunk = vec![0; n + 2];
                self.reader.read_exact(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                reply.body.extend_from_slice(&chunk[..n]);
            }
        } else {
            self.reader.read_to_end(&mut reply.body).ok()?;
        }
        Some(reply)
    }

    pub fn read_reply(&mut self) -> Option<Reply> {
        self.read_reply_with(false)
    }

    /// Sends a request and reads its response.
    pub fn request(&mut self, bytes: impl AsRef<[u8]>) -> Reply {
        self.send(bytes);
        self.read_reply().expect("a response")
    }

    /// True when the server closed the connection (EOF within the deadline).
    pub fn is_closed_by_server(&mut self) -> bool {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).is_ok()
    }
}

/// A plain TCP connection to `addr` whose reads time out after `limit`.
pub fn connect_with_deadline(addr: SocketAddr, limit: Duration) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(limit)).unwrap();
    s
}

/// Sends `bytes` on a new connection and returns the first response.
pub fn exchange(addr: SocketAddr, bytes: impl AsRef<[u8]>) -> Option<Reply> {
    let mut c = Client::connect(addr);
    c.send(bytes);
    c.read_reply()
}

/// A GET for `path` with a Host header.
pub fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// Polls `cond` until it holds or `limit` passes (no fixed sleeps in tests).
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::park_timeout(Duration::from_millis(5));
    }
    cond()
}

/// Sends `bytes` the way a client still sending an upload does, with the
/// peer reading nothing yet: with a small send buffer (`SO_SNDBUF` 16 KiB,
/// which also ends its growth by the kernel), as much as the buffers take
/// at once (the peer's receive buffer fills: over 64 KiB on loopback), then
/// the rest and the end of stream on a thread of its own, which returns how
/// that went. Panics if the buffers took everything at once.
pub fn send_beyond_the_buffers(stream: &TcpStream, bytes: Vec<u8>) -> JoinHandle<io::Result<()>> {
    let size: libc::c_int = 16 * 1024;
    // SAFETY: `size` is a valid c_int of the length given; the descriptor is
    // borrowed from a live socket.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_SNDBUF: {}", io::Error::last_os_error());
    stream.set_nonblocking(true).unwrap();
    let mut sent = 0;
    while let Ok(n) = (&*stream).write(&bytes[sent..]) {
        sent += n;
    }
    stream.set_nonblocking(false).unwrap();
    assert!(sent < bytes.len(), "the buffers took all {} bytes", sent);
    let mut w = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        w.write_all(&bytes[sent..])?;
        w.shutdown(Shutdown::Write)
    })
}

/// This process's resident memory in KiB (`VmRSS`): the servers of a test
/// run in it.
pub fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

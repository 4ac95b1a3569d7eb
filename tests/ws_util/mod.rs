//! Helpers shared by the `ws_*` integration tests: a WebSocket server on
//! 127.0.0.1 whose on-close calls arrive on a channel, a tungstenite client
//! with read deadlines, and a raw-socket client that writes masked frames
//! and reads the server's frames byte for byte.
#![allow(dead_code)]

use guildenstern::prelude::*;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;
use tungstenite::WebSocket;

/// Upper bound for anything a test waits for; reaching it is a failure.
pub const WAIT: Duration = Duration::from_secs(10);

/// The key of RFC 6455 §1.3 and the accept value it must produce.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Frame opcodes.
pub const CONT: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;
/// The FIN bit of a frame's first byte.
pub const FIN: u8 = 0x80;

/// An echo server in the context shape: text back as text, binary as binary.
pub fn echo() -> WsServer {
    WsServer::with_context(|cx: &mut Ws| {
        let _ = if cx.is_binary() {
            cx.reply_binary(cx.message())
        } else {
            cx.reply_text(cx.text())
        };
    })
}

/// `builder` whose after-upgrade callback reports the socket id on a channel.
pub fn reporting_ids(builder: WsServer) -> (WsServer, Receiver<SocketId>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let b = builder.after_upgrade(move || tx.lock().unwrap().send(thesocket()).unwrap());
    (b, rx)
}

/// One call of the on-close callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    pub id: SocketId,
    pub cause: CloseCause,
    pub code: Option<u16>,
    pub msg: String,
}

/// A running WebSocket server on 127.0.0.1 (ephemeral port, two workers);
/// stopped and joined on drop.
pub struct WsTest {
    pub server: Server,
    pub addr: SocketAddr,
    closes: Receiver<Closed>,
}

impl WsTest {
    /// Starts `builder` on the default dispatcher.
    pub fn start(builder: WsServer) -> WsTest {
        Self::start_on(builder, Dispatcher::default())
    }

    /// Starts `builder` on `dispatcher`; its on-close calls go to [`WsTest::next_close`].
    pub fn start_on(builder: WsServer, dispatcher: Dispatcher) -> WsTest {
        let (tx, closes) = channel();
        let server = builder
            .on_close(move |_, id, cause, code, msg| {
                let _ = tx.send(Closed {
                    id,
                    cause,
                    code,
                    msg: msg.to_owned(),
                });
            })
            .address("127.0.0.1")
            .any_port()
            .threads(2)
            .dispatcher(dispatcher)
            .start()
            .expect("the WebSocket server starts");
        let addr = server.local_addr().expect("listening");
        WsTest {
            server,
            addr,
            closes,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// The next on-close call; panics when none comes within [`WAIT`].
    pub fn next_close(&self) -> Closed {
        self.closes
            .recv_timeout(WAIT)
            .expect("an on_close call within the deadline")
    }

    /// The next on-close call if one comes within `limit`.
    pub fn close_within(&self, limit: Duration) -> Option<Closed> {
        match self.closes.recv_timeout(limit) {
            Ok(c) => Some(c),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("the server dropped its on_close hook"),
        }
    }

    /// On-close calls made so far, without waiting.
    pub fn closes_so_far(&self) -> Vec<Closed> {
        self.closes.try_iter().collect()
    }

    /// A raw client that has completed the opening handshake.
    pub fn raw(&self) -> Raw {
        Raw::upgrade(self.addr, "/")
    }

    /// A tungstenite client (reads time out after [`WAIT`]).
    pub fn client(&self, path: &str) -> WebSocket<TcpStream> {
        ws_client(self.addr, self.url(path))
    }
}

impl Drop for WsTest {
    fn drop(&mut self) {
        self.server.stop();
        self.server.join();
    }
}

/// A TCP connection to `addr` with read and write deadlines of [`WAIT`]
/// and Nagle's algorithm off.
pub fn connect_stream(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// A tungstenite client over a plain `TcpStream` with read and write deadlines.
pub fn ws_client<R: tungstenite::client::IntoClientRequest>(
    addr: SocketAddr,
    request: R,
) -> WebSocket<TcpStream> {
    match tungstenite::client(request, connect_stream(addr)) {
        Ok((ws, resp)) => {
            assert_eq!(resp.status(), 101);
            ws
        }
        Err(e) => panic!("WebSocket handshake failed: {e}"),
    }
}

/// A masked client frame: `first` is the FIN/RSV/opcode byte.
pub fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    masked_with_len(first, payload, payload.len() as u64)
}

/// A masked client frame that declares `len` payload bytes (which may
/// differ from what follows, to send headers alone).
pub fn masked_with_len(first: u8, payload: &[u8], len: u64) -> Vec<u8> {
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut v = vec![first];
    match len {
        n if n < 126 => v.push(0x80 | n as u8),
        n if n < 65536 => {
            v.push(0x80 | 126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            v.push(0x80 | 127);
            v.extend_from_slice(&n.to_be_bytes());
        }
    }
    v.extend_from_slice(&mask);
    v.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
    v
}

/// A close payload: code and reason.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// An upgrade request for `path` with the RFC sample key.
pub fn upgrade_request(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// A frame as the server sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    /// RSV1..3 as the three low bits.
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The status code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, CLOSE, "not a close frame: {self:?}");
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.payload).expect("a UTF-8 payload")
    }
}

/// A raw WebSocket client over one connection; every read has a deadline.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    /// A plain TCP connection (no handshake yet).
    pub fn connect(addr: SocketAddr) -> Raw {
        Raw {
            stream: connect_stream(addr),
            buf: Vec::new(),
        }
    }

    /// Connects and completes the opening handshake for `path`.
    pub fn upgrade(addr: SocketAddr, path: &str) -> Raw {
        let mut raw = Raw::connect(addr);
        raw.send(upgrade_request(path));
        let head = raw.read_head().expect("a handshake response");
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        raw
    }

    /// A raw peer on a connection the test accepted (it plays the server).
    pub fn accepted(stream: TcpStream) -> Raw {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    /// Completes the opening handshake for `path` on a connected stream
    /// (one the test configured itself).
    pub fn upgrade_stream(stream: TcpStream, path: &str) -> Raw {
        let mut raw = Raw {
            stream,
            buf: Vec::new(),
        };
        raw.send(upgrade_request(path));
        let head = raw.read_head().expect("a handshake response");
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        raw
    }

    /// The stream, once everything read has been consumed.
    pub fn into_stream(self) -> TcpStream {
        assert!(self.buf.is_empty(), "unread bytes: {:?}", self.buf);
        self.stream
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).expect("send");
    }

    /// Sends a masked frame.
    pub fn send_frame(&mut self, first: u8, payload: &[u8]) {
        self.send(masked(first, payload));
    }

    /// Reads more bytes into the buffer; 0 at the end of the stream (or a reset).
    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return 0,
                Err(e) => panic!("read failed (deadline passed?): {e}"),
            }
        }
    }

    /// Reads an HTTP response head (through the blank line); `None` at EOF.
    pub fn read_head(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                return Some(String::from_utf8(head).expect("an ASCII head"));
            }
            if self.fill() == 0 {
                return None;
            }
        }
    }

    /// Reads one frame; `None` when the server closed the connection first.
    pub fn read_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            if self.fill() == 0 {
                assert!(
                    self.buf.is_empty(),
                    "connection closed inside a frame: {:?}",
                    self.buf
                );
                return None;
            }
        }
    }

    /// Reads one frame that must be there.
    pub fn frame(&mut self) -> Frame {
        self.read_frame()
            .expect("a frame before the end of the stream")
    }

    /// The next frame must be a close frame, and the server must then end
    /// the connection; returns the close frame.
    pub fn expect_close(&mut self) -> Frame {
        let f = self.frame();
        assert_eq!(f.opcode, CLOSE, "expected a close frame, got {f:?}");
        assert!(f.fin);
        self.expect_eof();
        f
    }

    /// The server ends the connection with nothing more to read.
    pub fn expect_eof(&mut self) {
        if let Some(f) = self.read_frame() {
            panic!("expected the end of the stream, got {f:?}");
        }
    }

    /// Whether the server ended the connection (reads until EOF, ignoring data).
    pub fn until_eof(&mut self) {
        while self.fill() > 0 {}
    }
}

/// Parses one server frame at the start of `buf`: the frame and its length.
pub fn parse_frame(buf: &[u8]) -> Option<(Frame, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let masked = buf[1] & 0x80 != 0;
    let (len, mut at) = match buf[1] & 0x7f {
        126 => {
            if buf.len() < 4 {
                return None;
            }
            (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return None;
            }
            (u64::from_be_bytes(buf[2..10].try_into().unwrap()), 10)
        }
        n => (u64::from(n), 2),
    };
    let mut mask = [0u8; 4];
    if masked {
        if buf.len() < at + 4 {
            return None;
        }
        mask.copy_from_slice(&buf[at..at + 4]);
        at += 4;
    }
    let end = at + len as usize;
    if buf.len() < end {
        return None;
    }
    let payload = buf[at..end]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i & 3])
        .collect();
    Some((
        Frame {
            fin: buf[0] & 0x80 != 0,
            rsv: (buf[0] >> 4) & 0x7,
            opcode: buf[0] & 0x0f,
            masked,
            payload,
        },
        end,
    ))
}

/// A connection whose receive buffer is as small as the kernel allows, set
/// before connecting so the window it advertises is small from the start.
#[cfg(target_os = "linux")]
pub fn connect_small_window(addr: SocketAddr) -> TcpStream {
    use std::os::fd::FromRawFd;
    let SocketAddr::V4(v4) = addr else {
        panic!("IPv4 only")
    };
    // SAFETY: a plain socket(2) call; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: `fd` is a socket we own and nobody else uses; from here on
    // `stream` owns it and closes it on every path.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    let size: libc::c_int = 4096;
    // SAFETY: `size` is a valid c_int of the length given.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_RCVBUF: {}", std::io::Error::last_os_error());
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*v4.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `sin` is a valid sockaddr_in of the length given.
    let rc = unsafe {
        libc::connect(
            fd,
            (&sin as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "connect: {}", std::io::Error::last_os_error());
    stream
}

//! Helpers shared by the `dispatch_*` integration tests: recording on-close
//! calls, waiting for a server to close a connection, and a `gs-testserver`
//! child process that is always reaped. (`on_both_dispatchers!` is in
//! `support`.)
#![allow(dead_code)]

use guildenstern::{CloseCause, Server, SocketId};
use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Generous upper bound for anything a test waits for; reaching it is a failure.
pub const LIMIT: Duration = Duration::from_secs(20);

/// The socket id of a request, as a handler that answers
/// `thesocket().as_u64()` gives it.
pub fn id_of(reply: &crate::support::Reply) -> u64 {
    reply
        .text()
        .parse()
        .expect("the handler answers the socket id")
}

/// Every on-close call of a server: socket id (as a number), cause, message.
#[derive(Clone, Default)]
pub struct Closes(Arc<Mutex<Vec<(u64, CloseCause, String)>>>);

impl Closes {
    /// The on-close callback to hand to the builder.
    pub fn hook(&self) -> impl Fn(&Server, SocketId, CloseCause, &str) + Send + Sync + 'static {
        let log = self.0.clone();
        move |_, id, cause, msg| {
            log.lock()
                .unwrap()
                .push((id.as_u64(), cause, msg.to_owned()))
        }
    }

    pub fn all(&self) -> Vec<(u64, CloseCause, String)> {
        self.0.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The calls for one socket.
    pub fn of(&self, id: u64) -> Vec<(CloseCause, String)> {
        self.all()
            .into_iter()
            .filter(|(i, _, _)| *i == id)
            .map(|(_, c, m)| (c, m))
            .collect()
    }

    /// The calls with one cause.
    pub fn with_cause(&self, cause: CloseCause) -> Vec<(u64, String)> {
        self.all()
            .into_iter()
            .filter(|(_, c, _)| *c == cause)
            .map(|(i, _, m)| (i, m))
            .collect()
    }

    /// Waits (up to [`LIMIT`]) for the first call for `id`.
    pub fn wait_for(&self, id: u64) -> (CloseCause, String) {
        assert!(
            crate::support::wait_until(LIMIT, || !self.of(id).is_empty()),
            "on_close was not called for socket {id}; calls: {:?}",
            self.all()
        );
        self.of(id).remove(0)
    }

    /// Waits (up to [`LIMIT`]) until at least `n` calls were made.
    pub fn wait_len(&self, n: usize) {
        assert!(
            crate::support::wait_until(LIMIT, || self.len() >= n),
            "expected {n} on_close calls, got {:?}",
            self.all()
        );
    }
}

/// Reads until the peer closes the connection (end of stream or reset) and
/// returns what came before; `None` when it stays open past the read deadline.
pub fn until_closed(r: &mut impl Read) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Some(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                ) =>
            {
                return Some(got)
            }
            Err(_) => return None,
        }
    }
}

/// The status code at the start of a raw response, if any.
pub fn status_of(raw: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(raw.get(..12)?).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.parse().ok()
}

/// A `gs-testserver` child process; killed (by its pid) and reaped on drop.
pub struct ChildServer {
    child: Child,
    pub addr: SocketAddr,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Lines read so far from each stream.
    pub out_lines: Vec<String>,
    pub err_lines: Vec<String>,
}

fn forward_lines(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl ChildServer {
    /// Starts `gs-testserver ARGS`, under an open-file limit when `nofile`
    /// is given, and waits until it announces its port.
    pub fn spawn(nofile: Option<u32>, args: &[&str]) -> ChildServer {
        let bin = env!("CARGO_BIN_EXE_gs-testserver");
        let mut cmd = match nofile {
            Some(n) => {
                // prlimit sets the limit and execs the program (same pid).
                let mut c = Command::new("/usr/bin/prlimit");
                c.arg(format!("--nofile={n}:{n}")).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let mut child = cmd
            .args(args)
            // Held open for the child's life: its `/hang` handler reads it
            // to the end.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gs-testserver starts");
        let out: ChildStdout = child.stdout.take().unwrap();
        let stdout = forward_lines(out);
        let stderr = forward_lines(child.stderr.take().unwrap());
        let mut me = ChildServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stdout,
            stderr,
            out_lines: Vec::new(),
            err_lines: Vec::new(),
        };
        let line = me
            .wait_stdout(|l| l.starts_with("listening "))
            .unwrap_or_else(|| panic!("no port announced; stderr: {:?}", me.drain_stderr()));
        let port: u16 = line["listening ".len()..].parse().expect("a port number");
        me.addr.set_port(port);
        me
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits up to [`LIMIT`] for a stdout line matching `pred`.
    pub fn wait_stdout(&mut self, pred: impl Fn(&str) -> bool) -> Option<String> {
        wait_line(&self.stdout, &mut self.out_lines, pred)
    }

    /// Waits up to [`LIMIT`] for a stderr line matching `pred`.
    pub fn wait_stderr(&mut self, pred: impl Fn(&str) -> bool) -> Option<String> {
        wait_line(&self.stderr, &mut self.err_lines, pred)
    }

    /// Every stderr line read so far (without waiting).
    pub fn drain_stderr(&mut self) -> Vec<String> {
        self.err_lines.extend(self.stderr.try_iter());
        self.err_lines.clone()
    }

    /// Sends `sig` to the child (and only to it).
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) with the pid of a child we spawned and have not reaped
        // (so the pid cannot have been reused); no memory is involved.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill: {}", io::Error::last_os_error());
    }

    /// Waits up to [`LIMIT`] for the child to exit.
    pub fn wait_exit(&mut self) -> Option<ExitStatus> {
        let mut status = None;
        crate::support::wait_until(LIMIT, || {
            status = self.child.try_wait().expect("try_wait");
            status.is_some()
        });
        status
    }

    /// After the child exited: its whole stdout.
    pub fn all_stdout(&mut self) -> Vec<String> {
        let end = Instant::now() + LIMIT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(l) => self.out_lines.push(l),
                Err(_) => break,
            }
        }
        self.out_lines.clone()
    }
}

fn wait_line(
    rx: &Receiver<String>,
    seen: &mut Vec<String>,
    pred: impl Fn(&str) -> bool,
) -> Option<String> {
    let end = Instant::now() + LIMIT;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if pred(&line) {
                    return Some(line);
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

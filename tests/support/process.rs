//! Child processes the tests start (the examples, proxies in front of
//! them): stdout read line by line on a thread of its own, listening ports
//! awaited with a deadline, killed and reaped by PID on drop.

use super::wait_until;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// A running child process, killed and reaped on drop.
pub struct Process {
    pub child: Child,
    lines: Receiver<String>,
}

/// The path cargo built an example at, beside this test binary.
pub fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("examples")
        .join(name)
}

pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

impl Process {
    /// Starts the example `name` with `args`; returns once it listens on every port.
    pub fn example(name: &str, args: &[&str], ports: &[u16]) -> Process {
        let mut cmd = Command::new(example_path(name));
        cmd.args(args);
        if std::env::var_os("RUST_LOG").is_none() {
            // The examples log at info by default; a test shows warnings only.
            cmd.env("RUST_LOG", "warn");
        }
        Process::start(name, cmd, ports)
    }

    /// Starts `cmd` (stdout piped, stderr inherited); returns once it
    /// listens on every port in `ports`, which must be free before.
    pub fn start(what: &str, mut cmd: Command, ports: &[u16]) -> Process {
        for &port in ports {
            // Talking to some other program on the port would prove nothing.
            assert!(
                TcpStream::connect(loopback(port)).is_err(),
                "port {port} is taken; {what} needs it"
            );
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let p = Process { child, lines };
        for &port in ports {
            let up = wait_until(Duration::from_secs(20), || {
                TcpStream::connect(loopback(port)).is_ok()
            });
            assert!(up, "{what} does not listen on {port}");
        }
        p
    }

    /// Reads stdout lines until one contains `needle` (with a deadline).
    pub fn expect_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no line with {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// The stdout lines read so far, without waiting.
    pub fn lines_so_far(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Waits for the process to end by itself; its exit status.
    pub fn wait_exit(&mut self) -> Option<ExitStatus> {
        let mut status = None;
        wait_until(Duration::from_secs(20), || {
            status = self.child.try_wait().ok().flatten();
            status.is_some()
        });
        status
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! The dispatcher-independent heart of a server: the connection table,
//! accepting, serving a ready connection, closing, deadlines and stopping.

use super::backend::Backend;
use super::conn::{Conn, ConnRef, DeadlineKind, SocketId, Table};
use super::options::{OnThread, Options};
use super::server::{Control, Server};
use super::{panic_message, CloseCause, Dispatcher, Expiry, Flow, Protocol};
use crate::error::Error;
use crate::limits::MAX_THREADS;
use log::{Level, LevelFilter};
use parking_lot::{Condvar, Mutex, RwLock};
use std::io::{self, Read};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The token of a server's listener in its poller.
pub(crate) const LISTENER: u64 = 0;
/// The token of a server's waker in its poller.
pub(crate) const WAKER: u64 = 1;

/// How long a lingering close drains before it gives up.
pub(crate) const LINGER: Duration = Duration::from_secs(2);
/// How many bytes a lingering close drains, in all, before it gives up
/// with a reset (every lingering close: after an HTTP answer that ends the
/// connection, a WebSocket close, a stop). Time bounds it first on most
/// links ([`LINGER`]); a peer still sending the rest of a large upload
/// sees the answer unless it sends more than this.
pub(crate) const LINGER_BYTES: usize = 64 << 20;
/// Bytes a lingering close drains per turn, so that a peer sending without
/// pause does not keep a worker (or the stop's farewell) from the others.
pub(crate) const LINGER_STEP: usize = 256 * 1024;
/// How long accepting pauses after the process ran out of descriptors.
const ACCEPT_RETRY: Duration = Duration::from_millis(500);

const NOT_PAUSED: u8 = 0;
const PAUSED_CAP: u8 = 1;
const PAUSED_ERROR: u8 = 2;

/// Settings of the dispatch layer, shared by every protocol.
#[derive(Clone, Debug)]
pub(crate) struct DispatchConfig {
    pub(crate) name: String,
    pub(crate) address: IpAddr,
    /// 0 means client mode: no listener, sockets are registered by hand.
    pub(crate) port: u16,
    /// Bind an ephemeral port chosen by the system (tests).
    pub(crate) any_port: bool,
    pub(crate) threads: usize,
    pub(crate) dispatcher: Dispatcher,
    pub(crate) log_level: LevelFilter,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_grace: Duration,
}

impl DispatchConfig {
    pub(crate) fn new(name: &str) -> Self {
        DispatchConfig {
            name: name.to_owned(),
            address: IpAddr::from([0, 0, 0, 0]),
            port: 0,
            any_port: false,
            threads: default_threads(),
            dispatcher: Dispatcher::default(),
            log_level: LevelFilter::Info,
            max_connections: 10_000,
            shutdown_grace: Duration::from_secs(10),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.threads == 0 || self.threads > MAX_THREADS {
            return Err(Error::Config(format!(
                "threads must be 1..={MAX_THREADS}, not {}",
                self.threads
            )));
        }
        if self.max_connections == 0 {
            return Err(Error::Config("max_connections must be at least 1".into()));
        }
        #[cfg(not(target_os = "linux"))]
        if self.dispatcher == Dispatcher::Epoll {
            return Err(Error::Config(
                "the epoll dispatcher exists on Linux only".into(),
            ));
        }
        Ok(())
    }
}

/// Twice the cores the process may run on (its CPU affinity), at least 2.
/// More threads than that only wake and switch on a busy core (measured:
/// keep-alive CPU per request and the p99.9 latency both suffered with 8 on
/// one core); a server whose handlers block sets `threads` higher.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

/// What a protocol sees of the connection it is serving.
pub(crate) struct Io<'a, P: Protocol> {
    pub(crate) core: &'a Arc<Core<P>>,
    pub(crate) conn: &'a ConnRef<P::State>,
}

impl<P: Protocol> Io<'_, P> {
    pub(crate) fn stream(&self) -> &TcpStream {
        &self.conn.stream
    }
    pub(crate) fn id(&self) -> SocketId {
        self.conn.id
    }
    /// Whether a read that came up short may end a serve: true on the epoll
    /// dispatcher, which serves the connection again for whatever was there
    /// but not read (bytes after an urgent mark, an end of stream that came
    /// with the last bytes: its event set `hangup`), as nginx takes a short
    /// read for a drained socket. On mio the hang-up noted by the poller may
    /// be spent by an earlier serve, so a protocol reads on until
    /// `WouldBlock` or the end.
    pub(crate) fn short_read_drains(&self) -> bool {
        matches!(self.core.cfg.dispatcher, super::Dispatcher::Epoll)
    }
    /// Arms `kind` to fire `after` from now (replacing any armed deadline).
    pub(crate) fn set_deadline(&self, kind: DeadlineKind, after: Duration) {
        self.conn
            .set_deadline(kind, self.core.now_ms() + after.as_millis() as u64);
    }
    pub(crate) fn deadline_kind(&self) -> DeadlineKind {
        self.conn.deadline().0
    }
    pub(crate) fn stopping(&self) -> bool {
        self.core.stopping()
    }
}

/// What a served connection waits for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    Closed,
    Readable,
    Writable,
    /// Serve again, after the other connections that are ready.
    Again,
}

/// One running server.
pub(crate) struct Core<P: Protocol> {
    pub(crate) proto: P,
    pub(crate) cfg: DispatchConfig,
    pub(crate) table: Table<ConnRef<P::State>>,
    pub(crate) backend: Backend,
    listener: Mutex<Option<TcpListener>>,
    local_addr: Option<SocketAddr>,
    /// [`super::sys::clock::monotonic_ms`] when the server started.
    epoch: u64,
    stopping: AtomicBool,
    /// False once the stop has taken its final list of open connections:
    /// a socket registered after that would never be closed. Registration
    /// holds it for reading, so it either makes that list or is refused.
    admitting: RwLock<bool>,
    accept_paused: AtomicU8,
    accept_resume_at: AtomicU64,
    last_accept_log: AtomicU64,
    live_workers: Mutex<usize>,
    workers_cv: Condvar,
    finished: Mutex<bool>,
    finished_cv: Condvar,
    pub(crate) timer_cv: Condvar,
    pub(crate) timer_lock: Mutex<()>,
    on_thread_start: Option<OnThread>,
    on_thread_stop: Option<OnThread>,
}

/// Binds (unless in client mode), spawns the workers and the housekeeping
/// thread, and returns the running server.
pub(crate) fn start<P: Protocol>(proto: P, options: Options) -> Result<Server, Error> {
    let Options {
        dispatch: cfg,
        on_thread_start,
        on_thread_stop,
        ..
    } = options;
    cfg.validate()?;
    let listener = if cfg.port != 0 || cfg.any_port {
        let addr = SocketAddr::new(cfg.address, if cfg.any_port { 0 } else { cfg.port });
        let l = TcpListener::bind(addr).map_err(|e| Error::Bind(addr, e))?;
        l.set_nonblocking(true).map_err(Error::Io)?;
        Some(l)
    } else {
        None
    };
    let local_addr = match &listener {
        Some(l) => Some(l.local_addr().map_err(Error::Io)?),
        None => None,
    };
    if let Some(limit) = super::sys::nofile_limit() {
        if limit < (cfg.max_connections as u64).saturating_add(64) {
            log::debug!(target: "guildenstern",
                "[{}] open-file limit {} is below max_connections {}; accepting pauses when descriptors run out",
                cfg.name, limit, cfg.max_connections);
        }
    }
    let backend = match cfg.dispatcher {
        #[cfg(target_os = "linux")]
        Dispatcher::Epoll => Backend::Epoll(super::epoll::EpollBackend::new().map_err(Error::Io)?),
        #[cfg(not(target_os = "linux"))]
        Dispatcher::Epoll => unreachable!("validated"),
        Dispatcher::Portable => {
            Backend::Portable(super::portable::PortableBackend::new().map_err(Error::Io)?)
        }
    };
    let core = Arc::new(Core {
        proto,
        table: Table::new(),
        backend,
        listener: Mutex::new(None),
        local_addr,
        epoch: super::sys::clock::monotonic_ms(),
        stopping: AtomicBool::new(false),
        admitting: RwLock::new(true),
        accept_paused: AtomicU8::new(NOT_PAUSED),
        accept_resume_at: AtomicU64::new(0),
        last_accept_log: AtomicU64::new(0),
        live_workers: Mutex::new(0),
        workers_cv: Condvar::new(),
        finished: Mutex::new(false),
        finished_cv: Condvar::new(),
        timer_cv: Condvar::new(),
        timer_lock: Mutex::new(()),
        on_thread_start,
        on_thread_stop,
        cfg,
    });
    if let Some(l) = &listener {
        core.backend
            .add_listener(l.as_raw_fd())
            .map_err(Error::Io)?;
    }
    *core.listener.lock() = listener;
    let server = Server::new(core.clone());
    super::lifecycle::track(&server);
    *core.live_workers.lock() = core.cfg.threads;
    let spawned = Core::spawn_threads(&core, &server);
    if let Err(e) = spawned {
        core.stop();
        return Err(Error::Io(e));
    }
    core.log(
        Level::Info,
        format_args!("serving on {}", core.describe_addr()),
    );
    Ok(server)
}

impl<P: Protocol> Core<P> {
    fn spawn_threads(core: &Arc<Self>, server: &Server) -> io::Result<()> {
        for i in 0..core.cfg.threads {
            let c = core.clone();
            let s = server.clone();
            std::thread::Builder::new()
                .name(format!("{}-{}", core.cfg.name, i))
                .spawn(move || {
                    c.proto.thread_start(&s);
                    if let Some(f) = &c.on_thread_start {
                        f();
                    }
                    c.backend.run_worker(&c);
                    if let Some(f) = &c.on_thread_stop {
                        f();
                    }
                    c.proto.thread_stop(&s);
                    c.worker_exited();
                })?;
        }
        if let Backend::Portable(_) = &core.backend {
            let c = core.clone();
            std::thread::Builder::new()
                .name(format!("{}-poll", core.cfg.name))
                .spawn(move || super::portable::run_poller(&c))?;
        }
        let c = core.clone();
        std::thread::Builder::new()
            .name(format!("{}-timer", core.cfg.name))
            .spawn(move || {
                c.proto.housekeeping_start(&c.server());
                super::timer::run(&c)
            })?;
        Ok(())
    }

    fn describe_addr(&self) -> String {
        match self.local_addr {
            Some(a) => a.to_string(),
            None => "no port (client mode)".into(),
        }
    }

    /// Milliseconds since this server started, on the coarse monotonic
    /// clock (cheap enough to read for every request; a tick of lag is
    /// nothing to deadlines checked every 100 ms).
    pub(crate) fn now_ms(&self) -> u64 {
        super::sys::clock::monotonic_ms().saturating_sub(self.epoch)
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub(crate) fn server(self: &Arc<Self>) -> Server {
        Server::new(self.clone())
    }

    /// Logs with the server's name and the current thread, if the server's level allows.
    pub(crate) fn log(&self, level: Level, args: std::fmt::Arguments<'_>) {
        if level <= self.cfg.log_level {
            let t = std::thread::current();
            log::log!(target: "guildenstern", level, "[{} {}] {}", self.cfg.name, t.name().unwrap_or("?"), args);
        }
    }

    /// Adds a connected socket to the server and starts watching it.
    pub(crate) fn register(self: &Arc<Self>, stream: TcpStream) -> io::Result<SocketId> {
        let state = self.proto.new_state();
        self.register_with(stream, state).map(|c| c.id)
    }

    /// Adds a connected socket with the state it starts in (client mode: a
    /// WebSocket client's, whose handshake is done and whose first frames
    /// may be buffered already) and starts watching it.
    pub(crate) fn register_with(
        self: &Arc<Self>,
        stream: TcpStream,
        state: P::State,
    ) -> io::Result<ConnRef<P::State>> {
        stream.set_nonblocking(true)?;
        let _ = stream.set_nodelay(true);
        let admitting = self.admitting.read();
        if !*admitting {
            return Err(io::Error::other("server has stopped"));
        }
        let conn = self
            .table
            .insert(|id| -> io::Result<_> { Ok(Arc::new(Conn::new(id, stream, state))) })?;
        {
            let mut st = conn.state.lock();
            self.proto.on_open(
                &Io {
                    core: self,
                    conn: &conn,
                },
                &mut st,
            );
        }
        self.state_released(&conn);
        let watched = self.backend.add(&conn);
        // In the table now: a stop that races with this registration closes
        // the connection in `finish_stop`, after its handler (which a worker
        // may be running already) is done.
        drop(admitting);
        if let Err(e) = watched {
            self.close(
                &conn,
                CloseCause::NetError,
                format!("cannot watch socket: {e}"),
            );
            return Err(e);
        }
        Ok(conn)
    }

    /// Accepts until the backlog is empty, the cap is reached or an error pauses accepting.
    /// Called by one thread at a time (the listener is one-shot or owned by the poller).
    pub(crate) fn accept_ready(self: &Arc<Self>) {
        loop {
            if self.stopping() {
                return;
            }
            if self.table.len() >= self.cfg.max_connections {
                self.accept_paused.store(PAUSED_CAP, Ordering::SeqCst);
                // A connection may have closed between the check and the store.
                if self.table.len() < self.cfg.max_connections
                    && self
                        .accept_paused
                        .compare_exchange(
                            PAUSED_CAP,
                            NOT_PAUSED,
                            Ordering::SeqCst,
                            Ordering::SeqCst,
                        )
                        .is_ok()
                {
                    continue;
                }
                self.log_accept_pause(
                    Level::Warn,
                    format_args!(
                        "connection cap {} reached; accepting paused",
                        self.cfg.max_connections
                    ),
                );
                return;
            }
            let accepted = match &*self.listener.lock() {
                Some(l) => l.accept(),
                None => return,
            };
            match accepted {
                Ok((stream, _peer)) => {
                    if let Err(e) = self.register(stream) {
                        self.log(
                            Level::Warn,
                            format_args!("cannot register accepted socket: {e}"),
                        );
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.rearm_listener();
                    return;
                }
                Err(e) if is_transient_accept_error(&e) => continue,
                Err(e) => {
                    let now = self.now_ms();
                    self.log_accept_pause(
                        Level::Error,
                        format_args!(
                            "accept failed: {e}; pausing accepting for {} ms",
                            ACCEPT_RETRY.as_millis()
                        ),
                    );
                    self.accept_resume_at
                        .store(now + ACCEPT_RETRY.as_millis() as u64, Ordering::SeqCst);
                    self.accept_paused.store(PAUSED_ERROR, Ordering::SeqCst);
                    self.timer_cv.notify_all();
                    return;
                }
            }
        }
    }

    /// Logs why accepting paused, at most once a second.
    fn log_accept_pause(&self, level: Level, args: std::fmt::Arguments<'_>) {
        let now = self.now_ms().max(1);
        let last = self.last_accept_log.load(Ordering::Relaxed);
        if last == 0 || now.saturating_sub(last) >= 1000 {
            self.last_accept_log.store(now, Ordering::Relaxed);
            self.log(level, args);
        }
    }

    pub(crate) fn rearm_listener(&self) {
        if let Some(l) = &*self.listener.lock() {
            if let Err(e) = self.backend.rearm_listener(l.as_raw_fd()) {
                self.log(Level::Error, format_args!("cannot re-arm listener: {e}"));
            }
        }
    }

    /// Resumes accepting if it was paused for `reason` (called when a
    /// connection closes, and by the housekeeping thread).
    pub(crate) fn resume_accepting(self: &Arc<Self>, reason: u8) {
        if self
            .accept_paused
            .compare_exchange(reason, NOT_PAUSED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.log(Level::Debug, format_args!("accepting resumed"));
            self.backend.resume_accepting(self);
        }
    }

    /// Called by the housekeeping thread: resumes accepting when a pause is over.
    pub(crate) fn check_accept_pause(self: &Arc<Self>, now: u64) {
        match self.accept_paused.load(Ordering::SeqCst) {
            PAUSED_ERROR if now >= self.accept_resume_at.load(Ordering::SeqCst) => {
                self.resume_accepting(PAUSED_ERROR)
            }
            PAUSED_CAP if self.table.len() < self.cfg.max_connections => {
                self.resume_accepting(PAUSED_CAP)
            }
            _ => {}
        }
    }

    /// Serves a ready connection on the calling worker; says what the
    /// connection waits for next, if it is still open.
    pub(crate) fn serve_ready(self: &Arc<Self>, conn: &ConnRef<P::State>) -> Next {
        let flow = {
            let mut st = conn.state.lock();
            if conn.is_closed() {
                drop(st);
                // Its close may have found the state taken by this thread.
                self.state_released(conn);
                return Next::Closed;
            }
            let flow = if conn.lingering.load(Ordering::Acquire) {
                drain_lingering(conn)
            } else {
                // A bug in the protocol code costs this connection, not the worker.
                let io = Io { core: self, conn };
                catch_unwind(AssertUnwindSafe(|| self.proto.on_ready(&io, &mut st))).unwrap_or_else(
                    |panic| {
                        let (cause, msg) = self.internal_error(conn.id, &*panic);
                        Flow::Close(cause, msg)
                    },
                )
            };
            match flow {
                Flow::Linger(cause, msg) => {
                    // Set up under the state lock, so that no deadline armed
                    // before (a passed head deadline, say) fires in between.
                    // The message moves to the connection.
                    self.begin_linger(conn, cause, msg);
                    Flow::Linger(cause, String::new())
                }
                flow => flow,
            }
        };
        // Closed by another thread while this one held the state.
        self.state_released(conn);
        match flow {
            _ if conn.is_closed() => Next::Closed,
            Flow::Park => Next::Readable,
            Flow::ParkWritable => Next::Writable,
            Flow::Yield => Next::Again,
            Flow::Close(cause, msg) => {
                // A lingering close ends with the cause it began with,
                // unless the drain found abuse (a peer that kept sending).
                let (cause, msg) = match self.take_linger_cause(conn) {
                    Some(noted) if cause.is_normal() => noted,
                    _ => (cause, msg),
                };
                self.close(conn, cause, msg);
                Next::Closed
            }
            // Stopping: the stop's farewell drains it, with room for the
            // requests a client pipelined (this drain would call more than
            // `LINGER_BYTES` abuse, and its close a reset).
            Flow::Linger(..) if self.stopping() => Next::Readable,
            Flow::Linger(..) => {
                // Drain what is already queued now (both dispatchers are
                // edge-triggered: those bytes raise no new event).
                self.serve_ready(conn)
            }
        }
    }

    /// Starts the lingering close of `conn`, whose state the caller holds:
    /// half-closes it, notes the cause its close will have, and arms the
    /// linger deadline; what the peer still sends is drained meanwhile.
    fn begin_linger(&self, conn: &ConnRef<P::State>, cause: CloseCause, msg: String) {
        let _ = conn.stream.shutdown(Shutdown::Write);
        *conn.linger_cause.lock() = Some((cause, msg));
        conn.lingering.store(true, Ordering::SeqCst);
        conn.set_deadline(
            DeadlineKind::Linger,
            self.now_ms() + LINGER.as_millis() as u64,
        );
    }

    /// Serving a connection panicked outside any callback: logged; the
    /// cause and message to close it with. A fuzzing build aborts, so that
    /// the fuzzer sees it.
    pub(crate) fn internal_error(
        &self,
        id: SocketId,
        panic: &(dyn std::any::Any + Send),
    ) -> (CloseCause, String) {
        let what = panic_message(panic);
        self.log(
            Level::Error,
            format_args!("internal error serving {id}: {what}"),
        );
        if cfg!(fuzzing) {
            std::process::abort();
        }
        (CloseCause::InternalError, what)
    }

    /// The cause and message a lingering close of `conn` began with.
    pub(crate) fn take_linger_cause(
        &self,
        conn: &ConnRef<P::State>,
    ) -> Option<(CloseCause, String)> {
        conn.linger_cause.lock().take()
    }

    /// Closes a connection from any thread; the on-close callback runs once.
    /// Returns false when another thread closed it first (with its own cause).
    ///
    /// The callback gets the connection's state: at once when no other
    /// thread holds it, else on the thread that does, as soon as that one
    /// lets it go (a worker running a callback of this connection: after
    /// the callback, which sees the connection closed meanwhile).
    pub(crate) fn close(
        self: &Arc<Self>,
        conn: &ConnRef<P::State>,
        cause: CloseCause,
        msg: String,
    ) -> bool {
        if !self.end(conn, cause, &msg) {
            return false;
        }
        // Noted first, then the state tried: a holder letting it go
        // meanwhile finds the note (`state_released`).
        *conn.close_owed.lock() = Some((cause, msg));
        if let Some(mut st) = conn.state.try_lock() {
            self.run_owed_close(conn, &mut st);
        }
        true
    }

    /// Closes a connection whose state the caller holds; see [`Core::close`].
    pub(crate) fn close_held(
        self: &Arc<Self>,
        conn: &ConnRef<P::State>,
        state: &mut P::State,
        cause: CloseCause,
        msg: String,
    ) -> bool {
        if !self.end(conn, cause, &msg) {
            return false;
        }
        self.proto
            .on_close(&self.server(), conn.id, cause, &msg, state);
        true
    }

    /// Marks the connection closed and lets go of its socket; false when
    /// another thread did first.
    fn end(self: &Arc<Self>, conn: &ConnRef<P::State>, cause: CloseCause, msg: &str) -> bool {
        if conn.closed.swap(true, Ordering::SeqCst) {
            return false;
        }
        if let Err(e) = self.backend.remove(conn) {
            self.log(Level::Debug, format_args!("deregistering {}: {e}", conn.id));
        }
        let _ = conn.stream.shutdown(Shutdown::Both);
        self.table.remove(conn.id);
        let level = if cause.is_normal() {
            Level::Debug
        } else {
            Level::Info
        };
        self.log(
            level,
            format_args!("socket {} closed: {cause}: {msg}", conn.id),
        );
        if self.table.len() < self.cfg.max_connections {
            self.resume_accepting(PAUSED_CAP);
        }
        true
    }

    /// Runs the on-close callback a [`Core::close`] left to the holder of the state.
    fn run_owed_close(self: &Arc<Self>, conn: &ConnRef<P::State>, state: &mut P::State) {
        let owed = conn.close_owed.lock().take();
        if let Some((cause, msg)) = owed {
            self.proto
                .on_close(&self.server(), conn.id, cause, &msg, state);
        }
    }

    /// Called by every thread that held a connection's state, after
    /// letting it go: runs an on-close callback owed meanwhile.
    pub(crate) fn state_released(self: &Arc<Self>, conn: &ConnRef<P::State>) {
        if conn.is_closed() && conn.close_owed.lock().is_some() {
            if let Some(mut st) = conn.state.try_lock() {
                self.run_owed_close(conn, &mut st);
            }
        }
    }

    /// Output was queued on a connection from a thread that is not serving
    /// it: have a worker write it once the socket is writable (a worker
    /// serving the connection right now serves it again after).
    pub(crate) fn want_writable(self: &Arc<Self>, conn: &ConnRef<P::State>) {
        self.backend.want_writable(self, conn);
    }

    /// Closes the connection with this id; false when it is not open (or
    /// another thread is closing it, and on_close gets that thread's cause).
    pub(crate) fn close_id(self: &Arc<Self>, id: SocketId, cause: CloseCause, msg: String) -> bool {
        match self.table.get(id) {
            Some(c) => self.close(&c, cause, msg),
            None => false,
        }
    }

    /// Fires the deadlines that passed; skips connections a worker is serving.
    pub(crate) fn fire_deadlines(self: &Arc<Self>, now: u64, expired: &mut Vec<ConnRef<P::State>>) {
        self.table.for_each(|c| {
            let (_, at) = c.deadline();
            if at != 0 && at <= now {
                expired.push(c.clone());
            }
        });
        for c in expired.drain(..) {
            let Some(mut st) = c.state.try_lock() else {
                continue;
            };
            let (kind, at) = c.deadline();
            if !c.is_closed() && at != 0 && at <= now {
                // The state lock is held until the connection is closed, so that a
                // request arriving at the deadline is not taken by a worker in between.
                self.fire(&c, &mut st, kind, at, now);
            }
            drop(st);
            // A close by another thread meanwhile, or one the deadline's
            // protocol work caused (a failed write).
            self.state_released(&c);
        }
    }

    /// Fires the deadline `(kind, at)` of `c`, whose state the caller holds.
    fn fire(
        self: &Arc<Self>,
        c: &ConnRef<P::State>,
        st: &mut P::State,
        kind: DeadlineKind,
        at: u64,
        now: u64,
    ) {
        if kind == DeadlineKind::Linger {
            let (cause, msg) = self
                .take_linger_cause(c)
                .unwrap_or((CloseCause::ProtocolViolated, String::new()));
            self.close_held(c, st, cause, msg);
            return;
        }
        let io = Io {
            core: self,
            conn: c,
        };
        // The housekeeping thread runs every deadline and the stop: a bug
        // in the protocol code costs this connection, not the thread.
        let expiry = match catch_unwind(AssertUnwindSafe(|| self.proto.on_deadline(&io, st, kind)))
        {
            Ok(expiry) => expiry,
            Err(panic) => {
                let (cause, msg) = self.internal_error(c.id, &*panic);
                self.close_held(c, st, cause, msg);
                return;
            }
        };
        let what = match kind {
            DeadlineKind::Head => "request head not received in time",
            DeadlineKind::Body => "request body made no progress in time",
            DeadlineKind::Idle => "idle",
            DeadlineKind::Closing => "close handshake not answered",
            DeadlineKind::Send => "responses not read in time",
            _ => "deadline passed",
        };
        match expiry {
            Expiry::Renew(again) => {
                // Left alone if a sender armed another deadline meanwhile.
                c.renew_deadline((kind, at), now + again.as_millis() as u64);
            }
            // Parked for reading, it stays watched: what the peer still
            // sends is drained, and the linger deadline ends it.
            Expiry::Linger => self.begin_linger(c, CloseCause::TimedOut, what.to_owned()),
            Expiry::Close => {
                self.close_held(c, st, CloseCause::TimedOut, what.to_owned());
            }
        }
    }

    /// Stops accepting and tells every worker to finish; returns at once.
    pub(crate) fn stop(&self) {
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        self.log(Level::Info, format_args!("stopping"));
        if let Some(l) = self.listener.lock().take() {
            let _ = self.backend.remove_listener(l.as_raw_fd());
        }
        self.backend.wake_all();
        let _g = self.timer_lock.lock();
        self.timer_cv.notify_all();
    }

    fn worker_exited(&self) {
        let mut n = self.live_workers.lock();
        *n -= 1;
        if *n == 0 {
            self.workers_cv.notify_all();
        }
    }

    /// Run by the housekeeping thread once stopping: waits for the workers
    /// (forcing blocked handlers off their sockets after the grace period),
    /// closes what is left and marks the server finished.
    pub(crate) fn finish_stop(self: &Arc<Self>) {
        let deadline = Instant::now() + self.cfg.shutdown_grace;
        let mut n = self.live_workers.lock();
        while *n > 0 && !self.workers_cv.wait_until(&mut n, deadline).timed_out() {}
        if *n > 0 {
            self.log(
                Level::Warn,
                format_args!(
                    "{} workers still busy after the grace period; shutting their sockets",
                    *n
                ),
            );
            drop(n);
            // Only the connections being served (their state is held): the
            // others are owed their answers or refusals by the farewell.
            let mut open = Vec::new();
            self.table.for_each(|c| open.push(c.clone()));
            for c in open {
                let held = c.state.try_lock().is_none();
                if held {
                    let _ = c.stream.shutdown(Shutdown::Both);
                } else {
                    // A close that found the state taken by this look runs
                    // its callback now.
                    self.state_released(&c);
                }
            }
            self.backend.wake_all();
            n = self.live_workers.lock();
            let extra = Instant::now() + Duration::from_secs(1);
            while *n > 0 && !self.workers_cv.wait_until(&mut n, extra).timed_out() {}
            if *n > 0 {
                self.log(
                    Level::Error,
                    format_args!("{} workers did not end; leaving them", *n),
                );
            }
        }
        drop(n);
        *self.admitting.write() = false;
        self.close_all_gracefully(deadline);
        self.backend.shutdown();
        super::lifecycle::untrack(&self.server());
        // Logged before `join` can return, so that "stopped" is the last line.
        self.log(Level::Info, format_args!("stopped"));
        *self.finished.lock() = true;
        self.finished_cv.notify_all();
    }
}

impl<P: Protocol> Control for Core<P> {
    fn name(&self) -> &str {
        &self.cfg.name
    }
    fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }
    fn stop(&self) {
        Core::stop(self)
    }
    fn join(&self) {
        let mut f = self.finished.lock();
        while !*f {
            self.finished_cv.wait(&mut f);
        }
    }
    fn is_finished(&self) -> bool {
        *self.finished.lock()
    }
    fn is_stopping(&self) -> bool {
        self.stopping()
    }
    fn connections(&self) -> usize {
        self.table.len()
    }
    fn close(self: Arc<Self>, id: SocketId, cause: CloseCause, msg: String) -> bool {
        self.close_id(id, cause, msg)
    }
    fn register(self: Arc<Self>, stream: TcpStream) -> io::Result<SocketId> {
        if self.stopping() {
            return Err(io::Error::other("server is stopping"));
        }
        Core::register(&self, stream)
    }
    fn is_open(&self, id: SocketId) -> bool {
        self.table.get(id).is_some()
    }
    fn sockets(&self) -> Vec<SocketId> {
        let mut ids = Vec::with_capacity(self.table.len());
        self.table.for_each(|c| {
            if self.proto.is_listed(c) {
                ids.push(c.id)
            }
        });
        ids
    }
    fn as_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

/// Errors of accept(2) that concern one connection, not the listener.
fn is_transient_accept_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) || e.raw_os_error() == Some(libc::EPROTO)
        || e.raw_os_error() == Some(libc::EPERM)
}

/// How draining a socket's input ended.
pub(crate) enum Drained {
    /// It has nothing more for now; this many bytes were read and dropped.
    Open(usize),
    /// The budget was read (this many bytes); more may be waiting.
    Full(usize),
    /// The peer's end, or an error.
    Ended(Flow),
}

/// Reads and drops what the peer sends, up to `budget` bytes.
pub(crate) fn drain_input(mut stream: &TcpStream, budget: usize) -> Drained {
    let mut scratch = [0u8; 4096];
    let mut total = 0;
    loop {
        match stream.read(&mut scratch) {
            Ok(0) => {
                return Drained::Ended(Flow::Close(
                    CloseCause::ClosedByClient,
                    "closed after the last answer".into(),
                ))
            }
            Ok(n) => {
                total += n;
                if total >= budget {
                    return Drained::Full(total);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Drained::Open(total),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Drained::Ended(Flow::Close(CloseCause::ConnectionLost, e.to_string()))
            }
        }
    }
}

/// Reads and drops what a peer still sends after the last answer, up to
/// [`LINGER_BYTES`] in all (counted across wake-ups), a step per turn.
fn drain_lingering<S>(conn: &Conn<S>) -> Flow {
    let so_far = conn.drained.load(Ordering::Relaxed);
    let budget = LINGER_STEP.min(LINGER_BYTES.saturating_sub(so_far));
    let (read, flow) = match drain_input(&conn.stream, budget) {
        Drained::Open(n) => (n, Flow::Park),
        Drained::Full(n) => (n, Flow::Yield),
        Drained::Ended(flow) => return flow,
    };
    conn.drained.store(so_far + read, Ordering::Relaxed);
    if so_far + read >= LINGER_BYTES {
        return Flow::Close(
            CloseCause::ProtocolViolated,
            "kept sending after the last answer".into(),
        );
    }
    flow
}

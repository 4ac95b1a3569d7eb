//! The HTTP server builder: every option, its default, its validation.

use super::context::Http;
use super::head::MAX_HEADERS_LIMIT;
use super::server::{HttpProto, HttpShared};
use crate::dispatch::{self, builder_options, CloseCause, Options, Server, SocketId, Startable};
use crate::error::Error;
use crate::limits::MIN_HEADER_BYTES;
use std::sync::Arc;
use std::time::Duration;

/// How a server takes request bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Content {
    /// No bodies (GET-like traffic, the fastest): a request with a body is
    /// answered 413 and the connection closed.
    #[default]
    NoBody,
    /// The whole body, up to `max_body_bytes`, is read by the dispatcher
    /// before the handler runs; the handler borrows it.
    Compact,
    /// The handler pulls the body in pieces, blocking only on its own socket,
    /// with the body deadline.
    Streaming,
}

/// The HTTP options of a server (the dispatch options live beside them).
#[derive(Clone, Debug)]
pub(crate) struct HttpConfig {
    pub(crate) content: Content,
    pub(crate) headers: Vec<String>,
    pub(crate) all_headers: bool,
    pub(crate) parse_request_line: bool,
    pub(crate) max_header_bytes: usize,
    pub(crate) max_headers: usize,
    pub(crate) max_uri_bytes: usize,
    pub(crate) max_body_bytes: usize,
    pub(crate) header_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) send_timeout: Duration,
}

impl HttpConfig {
    /// Whether the server keeps the header field `name` for `header(name)`.
    pub(crate) fn keeps(&self, name: &str) -> bool {
        self.all_headers || self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }
}

thread_local! {
    /// Header names asked for but not kept, already logged on this thread.
    static UNDECLARED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Logs, once per name and thread, that `header(name)` asked for a field
/// the server does not keep.
pub(crate) fn note_undeclared(name: &str) {
    UNDECLARED.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return;
        }
        seen.push(name.to_owned());
        log::debug!(target: "guildenstern",
            "header({name:?}) is always None: the server does not keep that field; \
             name it in the `headers` option (or set `all_headers`)");
    });
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            content: Content::NoBody,
            headers: Vec::new(),
            all_headers: false,
            parse_request_line: true,
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            max_uri_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(30),
        }
    }
}

impl HttpConfig {
    fn validate(&self) -> Result<(), Error> {
        let err = |m: String| Err(Error::Config(m));
        if self.max_headers == 0 || self.max_headers > MAX_HEADERS_LIMIT {
            return err(format!("max_headers must be 1..={MAX_HEADERS_LIMIT}"));
        }
        if self.max_header_bytes < MIN_HEADER_BYTES {
            return err(format!(
                "max_header_bytes must be at least {MIN_HEADER_BYTES}"
            ));
        }
        if self.max_uri_bytes == 0 || self.max_body_bytes == 0 {
            return err("max_uri_bytes and max_body_bytes must be at least 1".into());
        }
        for (name, d) in [
            ("header_timeout", self.header_timeout),
            ("body_timeout", self.body_timeout),
            ("idle_timeout", self.idle_timeout),
            ("send_timeout", self.send_timeout),
        ] {
            if d.is_zero() {
                return err(format!("{name} must be longer than zero"));
            }
        }
        for h in &self.headers {
            if h.is_empty() || !h.bytes().all(is_tchar) {
                return err(format!("{h:?} is not a header field name"));
            }
        }
        Ok(())
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The request handler in one of its two shapes.
pub(crate) enum Handler {
    /// Reaches the request through the thread-local accessors.
    Plain(Box<dyn Fn() + Send + Sync>),
    /// Takes the context explicitly.
    Context(Box<dyn Fn(&mut Http) + Send + Sync>),
}

pub(crate) type OnClose = Box<dyn Fn(&Server, SocketId, CloseCause, &str) + Send + Sync>;

/// Builds an HTTP server. Every option of the `#[http_server]` attribute is a
/// method of the same name here (timeouts take a `Duration` instead of `_ms`).
///
/// ```no_run
/// use guildenstern::prelude::*;
///
/// let server = HttpServer::new(|| reply("hello"))
///     .port(8080)
///     .threads(4)
///     .start()
///     .expect("port 8080 is free");
/// server.join();
/// ```
pub struct HttpServer {
    options: Options,
    http: HttpConfig,
    handler: Handler,
    on_close: Option<OnClose>,
}

impl HttpServer {
    fn with_handler(handler: Handler) -> Self {
        HttpServer {
            options: Options::new("http"),
            http: HttpConfig::default(),
            handler,
            on_close: None,
        }
    }

    builder_options!("http");

    /// A server whose handler reaches the request through the thread-local
    /// accessors (`reply`, `uri`, `header`, …).
    pub fn new(handler: impl Fn() + Send + Sync + 'static) -> Self {
        Self::with_handler(Handler::Plain(Box::new(handler)))
    }

    /// A server whose handler takes the request context explicitly.
    pub fn with_context(handler: impl Fn(&mut Http) + Send + Sync + 'static) -> Self {
        Self::with_handler(Handler::Context(Box::new(handler)))
    }

    /// How request bodies are taken. Default: [`Content::NoBody`].
    pub fn content(mut self, content: Content) -> Self {
        self.http.content = content;
        self
    }

    /// The header fields `header(name)` can read (case-insensitive); others are
    /// validated but not kept. Default: none.
    pub fn headers(mut self, names: &[&str]) -> Self {
        self.http.headers = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        self
    }

    /// Keep every header field. Default: false.
    pub fn all_headers(mut self, all: bool) -> Self {
        self.http.all_headers = all;
        self
    }

    /// Whether `uri` and `method` are available. The request line is always
    /// validated; turning this off only makes the accessors answer "". Default: true.
    pub fn parse_request_line(mut self, parse: bool) -> Self {
        self.http.parse_request_line = parse;
        self
    }

    /// Bytes of a request head at most (431 beyond). Default: 64 KiB.
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.http.max_header_bytes = n;
        self
    }

    /// Header fields of a request at most (431 beyond). Default: 100, at most 512.
    pub fn max_headers(mut self, n: usize) -> Self {
        self.http.max_headers = n;
        self
    }

    /// Bytes of a request target at most (414 beyond). Default: 16 KiB.
    pub fn max_uri_bytes(mut self, n: usize) -> Self {
        self.http.max_uri_bytes = n;
        self
    }

    /// Bytes of a Compact body at most (413 beyond). Default: 1 MiB.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.http.max_body_bytes = n;
        self
    }

    /// The whole request head must arrive within this time from its first
    /// byte (or from the connection's start); it does not restart on each
    /// byte. Default: 30 s.
    pub fn header_timeout(mut self, d: Duration) -> Self {
        self.http.header_timeout = d;
        self
    }

    /// A body must make progress within this time. Default: 30 s.
    pub fn body_timeout(mut self, d: Duration) -> Self {
        self.http.body_timeout = d;
        self
    }

    /// An idle keep-alive connection closes after this time. Default: 60 s.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.http.idle_timeout = d;
        self
    }

    /// Answers a client does not read wait this long for it (no worker
    /// waits with them), then the connection closes with `TimedOut`; a
    /// handler streaming a reply waits at most this long for each write.
    /// Default: 30 s.
    pub fn send_timeout(mut self, d: Duration) -> Self {
        self.http.send_timeout = d;
        self
    }

    /// Called once for every connection that closes, with the cause and a message.
    pub fn on_close(
        mut self,
        f: impl Fn(&Server, SocketId, CloseCause, &str) + Send + Sync + 'static,
    ) -> Self {
        self.on_close = Some(Box::new(f));
        self
    }

    /// Validates the options, binds the port and starts the workers.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid option, [`Error::Bind`] when the port
    /// cannot be bound, [`Error::Io`] when threads cannot be started.
    pub fn start(self) -> Result<Server, Error> {
        self.options.check("an HTTP server")?;
        self.http.validate()?;
        let shared = Arc::new(HttpShared {
            cfg: self.http,
            handler: self.handler,
            on_close: self.on_close,
        });
        dispatch::start(HttpProto::new(shared), self.options)
    }
}

impl Startable for HttpServer {
    fn start_server(self: Box<Self>) -> Result<Server, Error> {
        (*self).start()
    }
}

//! The handler-facing reader: [`Multipart`] pulls the body through a fixed
//! buffer and yields [`Event`]s that borrow from it.

use super::boundary::{self, boundary_of, content_type_in_head};
use super::error::MultipartError;
use super::limits::Limits;
use super::parser::{Parser, Step};
use super::part::{Event, Part};
use crate::http::{with_request, Request};
use std::fmt;
use std::io::{self, Read};

/// A streaming `multipart/form-data` reader (RFC 7578) over a body source.
///
/// It holds one fixed buffer ([`Limits::buffer_bytes`]) and nothing that
/// grows with the body: parts of any size pass through as [`Event::Data`]
/// pieces. Events borrow the reader (a lending iterator), so each must be
/// used, or copied, before the next call.
///
/// A server reading multipart bodies takes them as
/// [`Content::Streaming`](crate::http::Content::Streaming). It needs no
/// `headers` option: the reader finds `Content-Type` in the raw head.
///
/// # Examples
///
/// An argument-free handler:
/// ```no_run
/// use guildenstern::multipart::{Event, MultipartError};
/// use guildenstern::prelude::*;
///
/// #[http_server(port = 8080, content = Streaming)]
/// fn upload() {
///     let mut summary = String::new();
///     let result = (|| -> Result<(), MultipartError> {
///         let mut mp = multipart()?;
///         let mut size = 0;
///         while let Some(event) = mp.next_event()? {
///             match event {
///                 Event::Part(p) => {
///                     summary += &format!("{} {:?}", p.name(), p.filename());
///                     size = 0;
///                 }
///                 Event::Data(bytes) => size += bytes.len(),
///                 Event::PartEnd => summary += &format!(": {size} bytes\n"),
///             }
///         }
///         Ok(())
///     })();
///     match result {
///         Ok(()) => reply(summary),
///         Err(e) => reply_with(e.status(), e.to_string(), &[]),
///     }
/// }
/// ```
///
/// A handler taking the context, and any `Read` (here a byte slice):
/// ```
/// use guildenstern::multipart::{Event, Multipart, MultipartError};
/// use guildenstern::http::Http;
///
/// fn upload(cx: &mut Http) {
///     let (req, res) = cx.parts();
///     let mut files = 0;
///     let result = Multipart::from_request(req).and_then(|mut mp| {
///         while let Some(event) = mp.next_event()? {
///             files += matches!(event, Event::Part(p) if p.is_file()) as usize;
///         }
///         Ok(())
///     });
///     match result {
///         Ok(()) => res.reply(format!("{files} files")),
///         Err(e) => res.reply_with(e.status(), e.to_string().as_bytes(), &[]),
///     }
/// }
///
/// let body: &[u8] = b"--b\r\nContent-Disposition: form-data; name=\"f\"; \
///     filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n";
/// let mut mp = Multipart::new(body, "b")?;
/// let Some(Event::Part(p)) = mp.next_event()? else { panic!() };
/// assert_eq!((p.name().as_ref(), p.filename().as_deref()), ("f", Some("a.txt")));
/// assert!(matches!(mp.next_event()?, Some(Event::Data(b"hello"))));
/// assert!(matches!(mp.next_event()?, Some(Event::PartEnd)));
/// assert!(mp.next_event()?.is_none());
/// # Ok::<(), MultipartError>(())
/// ```
pub struct Multipart<R> {
    src: R,
    buf: Box<[u8]>,
    /// The buffered, not yet consumed bytes: `buf[start..end]`.
    start: usize,
    end: usize,
    /// The source said its end.
    eof: bool,
    /// The end or an error was reported; nothing more follows.
    finished: bool,
    parser: Parser,
    drain_bytes: u64,
}

impl<R: Read> Multipart<R> {
    /// A reader of `src` with the default [`Limits`]. `boundary` is the
    /// value of the `Content-Type`'s `boundary` parameter (see [`boundary_of`]).
    ///
    /// # Errors
    /// [`MultipartError::InvalidBoundary`] when `boundary` breaks RFC 2046 §5.1.1.
    pub fn new(src: R, boundary: impl AsRef<[u8]>) -> Result<Self, MultipartError> {
        Self::with_limits(src, boundary, Limits::default())
    }

    /// A reader of `src` with these limits.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_limits(
        src: R,
        boundary: impl AsRef<[u8]>,
        limits: Limits,
    ) -> Result<Self, MultipartError> {
        let boundary = boundary.as_ref();
        boundary::check(boundary)?;
        Ok(Multipart {
            src,
            buf: vec![0; limits.effective_buffer_bytes()].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            finished: false,
            parser: Parser::new(boundary, limits),
            drain_bytes: limits.drain_bytes,
        })
    }

    /// The next event; `Ok(None)` once the close delimiter was read (and
    /// forever after, also after an error).
    ///
    /// Blocks while the body's next bytes are on their way (a request body
    /// waits up to the server's body timeout).
    ///
    /// # Errors
    /// Any [`MultipartError`] but `NotMultipart` and `InvalidBoundary`; its
    /// [`status`](MultipartError::status) is the answer to send. After a
    /// syntax error the reader reads and drops the rest of the body, up to
    /// [`Limits::drain_bytes`], so that the answer can keep the connection.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, MultipartError> {
        if self.finished {
            return Ok(None);
        }
        loop {
            let base = self.start;
            let stepped = self.parser.step(&self.buf[base..self.end], self.eof);
            let step = match stepped {
                Ok((consumed, step)) => {
                    self.start += consumed;
                    step
                }
                Err(e) => return Err(self.fail(e)),
            };
            match step {
                Step::More => {
                    if let Err(e) = self.fill() {
                        return Err(self.fail(e));
                    }
                }
                Step::Data(r) => {
                    return Ok(Some(Event::Data(&self.buf[base + r.start..base + r.end])))
                }
                Step::Part(r) => {
                    return Ok(Some(Event::Part(Part::new(
                        &self.buf[base + r.start..base + r.end],
                        &self.parser.fields,
                        &self.parser.disposition,
                    ))))
                }
                Step::PartEnd => return Ok(Some(Event::PartEnd)),
                Step::End => {
                    self.finished = true;
                    // The epilogue: read it so that the connection goes on.
                    self.drain();
                    return Ok(None);
                }
            }
        }
    }

    /// Parts begun so far.
    pub fn parts(&self) -> usize {
        self.parser.parts()
    }

    /// Whether the close delimiter was read.
    pub fn is_complete(&self) -> bool {
        self.parser.is_done()
    }

    /// The body source back.
    pub fn into_inner(self) -> R {
        self.src
    }

    /// Moves the unconsumed bytes to the buffer's start and reads more after them.
    fn fill(&mut self) -> Result<(), MultipartError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // The parser never waits on more than a header section, which
            // the buffer holds whole (Limits::effective_buffer_bytes).
            return Err(MultipartError::PartHeadersTooLarge);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(MultipartError::Io(e)),
            }
            return Ok(());
        }
    }

    /// Ends the reader on an error, logs it, and drains after a syntax error.
    fn fail(&mut self, e: MultipartError) -> MultipartError {
        self.finished = true;
        log_refusal(&e);
        if e.drains() {
            self.drain();
        }
        e
    }

    fn drain(&mut self) {
        self.start = 0;
        self.end = 0;
        if !self.eof {
            discard(&mut self.src, &mut self.buf, self.drain_bytes);
        }
    }
}

impl<R> fmt::Debug for Multipart<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart")
            .field("parts", &self.parser.parts())
            .field("complete", &self.parser.is_done())
            .field("buffered", &(self.end - self.start))
            .field("buffer_bytes", &self.buf.len())
            .finish_non_exhaustive()
    }
}

/// Reads and drops up to `limit` bytes of `src`, stopping at its end or
/// its first error (the HTTP layer then closes the connection after the answer).
fn discard(src: &mut impl Read, scratch: &mut [u8], limit: u64) {
    let mut left = limit;
    while left > 0 {
        let want = scratch
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        match src.read(&mut scratch[..want]) {
            Ok(0) => return,
            Ok(n) => left -= n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

impl<'r> Multipart<&'r mut Request> {
    /// A reader of the request's body, with the boundary from its
    /// `Content-Type` and the default [`Limits`]. For handlers taking the
    /// context: `Multipart::from_request(cx.request())`.
    ///
    /// # Errors
    /// [`MultipartError::NotMultipart`] (415) when the `Content-Type` is
    /// missing or not `multipart/form-data`; [`MultipartError::InvalidBoundary`]
    /// (400) for a missing, repeated or invalid boundary. The body is then
    /// drained as after any syntax error (see [`Limits::drain_bytes`]),
    /// unless the client waits for `100 Continue`: it is not asked for a
    /// body nobody reads, and the answer closes the connection.
    pub fn from_request(req: &'r mut Request) -> Result<Self, MultipartError> {
        Self::from_request_with(req, Limits::default())
    }

    /// As [`from_request`](Self::from_request), with these limits.
    ///
    /// # Errors
    /// As [`from_request`](Self::from_request).
    pub fn from_request_with(req: &'r mut Request, limits: Limits) -> Result<Self, MultipartError> {
        let found = content_type_in_head(req.raw_head()).and_then(boundary_of);
        match found {
            Ok(b) => Multipart::with_limits(req, b, limits),
            Err(e) => {
                let drain = !req.awaits_continue();
                Err(refuse_unread(req, e, drain, limits))
            }
        }
    }
}

/// The body of the request in flight on this thread, read through the
/// thread-local [`read_body`](crate::http::read_body): the source of
/// [`multipart()`]'s reader.
#[derive(Debug)]
pub struct CurrentBody {
    _private: (),
}

impl Read for CurrentBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        crate::http::read_body(buf)
    }
}

/// A multipart reader of the body of the request in flight, for
/// argument-free handlers: the boundary comes from its `Content-Type`, the
/// limits are the defaults. See [`Multipart`] for an example.
///
/// # Errors
/// As [`Multipart::from_request`].
///
/// # Panics
/// Outside an argument-free HTTP handler, as every thread-local accessor.
pub fn multipart() -> Result<Multipart<CurrentBody>, MultipartError> {
    multipart_with(Limits::default())
}

/// As [`multipart()`], with these limits.
///
/// # Errors
/// As [`Multipart::from_request`].
///
/// # Panics
/// As [`multipart()`].
pub fn multipart_with(limits: Limits) -> Result<Multipart<CurrentBody>, MultipartError> {
    let (found, awaits_continue) = with_request(|req| {
        let found = content_type_in_head(req.raw_head()).and_then(boundary_of);
        (found, req.awaits_continue())
    });
    let mut body = CurrentBody { _private: () };
    match found {
        Ok(b) => Multipart::with_limits(body, b, limits),
        Err(e) => Err(refuse_unread(&mut body, e, !awaits_continue, limits)),
    }
}

/// A request refused before its body was looked at: logged, and its body
/// drained so that the answer can keep the connection — unless the client
/// waits for `100 Continue`: then it is not asked for a body nobody reads
/// (RFC 9110 §10.1.1), and the answer closes the connection.
fn refuse_unread(
    src: &mut impl Read,
    e: MultipartError,
    drain: bool,
    limits: Limits,
) -> MultipartError {
    log_refusal(&e);
    if drain {
        let mut scratch = [0u8; 8 * 1024];
        discard(src, &mut scratch, limits.drain_bytes);
    }
    e
}

fn log_refusal(e: &MultipartError) {
    log::debug!("multipart body refused ({}): {e}", e.status());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// A source that hands out `body` in pieces ending at `cuts`.
    struct Pieces<'a> {
        body: &'a [u8],
        cuts: Vec<usize>,
        pos: usize,
    }

    impl Read for Pieces<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let next = self
                .cuts
                .iter()
                .copied()
                .find(|&c| c > self.pos)
                .unwrap_or(self.body.len());
            let n = (next - self.pos).min(out.len());
            out[..n].copy_from_slice(&self.body[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    type Parts = Vec<(String, Option<String>, Vec<u8>)>;

    /// Reads `body` cut at `cuts` and reassembles its parts, checking the
    /// event order on the way.
    fn reassemble(body: &[u8], cuts: Vec<usize>, limits: Limits) -> Result<Parts, MultipartError> {
        let src = Pieces { body, cuts, pos: 0 };
        let mut mp = Multipart::with_limits(src, "XyZ", limits)?;
        let mut parts: Parts = Vec::new();
        let mut open = false;
        while let Some(ev) = mp.next_event()? {
            match ev {
                Event::Part(p) => {
                    assert!(!open, "Part inside a part");
                    open = true;
                    parts.push((
                        p.name().into_owned(),
                        p.filename().map(Cow::into_owned),
                        Vec::new(),
                    ));
                }
                Event::Data(d) => {
                    assert!(open && !d.is_empty(), "Data outside a part, or empty");
                    parts.last_mut().unwrap().2.extend_from_slice(d);
                }
                Event::PartEnd => {
                    assert!(open, "PartEnd outside a part");
                    open = false;
                }
            }
        }
        assert!(!open && mp.is_complete());
        assert!(mp.next_event()?.is_none(), "fused after the end");
        Ok(parts)
    }

    /// Data that looks like delimiters without being one, CRLFs, and every
    /// byte value; `n` bytes.
    fn tricky(n: usize) -> Vec<u8> {
        let pieces: [&[u8]; 6] = [
            b"\r\n--XyY",
            b"--XyZ\r\n",
            b"\r\n-",
            b"\r\r\n--Xy",
            b"\r\n--X",
            b"\n--XyZ",
        ];
        let mut v = Vec::with_capacity(n);
        let mut i = 0usize;
        while v.len() < n {
            v.extend_from_slice(pieces[i % pieces.len()]);
            v.extend((0..=255u8).skip(i * 7 % 200).take(i % 40));
            i += 1;
        }
        v.truncate(n);
        v
    }

    fn sample() -> (Vec<u8>, Parts) {
        let want: Parts = vec![
            ("text".into(), None, b"hello\r\nworld".to_vec()),
            ("empty".into(), None, Vec::new()),
            ("bin".into(), Some("a \"b\".bin".into()), tricky(2500)),
            ("cr".into(), Some(String::new()), b"\r".to_vec()),
            ("last".into(), None, tricky(300)),
        ];
        let mut body = b"preamble \r\n--XyY-ish\r\n".to_vec();
        for (name, file, data) in &want {
            body.extend_from_slice(b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"");
            body.extend_from_slice(name.as_bytes());
            body.push(b'"');
            if let Some(f) = file {
                body.extend_from_slice(b"; filename=\"");
                body.extend_from_slice(f.replace('"', "\\\"").as_bytes());
                body.extend_from_slice(b"\"\r\nContent-Type: application/octet-stream");
            }
            body.extend_from_slice(b"\r\n\r\n");
            body.extend_from_slice(data);
        }
        body.extend_from_slice(b"\r\n--XyZ--\r\nepilogue");
        (body, want)
    }

    /// A small buffer (1 KiB), so that parts span many fills.
    fn small() -> Limits {
        Limits::default().buffer_bytes(0).max_part_header_bytes(200)
    }

    #[test]
    fn one_cut_at_every_index() {
        let (body, want) = sample();
        for limits in [small(), Limits::default()] {
            for cut in 0..=body.len() {
                let got = reassemble(&body, vec![cut], limits).unwrap();
                assert_eq!(got, want, "cut at {cut}");
            }
        }
    }

    #[test]
    fn byte_by_byte() {
        let (body, want) = sample();
        let got = reassemble(&body, (1..body.len()).collect(), small()).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn random_cuts() {
        let (body, want) = sample();
        // xorshift64: reproducible, no dependency.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..500 {
            let n = 1 + (next() % 40) as usize;
            let mut cuts: Vec<usize> = (0..n)
                .map(|_| (next() % body.len() as u64) as usize)
                .collect();
            cuts.sort_unstable();
            let limits = if round % 2 == 0 {
                small()
            } else {
                Limits::default()
            };
            let got = reassemble(&body, cuts.clone(), limits).unwrap();
            assert_eq!(got, want, "cuts {cuts:?}");
        }
    }

    #[test]
    fn errors_at_every_cut() {
        // Junk after a delimiter, and a body without its close delimiter:
        // refused the same however the bytes arrive.
        let (body, _) = sample();
        let junk = String::from_utf8_lossy(&body).replace(
            "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"empty\"",
            "\r\n--XyZ junk\r\n",
        );
        let cut_short = &body[..body.len() - 20];
        for cut in 0..body.len() - 20 {
            let e = reassemble(junk.as_bytes(), vec![cut], small()).unwrap_err();
            assert!(matches!(e, MultipartError::Malformed(_)), "{cut}: {e:?}");
            let e = reassemble(cut_short, vec![cut], small()).unwrap_err();
            assert!(matches!(e, MultipartError::Truncated), "{cut}: {e:?}");
        }
    }

    /// Mutated and cut bodies end in events or an error, never a panic or
    /// a loop, and a refused body yields nothing more.
    #[test]
    fn mutations_never_panic() {
        let (body, _) = sample();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let specials = b"\r\n-XyZ \t\";:=";
        for round in 0..2000 {
            let mut m = body.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % m.len() as u64) as usize;
                m[at] = match next() % 3 {
                    0 => next() as u8,
                    _ => specials[(next() % specials.len() as u64) as usize],
                };
            }
            if round % 3 == 0 {
                m.truncate((next() % m.len() as u64) as usize);
            }
            let cuts = (0..next() % 6)
                .map(|_| (next() % (m.len() as u64 + 1)) as usize)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let src = Pieces {
                body: &m,
                cuts,
                pos: 0,
            };
            let mut mp = Multipart::with_limits(src, "XyZ", small()).unwrap();
            let mut events = 0;
            loop {
                match mp.next_event() {
                    Ok(Some(_)) => events += 1,
                    Ok(None) => break,
                    Err(_) => {
                        assert!(mp.next_event().unwrap().is_none());
                        break;
                    }
                }
                assert!(events <= m.len() + 1, "no progress");
            }
        }
    }

    #[test]
    fn constructors() {
        let mp = Multipart::new(&b""[..], "b").unwrap();
        assert!(format!("{mp:?}").starts_with("Multipart { parts: 0, complete: false"));
        let e = Multipart::new(&b""[..], "bad boundary ").err().unwrap();
        assert_eq!(e.status(), 400);
        assert_eq!(small().effective_buffer_bytes(), 1024);
        assert_eq!(Limits::default().effective_buffer_bytes(), 32 * 1024);
    }
}

//! Streaming `multipart/form-data` (RFC 7578): the body of an HTML form
//! with file inputs, read as events while it arrives, in constant memory.
//!
//! A [`Multipart`] reader sits on the HTTP layer's streamed body
//! ([`Content::Streaming`](crate::http::Content::Streaming) and
//! [`read_body`](crate::http::read_body)) and yields, for each part, an
//! [`Event::Part`] (its header fields, `name` and `filename`), the part's
//! data as [`Event::Data`] pieces borrowed from one fixed buffer, and an
//! [`Event::PartEnd`]; `Ok(None)` after the last part.
//!
//! ```no_run
//! use guildenstern::multipart::{Event, MultipartError};
//! use guildenstern::prelude::*;
//!
//! #[http_server(port = 8080, content = Streaming)]
//! fn upload() {
//!     let mut sizes = Vec::new();
//!     let read = multipart().and_then(|mut mp| {
//!         while let Some(event) = mp.next_event()? {
//!             match event {
//!                 Event::Part(part) => sizes.push((part.name().into_owned(), 0)),
//!                 Event::Data(piece) => sizes.last_mut().unwrap().1 += piece.len(),
//!                 Event::PartEnd => {}
//!             }
//!         }
//!         Ok(())
//!     });
//!     match read {
//!         Ok(()) => reply(format!("{sizes:?}")),
//!         Err(e) => reply_with(e.status(), e.to_string(), &[]),
//!     }
//! }
//! ```
//!
//! # Answers to bad input
//!
//! | Cause | [`MultipartError`] | Status |
//! |---|---|---|
//! | no `Content-Type`, or not `multipart/form-data` | `NotMultipart` | 415 |
//! | boundary missing, repeated, or against RFC 2046 §5.1.1 | `InvalidBoundary` | 400 |
//! | junk after a delimiter, bad part header, part without `Content-Disposition` name | `Malformed` | 400 |
//! | body ends before `--boundary--` | `Truncated` | 400 |
//! | more parts than [`Limits::max_parts`] | `TooManyParts` | 413 |
//! | a part header section over [`Limits::max_part_header_bytes`] or [`Limits::max_part_headers`] | `PartHeadersTooLarge` | 413 |
//! | the client sends nothing within the body timeout | `Io` (`TimedOut`) | 408 |
//! | the server does not take bodies as `Streaming` | `Io` (`Unsupported`) | 500 |
//!
//! Part headers are content, not the request's header section, so an
//! oversized one is 413 (RFC 9110 §15.5.14), not 431 (RFC 6585 §5). After a
//! 400 or 415 the reader drains the rest of the body (up to
//! [`Limits::drain_bytes`]) so that the connection can serve the requests
//! pipelined behind this one. After a 413 it does not read on: if the body
//! was not read whole by then, the answer carries `Connection: close` (as
//! every answer to a request whose body was left unread does) and the HTTP
//! layer still delivers it; a small body the reader had already taken whole
//! keeps the connection. Every refusal is logged at debug level with its
//! cause.
//!
//! # Names and file names
//!
//! A part without `Content-Disposition: form-data; name=…` is refused
//! (RFC 7578 §4.2 requires it). `name` and `filename` are given as sent:
//! browsers send raw UTF-8 and percent-encode only `"`, CR and LF, and
//! those sequences are not decoded (a literal `%22` would be ambiguous).
//! In a quoted value, `\"` and `\\` are quoted-pairs and any other
//! backslash is literal (Windows paths survive). `filename*` (RFC 8187),
//! which RFC 7578 §4.2 forbids senders to use, is read only when there is
//! no `filename`, for the charsets UTF-8 and ISO-8859-1.

mod boundary;
mod disposition;
mod error;
mod limits;
mod params;
mod parser;
mod part;
mod reader;

pub use boundary::{boundary_of, MAX_BOUNDARY_LEN};
pub use error::MultipartError;
pub use limits::{Limits, MAX_BUFFER_BYTES};
pub use part::{Event, Part};
pub use reader::{multipart, multipart_with, CurrentBody, Multipart};

//! Why a multipart body is refused, and the status that answers it.

use std::fmt;
use std::io;

/// Why a `multipart/form-data` body cannot be read. Every error is final:
/// the reader yields nothing more after it.
///
/// [`status`](Self::status) is the answer to send; [`Display`](fmt::Display)
/// is the cause, short enough for a log line or a plain-text answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum MultipartError {
    /// The request has no `Content-Type`, or it is not
    /// `multipart/form-data`. Answer 415 Unsupported Media Type (RFC 9110 §15.5.16).
    NotMultipart,
    /// The `Content-Type` has no `boundary` parameter, or its value breaks
    /// RFC 2046 §5.1.1 (1–70 characters from the allowed set, not ending in a
    /// space), or the field is not `type *( ";" parameter )`. Answer 400.
    InvalidBoundary(&'static str),
    /// The body has more parts than [`Limits::max_parts`](super::Limits::max_parts).
    /// Answer 413 Content Too Large (RFC 9110 §15.5.14).
    TooManyParts(usize),
    /// A part's header section is longer than
    /// [`Limits::max_part_header_bytes`](super::Limits::max_part_header_bytes),
    /// or has more fields than [`Limits::max_part_headers`](super::Limits::max_part_headers).
    /// Answer 413: the part headers are content, not the request's header
    /// section, so 431 (RFC 6585 §5) does not apply.
    PartHeadersTooLarge,
    /// The body breaks the multipart syntax (RFC 2046 §5.1.1, RFC 7578 §4):
    /// bytes other than padding and CRLF after a boundary delimiter, a
    /// malformed part header field, an unreadable `Content-Disposition`.
    /// Answer 400.
    Malformed(&'static str),
    /// The body ended before the close delimiter (`--boundary--`), or held
    /// no delimiter at all. Answer 400.
    Truncated,
    /// Reading the body failed: the client sent nothing within the body
    /// timeout (`TimedOut`; answer 408), sent a malformed chunked body
    /// (`InvalidData`), or closed the connection (`UnexpectedEof`); the
    /// latter two answer 400. `Unsupported` (500): the server does not take
    /// bodies as [`Content::Streaming`](crate::http::Content::Streaming).
    Io(io::Error),
}

impl MultipartError {
    /// The HTTP status that answers this error.
    pub fn status(&self) -> u16 {
        match self {
            MultipartError::NotMultipart => 415,
            MultipartError::TooManyParts(_) | MultipartError::PartHeadersTooLarge => 413,
            MultipartError::Io(e) if e.kind() == io::ErrorKind::TimedOut => 408,
            // The server does not stream bodies (see `Content::Streaming`).
            MultipartError::Io(e) if e.kind() == io::ErrorKind::Unsupported => 500,
            _ => 400,
        }
    }

    /// Whether the rest of the body should be read and thrown away so that
    /// the connection can serve the requests behind this one: true for
    /// syntax errors, false where the client sends more than allowed (the
    /// reader stops; an answer to a body left unread closes the connection)
    /// or the body is gone already.
    pub(crate) fn drains(&self) -> bool {
        matches!(
            self,
            MultipartError::NotMultipart
                | MultipartError::InvalidBoundary(_)
                | MultipartError::Malformed(_)
        )
    }
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultipartError::NotMultipart => {
                f.write_str("the request content is not multipart/form-data")
            }
            MultipartError::InvalidBoundary(why) => write!(f, "invalid multipart boundary: {why}"),
            MultipartError::TooManyParts(n) => write!(f, "more than {n} parts in a multipart body"),
            MultipartError::PartHeadersTooLarge => {
                f.write_str("a multipart part's header section is too large")
            }
            MultipartError::Malformed(why) => write!(f, "malformed multipart body: {why}"),
            MultipartError::Truncated => {
                f.write_str("multipart body ended before its close delimiter")
            }
            MultipartError::Io(e) => write!(f, "reading the multipart body failed: {e}"),
        }
    }
}

impl std::error::Error for MultipartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MultipartError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for MultipartError {
    fn from(e: io::Error) -> Self {
        MultipartError::Io(e)
    }
}

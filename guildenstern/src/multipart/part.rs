//! What the reader yields: [`Event`]s, and a [`Part`]'s header fields,
//! name and file name, borrowed from the reader's buffer.

use super::disposition::Disposition;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// What a [`Multipart`](super::Multipart) reader found next in the body.
///
/// For each part: one `Part`, then zero or more `Data`, then one `PartEnd`.
/// The end of the body is `Ok(None)` from
/// [`Multipart::next_event`](super::Multipart::next_event).
#[derive(Debug)]
pub enum Event<'a> {
    /// A part begins: its header section is complete.
    Part(Part<'a>),
    /// The next piece of the current part's data, borrowed from the
    /// reader's buffer (no copy); pieces are at most the buffer's size and
    /// may be split anywhere.
    Data(&'a [u8]),
    /// The current part's data is complete.
    PartEnd,
}

/// A part's header section, borrowed from the reader's buffer: its
/// `Content-Disposition` (`name` and `filename`) and its other fields.
///
/// Every part has a name: a part without `Content-Disposition: form-data;
/// name=…` is refused (RFC 7578 §4.2). See the [module docs](super) for how
/// names and file names are decoded.
#[derive(Clone, Copy)]
pub struct Part<'a> {
    section: &'a [u8],
    fields: &'a [(Range<usize>, Range<usize>)],
    disposition: &'a (Range<usize>, Disposition),
}

impl<'a> Part<'a> {
    pub(crate) fn new(
        section: &'a [u8],
        fields: &'a [(Range<usize>, Range<usize>)],
        disposition: &'a (Range<usize>, Disposition),
    ) -> Self {
        Part {
            section,
            fields,
            disposition,
        }
    }

    fn cd_value(&self) -> &'a [u8] {
        &self.section[self.disposition.0.clone()]
    }

    /// The form field's name (`Content-Disposition`'s `name`).
    pub fn name(&self) -> Cow<'a, str> {
        match self.disposition.1.name {
            Some(v) => v.text(self.cd_value()),
            None => Cow::Borrowed(""),
        }
    }

    /// The file name, for a file input (`filename`, or `filename*` when
    /// there is no `filename`). `Some("")` when a file input was left empty.
    pub fn filename(&self) -> Option<Cow<'a, str>> {
        self.disposition.1.filename.map(|v| v.text(self.cd_value()))
    }

    /// Whether the part carries a file (it has a file name).
    pub fn is_file(&self) -> bool {
        self.disposition.1.filename.is_some()
    }

    /// The part's `Content-Type`, if given (RFC 7578 §4.4: `text/plain` is
    /// meant when absent).
    pub fn content_type(&self) -> Option<&'a str> {
        self.header("content-type")
    }

    /// A header field's value, by case-insensitive name; the first if repeated.
    /// A value that is not UTF-8 reads as "".
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header field of the part, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let section = self.section;
        self.fields.iter().map(move |(n, v)| {
            (
                std::str::from_utf8(&section[n.clone()]).unwrap_or(""),
                std::str::from_utf8(&section[v.clone()]).unwrap_or(""),
            )
        })
    }

    /// The header section as received (field lines and the blank line;
    /// empty for a part without header fields).
    pub fn raw_headers(&self) -> &'a [u8] {
        self.section
    }
}

impl fmt::Debug for Part<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name())
            .field("filename", &self.filename())
            .field("content_type", &self.content_type())
            .finish()
    }
}

//! The limits of a multipart reader, with their defaults.

use super::boundary;
use super::parser::MAX_PART_HEADERS;

/// The largest buffer a reader takes (and twice the largest part header
/// section): a setting beyond it is clamped, not an allocation that fails.
pub const MAX_BUFFER_BYTES: usize = 64 * 1024 * 1024;

/// Limits of a multipart reader. Every limit has a setter of the same name;
/// out-of-range values are brought into range (as each setter says), so a
/// `Limits` is always usable.
///
/// ```
/// use guildenstern::multipart::Limits;
///
/// let limits = Limits::default().max_parts(10).max_part_header_bytes(40_000);
/// // The buffer grows to hold a whole part header section and a delimiter.
/// assert_eq!(limits.effective_buffer_bytes(), 40_000 + 4 + 70 + 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub(crate) max_parts: usize,
    pub(crate) max_part_header_bytes: usize,
    pub(crate) max_part_headers: usize,
    pub(crate) buffer_bytes: usize,
    pub(crate) drain_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_parts: 1000,
            max_part_header_bytes: 8 * 1024,
            max_part_headers: 16,
            buffer_bytes: 32 * 1024,
            drain_bytes: 256 * 1024,
        }
    }
}

impl Limits {
    /// Parts a body may have; one more is
    /// [`MultipartError::TooManyParts`](super::MultipartError::TooManyParts)
    /// (413). Default: 1000.
    pub fn max_parts(mut self, n: usize) -> Self {
        self.max_parts = n;
        self
    }

    /// Bytes of a part's header section, blank line included; more is
    /// [`MultipartError::PartHeadersTooLarge`](super::MultipartError::PartHeadersTooLarge)
    /// (413). Default: 8 KiB; at least 64, at most half of [`MAX_BUFFER_BYTES`].
    pub fn max_part_header_bytes(mut self, n: usize) -> Self {
        self.max_part_header_bytes = n.clamp(64, MAX_BUFFER_BYTES / 2);
        self
    }

    /// Header fields of a part; more is
    /// [`MultipartError::PartHeadersTooLarge`](super::MultipartError::PartHeadersTooLarge)
    /// (413). Default: 16; 1 to 64.
    pub fn max_part_headers(mut self, n: usize) -> Self {
        self.max_part_headers = n.clamp(1, MAX_PART_HEADERS);
        self
    }

    /// Bytes of the reader's buffer, the only memory it uses whatever the
    /// upload's size; also the most bytes one [`Event::Data`](super::Event::Data) holds. Default:
    /// 32 KiB; at least 1 KiB, and at least `max_part_header_bytes` plus
    /// room for a delimiter (a header section must fit whole); at most
    /// [`MAX_BUFFER_BYTES`].
    pub fn buffer_bytes(mut self, n: usize) -> Self {
        self.buffer_bytes = n.min(MAX_BUFFER_BYTES);
        self
    }

    /// After the body's end, or after a syntax error (400 or 415), the
    /// reader reads and drops up to this many more bytes of the body, so
    /// that the connection can serve the requests pipelined behind it; a
    /// longer rest is left unread and the answer closes the connection.
    /// Default: 256 KiB.
    pub fn drain_bytes(mut self, n: u64) -> Self {
        self.drain_bytes = n;
        self
    }

    /// The buffer size a reader with these limits uses (see [`buffer_bytes`](Self::buffer_bytes)).
    pub fn effective_buffer_bytes(&self) -> usize {
        self.buffer_bytes
            .max(1024)
            .max(self.max_part_header_bytes + 4 + boundary::MAX_BOUNDARY_LEN + 4)
    }
}

#[cfg(test)]
mod tests {
    use super::{Limits, MAX_BUFFER_BYTES};

    #[test]
    fn huge_settings_are_clamped() {
        let l = Limits::default()
            .max_part_header_bytes(usize::MAX)
            .buffer_bytes(usize::MAX);
        assert!(l.effective_buffer_bytes() <= MAX_BUFFER_BYTES);
        assert!(Limits::default().buffer_bytes(0).effective_buffer_bytes() >= 1024);
    }
}

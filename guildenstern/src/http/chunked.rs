//! Incremental, zero-copy decoder for `Transfer-Encoding: chunked` request
//! bodies (RFC 9112 §7.1).
//!
//! The decoder is a byte-level state machine that never buffers: body data is
//! handed back as subslices of the caller's input, and everything else (size
//! lines, extensions, line ends, trailers) is validated as it streams past.
//! It is strict where lenient parsers have caused request smuggling
//! (RFC 9112 §11.2; the cases are in `tests/http_conformance.rs`):
//!
//! - chunk-size is one or more hex digits and nothing else (no `0x`, sign,
//!   `_` or leading whitespace), overflow-checked into a `u64`;
//! - whitespace after the size is accepted only as the BWS that precedes a
//!   `;` extension, as in the RFC grammar (`1 \r\n` is rejected);
//! - every line ends in CRLF; a bare CR or a bare LF is an error;
//! - extensions and trailer fields are bounded and their bytes checked, then
//!   ignored.

/// Where the decoder is inside the chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex digits of a chunk-size; `digits` counts those seen.
    Size { size: u64, digits: u32 },
    /// After the digits, inside BWS that must lead to a `;`.
    SizeBws { size: u64, ext_bytes: usize },
    /// Inside a chunk extension, up to the CR of the chunk line.
    Extension { size: u64, ext_bytes: usize },
    /// Saw the CR of a chunk line; the LF must follow.
    SizeLf { size: u64 },
    /// Inside chunk data, with this many bytes still to come.
    Data { remaining: u64 },
    /// Chunk data is complete; the CR of its terminator must follow.
    DataCr,
    /// Saw the CR after chunk data; the LF must follow.
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer field name.
    TrailerName,
    /// Inside a trailer field value, up to its CR.
    TrailerValue,
    /// Saw the CR of a trailer field line; the LF must follow.
    TrailerLf,
    /// Saw the CR of the final empty line; the LF must follow.
    FinalLf,
    /// The zero chunk and the trailer section have been read.
    Done,
    /// An error was reported; every later call reports it again.
    Failed(ChunkedError),
}

/// Why a chunked body was rejected. Every variant is fatal for the request:
/// the caller answers 400 and closes the connection (RFC 9112 §7.1, §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkedError {
    /// The chunk-size is empty or contains a byte that is not a hex digit
    /// (`0x1`, `+1`, `1_0`, leading whitespace, BWS not followed by `;`).
    InvalidSize,
    /// The chunk-size does not fit in a `u64`.
    SizeOverflow,
    /// A chunk line, chunk-data terminator or trailer line does not end in
    /// CRLF: a bare LF, a bare CR, or data longer than its declared size.
    InvalidLineEnding,
    /// A chunk extension contains LF or a control character other than HTAB.
    InvalidExtension,
    /// The extensions of one chunk line exceed the configured limit.
    ExtensionTooLong,
    /// A trailer line is not `name: value` with a token name and a value of
    /// visible characters, SP, HTAB or obs-text.
    InvalidTrailer,
    /// The trailer section exceeds the configured limit.
    TrailerTooLong,
}

/// The outcome of one [`ChunkedDecoder::decode`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step<'a> {
    /// How many bytes at the front of the input were consumed, including
    /// the bytes of `data`.
    pub consumed: usize,
    /// Body data: a subslice of the input, possibly empty.
    pub data: &'a [u8],
    /// Whether the zero chunk and the trailer section have been fully read.
    pub done: bool,
}

/// An incremental decoder for one chunked request body.
///
/// Feed it the bytes after the request head with [`decode`](Self::decode);
/// it stops right after the final CRLF, so bytes of a pipelined next
/// request are never consumed.
#[derive(Debug, Clone)]
pub(crate) struct ChunkedDecoder {
    state: State,
    max_extension_bytes: usize,
    max_trailer_bytes: usize,
    trailer_bytes: usize,
}

impl ChunkedDecoder {
    /// A decoder at the start of a body. `max_extension_bytes` bounds the
    /// bytes between the chunk-size and the CR of each chunk line (BWS and
    /// `;` included); `max_trailer_bytes` bounds the trailer field lines
    /// together, CRLFs included (the final empty line is not counted).
    pub(crate) fn new(max_extension_bytes: usize, max_trailer_bytes: usize) -> Self {
        Self {
            state: State::Size { size: 0, digits: 0 },
            max_extension_bytes,
            max_trailer_bytes,
            trailer_bytes: 0,
        }
    }

    /// Whether the whole body, trailer section included, has been read.
    #[cfg(test)]
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes from `input` and returns at most one contiguous piece of
    /// body data (a subslice of `input`, possibly empty), how many input
    /// bytes were consumed, and whether the final (zero) chunk and the
    /// trailer section have been fully read. The caller loops, advancing by
    /// `consumed`, until `consumed == 0 && data.is_empty()` (need more input)
    /// or `done`.
    ///
    /// An error is sticky: once returned, every later call returns it again.
    pub(crate) fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Step<'a>, ChunkedError> {
        let mut i = 0;
        while i < input.len() && self.state != State::Done {
            if let State::Data { remaining } = self.state {
                let available = input.len() - i;
                let take = usize::try_from(remaining).map_or(available, |r| r.min(available));
                let left = remaining - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data { remaining: left }
                };
                return Ok(Step {
                    consumed: i + take,
                    data: &input[i..i + take],
                    done: false,
                });
            }
            match self.byte(input[i]) {
                Ok(()) => i += 1,
                Err(e) => {
                    self.state = State::Failed(e);
                    return Err(e);
                }
            }
        }
        match self.state {
            State::Failed(e) => Err(e),
            state => Ok(Step {
                consumed: i,
                data: &[],
                done: state == State::Done,
            }),
        }
    }

    /// Advances the state machine over one byte outside chunk data.
    fn byte(&mut self, b: u8) -> Result<(), ChunkedError> {
        self.state = match self.state {
            State::Size { size, digits } => match hex_value(b) {
                Some(v) => {
                    let size = size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(u64::from(v)))
                        .ok_or(ChunkedError::SizeOverflow)?;
                    State::Size {
                        size,
                        digits: digits.saturating_add(1),
                    }
                }
                None if digits == 0 => return Err(ChunkedError::InvalidSize),
                None => match b {
                    b'\r' => State::SizeLf { size },
                    b' ' | b'\t' | b';' => {
                        let ext_bytes = self.count_extension(0)?;
                        if b == b';' {
                            State::Extension { size, ext_bytes }
                        } else {
                            State::SizeBws { size, ext_bytes }
                        }
                    }
                    b'\n' => return Err(ChunkedError::InvalidLineEnding),
                    _ => return Err(ChunkedError::InvalidSize),
                },
            },
            State::SizeBws { size, ext_bytes } => {
                let ext_bytes = self.count_extension(ext_bytes)?;
                match b {
                    b' ' | b'\t' => State::SizeBws { size, ext_bytes },
                    b';' => State::Extension { size, ext_bytes },
                    _ => return Err(ChunkedError::InvalidSize),
                }
            }
            State::Extension { size, ext_bytes } => match b {
                b'\r' => State::SizeLf { size },
                b'\t' | b' '..=b'~' | 0x80..=0xff => State::Extension {
                    size,
                    ext_bytes: self.count_extension(ext_bytes)?,
                },
                _ => return Err(ChunkedError::InvalidExtension),
            },
            State::SizeLf { size } => match (b, size) {
                (b'\n', 0) => State::TrailerStart,
                (b'\n', remaining) => State::Data { remaining },
                _ => return Err(ChunkedError::InvalidLineEnding),
            },
            State::DataCr => match b {
                b'\r' => State::DataLf,
                _ => return Err(ChunkedError::InvalidLineEnding),
            },
            State::DataLf => match b {
                b'\n' => State::Size { size: 0, digits: 0 },
                _ => return Err(ChunkedError::InvalidLineEnding),
            },
            State::TrailerStart => match b {
                b'\r' => State::FinalLf,
                b'\n' => return Err(ChunkedError::InvalidLineEnding),
                _ if is_tchar(b) => {
                    self.count_trailer()?;
                    State::TrailerName
                }
                _ => return Err(ChunkedError::InvalidTrailer),
            },
            State::TrailerName => {
                self.count_trailer()?;
                match b {
                    b':' => State::TrailerValue,
                    _ if is_tchar(b) => State::TrailerName,
                    _ => return Err(ChunkedError::InvalidTrailer),
                }
            }
            State::TrailerValue => {
                self.count_trailer()?;
                match b {
                    b'\r' => State::TrailerLf,
                    b'\n' => return Err(ChunkedError::InvalidLineEnding),
                    b'\t' | b' '..=b'~' | 0x80..=0xff => State::TrailerValue,
                    _ => return Err(ChunkedError::InvalidTrailer),
                }
            }
            State::TrailerLf => {
                self.count_trailer()?;
                match b {
                    b'\n' => State::TrailerStart,
                    _ => return Err(ChunkedError::InvalidLineEnding),
                }
            }
            State::FinalLf => match b {
                b'\n' => State::Done,
                _ => return Err(ChunkedError::InvalidLineEnding),
            },
            // `decode` hands data out in bulk and never feeds a byte once
            // done; a failed decoder reports its error again.
            State::Data { .. } | State::Done => unreachable!("byte fed in {:?}", self.state),
            State::Failed(e) => return Err(e),
        };
        Ok(())
    }

    /// Counts one more extension byte on the current chunk line.
    fn count_extension(&self, ext_bytes: usize) -> Result<usize, ChunkedError> {
        let n = ext_bytes + 1;
        if n > self.max_extension_bytes {
            return Err(ChunkedError::ExtensionTooLong);
        }
        Ok(n)
    }

    /// Counts one more byte of the trailer section.
    fn count_trailer(&mut self) -> Result<(), ChunkedError> {
        self.trailer_bytes += 1;
        if self.trailer_bytes > self.max_trailer_bytes {
            return Err(ChunkedError::TrailerTooLong);
        }
        Ok(())
    }
}

/// The value of an ASCII hex digit, either case.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether `b` is an RFC 9110 `tchar` (§5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What feeding a whole input produced: the body, the bytes consumed.
    type Outcome = Result<(Vec<u8>, usize), ChunkedError>;

    /// Feeds `pieces` in order, looping as the `decode` contract says, and
    /// returns the body and total bytes consumed once done. Running out of
    /// input before done is reported as `Ok` with a `usize::MAX` count.
    fn feed<'a>(dec: &mut ChunkedDecoder, pieces: impl Iterator<Item = &'a [u8]>) -> Outcome {
        let mut body = Vec::new();
        let mut total = 0;
        for piece in pieces {
            let mut rest = piece;
            loop {
                let step = dec.decode(rest)?;
                body.extend_from_slice(step.data);
                total += step.consumed;
                rest = &rest[step.consumed..];
                assert_eq!(step.done, dec.is_done());
                if step.done {
                    return Ok((body, total));
                }
                if step.consumed == 0 && step.data.is_empty() {
                    assert!(rest.is_empty(), "decoder stalled with input left");
                    break;
                }
            }
        }
        Ok((body, usize::MAX))
    }

    /// Runs one case whole, byte by byte, and split at every point.
    fn run(input: &[u8], max_ext: usize, max_trailer: usize) -> Outcome {
        let whole = feed(
            &mut ChunkedDecoder::new(max_ext, max_trailer),
            std::iter::once(input),
        );
        let bytewise = feed(
            &mut ChunkedDecoder::new(max_ext, max_trailer),
            input.chunks(1),
        );
        assert_eq!(whole, bytewise, "whole vs bytewise: {:?}", show(input));
        for at in 0..=input.len() {
            let (a, b) = input.split_at(at);
            let split = feed(
                &mut ChunkedDecoder::new(max_ext, max_trailer),
                [a, b].into_iter(),
            );
            assert_eq!(whole, split, "split at {at}: {:?}", show(input));
        }
        whole
    }

    fn show(input: &[u8]) -> String {
        String::from_utf8_lossy(input).into_owned()
    }

    fn ok(body: &[u8], consumed: usize) -> Outcome {
        Ok((body.to_vec(), consumed))
    }

    const INCOMPLETE: usize = usize::MAX;

    #[test]
    fn table() {
        use ChunkedError::*;
        let cases: &[(&str, &[u8], Outcome)] = &[
            ("simple", b"5\r\nhello\r\n0\r\n\r\n", ok(b"hello", 15)),
            ("empty body", b"0\r\n\r\n", ok(b"", 5)),
            (
                "multiple chunks",
                b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n",
                ok(b"hello world", 31),
            ),
            (
                "lower hex",
                b"a\r\n0123456789\r\n0\r\n\r\n",
                ok(b"0123456789", 20),
            ),
            (
                "upper hex",
                b"A\r\n0123456789\r\n0\r\n\r\n",
                ok(b"0123456789", 20),
            ),
            (
                "leading zeros",
                b"0005\r\nhello\r\n000\r\n\r\n",
                ok(b"hello", 20),
            ),
            (
                "mixed case hex",
                b"1aB\r\n",
                ok(b"", INCOMPLETE), // 427 bytes declared, none sent
            ),
            (
                "extension",
                b"5;a=b\r\nhello\r\n0\r\n\r\n",
                ok(b"hello", 19),
            ),
            (
                "extension with BWS and quoted value",
                b"5 ;\ta = \"x;y\"\r\nhello\r\n0;last\r\n\r\n",
                ok(b"hello", 32),
            ),
            (
                "extension with obs-text",
                b"1;n=\xe9\r\nx\r\n0\r\n\r\n",
                ok(b"x", 15),
            ),
            (
                "trailers",
                b"5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:\t1 \r\n\r\n",
                ok(b"hello", 42),
            ),
            ("trailer with empty value", b"0\r\nA:\r\n\r\n", ok(b"", 9)),
            (
                "pipelined bytes are left alone",
                b"1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
                ok(b"x", 11),
            ),
            ("incomplete data", b"5\r\nhel", ok(b"hel", INCOMPLETE)),
            ("incomplete final line", b"0\r\n\r", ok(b"", INCOMPLETE)),
            ("max size", b"ffffffffffffffff\r\n", ok(b"", INCOMPLETE)),
            // chunk-size
            ("0x prefix", b"0x1\r\na\r\n0\r\n\r\n", Err(InvalidSize)),
            ("plus sign", b"+1\r\na\r\n0\r\n\r\n", Err(InvalidSize)),
            ("minus sign", b"-1\r\na\r\n0\r\n\r\n", Err(InvalidSize)),
            ("underscore", b"1_0\r\n", Err(InvalidSize)),
            ("empty size", b"\r\n\r\n", Err(InvalidSize)),
            ("empty size with ext", b";a\r\n", Err(InvalidSize)),
            (
                "space before size",
                b" 1\r\na\r\n0\r\n\r\n",
                Err(InvalidSize),
            ),
            ("space inside size", b"1 0\r\n", Err(InvalidSize)),
            (
                "BWS without extension",
                b"1 \r\na\r\n0\r\n\r\n",
                Err(InvalidSize),
            ),
            ("non-hex letter", b"1g\r\n", Err(InvalidSize)),
            ("huge size", b"10000000000000000\r\n", Err(SizeOverflow)),
            (
                "huge size after leading zeros",
                b"000fffffffffffffffff\r\n",
                Err(SizeOverflow),
            ),
            // line endings
            (
                "LF-only chunk line",
                b"5\nhello\r\n0\r\n\r\n",
                Err(InvalidLineEnding),
            ),
            (
                "LF-only after data",
                b"5\r\nhello\n0\r\n\r\n",
                Err(InvalidLineEnding),
            ),
            (
                "LF-only final line",
                b"5\r\nhello\r\n0\r\n\n",
                Err(InvalidLineEnding),
            ),
            ("LF-only zero line", b"0\n\r\n", Err(InvalidLineEnding)),
            (
                "bare CR in size line",
                b"5\rhello\r\n",
                Err(InvalidLineEnding),
            ),
            ("CR CR LF", b"5\r\r\nhello\r\n", Err(InvalidLineEnding)),
            (
                "missing CRLF after data",
                b"5\r\nhello0\r\n\r\n",
                Err(InvalidLineEnding),
            ),
            (
                "data bigger than declared",
                b"3\r\nhello\r\n0\r\n\r\n",
                Err(InvalidLineEnding),
            ),
            ("bare CR after data", b"1\r\nx\rA", Err(InvalidLineEnding)),
            (
                "LF-only trailer line",
                b"0\r\nA: b\n\r\n",
                Err(InvalidLineEnding),
            ),
            (
                "bare CR in trailer",
                b"0\r\nA: b\rc\r\n\r\n",
                Err(InvalidLineEnding),
            ),
            ("bare CR in final line", b"0\r\n\rx", Err(InvalidLineEnding)),
            // extensions
            (
                "CR inside extension",
                b"1;a\rb\r\nx\r\n",
                Err(InvalidLineEnding),
            ),
            (
                "LF inside extension",
                b"1;a\nb\r\nx\r\n",
                Err(InvalidExtension),
            ),
            (
                "NUL inside extension",
                b"1;a\0\r\nx\r\n",
                Err(InvalidExtension),
            ),
            (
                "DEL inside extension",
                b"1;a\x7f\r\nx\r\n",
                Err(InvalidExtension),
            ),
            // trailers
            (
                "space before colon",
                b"0\r\nA : b\r\n\r\n",
                Err(InvalidTrailer),
            ),
            (
                "tab before colon",
                b"0\r\nA\t: b\r\n\r\n",
                Err(InvalidTrailer),
            ),
            ("empty name", b"0\r\n: b\r\n\r\n", Err(InvalidTrailer)),
            ("no colon", b"0\r\nAbc\r\n\r\n", Err(InvalidTrailer)),
            ("obs-fold", b"0\r\nA: b\r\n c\r\n\r\n", Err(InvalidTrailer)),
            (
                "non-token name",
                b"0\r\nA(b): c\r\n\r\n",
                Err(InvalidTrailer),
            ),
            ("NUL in value", b"0\r\nA: \0\r\n\r\n", Err(InvalidTrailer)),
        ];
        for (name, input, expected) in cases {
            assert_eq!(&run(input, 64, 64), expected, "case {name:?}");
        }
    }

    #[test]
    fn limits() {
        use ChunkedError::*;
        let cases: &[(&str, &[u8], usize, usize, Outcome)] = &[
            // Extension bytes run from the first byte after the digits up
            // to the CR: ";ab=c" is 5.
            (
                "ext at limit",
                b"1;ab=c\r\nx\r\n0\r\n\r\n",
                5,
                0,
                ok(b"x", 16),
            ),
            (
                "ext over limit",
                b"1;ab=cd\r\nx\r\n0\r\n\r\n",
                5,
                0,
                Err(ExtensionTooLong),
            ),
            (
                "BWS counts",
                b"1  ;ab\r\nx\r\n0\r\n\r\n",
                4,
                0,
                Err(ExtensionTooLong),
            ),
            (
                "no ext allowed",
                b"1;\r\nx\r\n0\r\n\r\n",
                0,
                0,
                Err(ExtensionTooLong),
            ),
            (
                "limit is per chunk line",
                b"1;abcd\r\nx\r\n1;abcd\r\ny\r\n0;abcd\r\n\r\n",
                5,
                0,
                ok(b"xy", 32),
            ),
            // Trailer bytes are the field lines with their CRLFs: "A: b\r\n"
            // is 6; the final empty line is not counted.
            ("trailer at limit", b"0\r\nA: b\r\n\r\n", 0, 6, ok(b"", 11)),
            (
                "trailer over limit",
                b"0\r\nA: bc\r\n\r\n",
                0,
                6,
                Err(TrailerTooLong),
            ),
            (
                "limit is for all trailers",
                b"0\r\nA: b\r\nC: d\r\n\r\n",
                0,
                11,
                Err(TrailerTooLong),
            ),
            (
                "no trailers allowed",
                b"0\r\nA:\r\n\r\n",
                0,
                0,
                Err(TrailerTooLong),
            ),
            ("no trailers sent", b"0\r\n\r\n", 0, 0, ok(b"", 5)),
        ];
        for (name, input, max_ext, max_trailer, expected) in cases {
            assert_eq!(
                &run(input, *max_ext, *max_trailer),
                expected,
                "case {name:?}"
            );
        }
    }

    #[test]
    fn steps_are_zero_copy_and_bounded() {
        let input = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nrest";
        let mut dec = ChunkedDecoder::new(16, 16);
        let step = dec.decode(input).unwrap();
        assert_eq!(
            step,
            Step {
                consumed: 6,
                data: b"abc",
                done: false
            }
        );
        assert_eq!(step.data.as_ptr(), input[3..].as_ptr());
        let step = dec.decode(&input[6..]).unwrap();
        assert_eq!(
            step,
            Step {
                consumed: 7,
                data: b"de",
                done: false
            }
        );
        let step = dec.decode(&input[13..]).unwrap();
        assert_eq!(
            step,
            Step {
                consumed: 7,
                data: b"",
                done: true
            }
        );
        assert!(dec.is_done());
        assert_eq!(&input[20..], b"rest");
        // Once done, nothing more is consumed.
        let step = dec.decode(b"rest").unwrap();
        assert_eq!(
            step,
            Step {
                consumed: 0,
                data: b"",
                done: true
            }
        );
    }

    #[test]
    fn need_more_input() {
        let mut dec = ChunkedDecoder::new(16, 16);
        assert_eq!(
            dec.decode(b"").unwrap(),
            Step {
                consumed: 0,
                data: b"",
                done: false
            }
        );
        assert_eq!(
            dec.decode(b"4\r").unwrap(),
            Step {
                consumed: 2,
                data: b"",
                done: false
            }
        );
        assert!(!dec.is_done());
    }

    #[test]
    fn errors_are_sticky() {
        let mut dec = ChunkedDecoder::new(16, 16);
        assert_eq!(dec.decode(b"x"), Err(ChunkedError::InvalidSize));
        assert_eq!(dec.decode(b"0\r\n\r\n"), Err(ChunkedError::InvalidSize));
        assert!(!dec.is_done());
    }

    #[test]
    fn large_chunk_spans_many_reads() {
        let mut dec = ChunkedDecoder::new(16, 16);
        let step = dec.decode(b"100000\r\n").unwrap();
        assert_eq!(
            step,
            Step {
                consumed: 8,
                data: b"",
                done: false
            }
        );
        let block = [7u8; 4096];
        let mut got = 0;
        while got < 0x10_0000 {
            let step = dec.decode(&block).unwrap();
            assert_eq!(step.consumed, block.len());
            got += step.data.len();
        }
        assert_eq!(got, 0x10_0000);
        let step = dec.decode(b"\r\n0\r\n\r\n").unwrap();
        assert_eq!(
            step,
            Step {
                consumed: 7,
                data: b"",
                done: true
            }
        );
    }
}

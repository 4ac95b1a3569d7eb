//! The incremental parser: a state machine over whatever part of the body
//! is buffered. It never reads or allocates per byte; it says how many
//! bytes it consumed and what they were (part data, a part's header
//! section, a part's end, the body's end), or that it needs more.
//!
//! Body grammar (RFC 2046 §5.1.1, RFC 7578 §4): an optional preamble,
//! then `"--" boundary`, then for each part: padding, CRLF, a header
//! section, CRLF, data, and `CRLF "--" boundary`; a `"--"` right after a
//! delimiter closes the body, and what follows (the epilogue) is ignored.

use super::boundary::Delimiter;
use super::disposition::{self, Disposition};
use super::error::MultipartError;
use super::limits::Limits;
use std::ops::Range;

/// The most header fields a part may be configured to have.
pub(crate) const MAX_PART_HEADERS: usize = 64;

/// Spaces and tabs allowed between a delimiter and its CRLF
/// (RFC 2046's `transport-padding`; senders write none).
const MAX_PADDING: usize = 256;

/// What the consumed bytes were; ranges are offsets into the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing to report; the unconsumed rest must be offered again with
    /// more bytes after it.
    More,
    /// A piece of the current part's data.
    Data(Range<usize>),
    /// A part's header section (field lines and the blank line); its fields
    /// are in [`Parser::fields`] and its disposition in [`Parser::disposition`].
    Part(Range<usize>),
    /// The current part's data ended.
    PartEnd,
    /// The close delimiter: no more parts.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the body's first byte: a delimiter there has no CRLF before it.
    Start,
    /// Skipping the preamble up to the first delimiter.
    Preamble,
    /// Just after a delimiter: `--` (the end) or padding and CRLF.
    AfterDelimiter,
    /// In a part's header section.
    Headers,
    /// In a part's data.
    Body,
    /// After the close delimiter: everything is epilogue.
    Done,
}

#[derive(Debug)]
pub(crate) struct Parser {
    delim: Delimiter,
    state: State,
    parts: usize,
    limits: Limits,
    /// The current part's header fields: name and value offsets in its section.
    pub(crate) fields: Vec<(Range<usize>, Range<usize>)>,
    /// The current part's `Content-Disposition`: the value's offsets in the
    /// section, and what it says.
    pub(crate) disposition: (Range<usize>, Disposition),
}

impl Parser {
    pub(crate) fn new(boundary: &[u8], limits: Limits) -> Parser {
        Parser {
            delim: Delimiter::new(boundary),
            state: State::Start,
            parts: 0,
            fields: Vec::with_capacity(limits.max_part_headers),
            limits,
            disposition: (0..0, Disposition::default()),
        }
    }

    /// Parts begun so far.
    pub(crate) fn parts(&self) -> usize {
        self.parts
    }

    /// Whether the close delimiter was seen.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Parses what it can of `input` (the buffered, not yet consumed bytes);
    /// `eof` says no bytes will follow. Returns how many bytes of `input`
    /// were consumed and what they were.
    ///
    /// # Errors
    /// Every [`MultipartError`] but `NotMultipart`, `InvalidBoundary` and `Io`.
    pub(crate) fn step(
        &mut self,
        input: &[u8],
        eof: bool,
    ) -> Result<(usize, Step), MultipartError> {
        let d = self.delim.len();
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            let more = |pos| {
                if eof {
                    Err(MultipartError::Truncated)
                } else {
                    Ok((pos, Step::More))
                }
            };
            match self.state {
                State::Start => {
                    let first = &self.delim.bytes()[2..];
                    if rest.starts_with(first) {
                        pos += first.len();
                        self.state = State::AfterDelimiter;
                    } else if first.starts_with(rest) {
                        return more(pos);
                    } else {
                        self.state = State::Preamble;
                    }
                }
                State::Preamble => match self.delim.find(rest) {
                    Some(i) => {
                        pos += i + d;
                        self.state = State::AfterDelimiter;
                    }
                    None => return more(pos + self.delim.safe_len(rest)),
                },
                State::AfterDelimiter => {
                    if rest.starts_with(b"--") {
                        self.state = State::Done;
                        return Ok((pos + 2, Step::End));
                    }
                    let pad = rest
                        .iter()
                        .take_while(|&&b| b == b' ' || b == b'\t')
                        .count();
                    if pad > MAX_PADDING {
                        return Err(MultipartError::Malformed(
                            "too much padding after a boundary delimiter",
                        ));
                    }
                    let after = &rest[pad..];
                    if after.starts_with(b"\r\n") {
                        pos += pad + 2;
                        self.parts += 1;
                        if self.parts > self.limits.max_parts {
                            return Err(MultipartError::TooManyParts(self.limits.max_parts));
                        }
                        self.state = State::Headers;
                    } else if matches!(after, [] | [b'\r']) || rest == b"-" {
                        return more(pos);
                    } else {
                        return Err(MultipartError::Malformed(
                            "bytes other than CRLF after a boundary delimiter",
                        ));
                    }
                }
                State::Headers => {
                    if rest.starts_with(b"\r\n") {
                        self.read_headers(&[])?;
                        self.state = State::Body;
                        return Ok((pos + 2, Step::Part(pos..pos)));
                    }
                    if rest == b"\r" {
                        return more(pos);
                    }
                    let limit = self.limits.max_part_header_bytes;
                    let window = &rest[..rest.len().min(limit)];
                    match window.windows(4).position(|w| w == b"\r\n\r\n") {
                        Some(i) => {
                            let block = pos..pos + i + 4;
                            self.read_headers(&input[block.clone()])?;
                            self.state = State::Body;
                            return Ok((block.end, Step::Part(block)));
                        }
                        None if rest.len() >= limit => {
                            return Err(MultipartError::PartHeadersTooLarge)
                        }
                        None => return more(pos),
                    }
                }
                State::Body => {
                    return match self.delim.find(rest) {
                        Some(0) => {
                            self.state = State::AfterDelimiter;
                            Ok((pos + d, Step::PartEnd))
                        }
                        Some(i) => Ok((pos + i, Step::Data(pos..pos + i))),
                        None => match self.delim.safe_len(rest) {
                            0 => more(pos),
                            n => Ok((pos + n, Step::Data(pos..pos + n))),
                        },
                    }
                }
                State::Done => return Ok((input.len(), Step::More)),
            }
        }
    }

    /// Reads a part's header section (empty, or field lines ending in a
    /// blank line) into `fields` and `disposition`.
    fn read_headers(&mut self, block: &[u8]) -> Result<(), MultipartError> {
        self.fields.clear();
        let mut cd = None;
        if !block.is_empty() {
            let mut storage = [httparse::EMPTY_HEADER; MAX_PART_HEADERS];
            let headers = match httparse::parse_headers(
                block,
                &mut storage[..self.limits.max_part_headers],
            ) {
                Ok(httparse::Status::Complete((_, h))) => h,
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(MultipartError::PartHeadersTooLarge)
                }
                _ => return Err(MultipartError::Malformed("invalid part header field")),
            };
            let at = |s: &[u8]| {
                let start = s.as_ptr() as usize - block.as_ptr() as usize;
                start..start + s.len()
            };
            for h in headers.iter() {
                let value = at(h.value);
                if h.name.eq_ignore_ascii_case("content-disposition") {
                    if cd.is_some() {
                        return Err(MultipartError::Malformed(
                            "Content-Disposition given twice in a part",
                        ));
                    }
                    let parsed = disposition::parse(h.value).map_err(|()| {
                        MultipartError::Malformed("invalid Content-Disposition in a part")
                    })?;
                    cd = Some((value.clone(), parsed));
                }
                self.fields.push((at(h.name.as_bytes()), value));
            }
        }
        // RFC 7578 §4.2: each part MUST have a Content-Disposition with a name.
        match cd {
            Some((range, d)) if d.name.is_some() => {
                self.disposition = (range, d);
                Ok(())
            }
            _ => Err(MultipartError::Malformed(
                "a part without Content-Disposition: form-data; name=…",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the parser over `body` given all at once, as event strings.
    fn events(body: &[u8], limits: Limits) -> Result<Vec<String>, MultipartError> {
        let mut p = Parser::new(b"XyZ", limits);
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let (n, step) = p.step(&body[pos..], true)?;
            let at = pos;
            pos += n;
            match step {
                Step::More => {
                    assert!(p.is_done(), "More at eof only after the end");
                    return Ok(out);
                }
                Step::Data(r) => out.push(format!(
                    "data {}",
                    String::from_utf8_lossy(&body[at + r.start..at + r.end])
                )),
                Step::Part(block) => {
                    let (r, d) = &p.disposition;
                    let field = &body[at + block.start..][r.clone()];
                    out.push(format!(
                        "part {} {:?}",
                        d.name.unwrap().text(field),
                        d.filename.map(|f| f.text(field).into_owned())
                    ))
                }
                Step::PartEnd => out.push("end".into()),
                Step::End => out.push("END".into()),
            }
        }
    }

    const CD: &str = "Content-Disposition: form-data; name=";

    #[test]
    fn well_formed_bodies() {
        let cases: &[(String, &[&str])] = &[
            (
                format!("--XyZ\r\n{CD}a\r\n\r\nhello\r\n--XyZ--\r\n"),
                &["part a None", "data hello", "end", "END"],
            ),
            // Preamble, padding, an empty part, a file, an epilogue.
            (
                format!(
                    "preamble\r\n--XyZ \t\r\n{CD}\"e\"\r\n\r\n\r\n--XyZ\r\n\
                     {CD}f; filename=\"x.bin\"\r\nContent-Type: a/b\r\n\r\n\r\n--XyY-\r\r\n--XyZ--epilogue"
                ),
                &[
                    "part e None",
                    "end",
                    "part f Some(\"x.bin\")",
                    "data \r\n--XyY-\r",
                    "end",
                    "END",
                ],
            ),
            // No parts at all (what browsers send for an empty form).
            ("--XyZ--\r\n".into(), &["END"]),
            // No CRLF after the close delimiter.
            (format!("--XyZ\r\n{CD}a\r\n\r\n\r\n--XyZ--"), &["part a None", "end", "END"]),
        ];
        for (body, want) in cases {
            let got = events(body.as_bytes(), Limits::default()).unwrap();
            assert_eq!(&got, want, "{body:?}");
        }
    }

    #[test]
    fn refusals() {
        let cases: &[(String, u16)] = &[
            ("".into(), 400),
            ("no delimiter at all".into(), 400),
            (format!("--XyZ\r\n{CD}a\r\n\r\nno close delimiter"), 400),
            (format!("--XyZ\r\n{CD}a\r\n\r\nx\r\n--XyZ"), 400),
            (format!("--XyZjunk\r\n{CD}a\r\n\r\nx\r\n--XyZ--"), 400),
            (
                format!("--XyZ\r\n{CD}a\r\n\r\nx\r\n--XyZ junk\r\n--XyZ--"),
                400,
            ),
            (
                format!("--XyZ\r\n{CD}a\r\n\r\nx\r\n--XyZjunk\r\n--XyZ--"),
                400,
            ),
            (
                "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--".into(),
                400,
            ),
            ("--XyZ\r\n\r\nx\r\n--XyZ--".into(), 400),
            (
                "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--".into(),
                400,
            ),
            (format!("--XyZ\r\n{CD}\"a\r\n\r\nx\r\n--XyZ--"), 400),
            (
                format!("--XyZ\r\n{CD}a\r\nbad header\r\n\r\nx\r\n--XyZ--"),
                400,
            ),
            (format!("--XyZ\r\n{CD}a\r\n{CD}b\r\n\r\nx\r\n--XyZ--"), 400),
            (
                format!("--XyZ{}\r\n{CD}a\r\n\r\n\r\n--XyZ--", " ".repeat(300)),
                400,
            ),
            (
                format!("--XyZ\r\n{CD}a; x=\"{}\"\r\n\r\n--XyZ--", "h".repeat(9000)),
                413,
            ),
        ];
        for (body, status) in cases {
            let got = events(body.as_bytes(), Limits::default());
            assert_eq!(
                got.as_ref().map_err(MultipartError::status).err(),
                Some(*status),
                "{body:?}: {got:?}"
            );
        }
    }

    #[test]
    fn limits() {
        // A header section of 37 + 3 + 27 + 8 + 2 = 77 bytes.
        let part = format!(
            "--XyZ\r\n{CD}a\r\nX-A: {}\r\nX-B: 2\r\n\r\nv\r\n",
            "a".repeat(20)
        );
        let three = format!("{part}{part}{part}--XyZ--");
        assert_eq!(
            events(three.as_bytes(), Limits::default()).unwrap().len(),
            10
        );
        let two_parts = Limits::default().max_parts(2);
        let e = events(three.as_bytes(), two_parts).unwrap_err();
        assert!(matches!(e, MultipartError::TooManyParts(2)), "{e:?}");
        assert_eq!(e.status(), 413);
        let two_fields = Limits::default().max_part_headers(2);
        let e = events(three.as_bytes(), two_fields).unwrap_err();
        assert!(matches!(e, MultipartError::PartHeadersTooLarge), "{e:?}");
        let short_head = Limits::default().max_part_header_bytes(76);
        let e = events(three.as_bytes(), short_head).unwrap_err();
        assert!(matches!(e, MultipartError::PartHeadersTooLarge), "{e:?}");
        let long_enough = Limits::default().max_part_header_bytes(77);
        assert!(events(three.as_bytes(), long_enough).is_ok());
    }
}

//! Reason phrases for status codes (RFC 9110 §15 and the codes later RFCs
//! added that servers commonly send).

/// The reason phrase for a status code (RFC 9110 §15), `""` for unknown
/// codes. 306 and 418, which RFC 9110 reserves as "(Unused)", are unknown
/// here; an empty reason phrase is valid on the wire (RFC 9112 §4).
pub(crate) fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        // RFC 6585
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        // RFC 7725
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        // RFC 6585
        511 => "Network Authentication Required",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown() {
        let cases: &[(u16, &str)] = &[
            (100, "Continue"),
            (101, "Switching Protocols"),
            (200, "OK"),
            (204, "No Content"),
            (304, "Not Modified"),
            (308, "Permanent Redirect"),
            (400, "Bad Request"),
            (404, "Not Found"),
            (408, "Request Timeout"),
            (413, "Content Too Large"),
            (414, "URI Too Long"),
            (422, "Unprocessable Content"),
            (426, "Upgrade Required"),
            (428, "Precondition Required"),
            (429, "Too Many Requests"),
            (431, "Request Header Fields Too Large"),
            (451, "Unavailable For Legal Reasons"),
            (500, "Internal Server Error"),
            (501, "Not Implemented"),
            (505, "HTTP Version Not Supported"),
            (511, "Network Authentication Required"),
            (0, ""),
            (99, ""),
            (199, ""),
            (306, ""),
            (418, ""),
            (599, ""),
            (600, ""),
            (u16::MAX, ""),
        ];
        for (code, expected) in cases {
            assert_eq!(reason(*code), *expected, "{code}");
        }
    }

    /// Every phrase can go straight into a status line: visible ASCII and
    /// single spaces only (RFC 9112 §4 `reason-phrase`).
    #[test]
    fn phrases_are_wire_safe() {
        let mut known = 0;
        for code in 0..=u16::MAX {
            let phrase = reason(code);
            if phrase.is_empty() {
                continue;
            }
            known += 1;
            assert!((100..=599).contains(&code), "{code}");
            assert!(
                phrase.bytes().all(|b| b == b' ' || b.is_ascii_graphic()),
                "{code}: {phrase:?}"
            );
            assert!(!phrase.starts_with(' ') && !phrase.ends_with(' '), "{code}");
            assert!(!phrase.contains("  "), "{code}");
        }
        // 44 from RFC 9110 (all but 306 and 418), 4 from RFC 6585, 451.
        assert_eq!(known, 49);
    }
}

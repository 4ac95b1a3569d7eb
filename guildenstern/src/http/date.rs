//! The `Date` header value (RFC 9110 §5.6.7, §6.6.1): an IMF-fixdate such
//! as `Sun, 06 Nov 1994 08:49:37 GMT`, formatted without allocation and
//! cached per thread so a response pays for a clock read, not a format.

use crate::dispatch::sys::clock::unix_secs;
use std::cell::Cell;

/// The last second an IMF-fixdate can show (9999-12-31 23:59:59 UTC);
/// later times are shown as this one.
const MAX_SECS: u64 = 253_402_300_799;

/// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
const DAYS_TO_UNIX_EPOCH: u64 = 719_468;

/// Days in 400 Gregorian years, which repeat exactly.
const DAYS_PER_400_YEARS: u64 = 146_097;

/// Days in a century that does not end in a 400th year.
const DAYS_PER_100_YEARS: u64 = 36_524;

/// Days in four years that end in a leap year.
const DAYS_PER_4_YEARS: u64 = 1_461;

/// Days before each month of a year counted from March (March first).
const DAYS_BEFORE_MONTH_FROM_MARCH: [u64; 12] =
    [0, 31, 61, 92, 122, 153, 184, 214, 245, 275, 306, 337];

/// Three-letter day names, Sunday first.
const DAY_NAMES: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];

/// Three-letter month names, January first.
const MONTH_NAMES: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Formats unix seconds as an IMF-fixdate, e.g.
/// `"Sun, 06 Nov 1994 08:49:37 GMT"` (exactly 29 bytes). Times after
/// 9999-12-31 23:59:59 UTC, which the format cannot show, are clamped to it.
pub(crate) fn format_http_date(unix_secs: u64, out: &mut [u8; 29]) {
    let secs = unix_secs.min(MAX_SECS);
    let days = secs / 86_400;
    let in_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = ((days + 4) % 7) as usize;

    out.copy_from_slice(b"Www, DD Mmm YYYY HH:MM:SS GMT");
    out[0..3].copy_from_slice(DAY_NAMES[weekday]);
    put_digits(&mut out[5..7], day);
    out[8..11].copy_from_slice(MONTH_NAMES[(month - 1) as usize]);
    put_digits(&mut out[12..16], year);
    put_digits(&mut out[17..19], in_day / 3600);
    put_digits(&mut out[20..22], in_day / 60 % 60);
    put_digits(&mut out[23..25], in_day % 60);
}

/// Calls `f` with the current date, cached per thread and re-formatted only
/// when the second changes (no lock, no allocation; reads the coarse
/// real-time clock, at most a timer tick behind, so the date is right to
/// the second, RFC 9110 §6.6.1). A clock set before 1970 reads as 1970-01-01.
pub(crate) fn with_current_date<R>(f: impl FnOnce(&[u8; 29]) -> R) -> R {
    thread_local! {
        static CACHE: Cell<Option<(u64, [u8; 29])>> = const { Cell::new(None) };
    }
    let now = unix_secs();
    let date = match CACHE.get() {
        Some((secs, date)) if secs == now => date,
        _ => {
            let mut date = [0; 29];
            format_http_date(now, &mut date);
            CACHE.set(Some((now, date)));
            date
        }
    };
    f(&date)
}

/// Converts days since 1970-01-01 to a proleptic Gregorian
/// (year, month 1–12, day 1–31).
///
/// Counting from 0000-03-01 puts each leap day at the very end of its
/// March-based year, so every cycle below (400, 100, 4 and 1 years) has its
/// one long member last, and a `min` keeps the last day of that long member
/// from spilling into a non-existent next one.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let since_march_0 = days + DAYS_TO_UNIX_EPOCH;
    let cycles_400 = since_march_0 / DAYS_PER_400_YEARS;
    let in_400 = since_march_0 % DAYS_PER_400_YEARS;
    let centuries = (in_400 / DAYS_PER_100_YEARS).min(3);
    let in_100 = in_400 - centuries * DAYS_PER_100_YEARS;
    let quads = in_100 / DAYS_PER_4_YEARS;
    let in_4 = in_100 % DAYS_PER_4_YEARS;
    let years = (in_4 / 365).min(3);
    let day_of_year = in_4 - years * 365;

    let march_year = cycles_400 * 400 + centuries * 100 + quads * 4 + years;
    let month_index = DAYS_BEFORE_MONTH_FROM_MARCH
        .iter()
        .rposition(|&before| before <= day_of_year)
        .unwrap_or(0);
    let day = day_of_year - DAYS_BEFORE_MONTH_FROM_MARCH[month_index] + 1;
    // Index 0 is March; 10 and 11 are January and February of the next
    // calendar year.
    let (month, year) = if month_index < 10 {
        (month_index as u64 + 3, march_year)
    } else {
        (month_index as u64 - 9, march_year + 1)
    };
    (year, month, day)
}

/// Writes `n` as zero-padded decimal filling `out` (high digits dropped).
fn put_digits(out: &mut [u8], mut n: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn format(secs: u64) -> String {
        let mut out = [0; 29];
        format_http_date(secs, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn known_dates() {
        // Expected values come from GNU `date -u -d @SECS`.
        let cases: &[(u64, &str)] = &[
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (946_684_799, "Fri, 31 Dec 1999 23:59:59 GMT"),
            (946_684_800, "Sat, 01 Jan 2000 00:00:00 GMT"),
            (951_825_600, "Tue, 29 Feb 2000 12:00:00 GMT"),
            (1_709_251_199, "Thu, 29 Feb 2024 23:59:59 GMT"),
            (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
            (4_107_456_000, "Sun, 28 Feb 2100 00:00:00 GMT"),
            (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
            (4_294_967_296, "Sun, 07 Feb 2106 06:28:16 GMT"),
            (13_574_563_200, "Tue, 29 Feb 2400 00:00:00 GMT"),
            (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
            // Beyond what the format can show: clamped.
            (253_402_300_800, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (u64::MAX, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        for (secs, expected) in cases {
            assert_eq!(format(*secs), *expected, "{secs}");
        }
    }

    /// Walks every day from 1970 to 9999 with a naive calendar and checks
    /// the closed-form conversion agrees on each one.
    #[test]
    fn every_day_matches_a_naive_calendar() {
        let is_leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_len = |y: u64, m: u64| match m {
            2 if is_leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for days in 0..=MAX_SECS / 86_400 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            d += 1;
            if d > month_len(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        assert_eq!((y, m, d), (10_000, 1, 1));
    }

    #[test]
    fn weekdays_cycle() {
        let names = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        for days in 0..30u64 {
            let noon = days * 86_400 + 43_200;
            assert_eq!(&format(noon)[..3], names[(days % 7) as usize], "day {days}");
        }
    }

    #[test]
    fn current_date_is_now_and_nests() {
        let first = with_current_date(|d| *d);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        // The cached value is for this second or the one just before.
        let first = String::from_utf8(first.to_vec()).unwrap();
        assert!(first == format(now) || first == format(now - 1), "{first}");
        // Nested use works: the cache is not borrowed while `f` runs.
        let nested = with_current_date(|outer| with_current_date(|inner| (*outer, *inner)));
        assert_eq!(nested.0.len(), 29);
    }
}

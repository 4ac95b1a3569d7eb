//! Clocks for deadlines and the `Date` header, read on every request: on
//! Linux the coarse clocks (`CLOCK_MONOTONIC_COARSE`,
//! `CLOCK_REALTIME_COARSE`), which the vDSO answers from the last timer tick
//! without reading the hardware counter. They lag by at most a tick (1–10
//! ms): deadlines are checked every 100 ms and `Date` shows whole seconds,
//! so neither notices. Elsewhere, the standard library's clocks.

/// Milliseconds on a monotonic clock with an arbitrary start.
pub(crate) fn monotonic_ms() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let ts = coarse(libc::CLOCK_MONOTONIC_COARSE);
        ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
    }
    #[cfg(not(target_os = "linux"))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_millis() as u64
    }
}

/// Whole seconds since 1970-01-01 UTC (0 for a clock set before).
pub(crate) fn unix_secs() -> u64 {
    #[cfg(target_os = "linux")]
    {
        u64::try_from(coarse(libc::CLOCK_REALTIME_COARSE).tv_sec).unwrap_or(0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

#[cfg(target_os = "linux")]
fn coarse(clock: libc::clockid_t) -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; both coarse clocks exist
    // on every Linux since 2.6.32, and clock_gettime writes nothing else.
    // On an error (none is possible with these arguments) `ts` stays zero.
    let _ = unsafe { libc::clock_gettime(clock, &mut ts) };
    ts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn coarse_clocks_agree_with_the_fine_ones() {
        let fine = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let coarse = unix_secs();
        // At most a tick behind: the same second or the one before.
        assert!(coarse == fine || coarse + 1 == fine, "{coarse} vs {fine}");
        let a = monotonic_ms();
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_millis(30) {}
        let b = monotonic_ms();
        // 30 ms passed; each read lags by at most a tick (≤ 10 ms).
        assert!(b >= a + 15, "{a} then {b}");
    }
}

//! The simulator's clock: real time plus an adjustable offset, so tests can jump forward
//! (token expiry, report delay, daily rate-limit reset) without sleeping.

use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// Real UTC time shifted by an offset that only grows or shrinks when a test asks.
#[derive(Debug, Default)]
pub(crate) struct SimClock {
    offset_ms: AtomicI64,
}

impl SimClock {
    /// The simulator's "now".
    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }

    /// Moves the clock by `by` (may be negative).
    pub(crate) fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

/// Zoom's wire format for times: `2021-07-13T21:44:51Z` (whole seconds, UTC).
pub(crate) fn zoom_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The next 00:00:00 UTC after `t` (when Zoom's daily limits reset).
pub(crate) fn next_utc_midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    let day = t.date_naive().succ_opt().unwrap_or(t.date_naive());
    day.and_hms_opt(0, 0, 0).map(|n| n.and_utc()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn midnight_and_format() {
        let t = Utc.with_ymd_and_hms(2025, 1, 19, 13, 5, 7).unwrap();
        assert_eq!(zoom_time(t), "2025-01-19T13:05:07Z");
        assert_eq!(zoom_time(next_utc_midnight(t)), "2025-01-20T00:00:00Z");
    }

    #[test]
    fn advance_moves_now() {
        let c = SimClock::default();
        let before = c.now();
        c.advance(Duration::hours(2));
        assert!(c.now() - before >= Duration::hours(2));
    }
}

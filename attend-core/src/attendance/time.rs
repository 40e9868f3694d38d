//! Internal time arithmetic: microseconds since the Unix epoch in an `i64`.
//!
//! Every `DateTime<Utc>` fits (chrono's range is about ±262,000 years, `i64` microseconds
//! about ±292,000 years), and every value the engine produces lies between two converted
//! inputs, so converting back never fails.

use chrono::{DateTime, Utc};

/// Microseconds in one second.
pub(crate) const SECOND: i64 = 1_000_000;

/// A time as microseconds since the epoch.
pub(crate) fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// Back to a time. Values produced by the engine are always in range; out-of-range values
/// (impossible here) fall back to the epoch rather than panicking.
pub(crate) fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// Whole seconds (truncated) of a non-negative duration in microseconds; 0 for negative.
pub(crate) fn whole_seconds(micros: i64) -> u64 {
    u64::try_from(micros / SECOND).unwrap_or(0)
}

/// Seconds as microseconds (saturating).
pub(crate) fn seconds(seconds: u32) -> i64 {
    i64::from(seconds).saturating_mul(SECOND)
}

//! The status rules and the numbers shown for them.

use crate::model::{Policy, Status};

use super::time::seconds;

/// What the status of one person is computed from, in microseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Presence {
    /// Start of the earliest and end of the latest counted presence; `None` without any.
    pub(crate) span: Option<(i64, i64)>,
    /// Attended time over the window length (unrounded).
    pub(crate) ratio: f64,
}

/// First match wins: absent (no counted presence) → partial (ratio below `required_ratio`)
/// → late (first join strictly after start + `late_after_seconds`) → left_early (last leave
/// strictly before end − `left_early_before_end_seconds`) → present.
pub(crate) fn status(presence: Presence, window: (i64, i64), policy: &Policy) -> Status {
    let Some((first_join, last_leave)) = presence.span else {
        return Status::Absent;
    };
    if presence.ratio < policy.required_ratio {
        Status::Partial
    } else if first_join > window.0.saturating_add(seconds(policy.late_after_seconds)) {
        Status::Late
    } else if last_leave
        < window
            .1
            .saturating_sub(seconds(policy.left_early_before_end_seconds))
    {
        Status::LeftEarly
    } else {
        Status::Present
    }
}

/// `attended / window`, 0 for an empty window.
pub(crate) fn ratio(attended: f64, window: f64) -> f64 {
    if window > 0.0 { attended / window } else { 0.0 }
}

/// Rounded to 4 decimals for showing.
pub(crate) fn round4(ratio: f64) -> f64 {
    (ratio * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attendance::time::SECOND;

    fn presence(first: i64, last: i64, ratio: f64) -> Presence {
        Presence {
            span: Some((first * SECOND, last * SECOND)),
            ratio,
        }
    }

    const WINDOW: (i64, i64) = (0, 3600 * SECOND);

    #[test]
    fn thresholds_are_strict() {
        let policy = Policy::default();
        assert_eq!(
            status(presence(300, 3600, 0.9), WINDOW, &policy),
            Status::Present
        );
        assert_eq!(
            status(presence(301, 3600, 0.9), WINDOW, &policy),
            Status::Late
        );
        assert_eq!(
            status(presence(0, 3300, 0.9), WINDOW, &policy),
            Status::Present
        );
        assert_eq!(
            status(presence(0, 3299, 0.9), WINDOW, &policy),
            Status::LeftEarly
        );
        assert_eq!(
            status(presence(0, 3600, 0.5), WINDOW, &policy),
            Status::Present
        );
        assert_eq!(
            status(presence(0, 3600, 0.4999), WINDOW, &policy),
            Status::Partial
        );
    }

    #[test]
    fn first_match_wins() {
        let policy = Policy::default();
        let absent = Presence {
            span: None,
            ratio: 0.0,
        };
        assert_eq!(status(absent, WINDOW, &policy), Status::Absent);
        assert_eq!(
            status(presence(900, 1000, 0.1), WINDOW, &policy),
            Status::Partial
        );
        assert_eq!(
            status(presence(900, 1000, 0.9), WINDOW, &policy),
            Status::Late
        );
    }

    #[test]
    fn ratio_and_rounding() {
        assert_eq!(ratio(10.0, 0.0), 0.0);
        assert_eq!(ratio(3300.0, 3600.0), 3300.0 / 3600.0);
        assert_eq!(round4(3300.0 / 3600.0), 0.9167);
        assert_eq!(round4(1.0), 1.0);
    }
}

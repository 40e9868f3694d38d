//! The engine's output: a roster shaped like API.md's `Attendance` object (without
//! `meeting_id`, which the caller adds).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{InstanceId, InstanceState, IntervalSource, MatchedBy, Status, UserId};

/// The window a roster was measured against: the instance's, with the live end resolved to
/// `now` (or, for an aggregate, the first instance's start and the last instance's end).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterWindow {
    /// Start of the window.
    pub start: DateTime<Utc>,
    /// End of the window (`now` while live). Never before `start`.
    pub end: DateTime<Utc>,
}

/// One segment of counted presence, for drawing as a bar.
///
/// A record's intervals are the pieces of the union of all its counted intervals, in time
/// order, never overlapping; where several sources cover the same time, the piece is labelled
/// with the preferred one (`webhook` over `report` over `manual`), and touching pieces of the
/// same source are merged. Their lengths add up to the attended time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceInterval {
    /// Start of the piece.
    pub join: DateTime<Utc>,
    /// End of the piece (after `join`).
    pub leave: DateTime<Utc>,
    /// Where the presence is known from.
    pub source: IntervalSource,
}

/// One host user's attendance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RosterRecord {
    /// The host user.
    pub user_id: UserId,
    /// Whether the user is registered for the meeting (`false`: matched without a
    /// registration, e.g. by email).
    pub registered: bool,
    /// Status, first match wins: absent → partial → late → left_early → present.
    pub status: Status,
    /// Whole seconds (truncated) of the union of counted presence inside the window.
    pub attended_seconds: u64,
    /// Attended time over the window length, rounded to 4 decimals; 0 for an empty window.
    /// (The `partial` rule compares the unrounded ratio.)
    pub attendance_ratio: f64,
    /// Start of the earliest counted presence; `None` when absent.
    pub first_join: Option<DateTime<Utc>>,
    /// End of the latest counted presence; `None` when absent.
    pub last_leave: Option<DateTime<Utc>>,
    /// `max(0, first_join − window start)` in whole seconds (truncated), whether or not it
    /// exceeds the late threshold; `None` when absent.
    pub late_seconds: Option<u64>,
    /// Distinct connections that entered the meeting within the window.
    pub joins: u32,
    /// How the user was matched (the strongest way if several); `None` if never seen.
    pub matched_by: Option<MatchedBy>,
    /// The counted presence, see [`PresenceInterval`].
    pub intervals: Vec<PresenceInterval>,
}

/// One participant no host user was found for, grouped per person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnmatchedRecord {
    /// The person key (see [`crate::attendance::Subject::person_key`]).
    pub participant_key: String,
    /// A display name: the one given with the person's earliest evidence.
    pub display_name: Option<String>,
    /// An email: the one given with the person's earliest evidence.
    pub email: Option<String>,
    /// Whole seconds (truncated) of the union of counted presence inside the window.
    pub attended_seconds: u64,
    /// Distinct connections that entered the meeting within the window.
    pub joins: u32,
    /// Start of the earliest counted presence; `None` without any.
    pub first_join: Option<DateTime<Utc>>,
    /// End of the latest counted presence; `None` without any.
    pub last_leave: Option<DateTime<Utc>>,
    /// The counted presence, see [`PresenceInterval`].
    pub intervals: Vec<PresenceInterval>,
}

/// Counts over a roster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Roster records of registered users.
    pub registered: u32,
    /// Records with status `present`.
    pub present: u32,
    /// Records with status `late`.
    pub late: u32,
    /// Records with status `left_early`.
    pub left_early: u32,
    /// Records with status `partial`.
    pub partial: u32,
    /// Records with status `absent`.
    pub absent: u32,
    /// Unmatched people.
    pub unmatched: u32,
}

impl Summary {
    /// Counts `roster` and `unmatched`.
    pub fn of(roster: &[RosterRecord], unmatched: &[UnmatchedRecord]) -> Self {
        let mut summary = Summary {
            unmatched: saturating_u32(unmatched.len()),
            ..Summary::default()
        };
        for record in roster {
            if record.registered {
                summary.registered += 1;
            }
            let count = match record.status {
                Status::Present => &mut summary.present,
                Status::Late => &mut summary.late,
                Status::LeftEarly => &mut summary.left_early,
                Status::Partial => &mut summary.partial,
                Status::Absent => &mut summary.absent,
            };
            *count += 1;
        }
        summary
    }
}

pub(crate) fn saturating_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The attendance of one instance (`instance` set) or of a whole meeting (`instance: None`).
///
/// `roster` is sorted by user id and `unmatched` by participant key, so equal inputs give
/// equal rosters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Roster {
    /// The instance, or `None` for an aggregate over instances.
    pub instance: Option<InstanceId>,
    /// The window measured against.
    pub window: RosterWindow,
    /// Whether the roster can still change.
    pub state: InstanceState,
    /// Every registered user and every host user seen, sorted by user id.
    pub roster: Vec<RosterRecord>,
    /// Participants no host user was found for, sorted by participant key.
    pub unmatched: Vec<UnmatchedRecord>,
    /// Counts.
    pub summary: Summary,
}

impl Roster {
    /// The record of `user`, if the roster has one.
    pub fn record(&self, user: &UserId) -> Option<&RosterRecord> {
        self.roster
            .binary_search_by(|record| record.user_id.cmp(user))
            .ok()
            .map(|index| &self.roster[index])
    }

    /// The unmatched record with this participant key, if any.
    pub fn unmatched_person(&self, participant_key: &str) -> Option<&UnmatchedRecord> {
        self.unmatched
            .binary_search_by(|record| record.participant_key.as_str().cmp(participant_key))
            .ok()
            .map(|index| &self.unmatched[index])
    }
}

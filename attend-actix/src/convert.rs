//! Conversions from the attendance engine's output to the API objects.

use attend_core::{
    attendance::{PresenceInterval, Roster, RosterRecord, RosterWindow, Summary, UnmatchedRecord},
    model,
};

use crate::dto::{
    Attendance, AttendanceSummary, AttendanceWindow, Interval, RosterEntry, UnmatchedParticipant,
};

impl From<RosterWindow> for AttendanceWindow {
    fn from(w: RosterWindow) -> Self {
        Self {
            start: w.start,
            end: w.end,
        }
    }
}

impl From<PresenceInterval> for Interval {
    fn from(i: PresenceInterval) -> Self {
        Self {
            join: i.join,
            leave: i.leave,
            source: i.source.into(),
        }
    }
}

impl From<RosterRecord> for RosterEntry {
    fn from(r: RosterRecord) -> Self {
        Self {
            user_id: r.user_id.0,
            status: r.status.into(),
            attended_seconds: r.attended_seconds,
            attendance_ratio: r.attendance_ratio,
            first_join: r.first_join,
            last_leave: r.last_leave,
            late_seconds: r.late_seconds,
            joins: r.joins,
            matched_by: r.matched_by.map(Into::into),
            registered: r.registered,
            intervals: r.intervals.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<UnmatchedRecord> for UnmatchedParticipant {
    fn from(u: UnmatchedRecord) -> Self {
        Self {
            participant_key: u.participant_key,
            display_name: u.display_name,
            email: u.email,
            attended_seconds: u.attended_seconds,
            joins: u.joins,
            first_join: u.first_join,
            last_leave: u.last_leave,
            intervals: u.intervals.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Summary> for AttendanceSummary {
    fn from(s: Summary) -> Self {
        Self {
            registered: s.registered,
            present: s.present,
            late: s.late,
            left_early: s.left_early,
            partial: s.partial,
            absent: s.absent,
            unmatched: s.unmatched,
        }
    }
}

impl Attendance {
    /// The API object of `roster` for meeting `meeting_id`.
    pub fn from_roster(meeting_id: &model::MeetingId, roster: Roster) -> Self {
        Self {
            meeting_id: meeting_id.0.clone(),
            instance: roster.instance.map(|i| i.0),
            window: roster.window.into(),
            state: roster.state.into(),
            roster: roster.roster.into_iter().map(Into::into).collect(),
            unmatched: roster.unmatched.into_iter().map(Into::into).collect(),
            summary: roster.summary.into(),
        }
    }
}

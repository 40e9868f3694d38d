//! Conversions from the attendance engine's output to the API objects.

use attend_core::{
    attendance::{PresenceInterval, RosterRecord, RosterWindow, Summary, UnmatchedRecord},
    service,
};

use crate::dto::{
    Attendance, AttendanceSummary, AttendanceWindow, Interval, RosterEntry, SharedLink,
    UnmatchedList, UnmatchedParticipant, UserAttendance,
};

impl From<service::UnmatchedList> for UnmatchedList {
    fn from(l: service::UnmatchedList) -> Self {
        Self {
            meeting_id: l.meeting_id.0,
            unmatched: l.unmatched.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<service::UserHistory> for UserAttendance {
    fn from(h: service::UserHistory) -> Self {
        Self {
            user_id: h.user_id.0,
            records: h.records.into_iter().map(Into::into).collect(),
        }
    }
}

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

impl From<service::Attendance> for Attendance {
    fn from(a: service::Attendance) -> Self {
        let roster = a.roster;
        Self {
            meeting_id: a.meeting_id.0,
            instance: roster.instance.map(|i| i.0),
            window: roster.window.into(),
            state: roster.state.into(),
            roster: roster.roster.into_iter().map(Into::into).collect(),
            unmatched: roster.unmatched.into_iter().map(Into::into).collect(),
            summary: roster.summary.into(),
            possible_shared_links: a
                .possible_shared_links
                .into_iter()
                .map(|s| SharedLink {
                    registrant_id: s.registrant_id,
                    connections: s.connections.into_iter().map(|c| c.0).collect(),
                })
                .collect(),
        }
    }
}

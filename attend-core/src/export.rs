//! CSV export of a roster, for gradebooks and spreadsheets.
//!
//! One header row, then one row per roster user (sorted by user id, as in the roster), then
//! one row per unmatched person (sorted by participant key), marked `kind = unmatched`.
//!
//! | column | meaning |
//! |---|---|
//! | `meeting_id` | attend's meeting id |
//! | `instance` | the instance uuid; empty for an aggregate over all instances |
//! | `kind` | `user` (a host user) or `unmatched` (nobody found for this participant) |
//! | `user_id` | the host user id; empty for unmatched rows |
//! | `name` | the host user's name from the host's directory, if known; empty otherwise |
//! | `registered` | `true`/`false`: registered for the meeting (empty for unmatched rows) |
//! | `participant_key` | the unmatched person's key (use it to link by hand); empty for users |
//! | `display_name` | the Zoom display name of an unmatched person (never identity) |
//! | `email` | the email Zoom gave for an unmatched person |
//! | `status` | `present`, `late`, `left_early`, `partial`, `absent`, or `unmatched` |
//! | `attended_seconds` | whole seconds of the union of presence inside the window |
//! | `attendance_ratio` | attended time over the window, 4 decimals (empty for unmatched rows) |
//! | `first_join`, `last_leave` | RFC 3339 UTC (`2025-03-01T09:02:00Z`); empty when absent |
//! | `late_seconds` | seconds after the window start of the first join; empty when absent |
//! | `joins` | distinct connections that entered the meeting |
//! | `matched_by` | `registrant_id`, `customer_key`, `email` or `manual`; empty if never seen |
//!
//! Text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a
//! tab or a carriage return) are prefixed with `'`: display names are chosen by
//! participants, and a name like `=HYPERLINK(...)` must stay text.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::attendance::Roster;
use crate::model::{MeetingId, UserId};

/// The header row, in column order.
pub const HEADER: [&str; 17] = [
    "meeting_id",
    "instance",
    "kind",
    "user_id",
    "name",
    "registered",
    "participant_key",
    "display_name",
    "email",
    "status",
    "attended_seconds",
    "attendance_ratio",
    "first_join",
    "last_leave",
    "late_seconds",
    "joins",
    "matched_by",
];

/// Why the CSV could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the attendance CSV")]
pub struct ExportError(#[source] csv::Error);

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Neutralizes spreadsheet formulas in free text.
fn text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// Writes `roster` of `meeting` as CSV into `out`. `name_of` gives a host user's name (or
/// `None` to leave the cell empty).
///
/// # Errors
/// Only if `out` fails.
pub fn write_csv<W: std::io::Write>(
    out: W,
    meeting: &MeetingId,
    roster: &Roster,
    name_of: impl Fn(&UserId) -> Option<String>,
) -> Result<(), ExportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER).map_err(ExportError)?;
    let instance = roster
        .instance
        .as_ref()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();
    for r in &roster.roster {
        w.write_record([
            text(meeting.as_str()),
            text(&instance),
            "user".to_owned(),
            text(r.user_id.as_str()),
            text(&name_of(&r.user_id).unwrap_or_default()),
            r.registered.to_string(),
            String::new(),
            String::new(),
            String::new(),
            r.status.as_str().to_owned(),
            r.attended_seconds.to_string(),
            format!("{:.4}", r.attendance_ratio),
            time(r.first_join),
            time(r.last_leave),
            r.late_seconds.map(|s| s.to_string()).unwrap_or_default(),
            r.joins.to_string(),
            r.matched_by
                .map(|m| match m {
                    crate::model::MatchedBy::RegistrantId => "registrant_id",
                    crate::model::MatchedBy::CustomerKey => "customer_key",
                    crate::model::MatchedBy::Email => "email",
                    crate::model::MatchedBy::Manual => "manual",
                })
                .unwrap_or_default()
                .to_owned(),
        ])
        .map_err(ExportError)?;
    }
    for u in &roster.unmatched {
        w.write_record([
            text(meeting.as_str()),
            text(&instance),
            "unmatched".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            text(&u.participant_key),
            text(u.display_name.as_deref().unwrap_or_default()),
            text(u.email.as_deref().unwrap_or_default()),
            "unmatched".to_owned(),
            u.attended_seconds.to_string(),
            String::new(),
            time(u.first_join),
            time(u.last_leave),
            String::new(),
            u.joins.to_string(),
            String::new(),
        ])
        .map_err(ExportError)?;
    }
    w.flush().map_err(|e| ExportError(e.into()))?;
    Ok(())
}

/// [`write_csv`] into a `String`.
///
/// # Errors
/// Never in practice (writing to memory does not fail); kept for symmetry.
pub fn to_csv_string(
    meeting: &MeetingId,
    roster: &Roster,
    name_of: impl Fn(&UserId) -> Option<String>,
) -> Result<String, ExportError> {
    let mut buf = Vec::new();
    write_csv(&mut buf, meeting, roster, name_of)?;
    // The csv writer only ever writes the UTF-8 strings it was given.
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attendance::{
        Connection, ConnectionEvent, InstanceInput, Subject, Window, compute_instance,
    };
    use crate::model::{ConnectionKey, InstanceId, MatchedBy, ParticipantAction};
    use chrono::TimeZone;

    fn roster() -> Roster {
        let at = |minute| Utc.with_ymd_and_hms(2025, 3, 1, 9, minute, 0).unwrap();
        let mut input = InstanceInput::new(
            InstanceId::from("uu/id=="),
            Window::ended(at(0), at(50)),
            at(59),
        );
        input.registered = vec![UserId::from("alice"), UserId::from("bob")];
        input.connections.push(Connection {
            key: ConnectionKey::from("p1"),
            subject: Subject::user("alice", MatchedBy::RegistrantId),
            zoom_user_id: None,
            events: vec![
                ConnectionEvent::new(ParticipantAction::Joined, at(2)),
                ConnectionEvent::new(ParticipantAction::Left, at(45)),
            ],
        });
        input.connections.push(Connection {
            key: ConnectionKey::from("p2"),
            subject: Subject::Unmatched {
                person_key: "name:=HYPERLINK(\"x\")".into(),
                display_name: Some("=HYPERLINK(\"x\")".into()),
                email: None,
            },
            zoom_user_id: None,
            events: vec![
                ConnectionEvent::new(ParticipantAction::Joined, at(10)),
                ConnectionEvent::new(ParticipantAction::Left, at(20)),
            ],
        });
        compute_instance(&input)
    }

    #[test]
    fn one_row_per_user_then_unmatched_rows() {
        let csv = to_csv_string(&MeetingId::from("m1"), &roster(), |u| {
            (u.as_str() == "alice").then(|| "Alice, A.".to_owned())
        })
        .unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(lines.len(), 4, "{csv}");
        assert_eq!(
            lines[1],
            "m1,uu/id==,user,alice,\"Alice, A.\",true,,,,present,2580,0.8600,\
             2025-03-01T09:02:00Z,2025-03-01T09:45:00Z,120,1,registrant_id"
        );
        assert_eq!(
            lines[2],
            "m1,uu/id==,user,bob,,true,,,,absent,0,0.0000,,,,0,"
        );
        assert!(
            lines[3].starts_with("m1,uu/id==,unmatched,,,,"),
            "{}",
            lines[3]
        );
        assert!(lines[3].contains(",unmatched,600,,"), "{}", lines[3]);
    }

    #[test]
    fn formulas_are_neutralized_and_csv_parses_back() {
        let csv = to_csv_string(&MeetingId::from("m1"), &roster(), |_| None).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let unmatched = &rows[2];
        assert_eq!(&unmatched[2], "unmatched");
        assert_eq!(&unmatched[7], "'=HYPERLINK(\"x\")");
        assert_eq!(&unmatched[6], "name:=HYPERLINK(\"x\")");
    }
}

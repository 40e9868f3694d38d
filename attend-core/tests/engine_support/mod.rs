//! Shared builders for the engine tests: times are minutes (or seconds) after 10:00.

#![allow(dead_code, unreachable_pub)]

use attend_core::attendance::{
    Connection, ConnectionEvent, InstanceInput, ManualInterval, ReportInterval, Subject, Window,
};
use attend_core::model::{ConnectionKey, InstanceId, MatchedBy, ParticipantAction, UserId};
use chrono::{DateTime, Duration, TimeZone, Utc};

pub fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).single().unwrap()
}

/// `base + seconds`.
pub fn s(seconds: i64) -> DateTime<Utc> {
    base() + Duration::seconds(seconds)
}

/// `base + minutes`.
pub fn m(minutes: i64) -> DateTime<Utc> {
    s(minutes * 60)
}

pub fn user(id: &str) -> Subject {
    Subject::user(id, MatchedBy::RegistrantId)
}

pub fn guest(key: &str, name: &str) -> Subject {
    Subject::Unmatched {
        person_key: key.to_owned(),
        display_name: Some(name.to_owned()),
        email: None,
    }
}

pub fn uid(id: &str) -> UserId {
    UserId::from(id)
}

/// An ended instance from minute `start` to minute `end`, default policy.
pub fn instance(start: i64, end: i64) -> InstanceInput {
    InstanceInput::new(
        InstanceId::from("inst-1"),
        Window::ended(m(start), m(end)),
        m(end + 10),
    )
}

pub fn conn(
    key: &str,
    subject: Subject,
    zoom_user_id: Option<&str>,
    events: &[(ParticipantAction, DateTime<Utc>)],
) -> Connection {
    Connection {
        key: ConnectionKey::from(key),
        subject,
        zoom_user_id: zoom_user_id.map(str::to_owned),
        events: events
            .iter()
            .map(|&(action, at)| ConnectionEvent::new(action, at))
            .collect(),
    }
}

/// A connection that joined at minute `join` and left at minute `leave`.
pub fn stay(key: &str, subject: Subject, join: i64, leave: i64) -> Connection {
    conn(
        key,
        subject,
        Some(key),
        &[
            (ParticipantAction::Joined, m(join)),
            (ParticipantAction::Left, m(leave)),
        ],
    )
}

pub fn row(
    subject: Subject,
    zoom_user_id: Option<&str>,
    join: DateTime<Utc>,
    leave: DateTime<Utc>,
) -> ReportInterval {
    ReportInterval {
        subject,
        zoom_user_id: zoom_user_id.map(str::to_owned),
        join,
        leave,
    }
}

pub fn manual(user: &str, join: DateTime<Utc>, leave: DateTime<Utc>) -> ManualInterval {
    ManualInterval {
        user: uid(user),
        join,
        leave,
    }
}

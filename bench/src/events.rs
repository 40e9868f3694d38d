//! Zoom webhook bodies for load: distinct participant events in the shape Zoom sends
//! (`meeting.participant_joined` / `meeting.participant_left`, meeting object with a string
//! `id`), plus `meeting.started` / `meeting.ended`, and their signatures.
//!
//! Bodies are built on demand from an index, so a run of any length needs no memory for
//! pre-built requests, and two runs with the same [`EventFactory`] produce the same bytes.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::json;

/// One registrant a participant event can name (`registrant_id` + `email`), so that
/// processing matches the event to a host user, as with real traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registrant {
    /// Zoom's registrant id.
    pub registrant_id: String,
    /// The registrant's email.
    pub email: String,
    /// The display name Zoom shows.
    pub name: String,
}

/// Which participant event to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParticipantKind {
    /// `meeting.participant_joined` (`join_time`).
    Joined,
    /// `meeting.participant_left` (`leave_time`, `leave_reason`).
    Left,
}

/// Builds webhook bodies about one meeting instance.
#[derive(Clone, Debug)]
pub struct EventFactory {
    /// The Zoom meeting number the events are about (a meeting attend has linked, or not).
    pub zoom_meeting_id: i64,
    /// The instance uuid (`payload.object.uuid`).
    pub instance_uuid: String,
    /// The meeting's host id (never a participant here).
    pub host_id: String,
    /// `payload.account_id`.
    pub account_id: String,
    /// The instance's start time (`object.start_time`).
    pub start: DateTime<Utc>,
    /// Who the participants are: connection `c` is `registrants[c % len]`; empty means
    /// guests that match no host user.
    pub registrants: Vec<Registrant>,
    /// Makes participant ids unique across runs on one database (a run tag).
    pub tag: String,
}

/// A Zoom-style time: `2030-01-10T15:00:00Z`.
pub fn zoom_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl EventFactory {
    fn object(&self) -> serde_json::Value {
        json!({
            "id": self.zoom_meeting_id.to_string(),
            "uuid": self.instance_uuid,
            "host_id": self.host_id,
            "topic": "attend bench",
            "type": 2,
            "start_time": zoom_time(self.start),
            "timezone": "UTC",
            "duration": 60,
        })
    }

    fn envelope(&self, event: &str, at: DateTime<Utc>, object: serde_json::Value) -> String {
        json!({
            "event": event,
            "event_ts": at.timestamp_millis(),
            "payload": { "account_id": self.account_id, "object": object },
        })
        .to_string()
    }

    /// `meeting.started` of the instance.
    pub fn started(&self) -> String {
        self.envelope("meeting.started", self.start, self.object())
    }

    /// `meeting.ended` of the instance at `end`.
    pub fn ended(&self, end: DateTime<Utc>) -> String {
        let mut object = self.object();
        object["end_time"] = json!(zoom_time(end));
        self.envelope("meeting.ended", end, object)
    }

    /// A participant event of connection `connection` (each connection has its own
    /// `user_id` and `participant_uuid`, like a Zoom rejoin) at `at`, stamped (`event_ts`) a
    /// few milliseconds after `at`.
    pub fn participant(&self, kind: ParticipantKind, connection: u64, at: DateTime<Utc>) -> String {
        // event_ts differs per event even within one second, as Zoom's do.
        let stamped = at + TimeDelta::milliseconds((connection % 997) as i64);
        self.participant_stamped(kind, connection, at, stamped)
    }

    /// [`participant`](Self::participant) with its `event_ts` given.
    fn participant_stamped(
        &self,
        kind: ParticipantKind,
        connection: u64,
        at: DateTime<Utc>,
        stamped: DateTime<Utc>,
    ) -> String {
        let (event, time_field) = match kind {
            ParticipantKind::Joined => ("meeting.participant_joined", "join_time"),
            ParticipantKind::Left => ("meeting.participant_left", "leave_time"),
        };
        let (registrant_id, email, name) = match self.registrants.len() {
            0 => (
                String::new(),
                format!("guest-{}-{connection}@bench.invalid", self.tag),
                format!("Guest {connection}"),
            ),
            n => {
                let r = &self.registrants[(connection % n as u64) as usize];
                (r.registrant_id.clone(), r.email.clone(), r.name.clone())
            }
        };
        let mut participant = json!({
            "user_id": (16_778_240 + connection).to_string(),
            "user_name": name,
            "id": "",
            "participant_uuid": format!("{}-{connection:010}", self.tag),
            time_field: zoom_time(at),
            "email": email,
            "registrant_id": registrant_id,
            "participant_user_id": "",
        });
        if kind == ParticipantKind::Left {
            participant["leave_reason"] = json!("left the meeting. Reason : left the meeting");
        }
        let mut object = self.object();
        object["participant"] = participant;
        self.envelope(event, stamped, object)
    }

    /// The `n`-th event of an endless stream of distinct events: even `n` is the join of
    /// connection `n / 2`, odd `n` its leave a minute later. Join times spread over the
    /// first 50 minutes of the instance.
    ///
    /// Event `n` is stamped (`event_ts`) `n` milliseconds after the instance's start: the
    /// stamps grow with the stream, as a live meeting's do (Zoom stamps an event when it
    /// happens and delivers it within seconds), whatever the join and leave times it
    /// replays.
    pub fn nth(&self, n: u64) -> String {
        let connection = n / 2;
        let join = self.start + TimeDelta::seconds((connection % 3_000) as i64);
        let stamped = self.start + TimeDelta::milliseconds(n as i64);
        if n.is_multiple_of(2) {
            self.participant_stamped(ParticipantKind::Joined, connection, join, stamped)
        } else {
            let leave = join + TimeDelta::seconds(60);
            self.participant_stamped(ParticipantKind::Left, connection, leave, stamped)
        }
    }
}

/// The `x-zm-signature` value for `body` signed at `timestamp` (Unix seconds) with `secret`.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    attend_zoom_sim::sign(secret, timestamp, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factory() -> EventFactory {
        EventFactory {
            zoom_meeting_id: 85_393_847_045,
            instance_uuid: "inst==".into(),
            host_id: "host".into(),
            account_id: "acct".into(),
            start: DateTime::parse_from_rfc3339("2030-01-10T15:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            registrants: vec![Registrant {
                registrant_id: "r1".into(),
                email: "a@x.example".into(),
                name: "A".into(),
            }],
            tag: "t".into(),
        }
    }

    #[test]
    fn events_are_distinct_and_shaped_like_zoom() {
        let f = factory();
        let a: serde_json::Value = serde_json::from_str(&f.nth(0)).unwrap();
        let b: serde_json::Value = serde_json::from_str(&f.nth(1)).unwrap();
        let c: serde_json::Value = serde_json::from_str(&f.nth(2)).unwrap();
        assert_eq!(a["event"], "meeting.participant_joined");
        assert_eq!(b["event"], "meeting.participant_left");
        assert_eq!(a["payload"]["object"]["id"], "85393847045");
        let pa = &a["payload"]["object"]["participant"];
        let pb = &b["payload"]["object"]["participant"];
        let pc = &c["payload"]["object"]["participant"];
        assert_eq!(pa["participant_uuid"], pb["participant_uuid"]);
        assert_ne!(pa["participant_uuid"], pc["participant_uuid"]);
        assert_eq!(pa["registrant_id"], "r1");
        assert_eq!(pa["join_time"], "2030-01-10T15:00:00Z");
        assert_eq!(pb["leave_time"], "2030-01-10T15:01:00Z");
        assert_ne!(f.nth(0), f.nth(2));
    }

    #[test]
    fn the_stream_is_stamped_in_arrival_order() {
        let f = factory();
        let stamp = |n: u64| {
            let event: serde_json::Value = serde_json::from_str(&f.nth(n)).unwrap();
            event["event_ts"].as_i64().unwrap()
        };
        let start = f.start.timestamp_millis();
        // Across a wrap of the replayed join times (3,000 connections, 6,000 events).
        for n in [0, 1, 2, 5_999, 6_000, 6_001] {
            assert_eq!(stamp(n), start + n as i64, "event {n}");
        }
    }

    #[test]
    fn signature_matches_zoom_scheme() {
        let s = signature("secret", "1700000000", b"{}");
        assert!(s.starts_with("v0=") && s.len() == 67, "{s}");
    }
}

//! Fuzz target: webhook parsing and normalization on JSON-shaped input.
//!
//! `arbitrary` builds a Zoom-like envelope (`event`, `event_ts`, `payload.account_id`,
//! `payload.object` with meeting fields, `participant`, `registrant`, `plainToken`) whose
//! field values are drawn from the shapes Zoom really sends (ids as strings or numbers,
//! empty strings, RFC 3339 and naive timestamps, leave reasons, placeholders) plus anything
//! else (nulls, bools, floats, objects, extreme times). Every body goes through the same
//! checks as `webhook_event`, and through an oracle for the happy path: a participant event
//! with a non-blank instance uuid, a non-blank `participant_uuid` and a well-formed time in
//! the field its type uses must normalize, keyed by that `participant_uuid`.

#![no_main]

mod common;

use arbitrary::Arbitrary;
use attend_core::zoom::EventType;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const EVENTS: [&str; 20] = [
    "endpoint.url_validation",
    "meeting.started",
    "meeting.ended",
    "meeting.participant_joined",
    "meeting.participant_left",
    "meeting.participant_joined_waiting_room",
    "meeting.participant_left_waiting_room",
    "meeting.participant_joined_breakout_room",
    "meeting.participant_left_breakout_room",
    "meeting.registration_created",
    "meeting.registration_approved",
    "meeting.registration_cancelled",
    "meeting.registration_denied",
    "webinar.started",
    "webinar.ended",
    "webinar.participant_joined",
    "webinar.participant_left",
    "meeting.participant_admitted",
    "recording.completed",
    "meeting.participant_put_in_waiting_room",
];

const OBJECT_FIELDS: [&str; 12] = [
    "id",
    "uuid",
    "host_id",
    "topic",
    "type",
    "start_time",
    "end_time",
    "timezone",
    "duration",
    "breakout_room_uuid",
    "occurrences",
    "custom_keys",
];

const PARTICIPANT_FIELDS: [&str; 15] = [
    "user_id",
    "parent_user_id",
    "user_name",
    "id",
    "participant_user_id",
    "participant_uuid",
    "email",
    "registrant_id",
    "customer_key",
    "phone_number",
    "join_time",
    "leave_time",
    "date_time",
    "leave_reason",
    "public_ip",
];

const REGISTRANT_FIELDS: [&str; 8] = [
    "id",
    "first_name",
    "last_name",
    "email",
    "status",
    "join_url",
    "participant_pin_code",
    "custom_questions",
];

const TEXTS: [&str; 24] = [
    "",
    "   ",
    "85393847045",
    "{MEETING_ID}",
    "jUh5o3dKQIytvcsfTtKBlg==",
    "16778240",
    "p-1",
    "r-42",
    "Ada Lovelace",
    "ada@example.edu",
    "2024-07-11T14:13:00Z",
    "2024-07-11T16:13:00+02:00",
    "2024-07-11T14:13:00",
    "2024-07-11 14:13:00.123",
    "2024-07-11T14:13:00.123456789Z",
    "+275760-09-13T00:00:00Z",
    "2024-02-30T25:61:61Z",
    "9999-12-31T23:59:60Z",
    "left the meeting. Reason : left the meeting",
    "left the meeting. Reason : left the meeting to join breakout room",
    "left the meeting. Reason : left the meeting leave breakout room to join main meeting",
    "got disconnected from the meeting. Reason : Client Close.",
    "Jill Chill left the meeting.<br>Reason: Host ended the meeting.",
    "approved",
];

#[derive(Arbitrary, Debug)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Known(u8),
    Text(String),
    /// An RFC 3339 time from arbitrary parts, possibly far out of chrono's range.
    Time {
        seconds: i64,
        nanos: u32,
        offset_minutes: i16,
    },
    /// A small nested value where a scalar was expected.
    Nested(Vec<(u8, u8)>),
}

impl Scalar {
    fn into_value(self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::from(i),
            Scalar::Uint(u) => Value::from(u),
            Scalar::Float(f) => Value::from(f),
            Scalar::Known(i) => Value::from(TEXTS[usize::from(i) % TEXTS.len()]),
            Scalar::Text(s) => Value::from(s),
            Scalar::Time {
                seconds,
                nanos,
                offset_minutes,
            } => {
                let sign = if offset_minutes < 0 { '-' } else { '+' };
                let offset = offset_minutes.unsigned_abs();
                let text = match DateTime::<Utc>::from_timestamp(seconds, nanos % 2_000_000_000) {
                    Some(t) => format!(
                        "{}{sign}{:02}:{:02}",
                        t.format("%Y-%m-%dT%H:%M:%S%.f"),
                        offset / 60,
                        offset % 60
                    ),
                    None => format!("{seconds}-01-01T00:00:00Z"),
                };
                Value::from(text)
            }
            Scalar::Nested(pairs) => {
                let mut map = Map::new();
                for (k, v) in pairs {
                    map.insert(
                        TEXTS[usize::from(k) % TEXTS.len()].to_owned(),
                        Value::from(v),
                    );
                }
                Value::Array(vec![Value::Object(map)])
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Key {
    Known(u8),
    Other(String),
}

impl Key {
    fn name(self, known: &[&str]) -> String {
        match self {
            Key::Known(i) => known[usize::from(i) % known.len()].to_owned(),
            Key::Other(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Fields {
    Absent,
    NotAnObject(Scalar),
    Object(Vec<(Key, Scalar)>),
}

impl Fields {
    fn insert_into(self, map: &mut Map<String, Value>, name: &str, known: &[&str]) {
        match self {
            Fields::Absent => {}
            Fields::NotAnObject(s) => {
                map.insert(name.to_owned(), s.into_value());
            }
            Fields::Object(fields) => {
                let mut inner = Map::new();
                for (k, v) in fields {
                    inner.insert(k.name(known), v.into_value());
                }
                map.insert(name.to_owned(), Value::Object(inner));
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
enum EventName {
    Known(u8),
    Other(String),
    NotAString(Scalar),
}

#[derive(Arbitrary, Debug)]
struct Envelope {
    event: Option<EventName>,
    event_ts: Option<Scalar>,
    account_id: Option<Scalar>,
    plain_token: Option<Scalar>,
    object_fields: Vec<(Key, Scalar)>,
    object_not_an_object: Option<Scalar>,
    participant: Fields,
    registrant: Fields,
    operator: Option<Scalar>,
    payload_not_an_object: Option<Scalar>,
    envelope_extra: Vec<(String, Scalar)>,
}

impl Envelope {
    fn into_value(self) -> Value {
        let mut object = Map::new();
        for (k, v) in self.object_fields {
            object.insert(k.name(&OBJECT_FIELDS), v.into_value());
        }
        self.participant
            .insert_into(&mut object, "participant", &PARTICIPANT_FIELDS);
        self.registrant
            .insert_into(&mut object, "registrant", &REGISTRANT_FIELDS);

        let mut payload = Map::new();
        if let Some(a) = self.account_id {
            payload.insert("account_id".into(), a.into_value());
        }
        if let Some(t) = self.plain_token {
            payload.insert("plainToken".into(), t.into_value());
        }
        if let Some(o) = self.operator {
            payload.insert("operator".into(), o.into_value());
        }
        payload.insert(
            "object".into(),
            match self.object_not_an_object {
                Some(s) => s.into_value(),
                None => Value::Object(object),
            },
        );

        let mut envelope = Map::new();
        for (k, v) in self.envelope_extra {
            envelope.insert(k, v.into_value());
        }
        match self.event {
            None => {}
            Some(EventName::Known(i)) => {
                envelope.insert("event".into(), EVENTS[usize::from(i) % EVENTS.len()].into());
            }
            Some(EventName::Other(s)) => {
                envelope.insert("event".into(), s.into());
            }
            Some(EventName::NotAString(s)) => {
                envelope.insert("event".into(), s.into_value());
            }
        }
        if let Some(ts) = self.event_ts {
            envelope.insert("event_ts".into(), ts.into_value());
        }
        envelope.insert(
            "payload".into(),
            match self.payload_not_an_object {
                Some(s) => s.into_value(),
                None => Value::Object(payload),
            },
        );
        Value::Object(envelope)
    }
}

fn non_blank_str(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn rfc3339(value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|s| DateTime::parse_from_rfc3339(s.trim()).is_ok())
}

/// The happy path the contract promises: a participant event with an instance, a
/// `participant_uuid` and a well-formed time in the field its type reads must normalize.
fn check_happy_path(body: &Value, event: &attend_core::zoom::WebhookEvent) {
    use EventType as E;
    let Some(t) = event.event_type else { return };
    let time_field = match t {
        E::ParticipantJoined | E::WebinarParticipantJoined | E::ParticipantJoinedBreakoutRoom => {
            "join_time"
        }
        E::ParticipantLeft | E::WebinarParticipantLeft | E::ParticipantLeftBreakoutRoom => {
            "leave_time"
        }
        E::ParticipantJoinedWaitingRoom | E::ParticipantLeftWaitingRoom => "date_time",
        _ => return,
    };
    let Some(object) = body.pointer("/payload/object") else {
        return;
    };
    let Some(participant) = object.get("participant") else {
        return;
    };
    let (Some(instance), Some(connection)) = (
        non_blank_str(object.get("uuid")),
        non_blank_str(participant.get("participant_uuid")),
    ) else {
        return;
    };
    if !rfc3339(participant.get(time_field)) {
        return;
    }
    let normalized = event
        .participant_event()
        .expect("a complete participant event normalizes")
        .expect("a participant event normalizes to Some");
    assert_eq!(normalized.instance.as_str(), instance);
    assert_eq!(normalized.connection.as_str(), connection);
}

fuzz_target!(|envelope: Envelope| {
    let value = envelope.into_value();
    let body = serde_json::to_vec(&value).expect("a Value serializes");
    if let Some(event) = common::check_body(&body) {
        check_happy_path(&value, &event);
    }
});

//! Conversions between domain values and column values (times, enums, bodies).
//!
//! Times are stored as `BIGINT` microseconds since the Unix epoch, UTC: exact, sortable,
//! identical on both backends, and within MultiConnection's SQL types. Every `DateTime<Utc>`
//! chrono can represent fits (±262,000 years is about ±8.3·10¹⁸ µs); sub-microsecond digits are
//! dropped.

use attend_core::model::{InstanceState, ParticipantAction, RegistrationStatus};
use attend_core::store::{Entity, JobState, WebhookStatus};
use base64::Engine as _;
use chrono::{DateTime, Utc};

use crate::error::DieselStoreError;

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn opt_micros(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(micros)
}

pub(crate) fn time(entity: Entity, v: i64) -> Result<DateTime<Utc>, DieselStoreError> {
    DateTime::<Utc>::from_timestamp_micros(v)
        .ok_or_else(|| DieselStoreError::corrupt(entity, format!("timestamp {v} out of range")))
}

pub(crate) fn opt_time(
    entity: Entity,
    v: Option<i64>,
) -> Result<Option<DateTime<Utc>>, DieselStoreError> {
    v.map(|v| time(entity, v)).transpose()
}

pub(crate) fn u32_col(entity: Entity, what: &str, v: i64) -> Result<u32, DieselStoreError> {
    u32::try_from(v).map_err(|_| DieselStoreError::corrupt(entity, format!("{what} {v}")))
}

/// ASCII lower case: the comparison key for emails, identical on both backends (SQL `lower()`
/// differs between SQLite and PostgreSQL for non-ASCII letters).
pub(crate) fn email_key(email: &str) -> String {
    email.to_ascii_lowercase()
}

macro_rules! enum_codec {
    ($ty:ty, $entity:expr, $what:literal, [$($variant:path),+ $(,)?]) => {
        impl Codec for $ty {
            fn encode(self) -> &'static str {
                self.as_str()
            }
            fn decode(s: &str) -> Result<Self, DieselStoreError> {
                $(if s == $variant.as_str() {
                    return Ok($variant);
                })+
                Err(DieselStoreError::corrupt($entity, format!(concat!("unknown ", $what, " {:?}"), s)))
            }
        }
    };
}

/// A domain enum stored as its snake_case name.
pub(crate) trait Codec: Sized {
    fn encode(self) -> &'static str;
    fn decode(s: &str) -> Result<Self, DieselStoreError>;
}

enum_codec!(
    RegistrationStatus,
    Entity::Registration,
    "registration status",
    [
        RegistrationStatus::Registered,
        RegistrationStatus::Pending,
        RegistrationStatus::Failed,
        RegistrationStatus::Cancelled,
    ]
);
enum_codec!(
    WebhookStatus,
    Entity::Webhook,
    "webhook status",
    [
        WebhookStatus::Received,
        WebhookStatus::Processed,
        WebhookStatus::Failed,
        WebhookStatus::Unparseable,
    ]
);
enum_codec!(
    InstanceState,
    Entity::Instance,
    "instance state",
    [
        InstanceState::Live,
        InstanceState::Provisional,
        InstanceState::Final,
    ]
);
enum_codec!(
    JobState,
    Entity::Job,
    "job state",
    [
        JobState::Ready,
        JobState::Running,
        JobState::Done,
        JobState::Dead
    ]
);

impl Codec for ParticipantAction {
    fn encode(self) -> &'static str {
        match self {
            ParticipantAction::WaitingRoomJoined => "waiting_room_joined",
            ParticipantAction::WaitingRoomLeft => "waiting_room_left",
            ParticipantAction::Joined => "joined",
            ParticipantAction::BreakoutJoined => "breakout_joined",
            ParticipantAction::BreakoutLeft => "breakout_left",
            ParticipantAction::Left => "left",
        }
    }
    fn decode(s: &str) -> Result<Self, DieselStoreError> {
        Ok(match s {
            "waiting_room_joined" => ParticipantAction::WaitingRoomJoined,
            "waiting_room_left" => ParticipantAction::WaitingRoomLeft,
            "joined" => ParticipantAction::Joined,
            "breakout_joined" => ParticipantAction::BreakoutJoined,
            "breakout_left" => ParticipantAction::BreakoutLeft,
            "left" => ParticipantAction::Left,
            other => {
                return Err(DieselStoreError::corrupt(
                    Entity::ParticipantEvent,
                    format!("unknown participant action {other:?}"),
                ));
            }
        })
    }
}

/// How a raw webhook body is kept in its `TEXT` column: as is when it is UTF-8 without NUL
/// (PostgreSQL `TEXT` cannot hold NUL), which keeps it readable for operators; otherwise
/// base64. `body_encoding` says which, so the exact bytes always come back.
pub(crate) fn encode_body(body: &[u8]) -> (String, &'static str) {
    match std::str::from_utf8(body) {
        Ok(text) if !text.contains('\0') => (text.to_owned(), BODY_UTF8),
        _ => (
            base64::engine::general_purpose::STANDARD.encode(body),
            BODY_BASE64,
        ),
    }
}

pub(crate) fn decode_body(
    body: Option<String>,
    encoding: Option<&str>,
) -> Result<Option<Vec<u8>>, DieselStoreError> {
    let Some(body) = body else {
        return Ok(None);
    };
    match encoding {
        Some(BODY_UTF8) => Ok(Some(body.into_bytes())),
        Some(BODY_BASE64) => base64::engine::general_purpose::STANDARD
            .decode(body)
            .map(Some)
            .map_err(|e| DieselStoreError::corrupt(Entity::Webhook, format!("body base64: {e}"))),
        other => Err(DieselStoreError::corrupt(
            Entity::Webhook,
            format!("unknown body encoding {other:?}"),
        )),
    }
}

pub(crate) const BODY_UTF8: &str = "utf8";
pub(crate) const BODY_BASE64: &str = "base64";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_at_microsecond_precision_over_the_whole_range() {
        for t in [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::UNIX_EPOCH,
            DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_000).unwrap(),
        ] {
            let back = time(Entity::Job, micros(t)).unwrap();
            assert_eq!(back.timestamp_micros(), t.timestamp_micros());
        }
        let with_nanos = DateTime::<Utc>::from_timestamp(1, 999).unwrap();
        assert_eq!(
            time(Entity::Job, micros(with_nanos))
                .unwrap()
                .timestamp_subsec_nanos(),
            0
        );
        assert!(time(Entity::Job, i64::MAX).is_err());
    }

    #[test]
    fn bodies_round_trip_byte_exactly() {
        for body in [
            b"{\"event\":\"x\"}".to_vec(),
            vec![0xff, 0xfe, 0x00, 0x41],
            b"with\0nul".to_vec(),
            Vec::new(),
        ] {
            let (text, enc) = encode_body(&body);
            assert_eq!(decode_body(Some(text), Some(enc)).unwrap(), Some(body));
        }
        assert_eq!(encode_body(b"{}").1, BODY_UTF8);
        assert!(decode_body(Some("x".into()), Some("rot13")).is_err());
        assert_eq!(decode_body(None, None).unwrap(), None);
    }

    #[test]
    fn enums_round_trip_and_unknown_names_are_corrupt() {
        for s in [
            JobState::Ready,
            JobState::Running,
            JobState::Done,
            JobState::Dead,
        ] {
            assert_eq!(JobState::decode(s.encode()).unwrap(), s);
        }
        for a in [
            ParticipantAction::WaitingRoomJoined,
            ParticipantAction::WaitingRoomLeft,
            ParticipantAction::Joined,
            ParticipantAction::BreakoutJoined,
            ParticipantAction::BreakoutLeft,
            ParticipantAction::Left,
        ] {
            assert_eq!(ParticipantAction::decode(a.encode()).unwrap(), a);
        }
        assert!(JobState::decode("paused").is_err());
        assert!(InstanceState::decode("").is_err());
    }
}

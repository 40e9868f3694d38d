//! Checks shared by the webhook event targets: everything attend-core promises about
//! `parse_event`, `dedupe_key` and the normalization of a parsed event.

use attend_core::model::{IdentityHints, ParticipantAction};
use attend_core::zoom::events::{LifecyclePhase, parse_value};
use attend_core::zoom::{
    EventParseError, EventType, LeaveReason, WebhookEvent, ZoomEvent, dedupe_key, parse_event,
};
use serde_json::Value;

/// Is `text` a dedupe key for a body whose `event_ts` is `stamp` (see `DedupeKey`): the stamp
/// as 16 lowercase hex digits, when it is a whole number, then a 64-digit digest.
fn is_key(text: &str, stamp: Option<u64>) -> bool {
    let hex = |t: &str| t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match stamp {
        Some(stamp) => text.len() == 80 && hex(text) && text[..16] == format!("{stamp:016x}"),
        None => text.len() == 64 && hex(text),
    }
}

/// The whole-number `event_ts` of a body, read as the key's fields are: a number or a
/// non-blank string, by its text.
fn stamp_of(json: Option<&Value>) -> Option<u64> {
    match json?.get("event_ts")? {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) if !is_blank(s) => s.parse().ok(),
        _ => None,
    }
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn participant_type(t: EventType) -> bool {
    use EventType as E;
    matches!(
        t,
        E::ParticipantJoined
            | E::ParticipantLeft
            | E::ParticipantJoinedWaitingRoom
            | E::ParticipantLeftWaitingRoom
            | E::ParticipantJoinedBreakoutRoom
            | E::ParticipantLeftBreakoutRoom
            | E::WebinarParticipantJoined
            | E::WebinarParticipantLeft
    )
}

/// Runs every check on one body and returns the parsed event, if it parsed.
pub fn check_body(body: &[u8]) -> Option<WebhookEvent> {
    let key = dedupe_key(body);
    let parsed = parse_event(body);
    let json = serde_json::from_slice::<Value>(body);
    let stamp = stamp_of(json.as_ref().ok());
    assert!(is_key(key.as_str(), stamp), "{key:?} for event_ts {stamp:?}");
    let event = match parsed {
        Err(EventParseError::NotJson(_)) => {
            assert!(json.is_err(), "JSON body reported as not JSON");
            return None;
        }
        Err(EventParseError::NotAnEvent) => {
            let json = json.expect("NotAnEvent for a body that is not JSON");
            assert!(json.get("event").and_then(Value::as_str).is_none());
            return None;
        }
        Err(EventParseError::InvalidPayload { event, .. }) => {
            // Only known events have a payload shape to get wrong.
            let json = json.expect("InvalidPayload for a body that is not JSON");
            let name = json.get("event").and_then(Value::as_str);
            assert_eq!(name, Some(event));
            assert!(EventType::from_name(event).is_some());
            return None;
        }
        Ok(event) => event,
    };

    // The envelope is what the body says.
    let json = json.expect("parsed event from a body that is not JSON");
    assert_eq!(
        json.get("event").and_then(Value::as_str),
        Some(&*event.name)
    );
    assert_eq!(event.event_type, EventType::from_name(&event.name));
    if let Some(t) = event.event_type {
        assert_eq!(t.name(), event.name);
        assert_eq!(t.to_string(), event.name);
    }
    assert_eq!(event.raw, json);
    if let Some(account) = &event.account_id {
        assert!(!is_blank(account));
    }

    // The dedupe key of a parsed event is the key of its body, and stays the same when the
    // body is re-serialized with other whitespace and key order. (Only when the JSON value
    // itself survives the round trip: serde_json's default float parser is not exact, so a
    // number beyond u64/i64, e.g. 100 digits, can come back as a neighbouring f64. Zoom
    // redelivers the same bytes, which always give the same key.)
    assert_eq!(event.dedupe_key(), key);
    let pretty = serde_json::to_vec_pretty(&event.raw).expect("a Value serializes");
    if serde_json::from_slice::<Value>(&pretty).ok().as_ref() == Some(&event.raw) {
        assert_eq!(
            dedupe_key(&pretty),
            key,
            "re-serialized body changed the key"
        );
    }

    // Parsing is a pure function of the JSON value.
    assert_eq!(parse_value(event.raw.clone()).expect("parsed once"), event);

    check_normalization(&event);
    Some(event)
}

fn check_hints(hints: &IdentityHints) {
    for value in [
        &hints.registrant_id,
        &hints.customer_key,
        &hints.email,
        &hints.participant_user_id,
        &hints.participant_uuid,
        &hints.zoom_user_id,
        &hints.user_name,
    ]
    .into_iter()
    .flatten()
    {
        assert!(!is_blank(value), "blank identity hint {value:?}");
    }
}

fn check_normalization(event: &WebhookEvent) {
    use EventType as E;
    let _ = event.meeting_kind();
    let _ = event.meeting_id();
    let _ = event.host_id();
    let instance = event.instance();
    if let Some(instance) = &instance {
        assert!(!is_blank(instance.as_str()));
    }

    match event.participant_event() {
        Ok(Some(normalized)) => {
            let ZoomEvent::Participant { event_type, object } = &event.event else {
                panic!("participant event from {:?}", event.event)
            };
            assert!(participant_type(*event_type));
            assert_eq!(Some(&normalized.instance), instance.as_ref());
            assert!(!is_blank(normalized.connection.as_str()));
            let p = &object.participant;
            // The connection is one of the participant's own ids.
            assert!(
                [&p.participant_uuid, &p.parent_user_id, &p.user_id]
                    .into_iter()
                    .flatten()
                    .any(|id| id == normalized.connection.as_str()),
                "connection {:?} is none of the participant's ids",
                normalized.connection
            );
            if let Some(uuid) = &p.participant_uuid {
                assert_eq!(normalized.connection.as_str(), uuid);
            }
            // The time is one of the participant's own times.
            assert!(
                [p.join_time, p.leave_time, p.date_time].contains(&Some(normalized.at)),
                "time {} is none of the participant's times",
                normalized.at
            );
            let action = normalized.action;
            let reason = LeaveReason::classify(p.leave_reason.as_deref());
            match event_type {
                E::ParticipantJoined | E::WebinarParticipantJoined => {
                    assert_eq!(action, ParticipantAction::Joined)
                }
                E::ParticipantJoinedBreakoutRoom => {
                    assert_eq!(action, ParticipantAction::BreakoutJoined)
                }
                E::ParticipantJoinedWaitingRoom => {
                    assert_eq!(action, ParticipantAction::WaitingRoomJoined)
                }
                E::ParticipantLeftWaitingRoom => {
                    assert_eq!(action, ParticipantAction::WaitingRoomLeft)
                }
                _ => {
                    let expected = match reason {
                        LeaveReason::ToBreakoutRoom => ParticipantAction::BreakoutJoined,
                        LeaveReason::BackToMainMeeting => ParticipantAction::BreakoutLeft,
                        LeaveReason::Other => ParticipantAction::Left,
                    };
                    assert_eq!(action, expected);
                }
            }
            check_hints(&normalized.hints);
            assert_eq!(normalized.hints, p.identity_hints());
        }
        Ok(None) => assert!(
            !matches!(event.event, ZoomEvent::Participant { .. }),
            "a participant event normalized to nothing"
        ),
        Err(_) => assert!(matches!(event.event, ZoomEvent::Participant { .. })),
    }

    match event.lifecycle() {
        Ok(Some(lifecycle)) => {
            match (&event.event, lifecycle.phase) {
                (ZoomEvent::Started { .. }, LifecyclePhase::Started)
                | (ZoomEvent::Ended { .. }, LifecyclePhase::Ended) => {}
                (other, phase) => panic!("{phase:?} lifecycle from {other:?}"),
            }
            assert_eq!(Some(&lifecycle.instance), instance.as_ref());
            assert_eq!(lifecycle.meeting_id, event.meeting_id());
            assert_eq!(Some(lifecycle.kind), event.meeting_kind());
        }
        Ok(None) => assert!(!matches!(
            event.event,
            ZoomEvent::Started { .. } | ZoomEvent::Ended { .. }
        )),
        Err(_) => {
            assert!(matches!(
                event.event,
                ZoomEvent::Started { .. } | ZoomEvent::Ended { .. }
            ));
            assert!(instance.is_none());
        }
    }
}

//! Typed parsing of every webhook event attend uses, normalization into the engine's
//! participant events, lifecycle, and dedupe keys.

use attend_core::model::{MeetingKind, ParticipantAction, ZoomMeetingId};
use attend_core::zoom::{
    EventParseError, EventType, LifecyclePhase, NormalizeError, WebhookEvent, ZoomEvent,
    dedupe_key, parse_event,
};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

fn event(value: Value) -> WebhookEvent {
    parse_event(&serde_json::to_vec(&value).unwrap()).unwrap()
}

fn participant_body(name: &str, participant: Value) -> Value {
    json!({
        "event": name,
        "event_ts": 1720707200000_i64,
        "payload": {
            "account_id": "acc-1",
            "object": {
                "id": "85393847045",
                "uuid": "inst/1==",
                "host_id": "host-1",
                "topic": "Algebra",
                "type": 2,
                "start_time": "2024-07-11T14:00:00Z",
                "timezone": "UTC",
                "duration": 60,
                "participant": participant
            }
        }
    })
}

fn full_participant() -> Value {
    json!({
        "user_id": "16778240",
        "user_name": "Ada Lovelace",
        "id": "zoom-user-9",
        "participant_uuid": "puuid-1",
        "join_time": "2024-07-11T14:05:00Z",
        "email": "u42@attend.example",
        "registrant_id": "reg-42",
        "participant_user_id": "zoom-user-9b",
        "customer_key": "u42",
        "phone_number": "",
        "some_future_field": {"nested": true}
    })
}

fn t(h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 7, 11, h, m, 0).unwrap()
}

#[test]
fn participant_joined_carries_every_identity_hint() {
    let e = event(participant_body(
        "meeting.participant_joined",
        full_participant(),
    ));
    assert_eq!(e.event_type, Some(EventType::ParticipantJoined));
    assert_eq!(e.meeting_kind(), Some(MeetingKind::Meeting));
    assert_eq!(e.meeting_id(), Some(ZoomMeetingId(85393847045)));
    assert_eq!(e.instance().unwrap().as_str(), "inst/1==");
    assert_eq!(e.host_id(), Some("host-1"));
    assert_eq!(e.account_id.as_deref(), Some("acc-1"));
    // Unknown fields are ignored by the typed view but kept in the raw body.
    assert_eq!(
        e.raw
            .pointer("/payload/object/participant/some_future_field/nested"),
        Some(&json!(true))
    );

    let p = e.participant_event().unwrap().unwrap();
    assert_eq!(p.instance.as_str(), "inst/1==");
    assert_eq!(p.connection.as_str(), "puuid-1");
    assert_eq!(p.action, ParticipantAction::Joined);
    assert_eq!(p.at, t(14, 5));
    assert_eq!(p.hints.registrant_id.as_deref(), Some("reg-42"));
    assert_eq!(p.hints.customer_key.as_deref(), Some("u42"));
    assert_eq!(p.hints.email.as_deref(), Some("u42@attend.example"));
    assert_eq!(p.hints.participant_user_id.as_deref(), Some("zoom-user-9b"));
    assert_eq!(p.hints.participant_uuid.as_deref(), Some("puuid-1"));
    assert_eq!(p.hints.zoom_user_id.as_deref(), Some("16778240"));
    assert_eq!(p.hints.user_name.as_deref(), Some("Ada Lovelace"));
}

#[test]
fn empty_strings_become_none_and_user_id_is_the_fallback_connection_key() {
    let e = event(participant_body(
        "meeting.participant_joined",
        json!({
            "user_id": 16778241,
            "user_name": "Guest",
            "id": "",
            "participant_uuid": "",
            "join_time": "2024-07-11T14:06:00Z",
            "email": "",
            "registrant_id": "",
            "participant_user_id": "",
            "customer_key": ""
        }),
    ));
    let p = e.participant_event().unwrap().unwrap();
    assert_eq!(
        p.connection.as_str(),
        "16778241",
        "numeric user_id accepted"
    );
    assert_eq!(p.hints.registrant_id, None);
    assert_eq!(p.hints.customer_key, None);
    assert_eq!(p.hints.email, None);
    assert_eq!(p.hints.participant_user_id, None);
    assert_eq!(p.hints.participant_uuid, None);
    assert_eq!(p.hints.zoom_user_id.as_deref(), Some("16778241"));
}

#[test]
fn legacy_id_is_the_signed_in_user_when_participant_user_id_is_absent() {
    let e = event(participant_body(
        "meeting.participant_joined",
        json!({"user_id": "1", "id": "zoom-user-9", "join_time": "2024-07-11T14:05:00Z"}),
    ));
    let p = e.participant_event().unwrap().unwrap();
    assert_eq!(p.hints.participant_user_id.as_deref(), Some("zoom-user-9"));
}

fn left_with(name: &str, reason: Option<&str>) -> WebhookEvent {
    let mut p = json!({
        "user_id": "16778240",
        "participant_uuid": "puuid-1",
        "leave_time": "2024-07-11T14:30:00Z",
        "registrant_id": "reg-42"
    });
    if let Some(reason) = reason {
        p["leave_reason"] = json!(reason);
    }
    event(participant_body(name, p))
}

#[test]
fn participant_left_and_its_breakout_reasons() {
    let cases = [
        (None, ParticipantAction::Left),
        (
            Some("left the meeting. Reason : left the meeting"),
            ParticipantAction::Left,
        ),
        (
            Some("got disconnected from the meeting. Reason : Client Close."),
            ParticipantAction::Left,
        ),
        (
            Some("Jill Chill left the meeting.<br>Reason: Host ended the meeting."),
            ParticipantAction::Left,
        ),
        (
            Some("left the meeting. Reason : left the meeting to join breakout room"),
            ParticipantAction::BreakoutJoined,
        ),
        (
            Some(
                "left the meeting. Reason : left the meeting leave breakout room to join main meeting",
            ),
            ParticipantAction::BreakoutLeft,
        ),
    ];
    for (reason, expected) in cases {
        let p = left_with("meeting.participant_left", reason)
            .participant_event()
            .unwrap()
            .unwrap();
        assert_eq!(p.action, expected, "{reason:?}");
        assert_eq!(p.at, t(14, 30));
        assert_eq!(p.connection.as_str(), "puuid-1");
    }
}

#[test]
fn breakout_room_events() {
    let joined = event(participant_body(
        "meeting.participant_joined_breakout_room",
        json!({
            "user_id": "33554432",
            "parent_user_id": "16778240",
            "participant_uuid": "puuid-1",
            "join_time": "2024-07-11T14:10:00Z",
            "registrant_id": "reg-42"
        }),
    ));
    let p = joined.participant_event().unwrap().unwrap();
    assert_eq!(p.action, ParticipantAction::BreakoutJoined);
    assert_eq!(p.connection.as_str(), "puuid-1");
    assert_eq!(p.at, t(14, 10));

    // Without participant_uuid the main-meeting user id (parent_user_id) keeps the connection.
    let joined_legacy = event(participant_body(
        "meeting.participant_joined_breakout_room",
        json!({"user_id": "33554432", "parent_user_id": "16778240", "join_time": "2024-07-11T14:10:00Z"}),
    ));
    assert_eq!(
        joined_legacy
            .participant_event()
            .unwrap()
            .unwrap()
            .connection
            .as_str(),
        "16778240"
    );

    let back = left_with(
        "meeting.participant_left_breakout_room",
        Some(
            "left the meeting. Reason : left the meeting leave breakout room to join main meeting",
        ),
    );
    assert_eq!(
        back.participant_event().unwrap().unwrap().action,
        ParticipantAction::BreakoutLeft
    );
    let gone = left_with(
        "meeting.participant_left_breakout_room",
        Some("got disconnected from the meeting. Reason : Client Close."),
    );
    assert_eq!(
        gone.participant_event().unwrap().unwrap().action,
        ParticipantAction::Left
    );
    let no_reason = left_with("meeting.participant_left_breakout_room", None);
    assert_eq!(
        no_reason.participant_event().unwrap().unwrap().action,
        ParticipantAction::Left
    );
}

#[test]
fn waiting_room_events_use_date_time() {
    let joined = event(participant_body(
        "meeting.participant_joined_waiting_room",
        json!({"user_id": "1", "participant_uuid": "pw", "date_time": "2024-07-11T13:58:00Z"}),
    ));
    let p = joined.participant_event().unwrap().unwrap();
    assert_eq!(
        (p.action, p.at),
        (ParticipantAction::WaitingRoomJoined, t(13, 58))
    );

    let left = event(participant_body(
        "meeting.participant_left_waiting_room",
        json!({"user_id": "1", "participant_uuid": "pw", "date_time": "2024-07-11T14:01:00Z"}),
    ));
    let p = left.participant_event().unwrap().unwrap();
    assert_eq!(
        (p.action, p.at),
        (ParticipantAction::WaitingRoomLeft, t(14, 1))
    );
}

#[test]
fn webinar_participant_events() {
    let joined = event(participant_body(
        "webinar.participant_joined",
        full_participant(),
    ));
    assert_eq!(joined.meeting_kind(), Some(MeetingKind::Webinar));
    assert_eq!(
        joined.participant_event().unwrap().unwrap().action,
        ParticipantAction::Joined
    );
    let left = left_with("webinar.participant_left", Some("left the webinar"));
    assert_eq!(left.meeting_kind(), Some(MeetingKind::Webinar));
    assert_eq!(
        left.participant_event().unwrap().unwrap().action,
        ParticipantAction::Left
    );
}

#[test]
fn meeting_ids_as_string_or_number() {
    let mut body = participant_body("meeting.participant_joined", full_participant());
    body["payload"]["object"]["id"] = json!(85393847045_i64);
    assert_eq!(event(body).meeting_id(), Some(ZoomMeetingId(85393847045)));
}

#[test]
fn lifecycle_uses_payload_times_not_event_ts() {
    let ended = event(json!({
        "event": "meeting.ended",
        "event_ts": 1,
        "payload": {"account_id": "acc-1", "object": {
            "id": 85393847045_i64, "uuid": "inst-1", "host_id": "host-1", "topic": "Algebra",
            "type": 2, "start_time": "2024-07-11T14:00:00Z", "end_time": "2024-07-11T15:02:00Z",
            "duration": 60, "timezone": "UTC"
        }}
    }));
    let l = ended.lifecycle().unwrap().unwrap();
    assert_eq!(l.phase, LifecyclePhase::Ended);
    assert_eq!(l.kind, MeetingKind::Meeting);
    assert_eq!(l.instance.as_str(), "inst-1");
    assert_eq!(l.started_at, Some(t(14, 0)));
    assert_eq!(l.ended_at, Some(t(15, 2)));
    assert_eq!(l.host_id.as_deref(), Some("host-1"));

    let webinar = event(json!({
        "event": "webinar.started",
        "event_ts": 1,
        "payload": {"object": {"id": "9", "uuid": "w-1", "start_time": "2024-07-11T14:00:00Z"}}
    }));
    let l = webinar.lifecycle().unwrap().unwrap();
    assert_eq!(
        (l.phase, l.kind),
        (LifecyclePhase::Started, MeetingKind::Webinar)
    );
    let webinar_end = event(json!({
        "event": "webinar.ended", "payload": {"object": {"uuid": "w-1", "end_time": "2024-07-11T15:00:00Z"}}
    }));
    assert_eq!(
        webinar_end.lifecycle().unwrap().unwrap().ended_at,
        Some(t(15, 0))
    );

    // Not a lifecycle event.
    let joined = event(participant_body(
        "meeting.participant_joined",
        full_participant(),
    ));
    assert_eq!(joined.lifecycle().unwrap(), None);
    // A participant helper on a lifecycle event.
    assert_eq!(ended.participant_event().unwrap(), None);
}

#[test]
fn registration_events_with_numeric_meeting_id() {
    for (name, expected) in [
        (
            "meeting.registration_created",
            EventType::RegistrationCreated,
        ),
        (
            "meeting.registration_approved",
            EventType::RegistrationApproved,
        ),
        (
            "meeting.registration_cancelled",
            EventType::RegistrationCancelled,
        ),
        ("meeting.registration_denied", EventType::RegistrationDenied),
    ] {
        assert_eq!(expected.meeting_kind(), Some(MeetingKind::Meeting));
        let e = event(json!({
            "event": name,
            "event_ts": 1720707200000_i64,
            "payload": {
                "account_id": "acc-1",
                "operator": "admin@school.example",
                "operator_id": "op-1",
                "object": {
                    "uuid": "inst-1", "id": 85393847045_i64, "host_id": "host-1", "topic": "Algebra",
                    "type": 2, "start_time": "2024-07-11T14:00:00Z", "duration": 60, "timezone": "UTC",
                    "occurrences": [{"occurrence_id": "1648194360000", "start_time": "2024-07-11T14:00:00Z"}],
                    "registrant": {
                        "id": "reg-42", "first_name": "Ada", "last_name": "Lovelace",
                        "email": "u42@attend.example", "status": "approved",
                        "join_url": "https://zoom.us/w/85393847045?tk=abc", "participant_pin_code": 1234,
                        "custom_questions": [{"title": "Course", "value": "101"}]
                    }
                }
            }
        }));
        assert_eq!(e.event_type, Some(expected));
        assert_eq!(e.meeting_id(), Some(ZoomMeetingId(85393847045)));
        let ZoomEvent::Registration {
            event_type,
            payload,
        } = &e.event
        else {
            panic!("{name}: {:?}", e.event)
        };
        assert_eq!(*event_type, expected);
        assert_eq!(payload.operator_id.as_deref(), Some("op-1"));
        let r = &payload.object.registrant;
        assert_eq!(r.id.as_deref(), Some("reg-42"));
        assert_eq!(r.email.as_deref(), Some("u42@attend.example"));
        assert_eq!(r.status.as_deref(), Some("approved"));
        assert_eq!(r.participant_pin_code, Some(1234));
        assert_eq!(e.participant_event().unwrap(), None);
    }
}

#[test]
fn webinar_registration_events_are_typed_like_the_meeting_ones() {
    use attend_core::zoom::RegistrationChange as C;
    for (name, expected, change) in [
        (
            "webinar.registration_created",
            EventType::WebinarRegistrationCreated,
            C::Created,
        ),
        (
            "webinar.registration_approved",
            EventType::WebinarRegistrationApproved,
            C::Approved,
        ),
        (
            "webinar.registration_cancelled",
            EventType::WebinarRegistrationCancelled,
            C::Cancelled,
        ),
        (
            "webinar.registration_denied",
            EventType::WebinarRegistrationDenied,
            C::Denied,
        ),
    ] {
        // The webinar id as a number, then as a string: both are read.
        for id in [json!(91234567890_i64), json!("91234567890")] {
            let e = event(json!({
                "event": name,
                "event_ts": 1720707200000_i64,
                "payload": {
                    "account_id": "acc-1",
                    "object": {
                        "uuid": "w-inst==", "id": id, "host_id": "host-1", "topic": "Open day",
                        "type": 5, "start_time": "2024-07-11T14:00:00Z", "duration": 60,
                        "registrant": {
                            "id": "wreg-7", "first_name": "Grace", "last_name": "Hopper",
                            "email": "grace@self.example", "status": "pending"
                        }
                    }
                }
            }));
            assert_eq!(e.name, name);
            assert_eq!(e.event_type, Some(expected));
            assert_eq!(expected.meeting_kind(), Some(MeetingKind::Webinar));
            assert_eq!(expected.registration_change(), Some(change));
            assert_eq!(EventType::from_name(name), Some(expected));
            assert_eq!(expected.name(), name);
            assert_eq!(e.account_id.as_deref(), Some("acc-1"));
            assert_eq!(e.meeting_id(), Some(ZoomMeetingId(91234567890)));
            let ZoomEvent::Registration {
                event_type,
                payload,
            } = &e.event
            else {
                panic!("{name}: {:?}", e.event)
            };
            assert_eq!(*event_type, expected);
            let r = &payload.object.registrant;
            assert_eq!(r.id.as_deref(), Some("wreg-7"));
            assert_eq!(r.email.as_deref(), Some("grace@self.example"));
            assert_eq!(r.status.as_deref(), Some("pending"));
            assert_eq!(r.join_url, None);
            assert_eq!(e.participant_event().unwrap(), None);
            assert_eq!(e.lifecycle().unwrap(), None);
        }
    }
    // The meeting events map to the same changes; other events to none.
    assert_eq!(
        EventType::RegistrationCancelled.registration_change(),
        Some(C::Cancelled)
    );
    assert_eq!(
        EventType::WebinarParticipantJoined.registration_change(),
        None
    );
    // A registrant that is not an object is a shape error, not a silent default.
    let bad = attend_core::zoom::parse_event(
        br#"{"event":"webinar.registration_created","payload":{"object":{"id":1,"registrant":"x"}}}"#,
    );
    assert!(matches!(
        bad,
        Err(attend_core::zoom::EventParseError::InvalidPayload {
            event: "webinar.registration_created",
            ..
        })
    ));
}

#[test]
fn unknown_events_and_fields_are_other_not_errors() {
    let e = event(json!({
        "event": "recording.completed",
        "event_ts": 5,
        "payload": {"account_id": "acc-1", "object": {"uuid": "x", "recording_files": []}},
        "brand_new_top_level_field": 1
    }));
    assert_eq!(e.event_type, None);
    assert_eq!(e.name, "recording.completed");
    assert!(matches!(&e.event, ZoomEvent::Other { payload } if payload["object"]["uuid"] == "x"));
    assert_eq!(e.meeting_kind(), None);
    assert_eq!(e.participant_event().unwrap(), None);
    assert_eq!(e.lifecycle().unwrap(), None);

    // An event with no payload at all.
    let bare = parse_event(br#"{"event":"app.deauthorized"}"#).unwrap();
    assert!(matches!(
        bare.event,
        ZoomEvent::Other {
            payload: Value::Null
        }
    ));
}

#[test]
fn parse_errors_are_typed() {
    assert!(matches!(
        parse_event(b"not json"),
        Err(EventParseError::NotJson(_))
    ));
    assert!(matches!(parse_event(b""), Err(EventParseError::NotJson(_))));
    assert!(matches!(
        parse_event(b"[1,2]"),
        Err(EventParseError::NotAnEvent)
    ));
    assert!(matches!(
        parse_event(br#"{"event":7}"#),
        Err(EventParseError::NotAnEvent)
    ));
    assert!(matches!(
        parse_event(br#"{"event":"endpoint.url_validation","payload":{}}"#),
        Err(EventParseError::InvalidPayload {
            event: "endpoint.url_validation",
            ..
        })
    ));
    assert!(matches!(
        parse_event(
            br#"{"event":"meeting.participant_joined","payload":{"object":{"participant":"x"}}}"#
        ),
        Err(EventParseError::InvalidPayload {
            event: "meeting.participant_joined",
            ..
        })
    ));
    assert!(matches!(
        parse_event(br#"{"event":"meeting.started"}"#),
        Err(EventParseError::InvalidPayload { .. })
    ));
}

#[test]
fn normalization_errors() {
    let mut no_uuid = participant_body("meeting.participant_joined", full_participant());
    no_uuid["payload"]["object"]["uuid"] = json!("");
    assert_eq!(
        event(no_uuid).participant_event().unwrap_err(),
        NormalizeError::MissingInstance {
            event: "meeting.participant_joined"
        }
    );

    let no_key = participant_body(
        "meeting.participant_joined",
        json!({"user_name": "Who", "join_time": "2024-07-11T14:05:00Z"}),
    );
    assert_eq!(
        event(no_key).participant_event().unwrap_err(),
        NormalizeError::MissingConnection {
            event: "meeting.participant_joined"
        }
    );

    let no_time = participant_body(
        "meeting.participant_left",
        json!({"user_id": "1", "leave_time": ""}),
    );
    assert_eq!(
        event(no_time).participant_event().unwrap_err(),
        NormalizeError::MissingTime {
            event: "meeting.participant_left",
            field: "leave_time"
        }
    );

    let lifecycle_no_uuid =
        event(json!({"event": "meeting.started", "payload": {"object": {"id": "1"}}}));
    assert!(matches!(
        lifecycle_no_uuid.lifecycle(),
        Err(NormalizeError::MissingInstance { .. })
    ));
}

#[test]
fn dedupe_key_is_stable_across_formatting_and_id_types() {
    let body = participant_body("meeting.participant_joined", full_participant());
    let compact = serde_json::to_vec(&body).unwrap();
    let pretty = serde_json::to_vec_pretty(&body).unwrap();
    let key = dedupe_key(&compact);
    assert_eq!(key.as_str().len(), 80);
    assert!(
        key.as_str().starts_with("00000190a2243400"),
        "the stamp first: {key}"
    );
    assert!(
        key.as_str()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(dedupe_key(&pretty), key, "whitespace does not matter");
    assert_eq!(parse_event(&compact).unwrap().dedupe_key(), key);

    // Key order does not matter.
    let reordered = br#"{"payload":{"object":{"participant":{"join_time":"2024-07-11T14:05:00Z","user_id":"16778240","participant_uuid":"puuid-1","registrant_id":"reg-42","id":"zoom-user-9","participant_user_id":"zoom-user-9b"},"uuid":"inst/1==","id":"85393847045"},"account_id":"acc-1"},"event_ts":1720707200000,"event":"meeting.participant_joined"}"#;
    assert_eq!(dedupe_key(reordered), key);

    // A string id and a numeric id are the same event.
    let mut numeric = body.clone();
    numeric["payload"]["object"]["id"] = json!(85393847045_i64);
    assert_eq!(dedupe_key(&serde_json::to_vec(&numeric).unwrap()), key);

    // Anything identifying differs → different key.
    let mut other_ts = body.clone();
    other_ts["event_ts"] = json!(1720707200001_i64);
    assert_ne!(dedupe_key(&serde_json::to_vec(&other_ts).unwrap()), key);
    let mut other_join = body.clone();
    other_join["payload"]["object"]["participant"]["join_time"] = json!("2024-07-11T14:05:01Z");
    assert_ne!(dedupe_key(&serde_json::to_vec(&other_join).unwrap()), key);
    let mut left = body.clone();
    left["event"] = json!("meeting.participant_left");
    assert_ne!(dedupe_key(&serde_json::to_vec(&left).unwrap()), key);
}

#[test]
fn dedupe_key_for_unknown_events_and_non_json() {
    let a =
        br#"{"event":"recording.completed","event_ts":5,"payload":{"object":{"uuid":"x","n":1}}}"#;
    let b =
        br#"{"event":"recording.completed","event_ts":5,"payload":{"object":{"uuid":"x","n":2}}}"#;
    assert_ne!(
        dedupe_key(a),
        dedupe_key(b),
        "unknown events hash their whole payload"
    );
    assert_eq!(dedupe_key(b"garbage"), dedupe_key(b"garbage"));
    assert_ne!(dedupe_key(b"garbage"), dedupe_key(b"garbage2"));
}

/// Keys of stamped events sort by their stamp (so a store's index on them grows at its end);
/// a stamp that is not a whole number leaves the digest alone.
#[test]
fn dedupe_keys_sort_by_the_events_stamp() {
    let stamped = |ts: Value| {
        let mut body = participant_body("meeting.participant_joined", full_participant());
        body["event_ts"] = ts;
        dedupe_key(&serde_json::to_vec(&body).unwrap())
    };
    let keys: Vec<_> = [9_i64, 10, 255, 256, 1_720_707_200_000, 1_720_707_200_001]
        .into_iter()
        .map(|ts| stamped(json!(ts)))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    // A stamp sent as text counts as the number, as every key field does.
    assert_eq!(stamped(json!("255")), keys[2]);
    for odd in [json!(-1), json!(1.5e3), json!("soon"), json!(null)] {
        assert_eq!(stamped(odd.clone()).as_str().len(), 64, "{odd}");
    }
}

/// Keys are stored: a redelivery received after an upgrade must get the key an earlier
/// version stored, or it would be stored and processed a second time. These values pin the
/// scheme: the digest (`attend.zoom.dedupe.v1`, the last 64 digits, unchanged since the first
/// release) and, for stamped events, the 16-digit stamp in front of it (added so that keys
/// sort by time). Any change to them is a change of the stored data, to be made on purpose
/// and documented with [`DedupeKey`](attend_core::zoom::DedupeKey), not a refactoring.
#[test]
fn dedupe_keys_stay_those_already_stored() {
    let participant = serde_json::to_vec(&participant_body(
        "meeting.participant_joined",
        full_participant(),
    ))
    .unwrap();
    let started = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zoom/meeting.started.json"
    ))
    .unwrap();
    let registration = br#"{"event":"meeting.registration_created","event_ts":1720707200000,"payload":{"account_id":"acc-1","object":{"id":85393847045,"uuid":"inst/1==","registrant":{"id":"reg-42","status":"approved","email":"a@example.edu","join_url":"https://zoom.us/w/1"}}}}"#;
    let unknown =
        br#"{"event":"recording.completed","event_ts":5,"payload":{"object":{"uuid":"x","n":1,"b":[true,null,"s"]}}}"#;
    let keys = [
        dedupe_key(&participant),
        dedupe_key(&started),
        dedupe_key(registration),
        dedupe_key(unknown),
        dedupe_key(b"not json"),
    ];
    let got: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    assert_eq!(got, GOLDEN);
    // The stamps in front: 1720707200000, 1626230691572, 1720707200000 and 5 ms.
    let stamps: Vec<Option<u64>> = got
        .iter()
        .map(|k| (k.len() == 80).then(|| u64::from_str_radix(&k[..16], 16).unwrap()))
        .collect();
    assert_eq!(
        stamps,
        [
            Some(1_720_707_200_000),
            Some(1_626_230_691_572),
            Some(1_720_707_200_000),
            Some(5),
            None
        ]
    );
}

const GOLDEN: [&str; 5] = [
    "00000190a2243400d8fb18fb28dde70b9e0b3c47bf372ee7fc96ec8f507ae4e028f893fe8f7c10d7",
    "0000017aa2e716f4ffdef14cc986d179f621bcdd08d10e6aaee3e3f6317c942845fcd5a6cccd7b5a",
    "00000190a224340003ea6cb93eb8b368546eebaf41650215c5e1864a9b02219ab9c5be8198f78541",
    "0000000000000005d2e45a1f689aefbb6f8ddcc369dd08b62d6fc7d22f41f2bcd4ee725ab97610f2",
    "afb1358068f61a6d76200afc0391e14c711ae30c1fbd5d652a60c3c0308a4c27",
];

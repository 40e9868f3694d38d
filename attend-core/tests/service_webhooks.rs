//! Webhook ingest (the acknowledged path) and processing, with bodies signed as Zoom signs
//! them.

mod service_support;

use attend_core::service::{ServiceError, WebhookAck};
use attend_core::store::{WebhookInbox, WebhookStatus};
use attend_core::zoom::WebhookHeaders;
use attend_zoom_sim::{Connection, Person, Scenario};
use chrono::TimeDelta;
use serde_json::json;
use service_support::{WEBHOOK_SECRET, World};

#[tokio::test]
async fn url_validation_is_answered_with_the_accounts_secret() {
    let w = World::start().await;
    let body = r#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    match w.deliver(body).await.unwrap() {
        WebhookAck::UrlValidation(r) => {
            assert_eq!(r.plain_token, "qgg8vlvZRS6UYooatFL8Aw");
            assert_eq!(
                r.encrypted_token,
                attend_zoom_sim::crc_token(WEBHOOK_SECRET, "qgg8vlvZRS6UYooatFL8Aw")
            );
            let json = serde_json::to_value(&r).unwrap();
            assert!(json.get("plainToken").is_some() && json.get("encryptedToken").is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_missing_or_stale_signatures_are_refused_with_401() {
    let w = World::start().await;
    let body = br#"{"event":"meeting.started","payload":{"object":{"id":"1","uuid":"u"}}}"#;
    let ts = w.now().timestamp().to_string();
    let good = attend_zoom_sim::sign(WEBHOOK_SECRET, &ts, body);
    let wrong = attend_zoom_sim::sign("another-secret", &ts, body);

    let err = w
        .attend
        .ingest_webhook(WebhookHeaders::new(Some(&wrong), Some(&ts)), body)
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("invalid_signature", 401));
    let err = w
        .attend
        .ingest_webhook(WebhookHeaders::new(None, Some(&ts)), body)
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 401);
    let mut tampered = body.to_vec();
    tampered[20] ^= 1;
    let err = w
        .attend
        .ingest_webhook(WebhookHeaders::new(Some(&good), Some(&ts)), &tampered)
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 401);

    // Ten minutes later the same signed request is outside the replay window.
    w.clock.advance(TimeDelta::minutes(10));
    let err = w
        .attend
        .ingest_webhook(WebhookHeaders::new(Some(&good), Some(&ts)), body)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Signature(_)), "{err:?}");
    assert!(
        w.store
            .list_unprocessed_webhooks(w.now() + TimeDelta::days(1), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_early() {
    let w = World::start().await;
    let body = format!(
        r#"{{"event":"x","pad":"{}"}}"#,
        "a".repeat(w.attend.webhook_body_limit())
    );
    let err = w.deliver(&body).await.unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("payload_too_large", 413));
}

#[tokio::test]
async fn signed_but_unparseable_events_are_stored_flagged_and_acknowledged() {
    let w = World::start().await;
    let ack = w.deliver("this is not json {").await.unwrap();
    let WebhookAck::Stored {
        webhook_id,
        duplicate,
        unparseable,
    } = ack
    else {
        panic!("{ack:?}")
    };
    assert!(!duplicate);
    assert!(unparseable, "the ack says the event was flagged");
    let stored = w.store.get_webhook(webhook_id).await.unwrap().unwrap();
    assert_eq!(stored.status, WebhookStatus::Unparseable);
    assert_eq!(stored.body.as_deref(), Some(&b"this is not json {"[..]));

    // A known event with an unusable payload: stored, then flagged by processing.
    let ack = w
        .deliver(r#"{"event":"meeting.participant_joined","event_ts":1,"payload":{"account_id":"a","object":{"id":"1","participant":{"user_name":"x"}}}}"#)
        .await
        .unwrap();
    let WebhookAck::Stored {
        webhook_id,
        unparseable: false,
        ..
    } = ack
    else {
        panic!("{ack:?}")
    };
    let report = w.attend.process_pending().await.unwrap();
    assert_eq!(report.unparseable, 1);
    let stored = w.store.get_webhook(webhook_id).await.unwrap().unwrap();
    assert_eq!(stored.status, WebhookStatus::Unparseable);
    assert!(stored.failure.is_some());
}

#[tokio::test]
async fn redeliveries_are_acknowledged_once_stored_and_storage_outages_are_503() {
    let w = World::start().await;
    let (m, zoom_id) = w.linked_meeting(false).await;
    let now = w.now();
    let scenario = Scenario::new(zoom_id, now - TimeDelta::minutes(5), 3600)
        .person(Person::guest("Walk-in", None).connection(Connection::main(0, 10, None)));
    let timeline = w.zoom.timeline(&scenario).unwrap();
    let body = &timeline.events[1].body; // the join
    let first = w.deliver(body).await.unwrap();
    let second = w.deliver(body).await.unwrap();
    match (first, second) {
        (
            WebhookAck::Stored {
                webhook_id: a,
                duplicate: false,
                unparseable: false,
            },
            WebhookAck::Stored {
                webhook_id: b,
                duplicate: true,
                unparseable: false,
            },
        ) => assert_eq!(a, b),
        other => panic!("{other:?}"),
    }

    w.store.set_unavailable(true);
    let err = w.deliver(&timeline.events[0].body).await.unwrap_err();
    assert_eq!(
        (err.code(), err.http_status()),
        ("storage_unavailable", 503)
    );
    assert!(err.retry_after().is_some());
    w.store.set_unavailable(false);
    // Zoom retries after a 5xx: now it is stored and processed.
    w.deliver(&timeline.events[0].body).await.unwrap();
    w.attend.drain().await.unwrap();
    let live = w.attend.live(&m.id).await.unwrap();
    assert_eq!(live.participants.len(), 1, "{live:?}");
}

#[tokio::test]
async fn events_of_unlinked_meetings_are_acknowledged_and_ignored() {
    let w = World::start().await;
    let view = w
        .zoom
        .create_meeting(&attend_zoom_sim::MeetingSpec::scheduled(
            "Other",
            w.now(),
            60,
        ))
        .unwrap();
    let scenario = Scenario::new(view.id, w.now() - TimeDelta::minutes(5), 3600)
        .person(Person::guest("Someone", None).connection(Connection::main(0, 10, None)));
    let timeline = w.zoom.timeline(&scenario).unwrap();
    w.deliver_timeline(&timeline, None).await;
    let report = w.attend.process_pending().await.unwrap();
    assert_eq!(report.processed as usize, timeline.events.len());
    assert!(w.attend.list_meetings(None).await.unwrap().is_empty());
}

fn registration_created(zoom_id: u64, registrant_id: &str, email: &str) -> String {
    json!({
        "event": "meeting.registration_created",
        "event_ts": 1_720_000_000_000i64,
        "payload": {
            "account_id": "SimAccount-0001",
            "object": {
                "uuid": "reg-uuid==", "id": zoom_id, "host_id": "sim-host-0001",
                "topic": "Biology 101", "type": 2, "start_time": "2030-01-10T15:00:00Z",
                "duration": 60, "timezone": "UTC",
                "registrant": {
                    "id": registrant_id, "first_name": "Eve", "email": email,
                    "status": "approved", "join_url": "https://zoom.example/w/1?tk=x"
                }
            }
        }
    })
    .to_string()
}

#[tokio::test]
async fn self_registrations_of_restricted_meetings_are_denied_but_ours_are_not() {
    let w = World::start().await;
    let users = w.add_students(1);
    let (m, zoom_id) = w.linked_meeting(true).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    let ours = w.zoom.registrants(zoom_id).pop().unwrap();
    // Someone registers on Zoom's own page.
    let eve = w
        .zoom
        .add_registrant(zoom_id, "eve@self.example", "Eve", "Intruder")
        .unwrap();

    w.deliver(&registration_created(zoom_id, &eve.id, &eve.email))
        .await
        .unwrap();
    w.deliver(&registration_created(zoom_id, &ours.id, &ours.email))
        .await
        .unwrap();
    w.attend.drain().await.unwrap();

    let after = w.zoom.registrants(zoom_id);
    let status = |id: &str| after.iter().find(|r| r.id == id).unwrap().status;
    assert_eq!(status(&eve.id), attend_zoom_sim::RegistrantStatus::Denied);
    assert_eq!(
        status(&ours.id),
        attend_zoom_sim::RegistrantStatus::Approved
    );

    // An open (unrestricted) meeting leaves self-registrations alone.
    let (_open, open_zoom) = w.linked_meeting(false).await;
    let bob = w
        .zoom
        .add_registrant(open_zoom, "bob@self.example", "Bob", "B")
        .unwrap();
    w.deliver(&registration_created(open_zoom, &bob.id, &bob.email))
        .await
        .unwrap();
    w.attend.drain().await.unwrap();
    let bob_now = w
        .zoom
        .registrants(open_zoom)
        .into_iter()
        .find(|r| r.id == bob.id)
        .unwrap();
    assert_eq!(bob_now.status, attend_zoom_sim::RegistrantStatus::Approved);
}

/// A `webinar.registration_created` body as Zoom sends it (webinar id as a number).
fn webinar_registration_created(zoom_id: u64, registrant_id: &str, email: &str) -> String {
    json!({
        "event": "webinar.registration_created",
        "event_ts": 1_720_000_000_000i64,
        "payload": {
            "account_id": "SimAccount-0001",
            "object": {
                "uuid": "wreg-uuid==", "id": zoom_id, "host_id": "sim-host-0001",
                "topic": "Open day", "type": 5, "start_time": "2030-01-10T15:00:00Z",
                "duration": 60, "timezone": "UTC",
                "registrant": {
                    "id": registrant_id, "first_name": "Eve", "email": email,
                    "status": "pending"
                }
            }
        }
    })
    .to_string()
}

#[tokio::test]
async fn self_registrations_of_restricted_webinars_are_denied_through_the_webinar_endpoint() {
    use attend_core::model::{MeetingKind, ZoomMeetingId};
    use attend_core::service::LinkMeeting;
    use attend_zoom_sim::{MeetingSpec, RegistrantStatus};

    let w = World::start().await;
    let users = w.add_students(1);
    let link_webinar = async |restrict: bool| {
        let view = w
            .zoom
            .create_meeting(&MeetingSpec {
                kind: attend_zoom_sim::MeetingKind::Webinar,
                meeting_type: 5,
                ..MeetingSpec::scheduled("Open day", w.now() + TimeDelta::days(1), 60)
            })
            .unwrap();
        let linked = w
            .attend
            .link_meeting(LinkMeeting {
                group: "open-day".into(),
                kind: MeetingKind::Webinar,
                zoom_meeting_id: Some(ZoomMeetingId(view.id as i64)),
                create: None,
                restrict_to_registered: Some(restrict),
                policy: None,
                account: None,
            })
            .await
            .unwrap();
        (linked, view.id)
    };
    let (webinar, zoom_id) = link_webinar(true).await;
    w.attend.register_users(&webinar.id, &users).await.unwrap();
    w.attend.drain().await.unwrap();
    let ours = w.zoom.registrants(zoom_id).pop().unwrap();
    let eve = w
        .zoom
        .add_registrant(zoom_id, "eve@self.example", "Eve", "Intruder")
        .unwrap();

    // The meeting-kind event for the webinar's id is not the webinar's: ignored.
    w.deliver(&registration_created(zoom_id, &eve.id, &eve.email))
        .await
        .unwrap();
    w.attend.drain().await.unwrap();
    let status = |id: &str| {
        w.zoom
            .registrants(zoom_id)
            .into_iter()
            .find(|r| r.id == id)
            .unwrap()
            .status
    };
    assert_eq!(status(&eve.id), RegistrantStatus::Approved);

    w.deliver(&webinar_registration_created(zoom_id, &eve.id, &eve.email))
        .await
        .unwrap();
    w.deliver(&webinar_registration_created(
        zoom_id,
        &ours.id,
        &ours.email,
    ))
    .await
    .unwrap();
    w.attend.drain().await.unwrap();
    assert_eq!(status(&eve.id), RegistrantStatus::Denied);
    assert_eq!(status(&ours.id), RegistrantStatus::Approved);
    let webinar_status_calls = w
        .zoom
        .call_log()
        .into_iter()
        .filter(|c| {
            c.method == "PUT"
                && c.path
                    .contains(&format!("/webinars/{zoom_id}/registrants/status"))
        })
        .filter(|c| c.status < 300)
        .count();
    assert_eq!(webinar_status_calls, 1);

    // An open (unrestricted) webinar leaves self-registrations alone.
    let (_open, open_zoom) = link_webinar(false).await;
    let bob = w
        .zoom
        .add_registrant(open_zoom, "bob@self.example", "Bob", "B")
        .unwrap();
    w.deliver(&webinar_registration_created(
        open_zoom, &bob.id, &bob.email,
    ))
    .await
    .unwrap();
    w.attend.drain().await.unwrap();
    let bob_now = w
        .zoom
        .registrants(open_zoom)
        .into_iter()
        .find(|r| r.id == bob.id)
        .unwrap();
    assert_eq!(bob_now.status, RegistrantStatus::Approved);
}

//! Linking, creating and updating meetings against the Zoom simulator.

mod service_support;

use attend_core::model::{MeetingKind, ZoomMeetingId};
use attend_core::service::{
    CreateMeeting, LinkMeeting, MeetingPatch, Missing, PolicyPatch, ServiceError,
};
use attend_zoom_sim::MeetingSpec;
use chrono::{TimeDelta, Utc};
use service_support::World;

fn link(zoom_id: u64, restrict: Option<bool>) -> LinkMeeting {
    LinkMeeting {
        group: "bio-101".into(),
        kind: MeetingKind::Meeting,
        zoom_meeting_id: Some(ZoomMeetingId(zoom_id as i64)),
        create: None,
        restrict_to_registered: restrict,
        policy: None,
        account: None,
    }
}

#[tokio::test]
async fn linking_switches_registration_on_and_restriction_uses_manual_approval() {
    let w = World::start().await;
    let mut spec = MeetingSpec::scheduled("Algebra", Utc::now() + TimeDelta::days(1), 60);
    spec.approval_type = 2; // registration off
    let open = w.zoom.create_meeting(&spec).unwrap();
    let restricted = w.zoom.create_meeting(&spec).unwrap();

    let m = w.attend.link_meeting(link(open.id, None)).await.unwrap();
    assert!(
        !m.restrict_to_registered,
        "restrict_to_registered defaults to false"
    );
    assert_eq!(m.topic, "Algebra");
    assert_eq!(m.policy, attend_core::model::Policy::default());
    assert_eq!(w.zoom.meeting(open.id).unwrap().approval_type(), 0);

    let r = w
        .attend
        .link_meeting(link(restricted.id, Some(true)))
        .await
        .unwrap();
    assert!(r.restrict_to_registered);
    assert_eq!(w.zoom.meeting(restricted.id).unwrap().approval_type(), 1);

    // JSON shape of API.md's Meeting.
    let json = serde_json::to_value(&m).unwrap();
    for field in [
        "id",
        "zoom_meeting_id",
        "kind",
        "group",
        "topic",
        "start_time",
        "duration_minutes",
        "timezone",
        "restrict_to_registered",
        "policy",
        "created_at",
    ] {
        assert!(json.get(field).is_some(), "missing {field} in {json}");
    }
    assert_eq!(json["kind"], "meeting");
    assert!(json.get("account").is_none());

    // Listing by group, and getting one.
    assert_eq!(
        w.attend
            .list_meetings(Some(&"bio-101".into()))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        w.attend
            .list_meetings(Some(&"other".into()))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(w.attend.get_meeting(&m.id).await.unwrap(), m);
}

#[tokio::test]
async fn linking_twice_conflicts_and_unknown_meetings_are_not_found() {
    let w = World::start().await;
    let view = w
        .zoom
        .create_meeting(&MeetingSpec::scheduled(
            "Algebra",
            Utc::now() + TimeDelta::days(1),
            60,
        ))
        .unwrap();
    w.attend.link_meeting(link(view.id, None)).await.unwrap();
    let again = w
        .attend
        .link_meeting(link(view.id, None))
        .await
        .unwrap_err();
    assert_eq!((again.code(), again.http_status()), ("conflict", 409));

    let unknown = w
        .attend
        .link_meeting(link(99_999_999_999, None))
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, ServiceError::NotFound(Missing::ZoomMeeting)),
        "{unknown:?}"
    );

    let mut both = link(view.id, None);
    both.create = Some(CreateMeeting {
        topic: "x".into(),
        start_time: Utc::now(),
        duration_minutes: 30,
        timezone: None,
        host: "me".into(),
    });
    let err = w.attend.link_meeting(both).await.unwrap_err();
    assert_eq!(err.code(), "invalid_value");

    let mut bad_policy = link(view.id, None);
    bad_policy.policy = Some(PolicyPatch {
        required_ratio: Some(1.5),
        ..PolicyPatch::default()
    });
    let err = w.attend.link_meeting(bad_policy).await.unwrap_err();
    assert!(
        matches!(&err, ServiceError::Invalid { field, .. } if field == "policy"),
        "{err:?}"
    );

    let err = w.attend.get_meeting(&"nope".into()).await.unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("meeting_not_found", 404));
}

#[tokio::test]
async fn instant_meetings_cannot_take_registrations() {
    let w = World::start().await;
    let mut spec = MeetingSpec::scheduled("Quick call", Utc::now(), 30);
    spec.meeting_type = 1;
    let view = w.zoom.create_meeting(&spec).unwrap();
    let err = w
        .attend
        .link_meeting(link(view.id, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ServiceError::Invalid { field, .. } if field == "zoom_meeting_id"),
        "{err:?}"
    );
}

#[tokio::test]
async fn creating_a_meeting_at_zoom() {
    let w = World::start().await;
    let start = Utc::now() + TimeDelta::days(2);
    let m = w
        .attend
        .link_meeting(LinkMeeting {
            group: "chem".into(),
            kind: MeetingKind::Meeting,
            zoom_meeting_id: None,
            create: Some(CreateMeeting {
                topic: "Chemistry".into(),
                start_time: start,
                duration_minutes: 45,
                timezone: Some("Europe/Berlin".into()),
                host: "host@sim.example".into(),
            }),
            restrict_to_registered: Some(true),
            policy: Some(PolicyPatch {
                late_after_seconds: Some(600),
                ..PolicyPatch::default()
            }),
            account: None,
        })
        .await
        .unwrap();
    let at_zoom = w
        .zoom
        .meeting(m.zoom_meeting_id.0 as u64)
        .expect("created at Zoom");
    assert_eq!(at_zoom.topic, "Chemistry");
    assert_eq!(at_zoom.duration, 45);
    assert_eq!(at_zoom.approval_type(), 1);
    assert_eq!(m.policy.late_after_seconds, 600);
    assert_eq!(m.policy.required_ratio, 0.5);
    assert_eq!(m.duration_minutes, Some(45));

    let err = w
        .attend
        .link_meeting(LinkMeeting {
            group: "chem".into(),
            kind: MeetingKind::Meeting,
            zoom_meeting_id: None,
            create: Some(CreateMeeting {
                topic: "Chemistry".into(),
                start_time: start,
                duration_minutes: 45,
                timezone: None,
                host: "nobody@sim.example".into(),
            }),
            restrict_to_registered: None,
            policy: None,
            account: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ServiceError::Invalid { field, .. } if field == "create.host"),
        "{err:?}"
    );
}

#[tokio::test]
async fn updating_policy_and_restriction() {
    let w = World::start().await;
    let (m, zoom_id) = w.linked_meeting(false).await;
    let updated = w
        .attend
        .update_meeting(
            &m.id,
            MeetingPatch {
                policy: Some(PolicyPatch {
                    required_ratio: Some(0.8),
                    count_breakout_rooms: Some(false),
                    ..PolicyPatch::default()
                }),
                restrict_to_registered: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.policy.required_ratio, 0.8);
    assert!(!updated.policy.count_breakout_rooms);
    assert_eq!(
        updated.policy.late_after_seconds, 300,
        "untouched fields keep their value"
    );
    assert!(updated.restrict_to_registered);
    assert_eq!(w.zoom.meeting(zoom_id).unwrap().approval_type(), 1);
    assert_eq!(w.attend.get_meeting(&m.id).await.unwrap(), updated);

    let err = w
        .attend
        .update_meeting(
            &m.id,
            MeetingPatch {
                policy: Some(PolicyPatch {
                    required_ratio: Some(-0.1),
                    ..PolicyPatch::default()
                }),
                restrict_to_registered: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 422);
    assert_eq!(
        w.attend.get_meeting(&m.id).await.unwrap(),
        updated,
        "nothing changed"
    );
}

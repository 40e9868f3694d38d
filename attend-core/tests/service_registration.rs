//! Registration at scale: idempotence, batching, crash recovery, daily-limit deferral,
//! progress, cancellation — against the Zoom simulator.

mod service_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use attend_core::model::{RegistrationStatus, UserId};
use attend_core::service::RegistrationOptions;
use attend_core::store::{HostUser, RegistrationStore};
use attend_core::testing::memory::MemoryStore;
use attend_zoom_sim::{CategoryLimit, Endpoint, RateLimits, SimConfig};
use chrono::{TimeDelta, Utc};
use service_support::faulty::{FaultyStore, Write};
use service_support::{Options, World};

#[tokio::test]
async fn small_list_registers_inline_with_synthetic_emails_and_is_idempotent() {
    let w = World::start().await;
    let users = w.add_students(5);
    let (m, zoom_id) = w.linked_meeting(false).await;

    let out = w.attend.register_users(&m.id, &users).await.unwrap();
    assert!(out.complete, "a small list finishes inline (HTTP 200)");
    assert_eq!(out.registrations.len(), 5);
    let at_zoom = w.zoom.registrants(zoom_id);
    assert_eq!(at_zoom.len(), 5);
    for r in &out.registrations {
        assert_eq!(r.status, RegistrationStatus::Registered);
        let email = World::synthetic_email(r.user_id.as_str());
        let z = at_zoom
            .iter()
            .find(|z| z.email == email)
            .expect("registrant at Zoom");
        assert_eq!(r.registrant_id.as_ref().unwrap().as_str(), z.id);
        let link = r.join_link.as_deref().unwrap();
        assert!(
            link.starts_with("https://lms.example/attend/join/"),
            "{link}"
        );
        assert!(
            !link.contains("tk="),
            "the personal link is ours, not Zoom's"
        );
    }
    // Names reach Zoom, real emails do not.
    assert!(
        at_zoom
            .iter()
            .all(|z| z.first_name == "Student" && !z.email.contains("school"))
    );

    // Again, with one more user and a duplicate: only the new user costs a Zoom call.
    let adds_before =
        w.zoom.calls(Endpoint::AddRegistrant) + w.zoom.calls(Endpoint::BatchRegistrants);
    let mut again = users.clone();
    again.extend(w.add_students(6).into_iter().skip(5));
    again.push(users[0].clone());
    let out = w.attend.register_users(&m.id, &again).await.unwrap();
    assert_eq!(out.registrations.len(), 6, "duplicates once");
    assert!(out.complete);
    let adds_after =
        w.zoom.calls(Endpoint::AddRegistrant) + w.zoom.calls(Endpoint::BatchRegistrants);
    assert_eq!(adds_after - adds_before, 1);
    assert_eq!(w.zoom.registrants(zoom_id).len(), 6);

    let list = w.attend.registrations(&m.id).await.unwrap();
    assert_eq!(list.counts.registered, 6);
    assert_eq!(list.counts.total(), 6);
    let json = serde_json::to_value(&list).unwrap();
    assert_eq!(json["counts"]["registered"], 6);
    assert!(
        json["registrations"][0].get("error").is_none(),
        "absent fields are omitted"
    );
}

#[tokio::test]
async fn unknown_users_and_users_without_email_fail_per_user() {
    let w = World::with(Options {
        registration: RegistrationOptions::default(), // real emails
        ..Options::default()
    })
    .await;
    let users = w.add_students(2);
    w.directory.insert(HostUser {
        id: "noemail".into(),
        email: None,
        name: "No Mail".into(),
    });
    let (m, zoom_id) = w.linked_meeting(false).await;
    let mut ids = users.clone();
    ids.push("noemail".into());
    ids.push("ghost".into());
    let out = w.attend.register_users(&m.id, &ids).await.unwrap();
    let by = |u: &str| {
        out.registrations
            .iter()
            .find(|r| r.user_id.as_str() == u)
            .unwrap()
    };
    assert_eq!(by("u1").status, RegistrationStatus::Registered);
    assert_eq!(by("noemail").status, RegistrationStatus::Failed);
    assert_eq!(by("noemail").error.as_ref().unwrap().code, "no_email");
    assert_eq!(by("ghost").status, RegistrationStatus::Failed);
    assert_eq!(by("ghost").error.as_ref().unwrap().code, "user_not_found");
    // Real emails are used when synthetic ones are off.
    assert!(
        w.zoom
            .registrants(zoom_id)
            .iter()
            .any(|z| z.email == "student1@school.example")
    );

    let err = w.attend.register_users(&m.id, &[]).await.unwrap_err();
    assert_eq!(err.http_status(), 422);
    let too_many: Vec<UserId> = (0..5000).map(|i| UserId::new(format!("x{i}"))).collect();
    assert_eq!(
        w.attend
            .register_users(&m.id, &too_many)
            .await
            .unwrap_err()
            .http_status(),
        422
    );
}

#[tokio::test]
async fn a_registrant_created_before_a_crash_is_adopted_not_duplicated() {
    // "Zoom created the registrant, then attend crashed before storing it": the registrant
    // exists at Zoom under the user's (synthetic) email, the local row is still pending.
    let w = World::start().await;
    let users = w.add_students(3);
    let (m, zoom_id) = w.linked_meeting(false).await;
    let email = World::synthetic_email("u2");
    let before_crash = w
        .zoom
        .add_registrant(zoom_id, &email, "Student", "2")
        .unwrap();
    let mut row = w
        .store
        .ensure_pending_registration(&m.id, &users[1], Utc::now())
        .await
        .unwrap();
    row.attempts = 1;
    row.registrant_email = Some(email.clone());
    w.store.update_registration(&row).await.unwrap();

    let out = w.attend.register_users(&m.id, &users).await.unwrap();
    assert!(out.complete);
    let u2 = out
        .registrations
        .iter()
        .find(|r| r.user_id == users[1])
        .unwrap();
    assert_eq!(u2.registrant_id.as_ref().unwrap().as_str(), before_crash.id);
    assert_eq!(
        w.zoom.registrants(zoom_id).len(),
        3,
        "no duplicate registrant"
    );
}

#[tokio::test]
async fn a_crash_between_zoom_and_the_local_commit_recovers_without_a_duplicate() {
    // The first write recording a Zoom registrant fails: the process "crashes" between
    // Zoom's answer and the local commit.
    let inner = MemoryStore::new();
    let crashed = Arc::new(AtomicBool::new(false));
    let crash = crashed.clone();
    let crashing = FaultyStore::new(inner.clone(), move |write| {
        matches!(write, Write::Registration(r) if r.registrant_id.is_some())
            && !crash.swap(true, Ordering::SeqCst)
    });
    let w = World::with(Options {
        store: Some(Arc::new(crashing)),
        ..Options::default()
    })
    .await;
    let users = w.add_students(1);
    let (m, zoom_id) = w.linked_meeting(false).await;

    // The run "crashes" after Zoom created the registrant.
    let first = w.attend.register_users(&m.id, &users).await;
    assert!(first.is_err(), "the crash surfaces as an error: {first:?}");
    assert!(crashed.load(Ordering::SeqCst));
    assert_eq!(w.zoom.registrants(zoom_id).len(), 1, "Zoom has it");
    let row = inner
        .get_registration(&m.id, &users[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, RegistrationStatus::Pending, "we do not");

    // After the restart, the user is registered again (by the request, or the worker).
    let out = w.attend.register_users(&m.id, &users).await.unwrap();
    w.attend.drain().await.unwrap();
    assert_eq!(out.registrations[0].status, RegistrationStatus::Registered);
    let at_zoom = w.zoom.registrants(zoom_id);
    assert_eq!(at_zoom.len(), 1, "still one registrant: {at_zoom:?}");
    assert_eq!(
        out.registrations[0]
            .registrant_id
            .as_ref()
            .unwrap()
            .as_str(),
        at_zoom[0].id
    );
}

#[tokio::test]
async fn large_lists_run_in_the_background_with_observable_progress() {
    let w = World::start().await;
    let users = w.add_students(95);
    let (m, zoom_id) = w.linked_meeting(false).await;
    let mut progress = w.attend.watch_registrations(&m.id);

    let out = w.attend.register_users(&m.id, &users).await.unwrap();
    assert!(!out.complete, "more than the inline limit: HTTP 202");
    assert!(
        out.registrations
            .iter()
            .all(|r| r.status == RegistrationStatus::Pending)
    );
    assert!(
        out.registrations.iter().all(|r| r.join_link.is_some()),
        "pending users get their link already"
    );

    let report = w.attend.drain().await.unwrap();
    assert!(report.completed >= 1);
    let list = w.attend.registrations(&m.id).await.unwrap();
    assert_eq!(list.counts.registered, 95);
    assert_eq!(w.zoom.registrants(zoom_id).len(), 95);
    // 95 users = 4 batch calls (30 each) instead of 95 single adds.
    assert_eq!(w.zoom.calls(Endpoint::BatchRegistrants), 4);
    assert_eq!(w.zoom.calls(Endpoint::AddRegistrant), 0);

    assert!(progress.has_changed().unwrap());
    let seen = *progress.borrow_and_update();
    assert_eq!(seen.counts.registered, 95);
    assert!(!seen.running);
    assert_eq!(seen.done_in_run, 95);
}

#[tokio::test]
async fn a_daily_limit_defers_users_to_the_reset_visibly_and_they_finish_after_it() {
    let mut limits = RateLimits::plan(attend_zoom_sim::Plan::Pro);
    limits.light = Some(CategoryLimit {
        rate: 30,
        per: std::time::Duration::from_secs(1),
        // Linking uses two Light calls (get + update meeting), leaving 4 single adds.
        daily: Some(6),
    });
    let w = World::with(Options {
        sim: SimConfig {
            rate_limits: limits,
            ..SimConfig::default()
        },
        registration: RegistrationOptions {
            synthetic_email_domain: Some(service_support::SYNTHETIC_DOMAIN.into()),
            use_batch: false,
            ..RegistrationOptions::default()
        },
        ..Options::default()
    })
    .await;
    let users = w.add_students(7);
    let (m, zoom_id) = w.linked_meeting(false).await;
    let out = w.attend.register_users(&m.id, &users).await.unwrap();
    assert!(!out.complete);
    let registered = out
        .registrations
        .iter()
        .filter(|r| r.status == RegistrationStatus::Registered)
        .count();
    assert_eq!(registered, 4, "the daily quota of 4 single adds");
    let deferred: Vec<_> = out
        .registrations
        .iter()
        .filter(|r| r.status == RegistrationStatus::Pending)
        .collect();
    assert_eq!(deferred.len(), 3);
    let reset = deferred[0].next_attempt_at.expect("visible retry time");
    assert!(deferred.iter().all(|r| r.next_attempt_at == Some(reset)));
    assert_eq!(deferred[0].error.as_ref().unwrap().code, "rate_limited");
    assert!(reset > Utc::now() && reset <= Utc::now() + TimeDelta::days(1));
    assert_eq!(w.zoom.registrants(zoom_id).len(), 4);

    // Nothing runs before the reset...
    w.attend.drain().await.unwrap();
    assert_eq!(
        w.attend.registrations(&m.id).await.unwrap().counts.pending,
        3
    );
    // ...and everything finishes after it.
    let wait = reset - w.now() + TimeDelta::seconds(1);
    w.advance(wait);
    w.attend.drain().await.unwrap();
    let list = w.attend.registrations(&m.id).await.unwrap();
    assert_eq!(list.counts.registered, 7, "{:?}", list.registrations);
    assert_eq!(w.zoom.registrants(zoom_id).len(), 7);
}

#[tokio::test]
async fn cancelling_a_registration_cancels_it_at_zoom() {
    let w = World::start().await;
    let users = w.add_students(2);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    w.attend
        .cancel_registration(&m.id, &users[0])
        .await
        .unwrap();
    w.attend
        .cancel_registration(&m.id, &users[0])
        .await
        .unwrap(); // idempotent
    let r = w
        .attend
        .registration(&m.id, &users[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, RegistrationStatus::Cancelled);
    assert!(r.join_link.is_none());
    let email = World::synthetic_email("u1");
    let z = w
        .zoom
        .registrants(zoom_id)
        .into_iter()
        .find(|z| z.email == email)
        .unwrap();
    assert_ne!(
        z.status,
        attend_zoom_sim::RegistrantStatus::Approved,
        "{z:?}"
    );
    let err = w
        .attend
        .cancel_registration(&m.id, &"nobody".into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "registration_not_found");

    // Registering a cancelled user again re-activates them.
    let out = w.attend.register_users(&m.id, &users[..1]).await.unwrap();
    assert_eq!(out.registrations[0].status, RegistrationStatus::Registered);
}

//! Personal join links: lazy registration, click recording, the redirect target, and the
//! token errors (401 tampered, 410 expired, 403 cancelled).

mod service_support;

use std::time::{Duration, Instant};

use attend_core::model::RegistrationStatus;
use attend_core::service::{RegistrationOptions, ServiceError};
use attend_core::store::{AttendanceStore, JobQueue};
use attend_zoom_sim::{Endpoint, Fault, FaultTrigger};
use chrono::TimeDelta;
use service_support::{Options, SYNTHETIC_DOMAIN, World};

#[tokio::test]
async fn opening_a_link_registers_lazily_records_the_click_and_leads_to_zoom() {
    let w = World::start().await;
    let users = w.add_students(2);
    let (m, zoom_id) = w.linked_meeting(false).await;

    let link = w.attend.join_link(&m.id, &users[0]).await.unwrap();
    assert!(link.url.starts_with("https://lms.example/attend/join/"));
    assert_eq!(w.attend.mount_prefix(), "/attend");
    assert!(link.expires_at > w.now() + TimeDelta::days(29));
    assert!(
        w.zoom.registrants(zoom_id).is_empty(),
        "issuing a link costs no Zoom call"
    );
    let json = serde_json::to_value(&link).unwrap();
    assert!(json.get("url").is_some() && json.get("expires_at").is_some());

    let token = link.url.rsplit('/').next().unwrap();
    let redirect = w.attend.open_join_link(token).await.unwrap();
    let at_zoom = w.zoom.registrants(zoom_id);
    assert_eq!(at_zoom.len(), 1, "registered on first use");
    assert_eq!(redirect.zoom_join_url, at_zoom[0].join_url);
    assert_eq!(redirect.user_id, users[0]);
    assert!(
        !format!("{redirect:?}").contains("tk="),
        "the Zoom URL is redacted in Debug"
    );
    let reg = w
        .attend
        .registration(&m.id, &users[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reg.status, RegistrationStatus::Registered);

    // A second click: no new registrant, no Zoom call, one more click.
    let adds = w.zoom.calls(Endpoint::AddRegistrant) + w.zoom.calls(Endpoint::BatchRegistrants);
    let again = w.attend.open_join_link(token).await.unwrap();
    assert_eq!(again.zoom_join_url, redirect.zoom_join_url);
    assert_eq!(
        w.zoom.calls(Endpoint::AddRegistrant) + w.zoom.calls(Endpoint::BatchRegistrants),
        adds
    );
    let clicks = w.store.list_join_clicks(&m.id).await.unwrap();
    assert_eq!(clicks.len(), 2);
    assert!(clicks.iter().all(|c| c.user == users[0]));
}

#[tokio::test]
async fn tampered_expired_and_cancelled_links_are_refused() {
    let w = World::start().await;
    let users = w.add_students(2);
    let (m, _) = w.linked_meeting(false).await;
    let link = w.attend.join_link(&m.id, &users[0]).await.unwrap();
    let token = link.url.rsplit('/').next().unwrap().to_owned();

    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let err = w.attend.open_join_link(&tampered).await.unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("invalid_join_token", 401));
    assert_eq!(
        w.attend
            .open_join_link("garbage")
            .await
            .unwrap_err()
            .http_status(),
        401
    );

    w.attend.register_users(&m.id, &users[1..]).await.unwrap();
    w.attend
        .cancel_registration(&m.id, &users[1])
        .await
        .unwrap();
    let cancelled = w.attend.join_link(&m.id, &users[1]).await.unwrap_err();
    assert_eq!(cancelled.http_status(), 403);

    w.clock.advance(TimeDelta::days(31));
    let err = w.attend.open_join_link(&token).await.unwrap_err();
    assert!(matches!(err, ServiceError::TokenExpired { .. }), "{err:?}");
    assert_eq!((err.code(), err.http_status()), ("join_link_expired", 410));

    let err = w
        .attend
        .join_link(&m.id, &"stranger".into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "user_not_found");
    let err = w
        .attend
        .join_link(&"nope".into(), &users[0])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "meeting_not_found");
}

/// A world whose join links wait at most `budget` for the lazy registration.
async fn world_with_join_budget(budget: Duration) -> World {
    World::with(Options {
        registration: RegistrationOptions {
            synthetic_email_domain: Some(SYNTHETIC_DOMAIN.into()),
            join_link_budget: budget,
            ..RegistrationOptions::default()
        },
        ..Options::default()
    })
    .await
}

fn token_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn a_rate_limited_click_is_answered_within_the_budget_and_the_next_click_succeeds() {
    let w = world_with_join_budget(Duration::from_secs(1)).await;
    let users = w.add_students(1);
    let (m, zoom_id) = w.linked_meeting(false).await;
    let link = w.attend.join_link(&m.id, &users[0]).await.unwrap();
    // Zoom answers per-second 429s to the next six adds: the client retries each call four
    // times (about a second apart), so waiting it out inline took over five seconds.
    for _ in 0..6 {
        w.zoom.schedule_fault(
            FaultTrigger::Next(Some(Endpoint::AddRegistrant)),
            Fault::TooManyRequests,
        );
    }

    let started = Instant::now();
    let err = w
        .attend
        .open_join_link(token_of(&link.url))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "the click waited {took:?} with a 1 s budget"
    );
    assert_eq!(
        (err.code(), err.http_status()),
        ("rate_limited", 429),
        "{err:?}"
    );
    assert!(
        err.retry_after()
            .is_some_and(|d| d >= Duration::from_secs(1))
    );
    assert!(w.zoom.registrants(zoom_id).is_empty());
    let reg = w
        .attend
        .registration(&m.id, &users[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reg.status, RegistrationStatus::Pending);
    let queued = w.store.job_counts(Some("register")).await.unwrap();
    assert_eq!(queued.ready, 1, "the registration is queued: {queued:?}");
    assert!(w.store.list_join_clicks(&m.id).await.unwrap().is_empty());

    // The background job waits the limit out; the next click then redirects at once.
    w.attend.drain().await.unwrap();
    let at_zoom = w.zoom.registrants(zoom_id);
    assert_eq!(at_zoom.len(), 1);
    let adds = w.zoom.calls(Endpoint::AddRegistrant);
    let redirect = w.attend.open_join_link(token_of(&link.url)).await.unwrap();
    assert_eq!(redirect.zoom_join_url, at_zoom[0].join_url);
    assert_eq!(w.zoom.calls(Endpoint::AddRegistrant), adds, "no Zoom call");
    assert_eq!(w.store.list_join_clicks(&m.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_click_during_a_zoom_outage_is_answered_within_the_budget() {
    let w = world_with_join_budget(Duration::from_secs(1)).await;
    let users = w.add_students(1);
    let (m, zoom_id) = w.linked_meeting(false).await;
    let link = w.attend.join_link(&m.id, &users[0]).await.unwrap();
    for _ in 0..20 {
        w.zoom.schedule_fault(
            FaultTrigger::Next(Some(Endpoint::ListRegistrants)),
            Fault::ServerError(503),
        );
    }

    let started = Instant::now();
    let err = w
        .attend
        .open_join_link(token_of(&link.url))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        (err.code(), err.http_status()),
        ("zoom_unavailable", 503),
        "{err:?}"
    );
    assert!(err.retry_after().is_some());
    assert!(w.zoom.registrants(zoom_id).is_empty());
    let queued = w.store.job_counts(Some("register")).await.unwrap();
    assert_eq!(queued.ready, 1, "the registration is queued: {queued:?}");
}

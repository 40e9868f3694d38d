//! Zoom faults during a 4,999-user registration (the example app in demo mode, its built-in
//! simulator injecting the faults, the HTTP API driving it):
//!
//! * transient faults — 429 QPS (injected and from the real token buckets), 5xx, a timeout
//!   (the call takes effect at Zoom but the answer comes after the client gave up) and
//!   expired (revoked) access tokens: every user ends `registered`, exactly once at Zoom;
//! * a daily limit (429 `Daily-limit` with `Retry-After` at the next UTC midnight): the users
//!   Zoom took are registered exactly once, every other user is `pending` with the
//!   `rate_limited` error (deferred to the reset), none `failed`, none registered twice.

mod reliability_support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use attend_example::db::Role;
use attend_example::{RunningApp, start};
use attend_zoom_sim::{
    CategoryLimit, Endpoint, Fault, FaultTrigger, MeetingSpec, Plan, RandomFaults, RateLimits,
};
use reliability_support::{call, client, create_students, demo_config, token};
use reqwest::Method;
use serde_json::{Value, json};

const USERS: usize = 4_999;

async fn app_with_users(name: &str, prefix: &str) -> (tempfile::TempDir, RunningApp, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}",
        dir.path().join(format!("{name}.sqlite")).display()
    );
    let app = start(demo_config(&db, false)).await.expect("start the app");
    let users: Vec<(String, String)> = (0..USERS)
        .map(|i| {
            (
                format!("{prefix}{i:04}"),
                format!("{prefix}{i:04}@faults.example"),
            )
        })
        .collect();
    create_students(&app, &users).await;
    (dir, app, users.into_iter().map(|(id, _)| id).collect())
}

/// Creates a scheduled meeting at the simulator, links it, and asks attend to register
/// `users`. Returns (attend meeting id, Zoom meeting id).
async fn link_and_register(app: &RunningApp, users: &[String]) -> (String, u64) {
    let sim = app.simulator().expect("demo simulator");
    let zoom = sim
        .create_meeting(&MeetingSpec::scheduled(
            "Faults",
            chrono::Utc::now() + chrono::Duration::days(2),
            60,
        ))
        .expect("meeting");
    let http = client();
    let admin = token("admin", Role::Admin, &[]);
    let base = format!("{}/attend", app.local_url());
    let (status, meeting) = call(
        &http,
        Method::POST,
        &format!("{base}/meetings"),
        Some(&admin),
        Some(&json!({"group": "faults", "kind": "meeting", "zoom_meeting_id": zoom.id})),
    )
    .await;
    assert_eq!(status, 201, "{meeting}");
    let id = meeting["id"].as_str().unwrap().to_owned();
    let (status, body) = call(
        &http,
        Method::POST,
        &format!("{base}/meetings/{id}/registrations"),
        Some(&admin),
        Some(&json!({ "user_ids": users })),
    )
    .await;
    assert!(matches!(status, 200 | 202), "{status} {body}");
    (id, zoom.id)
}

async fn registrations(app: &RunningApp, meeting: &str) -> Value {
    let (status, body) = call(
        &client(),
        Method::GET,
        &format!(
            "{}/attend/meetings/{meeting}/registrations",
            app.local_url()
        ),
        Some(&token("admin", Role::Admin, &[])),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Every registered user has its own registrant id, and Zoom holds exactly one registrant
/// per registered user's email.
fn assert_registered_once(app: &RunningApp, zoom_id: u64, regs: &Value, prefix: &str) -> usize {
    let rows = regs["registrations"].as_array().unwrap();
    let registered: Vec<&Value> = rows
        .iter()
        .filter(|r| r["status"] == "registered")
        .collect();
    let ids: HashSet<&str> = registered
        .iter()
        .map(|r| r["registrant_id"].as_str().expect("registrant id"))
        .collect();
    assert_eq!(
        ids.len(),
        registered.len(),
        "two users share a registrant id"
    );
    let at_zoom = app.simulator().unwrap().registrants(zoom_id);
    let emails: Vec<String> = at_zoom.iter().map(|r| r.email.to_lowercase()).collect();
    let distinct: HashSet<&String> = emails.iter().collect();
    assert_eq!(
        distinct.len(),
        emails.len(),
        "an email registered twice at Zoom"
    );
    let zoom_ids: HashSet<&str> = at_zoom.iter().map(|r| r.id.as_str()).collect();
    assert!(
        ids.is_subset(&zoom_ids),
        "attend holds registrant ids Zoom does not know"
    );
    assert_eq!(
        at_zoom
            .iter()
            .filter(|r| r.email.starts_with(prefix))
            .count(),
        registered.len(),
        "Zoom and attend disagree on who is registered"
    );
    registered.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_zoom_faults_leave_every_user_registered_exactly_once() {
    let (_dir, app, users) = app_with_users("transient", "t").await;
    let sim = app.simulator().unwrap();
    // Business plan buckets (Heavy 40/s), so the test stays short; they still answer real
    // QPS 429s when attend's pacing and Zoom's bucket disagree.
    sim.set_rate_limits(RateLimits::plan(Plan::Business));
    let only = vec![
        Endpoint::BatchRegistrants,
        Endpoint::AddRegistrant,
        Endpoint::ListRegistrants,
    ];
    sim.set_random_faults(RandomFaults {
        too_many_requests: 0.08,
        server_error: 0.08,
        server_error_status: 503,
        revoke_tokens: 0.03,
        only: Some(only),
        seed: 4_999,
        ..RandomFaults::default()
    });
    // One call that takes effect at Zoom while the client times out (10 s in demo mode).
    sim.schedule_fault(
        FaultTrigger::Nth(Some(Endpoint::BatchRegistrants), 20),
        Fault::Slow(Duration::from_secs(11)),
    );
    sim.schedule_fault(
        FaultTrigger::Nth(Some(Endpoint::BatchRegistrants), 40),
        Fault::ServerError(502),
    );
    // Token expiry: every access token dies three times during the run (attend must fetch
    // a new one and repeat the call), and 3 % of registrant calls revoke it at random as
    // well, so that a revocation sometimes lands between the client's one refresh and its
    // retry: the run must then be retried, never leave users `failed`.
    for n in [30, 90, 150] {
        sim.schedule_fault(
            FaultTrigger::Nth(Some(Endpoint::BatchRegistrants), n),
            Fault::RevokeTokens,
        );
    }
    let started = Instant::now();
    let (meeting, zoom_id) = link_and_register(&app, &users).await;
    let regs = loop {
        let regs = registrations(&app, &meeting).await;
        if regs["counts"]["pending"].as_u64() == Some(0) {
            break regs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "still pending after 120 s: {}",
            regs["counts"]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let elapsed = started.elapsed();
    let failed: Vec<&Value> = regs["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "registered")
        .take(3)
        .collect();
    assert_eq!(
        regs["counts"]["registered"].as_u64(),
        Some(USERS as u64),
        "{}; e.g. {failed:?}; 429s {:?}; calls {:?}",
        regs["counts"],
        sim.rate_limited(),
        sim.call_counts()
    );
    assert_eq!(regs["counts"]["failed"].as_u64(), Some(0));
    assert_eq!(assert_registered_once(&app, zoom_id, &regs, "t"), USERS);
    let stats = sim.rate_limited();
    let calls = sim.call_counts();
    eprintln!(
        "transient faults: {USERS} registered in {:.1} s; 429s {stats:?}; calls {calls:?}",
        elapsed.as_secs_f64()
    );
    assert!(stats.injected > 0, "no fault was injected: {stats:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_limit_defers_the_rest_with_a_clear_status() {
    let (_dir, app, users) = app_with_users("daily", "d").await;
    let sim = app.simulator().unwrap();
    let mut limits = RateLimits::plan(Plan::Business);
    // Zoom takes 40 batches (1,200 users) and 300 single adds today, then answers 429
    // Daily-limit with Retry-After at the next 00:00 UTC.
    limits.heavy = Some(CategoryLimit {
        rate: 40,
        per: Duration::from_secs(1),
        daily: Some(40),
    });
    limits.light = Some(CategoryLimit {
        rate: 80,
        per: Duration::from_secs(1),
        daily: Some(300),
    });
    sim.set_rate_limits(limits);
    let started = Instant::now();
    let (meeting, zoom_id) = link_and_register(&app, &users).await;
    // Wait until the run stops: every row registered, or pending with its deferral reason.
    let regs = loop {
        let regs = registrations(&app, &meeting).await;
        let rows = regs["registrations"].as_array().unwrap();
        let settled = rows
            .iter()
            .all(|r| r["status"] != "pending" || r["error"]["code"].is_string());
        if settled && sim.rate_limited().daily > 0 {
            break regs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "registration did not settle: {}",
            regs["counts"]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let rows = regs["registrations"].as_array().unwrap();
    let registered = assert_registered_once(&app, zoom_id, &regs, "d");
    let pending: Vec<&Value> = rows.iter().filter(|r| r["status"] == "pending").collect();
    assert_eq!(
        regs["counts"]["failed"].as_u64(),
        Some(0),
        "{}",
        regs["counts"]
    );
    assert_eq!(registered + pending.len(), USERS, "{}", regs["counts"]);
    assert!(!pending.is_empty(), "the daily limit deferred nobody");
    assert!(
        registered >= 1_200,
        "only {registered} registered before the limit"
    );
    for r in &pending {
        assert_eq!(r["error"]["code"], "rate_limited", "{r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("daily"),
            "{r}"
        );
        assert!(r.get("registrant_id").is_none_or(Value::is_null), "{r}");
    }
    eprintln!(
        "daily limit: {registered} registered, {} deferred to the reset; 429s {:?}",
        pending.len(),
        sim.rate_limited()
    );
    app.stop().await;
}

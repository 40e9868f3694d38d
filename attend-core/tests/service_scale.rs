//! Registration at scale: 4,999 users (Zoom's maximum per meeting) under the simulator's Pro
//! rate limits. A benchmark, not a timing assertion: it asserts zero duplicates and zero
//! failed users, and prints the wall time next to the floor the rate limits imply.
//!
//! ```text
//! cargo test -p attend-core --release --test service_scale -- --ignored --nocapture
//! ```

mod service_support;

use std::collections::HashSet;
use std::time::Instant;

use attend_zoom_sim::{Endpoint, Plan, RateLimits};
use service_support::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: about 20 s; run by hand (see BENCHMARKS.md)"]
async fn registering_4999_users_under_pro_rate_limits() {
    const USERS: usize = 4_999;
    let w = World::start().await;
    let users = w.add_students(USERS);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.zoom.reset_counters();

    let started = Instant::now();
    let out = w.attend.register_users(&m.id, &users).await.unwrap();
    assert!(!out.complete, "a list this size runs in the background");
    let report = w.attend.drain().await.unwrap();
    let elapsed = started.elapsed();

    let list = w.attend.registrations(&m.id).await.unwrap();
    assert_eq!(list.counts.registered as usize, USERS, "{:?}", list.counts);
    assert_eq!(list.counts.failed, 0);
    assert_eq!(list.counts.pending, 0);
    let at_zoom = w.zoom.registrants(zoom_id);
    assert_eq!(at_zoom.len(), USERS, "one registrant per user");
    let emails: HashSet<_> = at_zoom
        .iter()
        .map(|r| r.email.to_ascii_lowercase())
        .collect();
    assert_eq!(emails.len(), USERS, "zero duplicates");
    let ids: HashSet<_> = list
        .registrations
        .iter()
        .map(|r| r.registrant_id.clone().unwrap())
        .collect();
    assert_eq!(ids.len(), USERS);

    // The floor: Heavy (batch) calls at the plan's rate after the bucket's initial burst.
    let heavy = RateLimits::plan(Plan::Pro).heavy.unwrap();
    let batches = w.zoom.calls(Endpoint::BatchRegistrants);
    let singles = w.zoom.calls(Endpoint::AddRegistrant);
    let per_call = heavy.per.as_secs_f64() / f64::from(heavy.rate);
    let floor = (batches.saturating_sub(u64::from(heavy.rate))) as f64 * per_call;
    let limited = w.zoom.rate_limited();
    println!(
        "registration at scale: {USERS} users, {batches} batch calls + {singles} single adds, \
         {} list calls, 429s: {limited:?}, jobs: {report:?}",
        w.zoom.calls(Endpoint::ListRegistrants)
    );
    println!(
        "wall time {:.2} s, rate-limit floor {:.2} s, ratio {:.2}",
        elapsed.as_secs_f64(),
        floor,
        elapsed.as_secs_f64() / floor
    );
    assert_eq!(batches, USERS.div_ceil(30) as u64, "30 per batch");
}

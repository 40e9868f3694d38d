//! A whole class end to end: registration, the simulator's webhooks (in order, and
//! duplicated/shuffled), reconciliation with the report, rosters, manual links, policy
//! changes, CSV, live view, history and erasure.

mod service_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use attend_core::attendance::Roster;
use attend_core::model::{InstanceId, InstanceState, MatchedBy, MeetingId, Status, UserId};
use attend_core::service::{MeetingPatch, PolicyPatch, ReconcileOptions, ReconcileOutcome};
use attend_core::store::{AttendanceStore, JobQueue, NewJob, WebhookInbox, WebhookStatus};
use attend_core::testing::memory::MemoryStore;
use attend_zoom_sim::{Connection, Endpoint, Identity, Person, Scenario, SimConfig, Timeline};
use chrono::{DateTime, TimeDelta, Utc};
use service_support::faulty::{FaultyStore, Write};
use service_support::{Options, World};

/// The user behind a synthetic registrant email (`u7@attend.lms.example` → `u7`).
fn user_of(email: &str) -> UserId {
    UserId::new(email.split('@').next().unwrap())
}

struct Class {
    w: World,
    meeting: MeetingId,
    scenario: Scenario,
    timeline: Timeline,
}

/// How a class's deliveries are processed after they are acknowledged.
#[derive(Clone, Copy, PartialEq)]
enum Processing {
    /// `drain`: `process_pending` takes each stored delivery in turn, then the jobs run.
    OneByOne,
    /// Only the queued jobs, as the worker runs them: `process_webhook` jobs in batches.
    Jobs,
    /// One `process_webhooks` job naming every stored delivery, newest first, as a store
    /// that groups its commits queues it (the memory store queues a job per delivery: those
    /// are leased away first, so only the group job runs).
    GroupJob,
    /// As `GroupJob`, but one `process_webhooks` job per 3 deliveries (small group commits),
    /// which the worker runs several to a batch.
    SmallGroupJobs,
}

async fn class(options: Options, start: DateTime<Utc>, chaos: Option<u64>) -> Class {
    class_processed(options, start, chaos, Processing::OneByOne).await
}

async fn class_processed(
    options: Options,
    start: DateTime<Utc>,
    chaos: Option<u64>,
    processing: Processing,
) -> Class {
    let w = World::with(options).await;
    let (m, scenario, timeline) = w.typical_class(14, start).await;
    w.deliver_timeline(&timeline, chaos).await;
    match processing {
        Processing::OneByOne => {
            w.attend.drain().await.unwrap();
        }
        Processing::Jobs => loop {
            let report = w.attend.run_pending_jobs().await.unwrap();
            assert_eq!(report.failed, 0, "no job fails: {report:?}");
            if report.claimed == 0 {
                break;
            }
        },
        Processing::GroupJob | Processing::SmallGroupJobs => {
            let now = w.now();
            let mut ids: Vec<i64> = w
                .store
                .list_unprocessed_webhooks(now + TimeDelta::days(1), 100_000)
                .await
                .unwrap()
                .iter()
                .map(|hook| hook.id.0)
                .collect();
            ids.reverse();
            assert!(ids.len() > 20, "a class's deliveries: {}", ids.len());
            let own = w
                .store
                .claim_jobs("elsewhere", 100_000, TimeDelta::hours(1), now)
                .await
                .unwrap();
            assert_eq!(
                own.len(),
                ids.len(),
                "one job per delivery in the memory store"
            );
            let size = match processing {
                Processing::SmallGroupJobs => 3,
                _ => ids.len(),
            };
            for group in ids.chunks(size) {
                w.store
                    .enqueue_job(
                        &NewJob::new(
                            "process_webhooks",
                            serde_json::json!({ "job": "process_webhooks", "webhooks": group }),
                            now,
                        ),
                        now,
                    )
                    .await
                    .unwrap();
            }
            // The group jobs, then the jobs their deliveries queued (finalizing the instances).
            let report = w.attend.run_pending_jobs().await.unwrap();
            assert_eq!(report.failed, 0, "no job fails: {report:?}");
            let groups = ids.len().div_ceil(size) as u64;
            assert!(report.completed >= groups, "{report:?}");
        }
    }
    Class {
        meeting: m.id,
        w,
        scenario,
        timeline,
    }
}

fn check_against_expectations(c: &Class, rosters: &[Roster]) {
    let mut checked = 0;
    for e in c.scenario.expectations() {
        let uuid = InstanceId::new(c.timeline.instances[e.instance].uuid.clone());
        let roster = rosters
            .iter()
            .find(|r| r.instance.as_ref() == Some(&uuid))
            .unwrap();
        assert_eq!(roster.window.start, e.window.0);
        assert_eq!(roster.window.end, e.window.1);
        match &e.identity {
            Identity::Registrant { email } => {
                let rec = roster
                    .record(&user_of(email))
                    .unwrap_or_else(|| panic!("{email} in roster"));
                assert_eq!(
                    rec.attended_seconds as i64, e.attended_seconds,
                    "{} ({})",
                    e.label, email
                );
                assert_eq!(rec.joins as usize, e.joins, "{} joins", e.label);
                assert_eq!(rec.first_join, e.first_join, "{} first join", e.label);
                assert_eq!(rec.last_leave, e.last_leave, "{} last leave", e.label);
                if e.attended_seconds > 0 {
                    assert_eq!(rec.matched_by, Some(MatchedBy::RegistrantId), "{}", e.label);
                } else {
                    assert_eq!(rec.status, Status::Absent, "{}", e.label);
                }
                checked += 1;
            }
            Identity::Host => {
                // The host is in neither list.
                assert!(
                    roster
                        .unmatched
                        .iter()
                        .all(|u| u.display_name.as_deref() != Some("Sam Host"))
                );
            }
            Identity::Guest { name, email } => {
                if e.attended_seconds == 0 {
                    continue;
                }
                let key = match email {
                    Some(email) => format!("email:{}", email.to_lowercase()),
                    None => format!("name:{name}"),
                };
                let u = roster
                    .unmatched_person(&key)
                    .unwrap_or_else(|| panic!("{key} unmatched in {:?}", roster.unmatched));
                assert_eq!(
                    u.attended_seconds as i64, e.attended_seconds,
                    "guest {name}"
                );
                assert_eq!(u.joins as usize, e.joins, "guest {name}");
            }
        }
    }
    assert!(checked >= 28, "two instances × 14 registrants");
}

async fn instance_rosters(c: &Class) -> Vec<Roster> {
    let mut out = Vec::new();
    for inst in &c.timeline.instances {
        let a =
            c.w.attend
                .attendance(&c.meeting, Some(&InstanceId::new(inst.uuid.clone())))
                .await
                .unwrap();
        out.push(a.roster);
    }
    out
}

#[tokio::test]
async fn a_typical_class_gives_the_hand_computed_roster_and_becomes_final() {
    let start = service_support::whole_seconds(Utc::now() - TimeDelta::hours(3));
    let c = class(Options::default(), start, None).await;

    let instances = c.w.attend.instances(&c.meeting).await.unwrap().instances;
    assert_eq!(instances.len(), 2);
    assert!(
        instances.iter().all(|i| i.state == InstanceState::Final),
        "reconciled: {instances:?}"
    );
    assert_eq!(instances[0].uuid.as_str(), c.timeline.instances[0].uuid);
    let rows =
        c.w.store
            .list_report_rows(&instances[0].uuid)
            .await
            .unwrap();
    assert!(!rows.is_empty(), "report rows stored");

    let rosters = instance_rosters(&c).await;
    check_against_expectations(&c, &rosters);
    for r in &rosters {
        assert_eq!(r.state, InstanceState::Final);
        assert_eq!(r.summary.registered, 14);
        assert_eq!(
            r.roster.len(),
            14,
            "registered users only: nobody else matched"
        );
    }

    // The aggregate sums the instances.
    let agg = c.w.attend.attendance(&c.meeting, None).await.unwrap();
    assert_eq!(agg.roster.instance, None);
    for rec in &agg.roster.roster {
        let sum: u64 = rosters
            .iter()
            .map(|r| r.record(&rec.user_id).unwrap().attended_seconds)
            .sum();
        assert_eq!(rec.attended_seconds, sum);
    }
    let json = serde_json::to_value(&agg).unwrap();
    for field in [
        "meeting_id",
        "instance",
        "window",
        "state",
        "roster",
        "unmatched",
        "summary",
    ] {
        assert!(json.get(field).is_some(), "{field} missing");
    }
    assert_eq!(json["state"], "final");

    // Unmatched people over the meeting: the two guests, grouped per person.
    let unmatched = c.w.attend.unmatched(&c.meeting).await.unwrap();
    let keys: Vec<&str> = unmatched
        .unmatched
        .iter()
        .map(|u| u.participant_key.as_str())
        .collect();
    assert_eq!(
        keys,
        ["email:visitor@guest.example", "name:Marie’s iPhone 📱"]
    );
}

/// Webhooks alone (no report), so that the webhook path is what is compared.
fn no_reports() -> Options {
    Options {
        sim: SimConfig {
            reports_available: false,
            ..SimConfig::default()
        },
        ..Options::default()
    }
}

#[tokio::test]
async fn duplicated_and_shuffled_deliveries_give_the_same_roster_as_one_in_order_pass() {
    let start = service_support::whole_seconds(Utc::now() - TimeDelta::hours(3));
    let clean = class(no_reports(), start, None).await;
    let clean_rosters = instance_rosters(&clean).await;
    check_against_expectations(&clean, &clean_rosters);
    let clean_agg = clean
        .w
        .attend
        .attendance(&clean.meeting, None)
        .await
        .unwrap()
        .roster;

    for seed in [7, 8] {
        let chaotic = class(no_reports(), start, Some(seed)).await;
        let rosters = instance_rosters(&chaotic).await;
        check_against_expectations(&chaotic, &rosters);
        for (a, b) in clean_rosters.iter().zip(&rosters) {
            assert_eq!(a.roster, b.roster, "seed {seed}");
            assert_eq!(a.unmatched, b.unmatched, "seed {seed}");
            assert_eq!(a.summary, b.summary);
            assert_eq!(a.window, b.window);
        }
        let agg = chaotic
            .w
            .attend
            .attendance(&chaotic.meeting, None)
            .await
            .unwrap()
            .roster;
        assert_eq!(agg.roster, clean_agg.roster);
        assert_eq!(agg.unmatched, clean_agg.unmatched);
        // Without report access the instances are final from webhooks alone (they ended
        // longer ago than the grace period).
        assert_eq!(agg.state, InstanceState::Final);
    }
}

/// Plays the same class twice with the same chaos seed, once processed delivery by delivery
/// and once by `processing`: every delivery must end processed, and each instance's roster
/// must be the same (and final) both ways and match the scenario's expectations.
async fn same_rosters_as_one_by_one(chaos: u64, processing: Processing) {
    let start = service_support::whole_seconds(Utc::now() - TimeDelta::hours(3));
    let alone = class_processed(no_reports(), start, Some(chaos), Processing::OneByOne).await;
    let alone_rosters = instance_rosters(&alone).await;
    let other = class_processed(no_reports(), start, Some(chaos), processing).await;
    let waiting = other
        .w
        .store
        .list_unprocessed_webhooks(Utc::now() + TimeDelta::days(1), 10)
        .await
        .unwrap();
    assert!(waiting.is_empty(), "every delivery processed: {waiting:?}");
    let rosters = instance_rosters(&other).await;
    check_against_expectations(&other, &rosters);
    assert_eq!(rosters.len(), alone_rosters.len());
    for (a, b) in alone_rosters.iter().zip(&rosters) {
        assert_eq!(a.roster, b.roster);
        assert_eq!(a.unmatched, b.unmatched);
        assert_eq!(a.summary, b.summary);
        assert_eq!(a.window, b.window);
        assert_eq!(b.state, InstanceState::Final);
    }
}

/// The worker processes claimed `process_webhook` jobs in batches (shared reads, one insert
/// of all their events); lifecycle events in the same claim go one by one. The outcome must
/// be the one of processing each delivery alone, duplicates and any order included.
#[tokio::test]
async fn the_workers_batches_give_the_same_rosters_as_one_by_one_processing() {
    same_rosters_as_one_by_one(11, Processing::Jobs).await;
}

/// A `process_webhooks` job (one per group commit on a store that groups its writes) must
/// give the rosters of processing each delivery alone, whatever the order it names them in.
#[tokio::test]
async fn a_group_job_gives_the_same_rosters_as_one_by_one_processing() {
    same_rosters_as_one_by_one(5, Processing::GroupJob).await;
}

/// Small `process_webhooks` jobs (3 deliveries each), run several to a batch by the worker,
/// must give the rosters of processing each delivery alone.
#[tokio::test]
async fn small_group_jobs_batched_together_give_the_same_rosters_as_one_by_one_processing() {
    same_rosters_as_one_by_one(7, Processing::SmallGroupJobs).await;
}

/// A `process_webhooks` job is processed in batches of the store's `webhook_batch_size`: each
/// shared insert of participant events holds at most that many, and full batches have
/// exactly that many (the default, 16, would give larger ones here).
#[tokio::test]
async fn a_group_job_is_processed_in_batches_of_the_stores_size() {
    let inner = MemoryStore::new();
    let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = sizes.clone();
    let store = FaultyStore::new(inner.clone(), move |write| {
        if let Write::ParticipantEvents(events) = write {
            seen.lock().unwrap().push(events.len());
        }
        false
    })
    .with_webhook_batch_size(5);
    let w = World::with(Options {
        store: Some(Arc::new(store)),
        ..Options::default()
    })
    .await;
    let start = service_support::whole_seconds(Utc::now() - TimeDelta::hours(3));
    let (_, _, timeline) = w.typical_class(14, start).await;
    w.deliver_timeline(&timeline, None).await;
    let now = w.now();
    let stored = inner
        .list_unprocessed_webhooks(now + TimeDelta::days(1), 100_000)
        .await
        .unwrap();
    let ids: Vec<i64> = stored.iter().map(|hook| hook.id.0).collect();
    assert!(ids.len() > 16, "more than one default batch: {}", ids.len());
    // Only the group job runs (the memory store queued one job per delivery).
    inner
        .claim_jobs("elsewhere", 100_000, TimeDelta::days(30), now)
        .await
        .unwrap();
    inner
        .enqueue_job(
            &NewJob::new(
                "process_webhooks",
                serde_json::json!({ "job": "process_webhooks", "webhooks": ids }),
                now,
            ),
            now,
        )
        .await
        .unwrap();
    sizes.lock().unwrap().clear();

    let report = w.attend.run_pending_jobs().await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    let sizes = sizes.lock().unwrap().clone();
    assert_eq!(sizes.iter().max(), Some(&5), "event inserts: {sizes:?}");
    let waiting = inner
        .list_unprocessed_webhooks(now + TimeDelta::days(1), 10)
        .await
        .unwrap();
    assert!(waiting.is_empty(), "every delivery processed: {waiting:?}");
}

/// A delivery whose processing keeps failing (its event cannot be stored) must not hold back
/// the others of its `process_webhooks` job, nor those batched with it; when the job has used
/// its attempts, that delivery alone is marked failed, with the reason.
#[tokio::test]
async fn a_dead_group_job_marks_only_its_failing_delivery_failed() {
    let inner = MemoryStore::new();
    let doomed = Arc::new(AtomicI64::new(-1));
    let doom = doomed.clone();
    let faulty = FaultyStore::new(inner.clone(), move |write| match write {
        Write::ParticipantEvents(events) => events
            .iter()
            .any(|e| e.source.map(|s| s.0) == Some(doom.load(Ordering::SeqCst))),
        Write::Registration(_) => false,
    });
    let w = World::with(Options {
        store: Some(Arc::new(faulty)),
        ..Options::default()
    })
    .await;
    let start = service_support::whole_seconds(Utc::now() - TimeDelta::hours(3));
    let (_, _, timeline) = w.typical_class(14, start).await;
    w.deliver_timeline(&timeline, None).await;

    let now = w.now();
    let stored = inner
        .list_unprocessed_webhooks(now + TimeDelta::days(1), 100_000)
        .await
        .unwrap();
    let ids: Vec<i64> = stored.iter().map(|hook| hook.id.0).collect();
    assert!(ids.len() > 2 * 16, "more than two batches: {}", ids.len());
    // A participant event in the middle of the second batch.
    let victim = stored
        .iter()
        .skip(20)
        .find(|hook| hook.event_type == "meeting.participant_joined")
        .expect("a join in the second batch")
        .id;
    doomed.store(victim.0, Ordering::SeqCst);
    // The memory store queued one job per delivery: lease them away, so only the group job
    // (as a grouping store queues it) runs.
    inner
        .claim_jobs("elsewhere", 100_000, TimeDelta::days(30), now)
        .await
        .unwrap();
    inner
        .enqueue_job(
            &NewJob::new(
                "process_webhooks",
                serde_json::json!({ "job": "process_webhooks", "webhooks": ids }),
                now,
            )
            .with_max_attempts(3),
            now,
        )
        .await
        .unwrap();

    let first = w.attend.run_pending_jobs().await.unwrap();
    assert!(first.failed >= 1, "the group job fails: {first:?}");
    let after_first = inner
        .get_webhooks(&stored.iter().map(|h| h.id).collect::<Vec<_>>())
        .await
        .unwrap();
    let waiting: Vec<_> = after_first
        .iter()
        .filter(|h| h.status == WebhookStatus::Received)
        .map(|h| h.id)
        .collect();
    assert_eq!(
        waiting,
        vec![victim],
        "every other delivery processed at the first attempt"
    );

    // The retries fail the same way, until the job is dead.
    for _ in 0..10 {
        w.advance(TimeDelta::hours(1));
        w.attend.run_pending_jobs().await.unwrap();
    }
    let counts = inner.job_counts(Some("process_webhooks")).await.unwrap();
    assert_eq!(
        (counts.dead, counts.ready, counts.running),
        (1, 0, 0),
        "{counts:?}"
    );
    for hook in inner
        .get_webhooks(&stored.iter().map(|h| h.id).collect::<Vec<_>>())
        .await
        .unwrap()
    {
        if hook.id == victim {
            assert_eq!(hook.status, WebhookStatus::Failed, "{hook:?}");
            let reason = hook.failure.as_deref().unwrap_or_default();
            assert!(
                reason.contains("unavailable") || reason.contains("storage"),
                "{reason}"
            );
        } else {
            assert_eq!(hook.status, WebhookStatus::Processed, "{hook:?}");
        }
    }
}

#[tokio::test]
async fn manual_links_policy_changes_csv_history_and_erasure() {
    let start = service_support::whole_seconds(Utc::now() - TimeDelta::hours(3));
    let c = class(Options::default(), start, None).await;
    let w = &c.w;
    let before = w.attend.attendance(&c.meeting, None).await.unwrap().roster;

    // A manual link turns the visiting parent into host user u3's extra presence, at once.
    w.attend
        .link_participant(
            &c.meeting,
            "email:visitor@guest.example",
            &"u3".into(),
            &"teacher".into(),
        )
        .await
        .unwrap();
    let after = w.attend.attendance(&c.meeting, None).await.unwrap().roster;
    assert!(
        after
            .unmatched_person("email:visitor@guest.example")
            .is_none()
    );
    assert_eq!(after.unmatched.len(), before.unmatched.len() - 1);
    let u3 = after.record(&"u3".into()).unwrap();
    assert!(u3.attended_seconds >= before.record(&"u3".into()).unwrap().attended_seconds);
    let err = w
        .attend
        .link_participant(
            &c.meeting,
            "email:nobody@x.example",
            &"u3".into(),
            &"teacher".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "participant_not_found");
    let err = w
        .attend
        .link_participant(
            &c.meeting,
            "name:Marie’s iPhone 📱",
            &"nobody".into(),
            &"teacher".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "user_not_found");

    // A stricter policy shows at once.
    let present_before = after.summary.present;
    w.attend
        .update_meeting(
            &c.meeting,
            MeetingPatch {
                policy: Some(PolicyPatch {
                    required_ratio: Some(0.999),
                    ..PolicyPatch::default()
                }),
                restrict_to_registered: None,
            },
        )
        .await
        .unwrap();
    let strict = w.attend.attendance(&c.meeting, None).await.unwrap().roster;
    assert!(strict.summary.partial > after.summary.partial);
    assert!(strict.summary.present < present_before || present_before == 0);

    // CSV: header + one row per roster user + one per unmatched person.
    let csv = w.attend.attendance_csv(&c.meeting, None).await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines.len(),
        1 + strict.roster.len() + strict.unmatched.len()
    );
    assert!(lines[0].starts_with("meeting_id,instance,kind,user_id,name"));
    assert!(csv.contains(",user,u1,Student 1,true,"), "{csv}");
    assert!(csv.contains(",unmatched,"), "{csv}");

    // History across instances.
    let history = w.attend.user_history(&"u1".into()).await.unwrap();
    assert_eq!(history.records.len(), 2);
    assert!(history.records.iter().all(|r| r.meeting_id == c.meeting));
    assert!(
        history
            .records
            .iter()
            .all(|r| r.group.as_str() == "bio-101"),
        "each record names its meeting's group"
    );
    let json = serde_json::to_value(&history).unwrap();
    assert!(
        json["records"][0].get("group").is_none(),
        "group is not part of the API record"
    );
    assert!(history.records[0].instance.as_str() == c.timeline.instances[0].uuid);

    // Erasure: the user is gone from storage and history; their registrant is deleted at Zoom.
    let zoom_id = w
        .attend
        .get_meeting(&c.meeting)
        .await
        .unwrap()
        .zoom_meeting_id
        .0 as u64;
    let registrants_before = w.zoom.registrants(zoom_id).len();
    let erased = w.attend.erase_user(&"u1".into()).await.unwrap();
    assert!(
        erased.registrations == 1 && erased.participant_events > 0,
        "{erased:?}"
    );
    w.attend.drain().await.unwrap();
    assert_eq!(w.zoom.registrants(zoom_id).len(), registrants_before - 1);
    assert!(
        w.attend
            .user_history(&"u1".into())
            .await
            .unwrap()
            .records
            .is_empty()
    );
    let roster = w.attend.attendance(&c.meeting, None).await.unwrap().roster;
    assert!(roster.record(&"u1".into()).is_none());
    assert_eq!(
        w.attend.erase_user(&"u1".into()).await.unwrap().total(),
        0,
        "idempotent"
    );
    assert_eq!(
        w.attend
            .user_history(&"never-existed".into())
            .await
            .unwrap_err()
            .code(),
        "user_not_found"
    );
}

#[tokio::test]
async fn live_view_shows_who_is_in_the_meeting_now() {
    let w = World::start().await;
    let users = w.add_students(3);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    let email = |u: &str| World::synthetic_email(u);
    let now = w.now();
    let scenario = Scenario::new(zoom_id, now - TimeDelta::minutes(20), 3600)
        .person(Person::host().connection(Connection::main(0, 0, None)))
        .person(Person::registrant(&email("u1")).connection(Connection::main(0, 60, None)))
        .person(Person::registrant(&email("u2")).connection(Connection::main(0, 120, Some(600))))
        .person(Person::guest("Drop-in", None).connection(Connection::main(0, 300, None)));
    let timeline = w.zoom.timeline(&scenario).unwrap();
    for e in timeline.events.iter().filter(|e| e.at <= now) {
        w.deliver(&e.body).await.unwrap();
    }
    w.attend.drain().await.unwrap();

    let live = w.attend.live(&m.id).await.unwrap();
    assert_eq!(
        live.instance.as_ref().map(|i| i.as_str()),
        Some(timeline.instances[0].uuid.as_str())
    );
    let users_in: Vec<_> = live
        .participants
        .iter()
        .filter_map(|p| p.user_id.clone())
        .collect();
    assert_eq!(users_in, vec![UserId::from("u1")]);
    let u1 = &live.participants[0];
    assert_eq!(u1.since, scenario.at(60));
    assert_eq!(
        u1.attended_seconds,
        (now - scenario.at(60)).num_seconds() as u64
    );
    assert!(
        live.participants
            .iter()
            .any(|p| p.participant_key.as_deref() == Some("name:Drop-in"))
    );

    let a = w.attend.attendance(&m.id, None).await.unwrap();
    assert_eq!(a.roster.state, InstanceState::Live);
    assert_eq!(
        a.roster.window.end, now,
        "now stands in for the end while live"
    );
    let u2 = a.roster.record(&"u2".into()).unwrap();
    assert_eq!(u2.attended_seconds, 480);
}

#[tokio::test]
async fn without_reports_the_instance_becomes_final_after_the_grace_period() {
    let w = World::with(Options {
        sim: SimConfig {
            reports_available: false,
            ..SimConfig::default()
        },
        ..Options::default()
    })
    .await;
    let users = w.add_students(1);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    let now = w.now();
    let scenario = Scenario::new(zoom_id, now - TimeDelta::minutes(61), 3600).person(
        Person::registrant(&World::synthetic_email("u1")).connection(Connection::main(0, 0, None)),
    );
    let timeline = w.zoom.timeline(&scenario).unwrap();
    w.zoom.record(&timeline);
    w.deliver_timeline(&timeline, None).await;
    w.attend.drain().await.unwrap();
    let state = first_instance_state(&w, &m.id).await;
    assert_eq!(state, InstanceState::Provisional);
    w.advance(TimeDelta::minutes(31));
    w.attend.drain().await.unwrap();
    let state = first_instance_state(&w, &m.id).await;
    assert_eq!(state, InstanceState::Final);
}

#[tokio::test]
async fn a_report_that_is_not_ready_is_pulled_again_later_and_on_demand() {
    let w = World::with(Options {
        sim: SimConfig {
            report_delay: std::time::Duration::from_secs(600),
            ..SimConfig::default()
        },
        ..Options::default()
    })
    .await;
    let users = w.add_students(2);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    let now = w.now();
    let scenario = ended_class_of_two(zoom_id, now);
    let timeline = w.zoom.timeline(&scenario).unwrap();
    w.zoom.record(&timeline);
    w.deliver_timeline(&timeline, None).await;
    w.attend.drain().await.unwrap();
    let uuid = InstanceId::new(timeline.instances[0].uuid.clone());
    let provisional = w
        .attend
        .attendance(&m.id, Some(&uuid))
        .await
        .unwrap()
        .roster;
    assert_eq!(
        provisional.state,
        InstanceState::Provisional,
        "report not ready yet"
    );

    // The on-demand pull is queued at once (and still not ready).
    let queued = w.attend.request_reconcile(&m.id, None).await.unwrap();
    assert_eq!(queued.instances, vec![uuid.clone()]);
    w.attend.drain().await.unwrap();
    assert_eq!(
        first_instance_state(&w, &m.id).await,
        InstanceState::Provisional
    );

    w.advance(TimeDelta::minutes(11));
    w.attend.drain().await.unwrap();
    let fin = w
        .attend
        .attendance(&m.id, Some(&uuid))
        .await
        .unwrap()
        .roster;
    assert_eq!(fin.state, InstanceState::Final);
    assert_eq!(
        fin.roster, provisional.roster,
        "the report agrees with the webhooks"
    );
    let per_user: BTreeMap<_, _> = fin
        .roster
        .iter()
        .map(|r| (r.user_id.clone(), r.attended_seconds))
        .collect();
    assert_eq!(per_user[&UserId::from("u2")], 1780);
}

#[tokio::test]
async fn waiting_room_report_rows_never_count() {
    let w = World::start().await;
    let users = w.add_students(2);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    let start = w.now() - TimeDelta::minutes(61);
    let scenario = Scenario::new(zoom_id, start, 3600)
        .person(
            Person::registrant(&World::synthetic_email("u1"))
                .label("waiting room, never admitted")
                .connection(Connection::waiting_only(0, 60, Some(1200))),
        )
        .person(
            Person::registrant(&World::synthetic_email("u2"))
                .label("waiting room, admitted at +10:00")
                .connection(Connection::main(0, 600, None).via_waiting_room(30)),
        );
    let timeline = w.zoom.timeline(&scenario).unwrap();
    w.zoom.record(&timeline);
    // Only the meeting's start and end arrive by webhook: the report is the sole source of
    // participant time, so a waiting-room row it carries would show up in the roster.
    for e in timeline
        .events
        .iter()
        .filter(|e| e.event == "meeting.started" || e.event == "meeting.ended")
    {
        w.deliver(&e.body).await.unwrap();
    }
    w.attend.drain().await.unwrap();

    let uuid = InstanceId::new(timeline.instances[0].uuid.clone());
    let a = w.attend.attendance(&m.id, Some(&uuid)).await.unwrap();
    assert_eq!(a.roster.state, InstanceState::Final, "reconciled");
    let rows = w.store.list_report_rows(&uuid).await.unwrap();
    assert_eq!(
        rows.len(),
        1,
        "the waiting-room row is not stored: {rows:?}"
    );

    let never = a.roster.record(&users[0]).unwrap();
    assert_eq!(never.status, Status::Absent);
    assert_eq!(never.attended_seconds, 0);
    assert_eq!((never.first_join, never.joins), (None, 0));

    let admitted = a.roster.record(&users[1]).unwrap();
    assert_eq!(admitted.attended_seconds, 3000, "from admission to the end");
    assert_eq!(admitted.first_join, Some(start + TimeDelta::seconds(600)));
    assert_eq!(admitted.joins, 1);
    assert_eq!(admitted.status, Status::Late);
    assert!(a.roster.unmatched.is_empty());
}

#[tokio::test]
async fn a_nameless_emailless_guest_seen_by_webhook_and_report_is_one_unmatched_person() {
    let w = World::start().await;
    let users = w.add_students(1);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    let start = w.now() - TimeDelta::minutes(61);
    let scenario = Scenario::new(zoom_id, start, 3600)
        .person(
            Person::registrant(&World::synthetic_email("u1"))
                .connection(Connection::main(0, 0, None)),
        )
        .person(
            Person::guest("", None)
                .label("no name, no email")
                .connection(Connection::main(0, 300, Some(1500))),
        );
    let timeline = w.zoom.timeline(&scenario).unwrap();
    w.zoom.record(&timeline);
    w.deliver_timeline(&timeline, None).await;
    w.attend.drain().await.unwrap();

    let uuid = InstanceId::new(timeline.instances[0].uuid.clone());
    let a = w.attend.attendance(&m.id, Some(&uuid)).await.unwrap();
    assert_eq!(a.roster.state, InstanceState::Final, "reconciled");
    // The report carries the guest too (so both sources really saw them).
    let rows = w.store.list_report_rows(&uuid).await.unwrap();
    let guest_rows: Vec<_> = rows
        .iter()
        .filter(|r| r.hints.email.is_none() && r.hints.registrant_id.is_none())
        .collect();
    assert_eq!(guest_rows.len(), 1, "{rows:?}");
    assert!(guest_rows[0].hints.user_name.is_none());

    assert_eq!(
        a.roster.unmatched.len(),
        1,
        "one guest, one person: {:?}",
        a.roster.unmatched
    );
    let guest = &a.roster.unmatched[0];
    assert!(
        guest.participant_key.starts_with("connection:")
            && !guest.participant_key.starts_with("connection:report:"),
        "{}",
        guest.participant_key
    );
    assert_eq!(
        (guest.display_name.as_deref(), guest.email.as_deref()),
        (None, None)
    );
    assert_eq!(guest.attended_seconds, 1200);
    assert_eq!(guest.joins, 1);
    let listed = w.attend.unmatched(&m.id).await.unwrap().unmatched;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].participant_key, guest.participant_key);
}

/// Another process on the same store and directory, without a roster cache.
fn uncached_twin(w: &service_support::World) -> attend_core::service::Attend {
    w.twin(|b| b.roster_cache_rows(0))
}

#[tokio::test]
async fn cached_rosters_follow_events_stored_by_another_process() {
    use attend_core::model::{ConnectionKey, IdentityHints, ParticipantAction, ParticipantEvent};
    use attend_core::store::{RegistrationStore, StoredEvent};

    let start = service_support::whole_seconds(Utc::now() - TimeDelta::hours(3));
    let c = class(Options::default(), start, None).await;
    let twin = uncached_twin(&c.w);
    let uuid = InstanceId::new(c.timeline.instances[0].uuid.clone());
    let read = |attend: &attend_core::service::Attend| {
        let attend = attend.clone();
        let meeting = c.meeting.clone();
        let uuid = uuid.clone();
        async move {
            attend
                .attendance(&meeting, Some(&uuid))
                .await
                .unwrap()
                .roster
        }
    };

    let first = read(&c.w.attend).await;
    assert_eq!(read(&c.w.attend).await, first, "a second (cached) read");
    assert_eq!(read(&twin).await, first, "an uncached process agrees");

    // A student who was absent from the first instance connects, as stored by another
    // process's worker (straight into the shared store).
    let absent = first
        .roster
        .iter()
        .find(|r| r.attended_seconds == 0)
        .expect("the typical class has an absent student")
        .user_id
        .clone();
    let registrant =
        c.w.store
            .get_registration(&c.meeting, &absent)
            .await
            .unwrap()
            .and_then(|r| r.registrant_id)
            .expect("registered at Zoom");
    let from = first.window.start + TimeDelta::seconds(60);
    let event = |action, at| StoredEvent {
        meeting: c.meeting.clone(),
        event: ParticipantEvent {
            instance: uuid.clone(),
            connection: ConnectionKey::new("late-twin-connection"),
            action,
            at,
            hints: IdentityHints {
                registrant_id: Some(registrant.as_str().to_owned()),
                user_name: Some("Late Student".into()),
                ..IdentityHints::default()
            },
        },
        source: None,
    };
    let stored =
        c.w.store
            .insert_participant_events(&[
                event(ParticipantAction::Joined, from),
                event(ParticipantAction::Left, from + TimeDelta::seconds(300)),
            ])
            .await
            .unwrap();
    assert_eq!(stored, 2);

    let after = read(&c.w.attend).await;
    assert_ne!(after, first, "the cached process sees the new connection");
    assert_eq!(after, read(&twin).await, "and agrees with the uncached one");
    let row = after.record(&absent).expect("still on the roster");
    assert_eq!(row.attended_seconds, 300, "{row:?}");
    assert_eq!(row.joins, 1);

    // A delivery that arrives late, about an earlier stay: its events go before the ones
    // the cached process already holds (it brings its copy up to date rather than reloading).
    let early = |action, at| StoredEvent {
        event: ParticipantEvent {
            connection: ConnectionKey::new("early-twin-connection"),
            ..event(action, at).event
        },
        ..event(action, at)
    };
    let stored =
        c.w.store
            .insert_participant_events(&[
                early(ParticipantAction::Joined, first.window.start),
                early(
                    ParticipantAction::Left,
                    first.window.start + TimeDelta::seconds(30),
                ),
            ])
            .await
            .unwrap();
    assert_eq!(stored, 2);
    let later = read(&c.w.attend).await;
    assert_eq!(later, read(&twin).await, "the late events too");
    let row = later.record(&absent).expect("still on the roster");
    assert_eq!(row.attended_seconds, 330, "{row:?}");
    assert_eq!(row.joins, 2);
}

/// A class that began 61 minutes before `now` and lasted an hour: u1 from 10 s to the end,
/// u2 from 20 s to 30 min.
fn ended_class_of_two(zoom_id: u64, now: DateTime<Utc>) -> Scenario {
    Scenario::new(zoom_id, now - TimeDelta::minutes(61), 3600)
        .person(
            Person::registrant(&World::synthetic_email("u1"))
                .connection(Connection::main(0, 10, None)),
        )
        .person(
            Person::registrant(&World::synthetic_email("u2")).connection(Connection::main(
                0,
                20,
                Some(1800),
            )),
        )
}

/// [`ended_class_of_two`] recorded at the simulator (its report exists) and delivered without
/// its one `meeting.ended`, as after an outage longer than Zoom's retries.
async fn class_of_two_without_its_end(w: &World, zoom_id: u64, now: DateTime<Utc>) -> Timeline {
    let timeline = w.zoom.timeline(&ended_class_of_two(zoom_id, now)).unwrap();
    w.zoom.record(&timeline);
    let mut dropped = 0;
    for e in &timeline.events {
        if e.event.ends_with(".ended") {
            dropped += 1;
            continue;
        }
        w.deliver(&e.body).await.unwrap();
    }
    assert_eq!(dropped, 1, "the class has one meeting.ended");
    timeline
}

/// A class that began 20 minutes before `now` and is still on (the simulator never ends it,
/// so Zoom has no report for it): u1 joined at 60 s. Its events up to `now` are delivered.
async fn class_on_now(w: &World, zoom_id: u64, now: DateTime<Utc>) -> Timeline {
    let live = Scenario::new(zoom_id, now - TimeDelta::minutes(20), 3600).person(
        Person::registrant(&World::synthetic_email("u1")).connection(Connection::main(0, 60, None)),
    );
    let timeline = w.zoom.timeline(&live).unwrap();
    w.zoom.record_started(&timeline);
    for e in timeline.events.iter().filter(|e| e.at <= now) {
        w.deliver(&e.body).await.unwrap();
    }
    timeline
}

/// The state of the meeting's first instance.
async fn first_instance_state(w: &World, meeting: &MeetingId) -> InstanceState {
    w.attend.instances(meeting).await.unwrap().instances[0].state
}

/// `roster` is final with the times of [`ended_class_of_two`]'s report: u2 1,780 s, and u1,
/// who stayed to the end, 3,590 s (the report's last leave ends an instance without an end).
fn assert_final_with_the_reports_times(roster: &Roster) {
    assert_eq!(roster.state, InstanceState::Final);
    let per_user: BTreeMap<_, _> = roster
        .roster
        .iter()
        .map(|r| (r.user_id.clone(), r.attended_seconds))
        .collect();
    assert_eq!(per_user[&UserId::from("u2")], 1780);
    assert_eq!(
        per_user[&UserId::from("u1")],
        3590,
        "u1 stayed to the end: the report's last leave ends the instance"
    );
}

/// `roster` is final from webhooks alone: its window ends at the last participant event of
/// `timeline` delivered (those up to `now`).
fn assert_final_at_the_last_event(roster: &Roster, timeline: &Timeline, now: DateTime<Utc>) {
    let last_seen = timeline
        .events
        .iter()
        .filter(|e| e.at <= now && e.event.starts_with("meeting.participant"))
        .map(|e| e.at)
        .max()
        .unwrap();
    assert_eq!(roster.state, InstanceState::Final);
    assert_eq!(
        roster.window.end, last_seen,
        "a final instance without an end ends at the last event seen"
    );
}

/// An instance whose `meeting.ended` never arrived (Zoom gave up its retries) stays live; an
/// explicit reconcile of it pulls Zoom's report, and since there is one, the meeting ended:
/// the instance becomes final with the report's times. A meeting that is really live has no
/// report: the same request leaves it live, with nothing scheduled to finalize it later.
#[tokio::test]
async fn a_live_instance_named_in_a_reconcile_is_final_only_if_zoom_has_its_report() {
    let w = World::start().await;
    let users = w.add_students(2);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    let timeline = class_of_two_without_its_end(&w, zoom_id, w.now()).await;
    w.attend.drain().await.unwrap();
    let uuid = InstanceId::new(timeline.instances[0].uuid.clone());
    assert_eq!(first_instance_state(&w, &m.id).await, InstanceState::Live);

    // Every ended instance: none.
    let queued = w.attend.request_reconcile(&m.id, None).await.unwrap();
    assert!(queued.instances.is_empty(), "{queued:?}");
    // This one by name: pulled, and Zoom's report says it ended.
    let queued = w
        .attend
        .request_reconcile(&m.id, Some(&uuid))
        .await
        .unwrap();
    assert_eq!(queued.instances, vec![uuid.clone()]);
    w.attend.drain().await.unwrap();
    let fin = w
        .attend
        .attendance(&m.id, Some(&uuid))
        .await
        .unwrap()
        .roster;
    assert_final_with_the_reports_times(&fin);

    // A class that is on now: Zoom has no report for it.
    let (m2, zoom_id2) = w.linked_meeting(false).await;
    w.attend.register_users(&m2.id, &users).await.unwrap();
    let timeline2 = class_on_now(&w, zoom_id2, w.now()).await;
    w.attend.drain().await.unwrap();
    let uuid2 = InstanceId::new(timeline2.instances[0].uuid.clone());
    let queued = w
        .attend
        .request_reconcile(&m2.id, Some(&uuid2))
        .await
        .unwrap();
    assert_eq!(queued.instances, vec![uuid2.clone()]);
    w.attend.drain().await.unwrap();
    let outcome = w.attend.reconcile_now(&m2.id, &uuid2).await.unwrap();
    assert_eq!(outcome, ReconcileOutcome::NotEnded);
    // Long after any retry or grace period: still live, nothing finalized it.
    w.advance(TimeDelta::hours(8));
    w.attend.drain().await.unwrap();
    let still = w
        .attend
        .attendance(&m2.id, Some(&uuid2))
        .await
        .unwrap()
        .roster;
    assert_eq!(still.state, InstanceState::Live);
}

/// A `meeting.ended` lost for good (an outage longer than Zoom's retries) leaves its instance
/// live, and nobody has to notice: an instance still live three hours after attend first saw
/// it is checked against Zoom's report, and since Zoom has reports only for past meetings,
/// the report makes it final with the report's times. A class that is really on has no
/// report: it is checked again at doubling intervals and stays live until the last check
/// (7 days), which makes it final from its webhooks alone. A class that ended normally
/// costs no check.
#[tokio::test]
async fn an_instance_whose_end_was_lost_becomes_final_by_itself() {
    let w = World::start().await;
    let users = w.add_students(2);
    let now = w.now();
    // The class whose `meeting.ended` never arrives.
    let (lost, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&lost.id, &users).await.unwrap();
    class_of_two_without_its_end(&w, zoom_id, now).await;
    // A class that ended as usual.
    let (usual, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&usual.id, &users).await.unwrap();
    let usual_timeline = w.zoom.timeline(&ended_class_of_two(zoom_id, now)).unwrap();
    w.zoom.record(&usual_timeline);
    for e in &usual_timeline.events {
        w.deliver(&e.body).await.unwrap();
    }
    // A class that is on (and stays on: the simulator never ends it).
    let (on, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&on.id, &users).await.unwrap();
    let live_timeline = class_on_now(&w, zoom_id, now).await;
    w.attend.drain().await.unwrap();

    let pulls = || w.zoom.calls(Endpoint::ReportParticipants);
    assert_eq!(
        first_instance_state(&w, &lost.id).await,
        InstanceState::Live
    );
    assert_eq!(first_instance_state(&w, &on.id).await, InstanceState::Live);
    assert_eq!(
        first_instance_state(&w, &usual.id).await,
        InstanceState::Final
    );
    assert_eq!(pulls(), 1, "the usual class's reconcile");

    // Two hours on: not checked yet.
    w.advance(TimeDelta::hours(2));
    w.attend.drain().await.unwrap();
    assert_eq!(pulls(), 1);
    assert_eq!(
        first_instance_state(&w, &lost.id).await,
        InstanceState::Live
    );

    // Three hours after attend saw them: the two live instances are checked, the ended one
    // is not.
    w.advance(TimeDelta::hours(1));
    w.attend.drain().await.unwrap();
    // One call for the report that is there; for the class that is on, Zoom's "does not
    // exist" (3001) is retried by the client within its call, so one or more.
    assert!(
        pulls() >= 3,
        "both live instances checked: {} calls",
        pulls()
    );
    let roster = w.attend.attendance(&lost.id, None).await.unwrap().roster;
    assert_final_with_the_reports_times(&roster);
    assert_eq!(first_instance_state(&w, &on.id).await, InstanceState::Live);

    // The class that is on: checked again at 6 h, 12 h, 24 h, 48 h, 96 h and 7 days after
    // attend first saw it, then never again. Live until the last check; with still no end and
    // no report then, final from its webhooks alone.
    let mut checks = vec![3];
    for hour in (6..=9 * 24).step_by(3) {
        w.advance(TimeDelta::hours(3));
        let before = pulls();
        w.attend.drain().await.unwrap();
        if pulls() > before {
            checks.push(hour);
        }
        let expected = if hour < 168 {
            InstanceState::Live
        } else {
            InstanceState::Final
        };
        assert_eq!(
            first_instance_state(&w, &on.id).await,
            expected,
            "hour {hour}"
        );
    }
    assert_eq!(checks, vec![3, 6, 12, 24, 48, 96, 168]);
    let roster = w.attend.attendance(&on.id, None).await.unwrap().roster;
    assert_final_at_the_last_event(&roster, &live_timeline, now);
    let done = w.store.job_counts(Some("live_check")).await.unwrap();
    assert_eq!((done.ready, done.running, done.done), (0, 0, 3), "{done:?}");
}

/// `live_check_after: None` turns the checks off: an instance whose `meeting.ended` was lost
/// gets no check and stays live, a day on, until a reconcile names it.
#[tokio::test]
async fn without_live_checks_a_lost_end_leaves_the_instance_live() {
    let w = World::with(Options {
        reconcile: ReconcileOptions {
            delay: Duration::ZERO,
            live_check_after: None,
            ..ReconcileOptions::default()
        },
        ..Options::default()
    })
    .await;
    let users = w.add_students(2);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    class_of_two_without_its_end(&w, zoom_id, w.now()).await;
    w.attend.drain().await.unwrap();
    w.advance(TimeDelta::days(1));
    w.attend.drain().await.unwrap();
    assert_eq!(first_instance_state(&w, &m.id).await, InstanceState::Live);
    assert_eq!(w.zoom.calls(Endpoint::ReportParticipants), 0);
    let checks = w.store.job_counts(Some("live_check")).await.unwrap();
    assert_eq!((checks.ready, checks.done), (0, 0), "{checks:?}");
}

/// Checks queued while live checks were on are dropped, not run, when the host restarts with
/// them off (`live_check_after: None`): no Zoom call, the instance stays as it was, and the
/// queue is left with nothing ready.
#[tokio::test]
async fn queued_live_checks_are_dropped_after_a_restart_with_checks_off() {
    let w = World::start().await;
    let users = w.add_students(2);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    class_of_two_without_its_end(&w, zoom_id, w.now()).await;
    w.attend.drain().await.unwrap();
    let queued = w.store.job_counts(Some("live_check")).await.unwrap();
    assert_eq!((queued.ready, queued.done), (1, 0), "{queued:?}");

    let restarted = w.twin(|b| {
        b.reconcile(ReconcileOptions {
            delay: Duration::ZERO,
            live_check_after: None,
            ..ReconcileOptions::default()
        })
    });
    w.advance(TimeDelta::hours(4));
    restarted.drain().await.unwrap();
    assert_eq!(w.zoom.calls(Endpoint::ReportParticipants), 0);
    assert_eq!(first_instance_state(&w, &m.id).await, InstanceState::Live);
    let after = w.store.job_counts(Some("live_check")).await.unwrap();
    assert_eq!(
        (after.ready, after.running, after.done),
        (0, 0, 1),
        "{after:?}"
    );
}

/// Without reports (the plan has none; Zoom also builds none for a meeting with fewer than
/// two participants), a live check cannot learn the end from a report: it asks Zoom's list of
/// the meeting's ended instances. A class whose `meeting.ended` was lost is listed there, so
/// it is `final` at the first check, from its webhooks alone (ending at its last event); a
/// class that is on is not listed and stays live.
#[tokio::test]
async fn without_reports_a_lost_end_is_found_in_zooms_list_of_ended_instances() {
    let w = World::with(no_reports()).await;
    let users = w.add_students(2);
    let (lost, lost_zoom) = w.linked_meeting(false).await;
    let (on, on_zoom) = w.linked_meeting(false).await;
    for m in [&lost, &on] {
        w.attend.register_users(&m.id, &users).await.unwrap();
    }
    let now = w.now();
    let timeline = class_of_two_without_its_end(&w, lost_zoom, now).await;
    class_on_now(&w, on_zoom, now).await;
    w.attend.drain().await.unwrap();

    w.advance(TimeDelta::hours(2));
    w.attend.drain().await.unwrap();
    assert_eq!(
        w.zoom.calls(Endpoint::PastInstances),
        0,
        "no check before 3 h"
    );
    assert_eq!(
        first_instance_state(&w, &lost.id).await,
        InstanceState::Live
    );

    w.advance(TimeDelta::hours(1));
    w.attend.drain().await.unwrap();
    assert!(w.zoom.calls(Endpoint::PastInstances) >= 2, "both checked");
    let roster = w.attend.attendance(&lost.id, None).await.unwrap().roster;
    assert_final_at_the_last_event(&roster, &timeline, now);
    assert_eq!(first_instance_state(&w, &on.id).await, InstanceState::Live);
    let checks = w.store.job_counts(Some("live_check")).await.unwrap();
    assert_eq!((checks.ready, checks.done), (1, 1), "{checks:?}");
}

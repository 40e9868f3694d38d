//! The worker a host spawns: it picks up queued work (webhook processing, background
//! registration, report pulls) on its own and stops on shutdown.

mod service_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use attend_core::model::InstanceState;
use attend_core::service::WorkerOptions;
use attend_core::store::{JobQueue, WebhookInbox};
use attend_core::testing::memory::MemoryStore;
use attend_zoom_sim::{Connection, Person, Scenario};
use chrono::TimeDelta;
use service_support::faulty::FaultyStore;
use service_support::{Options, World};

/// A world whose worker polls every 20 ms and runs up to `batch` jobs at once.
async fn world_with_worker(batch: usize) -> World {
    World::with(Options {
        customize: Some(Box::new(move |b| {
            b.worker(WorkerOptions {
                poll_interval: Duration::from_millis(20),
                batch,
                ..WorkerOptions::default()
            })
        })),
        ..Options::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spawned_worker_does_the_background_work_and_stops_on_shutdown() {
    let w = world_with_worker(WorkerOptions::default().batch).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(w.attend.clone().run_worker(async {
        let _ = stopped.await;
    }));

    let users = w.add_students(61);
    let (m, zoom_id) = w.linked_meeting(false).await;
    let out = w.attend.register_users(&m.id, &users).await.unwrap();
    assert!(!out.complete);
    let mut progress = w.attend.watch_registrations(&m.id);
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if progress.borrow_and_update().counts.registered == 61 {
                break;
            }
            progress.changed().await.unwrap();
        }
    })
    .await
    .expect("the worker registers everyone");
    assert_eq!(w.zoom.registrants(zoom_id).len(), 61);

    // Webhooks are processed and the ended instance reconciled without anyone calling drain.
    let now = w.now();
    let scenario = Scenario::new(zoom_id, now - TimeDelta::minutes(61), 3600).person(
        Person::registrant(&World::synthetic_email("u1")).connection(Connection::main(0, 0, None)),
    );
    let timeline = w.zoom.timeline(&scenario).unwrap();
    w.zoom.record(&timeline);
    w.deliver_timeline(&timeline, None).await;
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let instances = w.attend.instances(&m.id).await.unwrap().instances;
            if instances
                .first()
                .is_some_and(|i| i.state == InstanceState::Final)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("processed and reconciled in the background");
    let roster = w.attend.attendance(&m.id, None).await.unwrap().roster;
    assert_eq!(roster.record(&"u1".into()).unwrap().attended_seconds, 3600);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .expect("the worker stops on shutdown")
        .unwrap();
}

/// A claim that commits while its answer is lost (the connection broke) leaves jobs leased to
/// a worker that never got them. The worker gives them back once storage answers, instead of
/// leaving them until their lease ends (5 minutes; never here, the test clock stands still).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_leased_by_a_claim_whose_answer_was_lost_still_run() {
    let w = world_with_worker(4).await;
    let users = w.add_students(3);
    let (m, zoom_id) = w.linked_meeting(false).await;
    w.attend.register_users(&m.id, &users).await.unwrap();
    w.attend.drain().await.unwrap();
    let now = w.now();
    let mut scenario = Scenario::new(zoom_id, now - TimeDelta::minutes(61), 3600);
    for user in ["u1", "u2", "u3"] {
        scenario = scenario.person(
            Person::registrant(&World::synthetic_email(user))
                .connection(Connection::main(0, 0, None)),
        );
    }
    let timeline = w.zoom.timeline(&scenario).unwrap();
    w.zoom.record(&timeline);
    w.deliver_timeline(&timeline, None).await;
    let queued = w.store.job_counts(None).await.unwrap();
    assert!(
        queued.ready > 4,
        "more jobs waiting than one claim takes: {queued:?}"
    );

    // The worker's first claim leases a batch and reports an outage.
    w.store.lose_claim_answers(1);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(w.attend.clone().run_worker(async {
        let _ = stopped.await;
    }));
    let counts = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            // Everything due: the instance's live check waits for its time (hours away).
            let counts = w.store.job_counts(None).await.unwrap();
            let checks = w.store.job_counts(Some("live_check")).await.unwrap();
            if counts.ready + counts.running == checks.ready && checks.ready == 1 {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every job ran, those of the lost claim included");
    assert_eq!(counts.dead, 0, "{counts:?}");
    let roster = w.attend.attendance(&m.id, None).await.unwrap().roster;
    for user in ["u1", "u2", "u3"] {
        let record = roster.record(&user.into()).unwrap();
        assert_eq!(record.attended_seconds, 3600, "{user}");
    }

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .expect("the worker stops on shutdown")
        .unwrap();
}

/// Deliveries arriving one at a time, a few milliseconds apart, are processed in a few
/// gathered claims (`WorkerOptions::gather`), not in a claim (and a round of reads and
/// writes) for every few deliveries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_arriving_one_at_a_time_are_processed_in_gathered_claims() {
    let inner = MemoryStore::new();
    let store = FaultyStore::new(inner.clone(), |_| false);
    let claims = store.working_claims.clone();
    let w = World::with(Options {
        store: Some(Arc::new(store)),
        customize: Some(Box::new(|b| {
            b.worker(WorkerOptions {
                poll_interval: Duration::from_millis(20),
                gather: Duration::from_millis(200),
                ..WorkerOptions::default()
            })
        })),
        ..Options::default()
    })
    .await;
    let start = service_support::whole_seconds(w.now() - TimeDelta::hours(3));
    let (m, _, timeline) = w.typical_class(14, start).await;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(w.attend.clone().run_worker(async {
        let _ = stopped.await;
    }));
    let before = claims.load(Ordering::SeqCst);
    for event in &timeline.events {
        w.deliver(&event.body).await.expect("acknowledged");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let waiting = inner
                .list_unprocessed_webhooks(w.now() + TimeDelta::days(1), 10)
                .await
                .unwrap();
            if waiting.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every delivery processed");
    let deliveries = timeline.events.len();
    let used = claims.load(Ordering::SeqCst) - before;
    assert!(deliveries >= 40, "{deliveries}");
    // Without gathering, about one claim per poll interval (20 ms) while deliveries arrive:
    // 15 to 20 here; with it, one per 200 ms.
    assert!(
        used <= deliveries / 10,
        "{used} claims for {deliveries} deliveries"
    );
    let roster = w.attend.attendance(&m.id, None).await.unwrap().roster;
    assert!(roster.summary.present > 0, "{:?}", roster.summary);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .expect("the worker stops on shutdown")
        .unwrap();
}

//! The worker a host spawns: it picks up queued work (webhook processing, background
//! registration, report pulls) on its own and stops on shutdown.

mod service_support;

use std::time::Duration;

use attend_core::model::InstanceState;
use attend_core::service::WorkerOptions;
use attend_zoom_sim::{Connection, Person, Scenario};
use chrono::TimeDelta;
use service_support::{Options, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spawned_worker_does_the_background_work_and_stops_on_shutdown() {
    let w = World::with(Options {
        customize: Some(Box::new(|b| {
            b.worker(WorkerOptions {
                poll_interval: Duration::from_millis(20),
                ..WorkerOptions::default()
            })
        })),
        ..Options::default()
    })
    .await;
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

//! Storage outage: the example app's PostgreSQL becomes unreachable in the middle of a
//! webhook load, then comes back. The app reaches PostgreSQL through a TCP proxy owned by the
//! test; cutting the proxy closes every connection and refuses new ones, exactly what the app
//! sees when the database server stops (the machine's shared PostgreSQL cluster is never
//! touched; `scripts/reliability-pg-stop.sh` stops the real server instead).
//!
//! Expected: while the database is down, webhooks get 503 (never 200, never a 4xx, which
//! would make Zoom drop them); nothing acknowledged is lost; once the database is back the
//! app recovers by itself (no restart): deliveries get 200 again, and the worker processes
//! everything, including Zoom's retries of the refused ones.

mod reliability_support;

use std::time::{Duration, Instant};

use attend_example::start;
use attend_zoom_sim::Scenario;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use reliability_support::{
    TcpProxy, demo_config, drop_database, fresh_database, host_port, postgres_url, send_now,
    via_port, webhook_statuses, webhook_url,
};

#[derive(QueryableByName)]
struct Waiting {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    state: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    run_at: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    locked_until: Option<i64>,
}

/// Deliveries not processed yet, with their unfinished processing job (if any).
async fn waiting_deliveries(app: &attend_example::RunningApp) -> Vec<Waiting> {
    app.lms()
        .store
        .with_conn(|c| {
            diesel::sql_query(
                "SELECT w.id, j.state, j.run_at, j.locked_until FROM attend_webhooks w \
                 LEFT JOIN attend_jobs j ON j.dedupe_key = 'webhook:' || w.id \
                 AND j.state IN ('ready', 'running') WHERE w.status = 'received'",
            )
            .load::<Waiting>(c)
        })
        .await
        .expect("read waiting deliveries")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_get_503_while_postgres_is_down_and_the_app_recovers_by_itself() {
    outage("attend_rel_outage", false).await;
}

/// The same, waiting (up to 7 min) until every delivery is processed, including those whose
/// job was running during the outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long (up to 7 min); run by scripts/reliability-long.sh"]
async fn after_an_outage_every_delivery_is_processed_without_help() {
    outage("attend_rel_outage_long", true).await;
}

async fn outage(db: &str, wait_for_leases: bool) {
    let Some(pg) = postgres_url("reliability_outage") else {
        return;
    };
    fresh_database(&pg, db);
    let proxy = TcpProxy::start(host_port(&pg)).await;
    let app = start(demo_config(&via_port(&pg, proxy.port, db), true))
        .await
        .expect("start the app on PostgreSQL through the proxy");
    let info = app.demo_info().expect("demo data").clone();
    let sim = app.simulator().expect("demo simulator");
    let emails: Vec<String> = sim
        .registrants(info.zoom_meeting_id as u64)
        .into_iter()
        .map(|r| r.email)
        .collect();
    let scenario = Scenario::typical_class(
        info.zoom_meeting_id as u64,
        &emails,
        chrono::Utc::now() - chrono::Duration::hours(3),
        7,
    );
    let bodies: Vec<String> = sim
        .timeline(&scenario)
        .expect("timeline")
        .events
        .into_iter()
        .map(|e| e.body)
        .collect();
    let url = webhook_url(app.local_url());
    let http = reliability_support::client();
    let third = bodies.len() / 3;

    // 1. Healthy: 200.
    for b in &bodies[..third] {
        assert_eq!(send_now(&http, &url, b).await, Some(200));
    }
    // 2. Down: 503 for every delivery (Zoom will retry them), none answered 200.
    proxy.cut().await;
    let mut refused = Vec::new();
    let mut worst = Duration::ZERO;
    for (i, b) in bodies[third..2 * third].iter().enumerate() {
        let t = Instant::now();
        let status = send_now(&http, &url, b).await;
        worst = worst.max(t.elapsed());
        assert_eq!(status, Some(503), "delivery {i} during the outage");
        refused.push(b.clone());
        if i == 1 {
            break;
        }
    }
    eprintln!(
        "outage: {} deliveries refused with 503, slowest answer {:.2} s",
        refused.len(),
        worst.as_secs_f64()
    );
    // Zoom waits 3 s for an answer: the 503 must come before that, or Zoom sees a timeout
    // and every request holds a server worker until then (the pool's connection timeout).
    assert!(
        worst < Duration::from_secs(3),
        "a 503 took {worst:?}, longer than Zoom's 3-second deadline"
    );
    // 3. Back: the app recovers without a restart. Zoom retries the refused ones.
    proxy.restore();
    let back = Instant::now();
    let mut first_ok = None;
    while back.elapsed() < Duration::from_secs(30) {
        if send_now(&http, &url, &refused[0]).await == Some(200) {
            first_ok = Some(back.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first_ok = first_ok.expect("webhooks still refused 30 s after PostgreSQL came back");
    eprintln!(
        "outage: first 200 {:.2} s after recovery",
        first_ok.as_secs_f64()
    );
    let rest: Vec<&String> = refused[1..]
        .iter()
        .chain(&bodies[third + refused.len()..])
        .collect();
    for b in rest {
        assert_eq!(send_now(&http, &url, b).await, Some(200));
    }
    // 4. Nothing lost: every distinct delivery stored exactly once.
    let distinct: std::collections::HashSet<_> = bodies
        .iter()
        .map(|b| {
            attend_core::zoom::dedupe_key(b.as_bytes())
                .as_str()
                .to_owned()
        })
        .collect();
    let counts = webhook_statuses(&app).await;
    let stored: i64 = counts.values().sum();
    assert_eq!(stored as usize, distinct.len(), "{counts:?}");
    // 5. Processed by the worker without help. A job that was running when the database went
    //    away keeps trying to record its outcome until the database is back, so none is left
    //    `running` until its lease (5 min) ends; nor is a job leased by a claim that
    //    committed while its answer was lost with the connection (the worker gives such
    //    leases back once storage answers). A delivery still waiting after the quick
    //    bound must have a `ready` job due within its retry backoff (10 s doubling). A
    //    delivery is stored together with its job in one transaction
    //    (`insert_webhook_with_job`), so a cut can no longer leave one stored without a job
    //    (it could while the ack path used two transactions, RELIABILITY.md).
    let bound = if wait_for_leases {
        Duration::from_secs(420)
    } else {
        Duration::from_secs(20)
    };
    let t = Instant::now();
    let mut waiting = waiting_deliveries(&app).await;
    while !waiting.is_empty() && t.elapsed() < bound {
        tokio::time::sleep(Duration::from_millis(500)).await;
        waiting = waiting_deliveries(&app).await;
    }
    let soon = chrono::Utc::now().timestamp_micros() + 2 * 60 * 1_000_000;
    for w in &waiting {
        assert!(
            w.state.is_some(),
            "delivery {} is stored without an unfinished job: its job must be committed with it",
            w.id
        );
        let due = match w.state.as_deref() {
            Some("ready") => w.run_at,
            _ => None,
        };
        assert!(
            !wait_for_leases && due.is_some_and(|d| d <= soon),
            "delivery {} still unprocessed after {:?} and not due to be retried soon: job {:?} \
             (run_at {:?}, locked_until {:?})",
            w.id,
            t.elapsed(),
            w.state,
            w.run_at,
            w.locked_until
        );
    }
    if waiting.is_empty() {
        eprintln!(
            "outage: everything processed {:.1} s after the last delivery",
            t.elapsed().as_secs_f64()
        );
    } else {
        eprintln!(
            "outage: {} deliveries wait for their job's retry",
            waiting.len()
        );
    }
    app.stop().await;
    drop(proxy);
    drop_database(&pg, db);
}

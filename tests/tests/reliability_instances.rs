//! Two instances of the example app on one PostgreSQL database, sharing one Zoom (a
//! stand-alone simulator), both receiving every delivery of a class at the same time (Zoom
//! retries, a load balancer without affinity). The roster must be identical to a single
//! instance's, and no job may run twice: no registrant added twice at Zoom (the simulator
//! allows one add per email per day here, so a second add would show as a 429), one report
//! pull per reconcile, one processing job per stored delivery, no job attempted twice.

mod reliability_support;

use std::time::Duration;

use attend_example::{RunningApp, start};
use attend_zoom_sim::{
    Endpoint, MeetingSpec, RateLimits, Scenario, SimConfig, SimHandle, Simulator, Timeline,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use reliability_support::{
    attendance, client, drop_database, fresh_database, postgres_url, roster_essentials, send_now,
    setup_class, sim_config, token, wait_processed, webhook_url,
};
use serde_json::Value;

async fn zoom() -> SimHandle {
    let mut limits = RateLimits::plan(attend_zoom_sim::Plan::Pro);
    limits.registrations_per_registrant_daily = Some(1);
    Simulator::start(SimConfig {
        rate_limits: limits,
        seed: 0x7_1e57,
        ..SimConfig::default()
    })
    .await
    .expect("simulator")
}

fn class(sim: &SimHandle, start: DateTime<Utc>) -> (u64, Vec<(String, String)>) {
    let meeting = sim
        .sim()
        .create_meeting(&MeetingSpec::scheduled("Two instances", start, 60))
        .expect("meeting");
    let students: Vec<(String, String)> = (1..=30)
        .map(|i| (format!("p{i:02}"), format!("p{i:02}@two.example")))
        .collect();
    (meeting.id, students)
}

async fn play(
    sim: &SimHandle,
    zoom_id: u64,
    students: &[(String, String)],
    start: DateTime<Utc>,
) -> Timeline {
    let emails: Vec<String> = students.iter().map(|(_, e)| e.clone()).collect();
    let scenario = Scenario::typical_class(zoom_id, &emails, start, 21);
    let timeline = sim.sim().timeline(&scenario).expect("timeline");
    sim.sim().record(&timeline);
    timeline
}

async fn reconcile_and_read(app: &RunningApp, meeting: &str, timeline: &Timeline) -> Vec<Value> {
    let http = client();
    let admin = token("admin", attend_example::db::Role::Admin, &[]);
    let mut out = Vec::new();
    for instance in &timeline.instances {
        let mut url: reqwest::Url =
            format!("{}/attend/meetings/{meeting}/reconcile", app.local_url())
                .parse()
                .unwrap();
        url.query_pairs_mut()
            .append_pair("instance", &instance.uuid);
        let (status, body) = reliability_support::call(
            &http,
            reqwest::Method::POST,
            url.as_str(),
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(status, 202, "{body}");
    }
    // Wait until every instance is final.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for instance in &timeline.instances {
        loop {
            let a = attendance(&http, app.local_url(), meeting, &instance.uuid).await;
            if a["state"] == "final" {
                out.push(roster_essentials(&a));
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "instance {} not final: {}",
                instance.uuid,
                a["state"]
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    out
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(app: &RunningApp, sql: &'static str) -> i64 {
    app.lms()
        .store
        .with_conn(move |c| diesel::sql_query(sql).get_result::<Count>(c))
        .await
        .expect(sql)
        .n
}

/// Waits until no reconcile job is waiting or running (the Zoom calls are all made).
async fn wait_reconciles_finished(app: &RunningApp) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let unfinished = count(
            app,
            "SELECT COUNT(*) AS n FROM attend_jobs \
             WHERE kind = 'reconcile' AND state IN ('ready', 'running')",
        )
        .await;
        if unfinished == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{unfinished} reconcile jobs still unfinished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_match_one_instance_and_run_each_job_once() {
    let Some(pg) = postgres_url("reliability_instances") else {
        return;
    };
    const SHARED: &str = "attend_rel_two";
    const SINGLE: &str = "attend_rel_one";
    let shared_url = fresh_database(&pg, SHARED);
    let single_url = fresh_database(&pg, SINGLE);
    let http = client();

    // One instance: the reference.
    let sim1 = zoom().await;
    // One class time for both runs (whole seconds, as Zoom's times are).
    let class_start = DateTime::from_timestamp(Utc::now().timestamp() - 4 * 3600, 0).expect("time");
    let (zoom_id, students) = class(&sim1, class_start);
    let one = start(sim_config(&sim1, &single_url))
        .await
        .expect("single app");
    let one_meeting = setup_class(&http, one.local_url(), zoom_id, "two", &students).await;
    let timeline = play(&sim1, zoom_id, &students, class_start).await;
    for e in &timeline.events {
        assert_eq!(
            send_now(&http, &webhook_url(one.local_url()), &e.body).await,
            Some(200)
        );
    }
    wait_processed(&one, Duration::from_secs(60)).await;
    let expected = reconcile_and_read(&one, &one_meeting, &timeline).await;
    // The first pull to finish makes an instance final; the others may still be running.
    wait_reconciles_finished(&one).await;
    one.stop().await;

    // Two instances, another simulator with the same seed (same meeting and registrant ids).
    let sim2 = zoom().await;
    let (zoom_id2, _) = class(&sim2, class_start);
    assert_eq!(
        zoom_id2, zoom_id,
        "simulators with one seed give the same ids"
    );
    let a = start(sim_config(&sim2, &shared_url))
        .await
        .expect("instance A");
    let b = start(sim_config(&sim2, &shared_url))
        .await
        .expect("instance B");
    let meeting = setup_class(&http, a.local_url(), zoom_id, "two", &students).await;
    let timeline2 = play(&sim2, zoom_id, &students, class_start).await;
    assert_eq!(timeline2.events.len(), timeline.events.len());
    // Every delivery to both instances at the same time.
    let (url_a, url_b) = (webhook_url(a.local_url()), webhook_url(b.local_url()));
    for e in &timeline2.events {
        let (ra, rb) = tokio::join!(
            send_now(&http, &url_a, &e.body),
            send_now(&http, &url_b, &e.body)
        );
        assert_eq!((ra, rb), (Some(200), Some(200)));
    }
    wait_processed(&a, Duration::from_secs(60)).await;
    let got = reconcile_and_read(&b, &meeting, &timeline2).await;
    wait_reconciles_finished(&a).await;
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        for key in ["window", "unmatched"] {
            assert_eq!(g[key], e[key], "instance {i}: {key} differs");
        }
        let (gr, er) = (
            g["roster"].as_array().unwrap(),
            e["roster"].as_array().unwrap(),
        );
        assert_eq!(gr.len(), er.len(), "instance {i}: roster sizes differ");
        for (a, b) in gr.iter().zip(er) {
            assert_eq!(
                a, b,
                "instance {i}: two instances give another row than one"
            );
        }
    }

    // No job ran twice.
    let stats = sim2.sim().rate_limited();
    assert_eq!(
        stats.user_level, 0,
        "a registrant was added twice: {stats:?}"
    );
    assert_eq!(sim2.sim().registrants(zoom_id).len(), students.len());
    // The same Zoom calls as one instance (each instance fetches its own access token).
    let calls = |sim: &SimHandle| {
        let mut c = sim.sim().call_counts();
        c.remove(&Endpoint::OAuthToken);
        c
    };
    eprintln!(
        "Zoom calls: one instance {:?}, two instances {:?}",
        sim1.sim().call_counts(),
        sim2.sim().call_counts()
    );
    assert_eq!(
        calls(&sim2),
        calls(&sim1),
        "two instances made other Zoom calls than one"
    );
    // Per instance, two report pulls: the one `meeting.ended` scheduled (due at once, as the
    // class ended hours ago) and the one asked for; each pull is one reconcile job run once.
    let reconciles = count(
        &a,
        "SELECT COUNT(*) AS n FROM attend_jobs WHERE kind = 'reconcile' AND state = 'done'",
    )
    .await;
    assert_eq!(
        usize::try_from(reconciles).expect("count"),
        2 * timeline2.instances.len(),
        "one scheduled and one requested reconcile per instance"
    );
    assert_eq!(
        i64::try_from(sim2.sim().calls(Endpoint::ReportParticipants)).expect("count"),
        reconciles,
        "one report pull per reconcile job expected"
    );
    let webhooks = count(&a, "SELECT COUNT(*) AS n FROM attend_webhooks").await;
    let distinct = timeline2
        .events
        .iter()
        .map(|e| {
            attend_core::zoom::dedupe_key(e.body.as_bytes())
                .as_str()
                .to_owned()
        })
        .collect::<std::collections::HashSet<_>>()
        .len() as i64;
    assert_eq!(webhooks, distinct, "a delivery was stored twice");
    let processing_jobs = count(
        &a,
        "SELECT COUNT(*) AS n FROM attend_jobs WHERE kind = 'process_webhook'",
    )
    .await;
    assert!(
        processing_jobs <= webhooks,
        "{processing_jobs} processing jobs for {webhooks} deliveries"
    );
    let retried = count(
        &a,
        "SELECT COUNT(*) AS n FROM attend_jobs WHERE attempts > 1",
    )
    .await;
    assert_eq!(retried, 0, "a job was claimed more than once");
    a.stop().await;
    b.stop().await;
    sim1.stop().await;
    sim2.stop().await;
    drop_database(&pg, SHARED);
    drop_database(&pg, SINGLE);
}

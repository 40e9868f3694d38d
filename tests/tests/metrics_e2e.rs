//! The example app's `GET /metrics` page (Prometheus text) over HTTP: it counts what attend
//! did with webhooks (stored, duplicate, refused), the HTTP requests by route and status, the
//! worker's processing lag and its jobs, the SQLite checkpointer's rounds; it shows no secret;
//! an app configured without it does not serve it.
//!
//! A test binary of its own: the recorder is global to the process, so the counts below are
//! exact only while no other test records into it.

mod reliability_support;

use std::time::{Duration, Instant};

use attend_example::{Config, start};
use reliability_support::{
    WEBHOOK_SECRET, client, demo_config, send_now, send_signed, webhook_url,
};

/// The value of the sample `name` whose labels include every one of `labels`.
fn sample(page: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    page.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        let wanted = labels
            .iter()
            .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        (metric == name && wanted).then(|| value.parse().ok())?
    })
}

async fn page(http: &reqwest::Client, base: &str) -> String {
    let resp = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain"), "{kind}");
    resp.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_page_counts_webhooks_requests_and_processing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("metrics.sqlite").display());
    let mut config = demo_config(&db, false);
    config.metrics = true;
    let app = start(config).await.expect("start the app");
    let base = app.local_url().to_owned();
    let url = webhook_url(&base);
    let http = client();

    let body = format!(
        r#"{{"event":"meeting.started","event_ts":{},"payload":{{"account_id":"a","object":{{"id":"123","uuid":"metrics-test-uuid==","host_id":"h","topic":"t","type":2,"start_time":"2030-01-10T15:00:00Z","timezone":"UTC","duration":60}}}}}}"#,
        chrono::Utc::now().timestamp_millis()
    );
    assert_eq!(send_now(&http, &url, &body).await, Some(200));
    assert_eq!(send_now(&http, &url, &body).await, Some(200), "a duplicate");
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        send_signed(&http, &url, "not-the-secret", now, &body).await,
        Some(401)
    );

    // The worker processes the stored delivery shortly after.
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = page(&http, &base).await;
        let processed = sample(&text, "attend_webhook_processing_lag_seconds_count", &[]).is_some();
        let job_done = sample(
            &text,
            "attend_jobs_total",
            &[("kind", "process_webhook"), ("outcome", "done")],
        )
        .is_some();
        // The SQLite checkpointer's rounds (every 250 ms) are on the page too.
        let checkpointed = sample(
            &text,
            "attend_sqlite_checkpoint_seconds_count",
            &[("mode", "passive")],
        )
        .is_some_and(|rounds| rounds >= 1.0);
        if processed && job_done && checkpointed {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "nothing processed or checkpointed:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let webhooks = |outcome| sample(&text, "attend_webhooks_total", &[("outcome", outcome)]);
    assert_eq!(webhooks("stored"), Some(1.0), "{text}");
    assert_eq!(webhooks("duplicate"), Some(1.0), "{text}");
    assert_eq!(webhooks("bad_signature"), Some(1.0), "{text}");
    let requests = |status| {
        sample(
            &text,
            "attend_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/attend/webhooks/zoom"),
                ("status", status),
            ],
        )
    };
    assert_eq!(requests("200"), Some(2.0), "{text}");
    assert_eq!(requests("401"), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "attend_webhook_processing_lag_seconds_count", &[]),
        Some(1.0),
        "{text}"
    );
    // One processing job for the stored delivery (a duplicate gets none), done once.
    assert_eq!(
        sample(
            &text,
            "attend_jobs_total",
            &[("kind", "process_webhook"), ("outcome", "done")]
        ),
        Some(1.0),
        "{text}"
    );
    // The log holds at least the pages of the delivery and its job.
    assert!(
        sample(&text, "attend_sqlite_log_frames", &[]).is_some_and(|frames| frames >= 1.0),
        "{text}"
    );
    assert!(
        !text.contains(WEBHOOK_SECRET),
        "the webhook secret is on the page"
    );
    app.stop().await;

    // Off (the default with real Zoom, and for `Config::for_tests`): no page.
    let off = start(Config::for_tests(&db, false)).await.expect("start");
    let status = http
        .get(format!("{}/metrics", off.local_url()))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 404);
    off.stop().await;
}

//! Nothing secret in logs: every `tracing` event of a whole demo run (all crates, TRACE level)
//! is captured while the app starts (OAuth against the simulator with the client secret),
//! registers, receives a played class, refuses forged webhooks, serves API calls with good,
//! bad and expired bearer tokens, and opens genuine and tampered join links. Then the capture
//! and the `Debug` output of the app and its configuration must contain none of: the webhook
//! secret, the JWT secret, the Zoom client secret, any bearer or join token (any JWT at all).
//!
//! One test per file: the capturing subscriber is process-global.

mod reliability_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use attend_example::db::Role;
use attend_example::start;
use attend_zoom_sim::{DeliveryOptions, Scenario};
use reliability_support::{
    JWT_SECRET, WEBHOOK_SECRET, call, client, demo_config, send_now, send_signed, token,
    webhook_url,
};
use reqwest::Method;
use tracing_subscriber::EnvFilter;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_ever_reaches_the_logs() {
    let capture = Capture::default();
    let sink = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("trace"))
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("logs.sqlite").display());
    let config = demo_config(&db, true);
    let config_debug = format!("{config:?}");
    let app = start(config).await.expect("start the app");
    let info = app.demo_info().expect("demo data").clone();
    let sim = app.simulator().expect("simulator");
    let client_secret = sim.credentials().client_secret;
    let http = client();
    let base = format!("{}/attend", app.local_url());
    let admin = token("admin", Role::Admin, &[]);
    let student = token("s01", Role::Student, &["cs101"]);

    // A class, played by the simulator against the app (signed with the webhook secret).
    let emails: Vec<String> = sim
        .registrants(info.zoom_meeting_id as u64)
        .into_iter()
        .map(|r| r.email)
        .collect();
    let scenario = Scenario::typical_class(
        info.zoom_meeting_id as u64,
        &emails,
        chrono::Utc::now() - chrono::Duration::hours(2),
        3,
    );
    let outcome = sim
        .play(
            &scenario,
            &app.webhook_target().expect("webhook target"),
            &DeliveryOptions::default(),
        )
        .await
        .expect("play a class");
    assert!(outcome.report.all_acked());
    app.attend().drain().await.expect("process the class");

    // Refused webhooks: wrong secret, stale, url_validation with a bad signature.
    let url = webhook_url(app.local_url());
    let now = chrono::Utc::now().timestamp();
    let body = r#"{"event":"meeting.started","event_ts":1,"payload":{"account_id":"a","object":{"id":"1","uuid":"u=="}}}"#;
    assert_eq!(
        send_signed(&http, &url, "wrong-secret", now, body).await,
        Some(401)
    );
    assert_eq!(
        send_signed(&http, &url, WEBHOOK_SECRET, now - 900, body).await,
        Some(401)
    );
    let validation =
        r#"{"payload":{"plainToken":"plain123"},"event_ts":1,"event":"endpoint.url_validation"}"#;
    assert_eq!(send_now(&http, &url, validation).await, Some(200));
    assert_eq!(
        send_signed(&http, &url, "bad", now, validation).await,
        Some(401)
    );

    // API calls: allowed, forbidden, bad and expired tokens.
    let m = &info.meeting_id;
    let (status, regs) = call(
        &http,
        Method::GET,
        &format!("{base}/meetings/{m}/registrations"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let get = |path: String, t: Option<String>| {
        let http = http.clone();
        async move { call(&http, Method::GET, &path, t.as_deref(), None).await.0 }
    };
    assert_eq!(
        get(
            format!("{base}/meetings/{m}/attendance"),
            Some(admin.clone())
        )
        .await,
        200
    );
    assert_eq!(
        get(
            format!("{base}/meetings/{m}/attendance"),
            Some(student.clone())
        )
        .await,
        403
    );
    assert_eq!(
        get(
            format!("{base}/meetings/{m}/attendance"),
            Some(format!("{admin}x"))
        )
        .await,
        401
    );
    let expired = {
        let tokens = attend_example::auth::Tokens::new(JWT_SECRET.as_bytes());
        let user = attend_example::db::User {
            id: "admin".into(),
            email: None,
            name: "Admin".into(),
            role: Role::Admin,
        };
        tokens
            .issue(&user, Vec::new(), chrono::Duration::hours(-2))
            .unwrap()
            .token
    };
    assert_eq!(
        get(
            format!("{base}/meetings/{m}/attendance"),
            Some(expired.clone())
        )
        .await,
        401
    );
    assert_eq!(
        get(
            format!("{base}/meetings/{m}/attendance.csv"),
            Some(admin.clone())
        )
        .await,
        200
    );
    assert_eq!(
        get(format!("{base}/no/such/route"), Some(admin.clone())).await,
        404
    );

    // Join links: genuine (302) and tampered (401), as a browser would open them.
    let links: Vec<String> = regs["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["join_link"].as_str().map(str::to_owned))
        .collect();
    assert!(!links.is_empty());
    let join_tokens: Vec<String> = links
        .iter()
        .map(|l| l.rsplit('/').next().unwrap().to_owned())
        .collect();
    for link in links.iter().take(3) {
        let r = http.get(link).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 302);
        let r = http
            .get(format!("{link}x"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    // The demo's own printed-guide data (`DemoInfo`) is checked by its own test below.
    let app_debug = format!("{app:?}").replace(&format!("{:?}", app.demo_info()), "<demo info>");
    app.stop().await;

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(
        logs.lines().count() > 50,
        "the capture caught almost nothing ({} lines): is tracing wired?",
        logs.lines().count()
    );
    let mut secrets: Vec<(&str, String)> = vec![
        ("webhook secret", WEBHOOK_SECRET.to_owned()),
        ("JWT secret", JWT_SECRET.to_owned()),
        ("Zoom client secret", client_secret),
        ("admin bearer token", admin),
        ("student bearer token", student),
        ("expired bearer token", expired),
    ];
    for t in join_tokens {
        secrets.push(("join token", t));
    }
    for (what, value) in &secrets {
        for (place, text) in [
            ("the logs", &logs),
            ("Debug of the config", &config_debug),
            ("Debug of the running app", &app_debug),
        ] {
            assert!(
                !text.contains(value.as_str()),
                "{what} appears in {place}: …{}…",
                context(text, value)
            );
        }
    }
    // No JWT of any kind (`eyJ…` is the base64 of `{"`).
    for (place, text) in [
        ("the logs", &logs),
        ("Debug of the running app", &app_debug),
    ] {
        assert!(
            !text.contains("eyJ"),
            "a JWT appears in {place}: …{}…",
            context(text, "eyJ")
        );
    }
    eprintln!(
        "captured {} log lines ({} bytes); none holds a secret",
        logs.lines().count(),
        logs.len()
    );
}

fn context(text: &str, needle: &str) -> String {
    let i = text.find(needle).unwrap_or(0);
    let start = text[..i].char_indices().rev().nth(80).map_or(0, |(j, _)| j);
    text[start..].chars().take(200).collect()
}

/// `DemoInfo` carries the demo's bearer tokens and a join link; its `Debug` (and so that of
/// the `RunningApp` holding it) must not show them.
#[test]
fn demo_info_debug_redacts_its_tokens() {
    let info = attend_example::demo::DemoInfo {
        course_id: "cs101".into(),
        meeting_id: "m".into(),
        zoom_meeting_id: 1,
        instructor_name: "Ada".into(),
        instructor_token: "eyJ-instructor-token".into(),
        student_name: "Amara".into(),
        student_token: "eyJ-student-token".into(),
        student_join_link: "http://127.0.0.1/attend/join/eyJ-join-token".into(),
        registered: 30,
    };
    let text = format!("{info:?}");
    assert!(!text.contains("eyJ"), "{text}");
    assert!(
        text.contains("cs101") && text.contains("[redacted]"),
        "{text}"
    );
}

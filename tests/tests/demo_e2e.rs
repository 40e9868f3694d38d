//! The demo a newcomer runs first (`cargo run -p attend-example`), end to end over HTTP:
//! demo data, the pages, a simulated class, and a restart on the same SQLite file (nothing
//! duplicated, tokens and links still valid, the simulator holding the same meeting and
//! registrants).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use attend_example::Config;
use serde_json::Value;

async fn get(http: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> Value {
    let (status, body) = get(http, url, Some(token)).await;
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
}

async fn dev_token(http: &reqwest::Client, base: &str, user: &str) -> String {
    let (status, body) = get(http, &format!("{base}/lms/dev/token?user={user}"), None).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    v["token"].as_str().expect("token").to_owned()
}

/// A demo config on `url` that keeps its secrets in the database (as `cargo run` does).
fn demo_config(url: &str) -> Config {
    let mut cfg = Config::for_tests(url, true);
    cfg.jwt_secret = None;
    cfg.webhook_secret = None;
    cfg
}

async fn wait_final(http: &reqwest::Client, base: &str, meeting: &str, token: &str, n: usize) {
    let end = Instant::now() + Duration::from_secs(90);
    loop {
        let v = get_json(
            http,
            &format!("{base}/attend/meetings/{meeting}/instances"),
            token,
        )
        .await;
        let list = v["instances"].as_array().cloned().unwrap_or_default();
        if list.len() == n && list.iter().all(|i| i["state"] == "final") {
            return;
        }
        assert!(Instant::now() < end, "instances never became final: {v}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_works_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("demo.sqlite").display());
    let http = reqwest::Client::new();

    // --- first start
    let app = attend_example::start(demo_config(&url))
        .await
        .expect("demo starts");
    let base = app.local_url().to_owned();
    let info = app.demo_info().expect("demo data").clone();
    assert_eq!(info.course_id, "cs101");
    assert_eq!(info.registered, 30, "the whole class is registered");
    let guide = app.guide();
    for needle in [
        "/lms/courses/cs101/attendance",
        "/attend/openapi.json",
        "/attend/docs/",
        "curl -X POST",
        "/lms/dev/play-class",
        "export TOKEN=",
        "export STUDENT_TOKEN=",
        "ATTEND_JWT_SECRET=",
    ] {
        assert!(
            guide.contains(needle),
            "the guide mentions {needle}:\n{guide}"
        );
    }

    // The pages and their assets are served by the app itself.
    let (status, html) = get(&http, &format!("{base}/lms/courses/cs101/attendance"), None).await;
    assert_eq!(status, 200);
    assert!(html.contains("/lms/assets/attendance.js") && html.contains("\"course_id\":\"cs101\""));
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "no external resource"
    );
    for asset in ["attendance.js", "attendance.css"] {
        let (status, body) = get(&http, &format!("{base}/lms/assets/{asset}"), None).await;
        assert_eq!(status, 200);
        assert!(
            !body.contains("https://"),
            "{asset} loads nothing from elsewhere"
        );
    }
    let (status, index) = get(&http, &format!("{base}/"), None).await;
    assert_eq!(status, 200);
    assert!(index.contains("CS 101"));
    let (status, spec) = get(&http, &format!("{base}/attend/openapi.json"), None).await;
    assert_eq!(status, 200);
    assert!(
        spec.contains("\"openapi\":\"3.1"),
        "{}",
        &spec[..spec.len().min(80)]
    );
    let (status, _) = get(&http, &format!("{base}/attend/docs/"), None).await;
    assert_eq!(status, 200, "Swagger UI");

    // The instructor's token works for the LMS and for attend; a student's does not read rosters.
    let teacher = dev_token(&http, &base, "t-ada").await;
    let course = get_json(&http, &format!("{base}/lms/courses/cs101"), &teacher).await;
    assert_eq!(course["students"].as_array().map(Vec::len), Some(30));
    let student = dev_token(&http, &base, "s02").await;
    let (status, _) = get(
        &http,
        &format!("{base}/attend/meetings/{}/attendance", info.meeting_id),
        Some(&student),
    )
    .await;
    assert_eq!(status, 403);

    // --- a simulated class, as fast as possible
    let res = http
        .post(format!("{base}/lms/dev/play-class?pace=0&seed=11"))
        .send()
        .await
        .expect("play");
    assert_eq!(res.status().as_u16(), 202);
    let play: Value = res.json().await.expect("json");
    let cast = play["cast"].as_array().expect("cast").clone();
    wait_final(&http, &base, &info.meeting_id, &teacher, 2).await;
    let att = get_json(
        &http,
        &format!("{base}/attend/meetings/{}/attendance", info.meeting_id),
        &teacher,
    )
    .await;
    let status_of: BTreeMap<String, String> = att["roster"]
        .as_array()
        .expect("roster")
        .iter()
        .map(|r| {
            (
                r["user_id"].as_str().unwrap_or("").to_owned(),
                r["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    // What the simulator's typical class has these people do (see Scenario::typical_class)
    // and the status it earns over both sessions (58 minutes in all, late after 5 minutes,
    // left early before +55:00).
    for (label, want) in [
        ("late joiner", "late"),                       // first join +12:00
        ("early leaver", "left_early"),                // gone at +54:00
        ("partial", "partial"),                        // only from +50:30
        ("absent", "absent"),                          // never there
        ("waiting room, never admitted", "absent"),    // waiting room is not presence
        ("leaves from a breakout room", "left_early"), // gone at +46:00
        ("two devices", "present"),                    // union, not sum
    ] {
        let who = cast
            .iter()
            .find(|c| c["label"] == label)
            .unwrap_or_else(|| panic!("no {label} in the cast"));
        let id = who["user_id"].as_str().expect("a student");
        assert_eq!(status_of[id], want, "{label} ({id})");
    }
    assert_eq!(att["summary"]["unmatched"], 2, "the two guests");
    let first_token = info.instructor_token.clone();
    app.stop().await;

    // --- restart on the same file: nothing duplicated, everything still works
    let app = attend_example::start(demo_config(&url))
        .await
        .expect("demo restarts");
    let base = app.local_url().to_owned();
    let again = app.demo_info().expect("demo data").clone();
    assert_eq!(again.meeting_id, info.meeting_id, "the same meeting");
    assert_eq!(
        again.zoom_meeting_id, info.zoom_meeting_id,
        "the same Zoom meeting"
    );
    assert_eq!(again.registered, 30);
    // A token from the first run is still accepted (the secret is kept in the database).
    let meetings = get_json(
        &http,
        &format!("{base}/attend/meetings?group=cs101"),
        &first_token,
    )
    .await;
    assert_eq!(
        meetings["meetings"].as_array().map(Vec::len),
        Some(1),
        "no second meeting"
    );
    let admin = dev_token(&http, &base, "admin").await;
    let users = get_json(&http, &format!("{base}/lms/users"), &admin).await;
    assert_eq!(
        users["users"].as_array().map(Vec::len),
        Some(32),
        "30 students, 1 instructor, 1 admin"
    );
    let instances = get_json(
        &http,
        &format!("{base}/attend/meetings/{}/instances", info.meeting_id),
        &first_token,
    )
    .await;
    assert_eq!(
        instances["instances"].as_array().map(Vec::len),
        Some(2),
        "history kept"
    );
    // The simulator holds the registrants attend knows, with the same ids.
    let regs = get_json(
        &http,
        &format!("{base}/attend/meetings/{}/registrations", info.meeting_id),
        &first_token,
    )
    .await;
    let stored: BTreeSet<String> = regs["registrations"]
        .as_array()
        .expect("registrations")
        .iter()
        .filter_map(|r| r["registrant_id"].as_str().map(str::to_owned))
        .collect();
    let sim = app.simulator().expect("simulator");
    let live: BTreeSet<String> = sim
        .registrants(info.zoom_meeting_id as u64)
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(stored.len(), 30);
    assert_eq!(
        stored, live,
        "the restarted simulator has the same registrants"
    );
    // And a second class plays on the restarted app.
    let res = http
        .post(format!("{base}/lms/dev/play-class?pace=0&seed=12"))
        .send()
        .await
        .expect("play");
    assert_eq!(res.status().as_u16(), 202);
    wait_final(&http, &base, &info.meeting_id, &first_token, 4).await;
    app.stop().await;
}

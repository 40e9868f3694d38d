//! Security checks against the example app (demo mode, SQLite, in-process):
//!
//! * webhooks: forged, unsigned, malformed, stale, future-dated and replayed deliveries are
//!   refused with 401 and store nothing; a replay inside the window is stored once;
//! * authorization: a role × route table generated from the served OpenAPI document (a
//!   route missing from the table fails the test), every denial enforced;
//! * students cannot read other students' data or manage meetings;
//! * join tokens cannot be altered, re-targeted at another user or meeting, or swapped with
//!   bearer tokens.

mod reliability_support;

use std::collections::BTreeMap;

use attend_core::join_token::{JoinTokens, JwtSecret};
use attend_core::model::{MeetingId, UserId};
use attend_example::db::Role;
use attend_example::start;
use base64::Engine as _;
use reliability_support::{
    JWT_SECRET, WEBHOOK_SECRET, call, client, demo_config, send_signed, token, webhook_statuses,
    webhook_url,
};
use reqwest::Method;
use serde_json::{Value, json};

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    Anonymous,
    Garbage,
    /// A student registered for the meeting (s01); the `{user_id}` of the table is another
    /// student (s02).
    Student,
    /// A student with no registration (not in the course).
    Outsider,
    /// An instructor of another course.
    OtherInstructor,
    /// The course's instructor.
    Instructor,
    Admin,
}

const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::Garbage,
    Caller::Student,
    Caller::Outsider,
    Caller::OtherInstructor,
    Caller::Instructor,
    Caller::Admin,
];

/// Who a route lets in (for the concrete request the table sends).
fn allowed(method: &str, path: &str) -> Option<&'static [Caller]> {
    use Caller::*;
    const ALL: &[Caller] = &CALLERS;
    const STAFF: &[Caller] = &[Instructor, Admin];
    Some(match (method, path) {
        ("get", "/openapi.json") => ALL,
        // Authenticated by Zoom's signature only: a bearer token is no signature.
        ("post", "/webhooks/zoom") => &[],
        // Authenticated by the token in the path; the table sends a junk token.
        ("get", "/join/{token}") => &[],
        ("get", "/meetings") => &[OtherInstructor, Instructor, Admin],
        ("get", "/meetings/{id}") => &[Student, Instructor, Admin],
        // `{user_id}` is another student: only staff may read it.
        ("get", "/users/{user_id}/attendance") => &[OtherInstructor, Instructor, Admin],
        ("delete", "/users/{user_id}") => &[Admin],
        ("post", "/meetings")
        | ("patch", "/meetings/{id}")
        | ("post", "/meetings/{id}/registrations")
        | ("get", "/meetings/{id}/registrations")
        | ("delete", "/meetings/{id}/registrations/{user_id}")
        | ("get", "/meetings/{id}/join-link")
        | ("get", "/meetings/{id}/instances")
        | ("get", "/meetings/{id}/attendance")
        | ("get", "/meetings/{id}/attendance.csv")
        | ("get", "/meetings/{id}/live")
        | ("get", "/meetings/{id}/unmatched")
        | ("post", "/meetings/{id}/unmatched/{participant_key}/link")
        | ("post", "/meetings/{id}/reconcile") => STAFF,
        _ => return None,
    })
}

fn body_for(method: &str, path: &str, zoom_meeting_id: i64) -> Option<Value> {
    match (method, path) {
        ("post", "/meetings") => Some(json!({
            "group": "cs101", "kind": "meeting", "zoom_meeting_id": zoom_meeting_id
        })),
        ("patch", "/meetings/{id}") => Some(json!({ "restrict_to_registered": false })),
        ("post", "/meetings/{id}/registrations") => Some(json!({ "user_ids": ["s02"] })),
        ("post", "/meetings/{id}/unmatched/{participant_key}/link") => {
            Some(json!({ "user_id": "s02" }))
        }
        ("post", "/webhooks/zoom") => Some(json!({ "event": "meeting.started" })),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_by_route_table_is_enforced_for_every_served_route() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("sec.sqlite").display());
    let app = start(demo_config(&db, true)).await.expect("start the app");
    let info = app.demo_info().expect("demo data").clone();
    let base = format!("{}/attend", app.local_url());
    let http = client();

    let tokens: BTreeMap<Caller, Option<String>> = [
        (Caller::Anonymous, None),
        (Caller::Garbage, Some("not.a.jwt".to_owned())),
        (
            Caller::Student,
            Some(token("s01", Role::Student, &["cs101"])),
        ),
        (
            Caller::Outsider,
            Some(token("x-outsider", Role::Student, &[])),
        ),
        (
            Caller::OtherInstructor,
            Some(token("t-other", Role::Instructor, &["other-course"])),
        ),
        (
            Caller::Instructor,
            Some(token("t-ada", Role::Instructor, &["cs101"])),
        ),
        (Caller::Admin, Some(token("admin", Role::Admin, &[]))),
    ]
    .into_iter()
    .collect();

    // The route list comes from the served document: a new route must be classified here.
    let (status, doc) = call(
        &http,
        Method::GET,
        &format!("{base}/openapi.json"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                routes.push((method.to_owned(), path.clone()));
            }
        }
    }
    let unclassified: Vec<_> = routes
        .iter()
        .filter(|(m, p)| allowed(m, p).is_none())
        .collect();
    assert!(
        unclassified.is_empty(),
        "routes without an access rule in this table: {unclassified:?}"
    );
    assert!(routes.len() >= 19, "only {} routes served", routes.len());

    // Destructive routes last, so that earlier rows still see the data.
    routes.sort_by_key(|(m, p)| (m == "delete", p.clone(), m.clone()));
    let mut table: Vec<String> = Vec::new();
    let mut violations = Vec::new();
    for (method, path) in &routes {
        let allowed = allowed(method, path).unwrap_or_default();
        let concrete = path
            .replace("{id}", &info.meeting_id)
            .replace("{user_id}", "s02")
            .replace("{participant_key}", "no-such-participant")
            .replace("{token}", "junk-token");
        let query = if path == "/meetings/{id}/join-link" {
            "?user_id=s02"
        } else {
            ""
        };
        let url = format!("{base}{concrete}{query}");
        let body = body_for(method, path, info.zoom_meeting_id);
        let mut row = format!("{:<6} {:<52}", method.to_uppercase(), path);
        // Denied callers first: the allowed ones may change data.
        let mut order = CALLERS.to_vec();
        order.sort_by_key(|c| allowed.contains(c));
        let mut results = BTreeMap::new();
        for caller in order {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, answer) =
                call(&http, m, &url, tokens[&caller].as_deref(), body.as_ref()).await;
            results.insert(caller, status);
            let ok = if allowed.contains(&caller) {
                status != 401 && status != 403 && status < 500
            } else {
                matches!(status, 401 | 403)
            };
            if !ok {
                violations.push(format!(
                    "{} {path} as {caller:?}: {status} {answer}",
                    method.to_uppercase()
                ));
            }
        }
        for (caller, status) in &results {
            row.push_str(&format!(" {caller:?}={status}"));
        }
        table.push(row);
    }
    eprintln!("role × route (status per caller):\n{}", table.join("\n"));
    assert!(
        violations.is_empty(),
        "access violations:\n{}",
        violations.join("\n")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn students_see_only_their_own_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("students.sqlite").display());
    let app = start(demo_config(&db, true)).await.expect("start the app");
    let info = app.demo_info().expect("demo data").clone();
    let base = format!("{}/attend", app.local_url());
    let http = client();
    let s01 = token("s01", Role::Student, &["cs101"]);
    let get = |url: String, t: &str| {
        let http = http.clone();
        let t = t.to_owned();
        async move { call(&http, Method::GET, &url, Some(&t), None).await }
    };
    let m = &info.meeting_id;

    // Own data: allowed.
    assert_eq!(
        get(format!("{base}/users/s01/attendance"), &s01).await.0,
        200
    );
    let (status, own_link) = get(format!("{base}/meetings/{m}/join-link"), &s01).await;
    assert_eq!(status, 200, "{own_link}");
    assert_eq!(
        get(format!("{base}/meetings/{m}/join-link?user_id=s01"), &s01)
            .await
            .0,
        200
    );
    // Someone else's: 403, never 404 and never their data.
    for url in [
        format!("{base}/users/s02/attendance"),
        format!("{base}/meetings/{m}/join-link?user_id=s02"),
        format!("{base}/meetings/{m}/registrations"),
        format!("{base}/meetings/{m}/attendance"),
        format!("{base}/meetings/{m}/attendance.csv"),
        format!("{base}/meetings/{m}/unmatched"),
        format!("{base}/meetings/{m}/live"),
    ] {
        let (status, body) = get(url.clone(), &s01).await;
        assert_eq!(status, 403, "{url}: {body}");
        assert!(
            !body.to_string().contains("s02@"),
            "{url} leaked data: {body}"
        );
    }
    // Managing meetings: 403 for a student, even with the course in the token.
    let (status, _) = call(
        &http,
        Method::POST,
        &format!("{base}/meetings/{m}/registrations"),
        Some(&s01),
        Some(&json!({"user_ids": ["s01", "s02"]})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &http,
        Method::DELETE,
        &format!("{base}/meetings/{m}/registrations/s02"),
        Some(&s01),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &http,
        Method::DELETE,
        &format!("{base}/users/s02"),
        Some(&s01),
        None,
    )
    .await;
    assert_eq!(status, 403);
    // After a class, an instructor of another course sees none of this course's records
    // of a student (the admin does).
    let sim = app.simulator().expect("simulator");
    let emails: Vec<String> = sim
        .registrants(info.zoom_meeting_id as u64)
        .into_iter()
        .map(|r| r.email)
        .collect();
    let scenario = attend_zoom_sim::Scenario::typical_class(
        info.zoom_meeting_id as u64,
        &emails,
        chrono::Utc::now() - chrono::Duration::hours(2),
        5,
    );
    let played = sim
        .play(
            &scenario,
            &app.webhook_target().expect("target"),
            &attend_zoom_sim::DeliveryOptions::default(),
        )
        .await
        .expect("play");
    assert!(played.report.all_acked());
    app.attend().drain().await.expect("drain");
    let records_of = |t: String| {
        let http = http.clone();
        let url = format!("{base}/users/s02/attendance");
        async move {
            let (status, body) = call(&http, Method::GET, &url, Some(&t), None).await;
            let mine = body["records"]
                .as_array()
                .map(|r| r.iter().filter(|x| x["meeting_id"] == m.as_str()).count())
                .unwrap_or(0);
            (status, mine)
        }
    };
    let (status, admin_sees) = records_of(token("admin", Role::Admin, &[])).await;
    assert_eq!(status, 200);
    assert!(admin_sees > 0, "the class left no record for s02");
    let (status, other_sees) =
        records_of(token("t-other", Role::Instructor, &["other-course"])).await;
    assert!(
        status == 403 || (status == 200 && other_sees == 0),
        "an instructor of another course read s02's cs101 records ({status}, {other_sees} records)"
    );
    // A student token whose groups claim another course still reads nothing of it.
    let forged_groups = token("s01", Role::Student, &["cs101", "other-course"]);
    assert_eq!(
        get(format!("{base}/meetings/{m}/attendance"), &forged_groups)
            .await
            .0,
        403
    );
    app.stop().await;
}

/// Rewrites the claims segment of a JWT, keeping header and signature.
fn with_claims(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    edit(&mut claims);
    let payload = engine.encode(serde_json::to_vec(&claims).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_tokens_cannot_be_altered_or_retargeted() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("join.sqlite").display());
    let app = start(demo_config(&db, true)).await.expect("start the app");
    let info = app.demo_info().expect("demo data").clone();
    let base = format!("{}/attend", app.local_url());
    let http = client();
    let admin = token("admin", Role::Admin, &[]);
    let (status, regs) = call(
        &http,
        Method::GET,
        &format!("{base}/meetings/{}/registrations", info.meeting_id),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let zoom_url_of = |user: &str| -> String {
        let regs = regs["registrations"].as_array().unwrap();
        let r = regs.iter().find(|r| r["user_id"] == user).unwrap();
        r["join_link"].as_str().unwrap().to_owned()
    };
    let link = zoom_url_of("s01");
    let token_s01 = link.rsplit('/').next().unwrap().to_owned();
    let open = |t: String| {
        let http = http.clone();
        let url = format!("{base}/join/{t}");
        async move {
            let r = http.get(&url).send().await.unwrap();
            let loc = r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), loc)
        }
    };

    // The genuine link redirects to s01's own Zoom URL, and only that.
    let (status, location) = open(token_s01.clone()).await;
    assert_eq!(status, 302);
    let location = location.unwrap();
    let (s02_status, s02_location) =
        open(zoom_url_of("s02").rsplit('/').next().unwrap().to_owned()).await;
    assert_eq!(s02_status, 302);
    assert_ne!(
        Some(location.clone()),
        s02_location,
        "two users share a Zoom link"
    );

    // Altered claims (other user, other meeting, later expiry) with the old signature: 401.
    for edit in [
        Box::new(|c: &mut Value| c["sub"] = json!("s02")) as Box<dyn FnOnce(&mut Value)>,
        Box::new(|c: &mut Value| c["mtg"] = json!("some-other-meeting")),
        Box::new(|c: &mut Value| c["exp"] = json!(4_102_444_800i64)),
    ] {
        let altered = with_claims(&token_s01, edit);
        assert_eq!(open(altered).await.0, 401);
    }
    // A flipped signature character, a truncated token, another key: 401.
    let mut flipped = token_s01.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(open(String::from_utf8(flipped).unwrap()).await.0, 401);
    assert_eq!(
        open(token_s01[..token_s01.len() - 5].to_owned()).await.0,
        401
    );
    let other_key =
        JoinTokens::new(&JwtSecret::new(b"another-secret-another-secret-0123".to_vec()).unwrap());
    let (foreign, _) = other_key
        .issue(
            &UserId::from("s01"),
            &MeetingId::from(info.meeting_id.as_str()),
            chrono::Duration::hours(1),
        )
        .unwrap();
    assert_eq!(open(foreign).await.0, 401);
    // Our key, but expired: 410, not a redirect.
    let ours = JoinTokens::new(&JwtSecret::new(JWT_SECRET.as_bytes().to_vec()).unwrap());
    let (expired, _) = ours
        .issue_at(
            &UserId::from("s01"),
            &MeetingId::from(info.meeting_id.as_str()),
            chrono::Utc::now() - chrono::Duration::hours(3),
            chrono::Duration::hours(1),
        )
        .unwrap();
    assert_eq!(open(expired).await.0, 410);
    // A token of another meeting cannot open this meeting's link (it names its own
    // meeting; an unknown one is refused).
    let (elsewhere, _) = ours
        .issue(
            &UserId::from("s01"),
            &MeetingId::from("no-such-meeting"),
            chrono::Duration::hours(1),
        )
        .unwrap();
    let (status, loc) = open(elsewhere).await;
    assert!(matches!(status, 403 | 404), "{status} {loc:?}");
    assert_ne!(loc.as_deref(), Some(location.as_str()));
    // Bearer tokens are not join tokens, and join tokens are not bearer tokens.
    assert_eq!(open(admin.clone()).await.0, 401);
    let (status, _) = call(
        &http,
        Method::GET,
        &format!("{base}/meetings/{}/attendance", info.meeting_id),
        Some(&token_s01),
        None,
    )
    .await;
    assert_eq!(status, 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_and_stale_webhooks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hooks.sqlite").display());
    let app = start(demo_config(&db, true)).await.expect("start the app");
    let url = webhook_url(app.local_url());
    let http = client();
    let now = chrono::Utc::now().timestamp();
    let body = format!(
        r#"{{"event":"meeting.started","event_ts":{},"payload":{{"account_id":"a","object":{{"id":"123","uuid":"sec-test-uuid==","host_id":"h","topic":"t","type":2,"start_time":"2030-01-10T15:00:00Z","timezone":"UTC","duration":60}}}}}}"#,
        now * 1000
    );
    let before: i64 = webhook_statuses(&app).await.values().sum();

    // Refused: wrong secret, stale (captured 6 min ago and replayed), future, no headers,
    // malformed, signature of another body, old signature with a fresh timestamp.
    assert_eq!(
        send_signed(&http, &url, "not-the-secret", now, &body).await,
        Some(401)
    );
    assert_eq!(
        send_signed(&http, &url, WEBHOOK_SECRET, now - 360, &body).await,
        Some(401)
    );
    assert_eq!(
        send_signed(&http, &url, WEBHOOK_SECRET, now + 360, &body).await,
        Some(401)
    );
    let raw = |headers: Vec<(&'static str, String)>, b: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let mut req = http
                .post(&url)
                .header("content-type", "application/json")
                .body(b);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(raw(vec![], body.clone()).await, 401);
    assert_eq!(
        raw(
            vec![
                ("x-zm-request-timestamp", now.to_string()),
                ("x-zm-signature", "v0=nothex".to_owned())
            ],
            body.clone()
        )
        .await,
        401
    );
    let sig_a = attend_zoom_sim::sign(WEBHOOK_SECRET, &now.to_string(), body.as_bytes());
    let other_body = body.replace("sec-test-uuid", "sec-test-other");
    assert_eq!(
        raw(
            vec![
                ("x-zm-request-timestamp", now.to_string()),
                ("x-zm-signature", sig_a.clone())
            ],
            other_body
        )
        .await,
        401
    );
    let old_ts = now - 120;
    let old_sig = attend_zoom_sim::sign(WEBHOOK_SECRET, &old_ts.to_string(), body.as_bytes());
    assert_eq!(
        raw(
            vec![
                ("x-zm-request-timestamp", now.to_string()),
                ("x-zm-signature", old_sig)
            ],
            body.clone()
        )
        .await,
        401
    );
    // url_validation with a bad signature: 401, no token echoed.
    let validation =
        r#"{"payload":{"plainToken":"abc"},"event_ts":1,"event":"endpoint.url_validation"}"#;
    assert_eq!(
        send_signed(&http, &url, "wrong", now, validation).await,
        Some(401)
    );
    let after_refusals: i64 = webhook_statuses(&app).await.values().sum();
    assert_eq!(after_refusals, before, "a refused delivery was stored");

    // A genuine delivery, then the identical request replayed inside the window: both 200,
    // stored once.
    let headers = vec![
        ("x-zm-request-timestamp", now.to_string()),
        ("x-zm-signature", sig_a),
    ];
    assert_eq!(raw(headers.clone(), body.clone()).await, 200);
    assert_eq!(raw(headers, body.clone()).await, 200);
    let after: i64 = webhook_statuses(&app).await.values().sum();
    assert_eq!(after, before + 1, "a replay was stored twice");
    app.stop().await;
}

//! The example LMS's own routes over HTTP: who may do what, the error envelope, and what
//! exists only in demo mode.

use attend_example::config::{Mode, RealZoom, Secret, ZoomCredentials};
use attend_example::{Config, RunningApp};
use serde_json::{Value, json};

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = http.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn dev_token(http: &reqwest::Client, base: &str, user: &str) -> String {
    let (status, v) = call(
        http,
        reqwest::Method::GET,
        &format!("{base}/lms/dev/token?user={user}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v["token"].as_str().expect("token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lms_routes_check_who_calls_and_answer_in_attends_error_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("lms.sqlite").display());
    let app: RunningApp = attend_example::start(Config::for_tests(url, true))
        .await
        .expect("starts");
    let base = app.local_url().to_owned();
    let http = reqwest::Client::new();
    let users = format!("{base}/lms/users");
    let new_user = r#"{"id":"x1","email":"x1@school.example","name":"X One","role":"student"}"#;

    // No token: 401 in attend's envelope.
    let (status, v) = call(&http, reqwest::Method::POST, &users, None, Some(new_user)).await;
    assert_eq!(status, 401);
    assert_eq!(v["error"]["code"], "missing_credentials", "{v}");
    // A token signed with another secret.
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        &users,
        Some("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"),
        Some(new_user),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(v["error"]["code"], "invalid_token");

    // A student may not create users or read a course's roster.
    let student = dev_token(&http, &base, "s03").await;
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        &users,
        Some(&student),
        Some(new_user),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(v["error"]["code"], "forbidden");
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/lms/courses/cs101"),
        Some(&student),
        None,
    )
    .await;
    assert_eq!(status, 403);
    // A student sees only their own courses.
    let (status, v) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/lms/courses"),
        Some(&student),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["courses"].as_array().map(Vec::len), Some(1));

    // The admin: bad input is refused with a clear code, good input creates (201) then
    // updates (200).
    let admin = dev_token(&http, &base, "admin").await;
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        &users,
        Some(&admin),
        Some("{not json"),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "malformed_json");
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        &users,
        Some(&admin),
        Some(r#"{"id":"x1","name":"X","role":"teacher"}"#),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["code"], "invalid_value");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("role")
    );
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        &users,
        Some(&admin),
        Some(new_user),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["role"], "student");
    let (status, _) = call(
        &http,
        reqwest::Method::POST,
        &users,
        Some(&admin),
        Some(new_user),
    )
    .await;
    assert_eq!(status, 200);

    // Courses need an instructor who exists and is not a student.
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/lms/courses"),
        Some(&admin),
        Some(&json!({"id": "c2", "title": "C2", "instructor_id": "s03"}).to_string()),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    // Enrolling someone who is not a student is refused, and nothing is half-done.
    let teacher = dev_token(&http, &base, "t-ada").await;
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/lms/courses/cs101/enrollments"),
        Some(&teacher),
        Some(r#"{"user_ids":["x1","admin"]}"#),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    let (_, course) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/lms/courses/cs101"),
        Some(&teacher),
        None,
    )
    .await;
    assert_eq!(course["students"].as_array().map(Vec::len), Some(30));
    // Enrolling a new student registers them for the course's meeting at once.
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/lms/courses/cs101/enrollments"),
        Some(&teacher),
        Some(r#"{"user_ids":["x1"]}"#),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["enrolled"], json!(["x1"]));
    assert_eq!(v["registrations"][0]["registered"], 1, "{v}");
    let (status, _) = call(
        &http,
        reqwest::Method::DELETE,
        &format!("{base}/lms/courses/cs101/enrollments/x1"),
        Some(&teacher),
        None,
    )
    .await;
    assert_eq!(status, 204);

    // Unknown things are 404s.
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/lms/dev/token?user=nobody"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/lms/dev/play-class?course=nope"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/lms/courses/nope/attendance"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_mode_has_no_demo_routes_and_no_demo_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = Config::for_tests(
        format!("sqlite://{}", dir.path().join("real.sqlite").display()),
        true,
    );
    // Credentials for a Zoom that is never called: starting does not contact Zoom.
    cfg.mode = Mode::Real(Box::new(RealZoom {
        credentials: ZoomCredentials {
            account_id: "acc".into(),
            client_id: "cid".into(),
            client_secret: Secret::new("csecret"),
        },
        api_base: "http://127.0.0.1:9/v2".parse().expect("url"),
        oauth_url: "http://127.0.0.1:9/oauth/token".parse().expect("url"),
    }));
    let app = attend_example::start(cfg).await.expect("starts");
    assert!(app.demo_info().is_none() && app.simulator().is_none());
    let guide = app.guide();
    assert!(guide.contains("/attend/webhooks/zoom"), "{guide}");
    assert!(
        guide.contains("ATTEND_PUBLIC_URL"),
        "warns about a local public URL: {guide}"
    );
    assert!(!guide.contains("csecret"));
    let http = reqwest::Client::new();
    let base = app.local_url().to_owned();
    for (method, path) in [
        (reqwest::Method::GET, "/lms/dev/token?user=admin"),
        (reqwest::Method::POST, "/lms/dev/play-class"),
        (reqwest::Method::GET, "/zoom/v2/users/me"),
    ] {
        let (status, _) = call(&http, method, &format!("{base}{path}"), None, None).await;
        assert_eq!(status, 404, "{path} exists only in demo mode");
    }
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/attend/openapi.json"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    app.stop().await;
}

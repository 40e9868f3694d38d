//! End to end, over HTTP: the example LMS (attend mounted at `/attend`, the Zoom simulator
//! mounted at `/zoom`) on SQLite and on PostgreSQL.
//!
//! The test sets up a course through the LMS's own routes, links a Zoom meeting through
//! attend's API, registers the class, follows personal join links, plays a class whose every
//! join and leave is written below, delivered the way Zoom delivers (duplicates, out of
//! order), and checks the rosters, the CSV, the unmatched list and a shared personal link
//! against numbers computed
//! **by hand** from that definition (the comments show the arithmetic), then links a guest
//! by hand and checks the roster changes.
//!
//! PostgreSQL: `ATTEND_TEST_POSTGRES_URL` (a fresh database is created per run and dropped
//! afterwards). Unset → the PostgreSQL test prints why it is skipped; with `CI` set, a missing
//! or unreachable PostgreSQL fails it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use attend_example::db::{Role, User};
use attend_example::{Config, RunningApp};
use attend_zoom_sim::{Connection, DeliveryOptions, InstanceSpec, MeetingSpec, Person, Scenario};
use chrono::{DateTime, Duration as Span, Timelike, Utc};
use diesel::{Connection as _, PgConnection, RunQueryDsl};
use serde_json::{Value, json};

// ------------------------------------------------------------------ the class, by hand

/// Instance A runs [0, 1800] s, the host's client crashes, instance B runs [1920, 3600] s.
const A: (i64, i64) = (0, 1800);
const B: (i64, i64) = (1920, 3600);

/// The students (id, name, email). `leo` is a user of the LMS but not enrolled and never
/// registered: he joins signed in to Zoom with his LMS email.
const STUDENTS: [(&str, &str, &str); 12] = [
    ("alice", "Alice Adams", "alice@school.example"),
    ("bob", "Bob Brown", "bob@school.example"),
    ("carol", "Carol Chen", "carol@school.example"),
    ("dave", "Dave Diaz", "dave@school.example"),
    ("erin", "Erin Evans", "erin@school.example"),
    ("frank", "Frank Fox", "frank@school.example"),
    ("grace", "Grace Gill", "grace@school.example"),
    ("heidi", "Heidi Hart", "heidi@school.example"),
    ("ivan", "Ivan Ito", "ivan@school.example"),
    ("judy", "Judy Jones", "judy@school.example"),
    ("ken", "Ken Kato", "ken@school.example"),
    ("mia", "Mia Moore", "mia@school.example"),
];
const LEO: (&str, &str, &str) = ("leo", "Leo Lund", "Leo.Lund@School.example");

fn email(id: &str) -> &'static str {
    STUDENTS
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(_, _, e)| *e)
        .unwrap_or_else(|| panic!("no student {id}"))
}

/// Who does what, in seconds from the scenario start.
fn class(zoom_meeting_id: u64, t0: DateTime<Utc>) -> Scenario {
    let reg = |id: &str| Person::registrant(email(id)).label(id);
    Scenario {
        meeting_id: zoom_meeting_id,
        start: t0,
        instances: vec![
            InstanceSpec {
                start: A.0,
                end: A.1,
                uuid: Some("e2eInstanceA0001aaaaaa==".to_owned()),
            },
            // Zoom's double-encoding trap: starts with '/' and contains '//'.
            InstanceSpec {
                start: B.0,
                end: B.1,
                uuid: Some("/e2eInstance//B0002bbb==".to_owned()),
            },
        ],
        people: vec![
            Person::host()
                .connection(Connection::main(0, 0, None))
                .connection(Connection::main(1, 1920, None)),
            // regular
            reg("alice")
                .connection(Connection::main(0, 30, None))
                .connection(Connection::main(1, 1950, None)),
            // late joiner in A
            reg("bob")
                .connection(Connection::main(0, 600, None))
                .connection(Connection::main(1, 1930, None)),
            // two devices in A: laptop all along, phone 300..900
            reg("carol")
                .connection(Connection::main(0, 20, None))
                .connection(Connection::main(0, 300, Some(900)))
                .connection(Connection::main(1, 1925, None)),
            // dropped at 840, back at 990 on a new connection
            reg("dave")
                .connection(Connection::main(0, 60, Some(840)).disconnected())
                .connection(Connection::main(0, 990, None))
                .connection(Connection::main(1, 1940, None)),
            // waiting room, admitted at 200 (A) and 2000 (B)
            reg("erin")
                .connection(Connection::main(0, 200, None).via_waiting_room(10))
                .connection(Connection::main(1, 2000, None).via_waiting_room(1925)),
            // leaves B early, at 3000
            reg("frank")
                .connection(Connection::main(0, 40, None))
                .connection(Connection::main(1, 1935, Some(3000))),
            // breakout room 2400..3000 in B and back
            reg("grace")
                .connection(Connection::main(0, 15, None))
                .connection(Connection::main(1, 1925, None).breakout("Room 1", 2400, Some(3000))),
            // leaves the meeting from a breakout room at 2700
            reg("heidi")
                .connection(Connection::main(0, 25, None))
                .connection(Connection::main(1, 1930, Some(2700)).breakout("Room 2", 2400, None)),
            // only the last ten minutes of B
            reg("ivan").connection(Connection::main(1, 3000, None)),
            // registered, never comes
            reg("judy"),
            // sits in A's waiting room 400..700, never admitted
            reg("ken").connection(Connection::waiting_only(0, 400, Some(700))),
            // mia's personal link, used by mia and (at the same time) by someone else
            reg("mia").connection(Connection::main(0, 50, None)),
            Person::registrant(email("mia"))
                .named("Mia's brother")
                .label("shared link")
                .connection(Connection::main(0, 700, Some(1300))),
            // not registered; signed in to Zoom with his LMS email (other case)
            Person::guest(LEO.1, Some(&LEO.2.to_ascii_lowercase()))
                .label("leo")
                .connection(Connection::main(0, 100, None)),
            // guests nobody can match
            Person::guest("Marie's iPhone", None)
                .label("guest, name only")
                .connection(Connection::main(0, 240, None))
                .connection(Connection::main(1, 1980, Some(3300))),
            Person::guest("Visiting Parent", Some("visitor@guest.example"))
                .label("guest with email")
                .connection(Connection::main(0, 360, Some(1500))),
        ],
        seed: 2024,
        title: "e2e class".to_owned(),
    }
}

/// One expected roster row.
#[derive(Debug, Clone, Copy)]
struct Row {
    status: &'static str,
    seconds: i64,
    /// Window length the ratio is over.
    of: i64,
    joins: Option<i64>,
}

const fn row(status: &'static str, seconds: i64, of: i64, joins: Option<i64>) -> Row {
    Row {
        status,
        seconds,
        of,
        joins,
    }
}

/// Instance A: window 1800 s. Late after 300, left early before 1500, partial below 0.5.
fn expected_a() -> BTreeMap<&'static str, Row> {
    const W: i64 = 1800;
    BTreeMap::from([
        ("alice", row("present", 1800 - 30, W, Some(1))), // 1770
        ("bob", row("late", 1800 - 600, W, Some(1))),     // 1200, first join 600 > 300
        ("carol", row("present", 1800 - 20, W, Some(2))), // [20,1800] ∪ [300,900] = 1780
        (
            "dave",
            row("present", (840 - 60) + (1800 - 990), W, Some(2)),
        ), // 780 + 810 = 1590
        ("erin", row("present", 1800 - 200, W, Some(1))), // waiting room not counted: 1600
        ("frank", row("present", 1800 - 40, W, Some(1))), // 1760
        ("grace", row("present", 1800 - 15, W, Some(1))), // 1785
        ("heidi", row("present", 1800 - 25, W, Some(1))), // 1775
        ("ivan", row("absent", 0, W, Some(0))),
        ("judy", row("absent", 0, W, Some(0))),
        ("ken", row("absent", 0, W, Some(0))), // waiting room only: not a join
        ("leo", row("present", 1800 - 100, W, Some(1))), // 1700, matched by email
        ("mia", row("present", 1800 - 50, W, Some(2))), // [50,1800] ∪ [700,1300]: 1750
    ])
}

/// Instance B: window [1920, 3600] = 1680 s. Late after 2220, left early before 3300.
fn expected_b() -> BTreeMap<&'static str, Row> {
    const W: i64 = 1680;
    BTreeMap::from([
        ("alice", row("present", 3600 - 1950, W, Some(1))), // 1650
        ("bob", row("present", 3600 - 1930, W, Some(1))),   // 1670
        ("carol", row("present", 3600 - 1925, W, Some(1))), // 1675
        ("dave", row("present", 3600 - 1940, W, Some(1))),  // 1660
        ("erin", row("present", 3600 - 2000, W, Some(1))),  // 1600, first join +80 s
        ("frank", row("left_early", 3000 - 1935, W, Some(1))), // 1065 (0.634), gone at 3000 < 3300
        ("grace", row("present", 3600 - 1925, W, Some(1))), // breakout counted: 1675, 1 join
        ("heidi", row("partial", 2700 - 1930, W, Some(1))), // 770 / 1680 = 0.458 < 0.5
        ("ivan", row("partial", 3600 - 3000, W, Some(1))),  // 600 / 1680 = 0.357
        ("judy", row("absent", 0, W, Some(0))),
        ("ken", row("absent", 0, W, Some(0))),
        ("mia", row("absent", 0, W, Some(0))),
    ])
}

/// All sessions: windows add up to 1800 + 1680 = 3480 s; late/left-early measured from the
/// first start (0) and the last end (3600).
fn expected_all() -> BTreeMap<&'static str, Row> {
    const W: i64 = 3480;
    BTreeMap::from([
        ("alice", row("present", 1770 + 1650, W, None)), // 3420
        ("bob", row("late", 1200 + 1670, W, None)),      // 2870, first join 600
        ("carol", row("present", 1780 + 1675, W, None)), // 3455
        ("dave", row("present", 1590 + 1660, W, None)),  // 3250
        ("erin", row("present", 1600 + 1600, W, None)),  // 3200
        ("frank", row("left_early", 1760 + 1065, W, None)), // 2825, last leave 3000
        ("grace", row("present", 1785 + 1675, W, None)), // 3460
        ("heidi", row("left_early", 1775 + 770, W, None)), // 2545 (0.731), last leave 2700
        ("ivan", row("partial", 600, W, None)),          // 0.172
        ("judy", row("absent", 0, W, None)),
        ("ken", row("absent", 0, W, None)),
        ("leo", row("partial", 1700, W, None)), // 1700 / 3480 = 0.489 < 0.5
        ("mia", row("left_early", 1750, W, None)), // 0.503 ≥ 0.5; last leave 1800 < 3300
    ])
}

// ------------------------------------------------------------------ HTTP helpers

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            base: base.to_owned(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, String, reqwest::header::HeaderMap) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut req = self.http.request(method.clone(), &url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, res.text().await.unwrap_or_default(), headers)
    }

    /// Sends and expects one of `ok` statuses; returns the JSON body (Null if empty).
    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        ok: &[u16],
    ) -> Value {
        let (status, text, _) = self.send(method.clone(), path, Some(token), body).await;
        assert!(
            ok.contains(&status),
            "{method} {path}: expected {ok:?}, got {status}: {text}"
        );
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
        }
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        self.json(reqwest::Method::GET, path, token, None, &[200])
            .await
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}

fn at(t0: DateTime<Utc>, offset: i64) -> String {
    (t0 + Span::seconds(offset)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn same_instant(actual: &Value, expected: &str, what: &str) {
    let a = actual
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("{what}: not a time: {actual}"));
    let e = DateTime::parse_from_rfc3339(expected).expect("expected time");
    assert_eq!(a, e, "{what}");
}

/// Checks a roster against hand-computed rows (rows not listed must not be there, except
/// `optional` users, who may appear as absent).
fn check_roster(label: &str, att: &Value, expected: &BTreeMap<&str, Row>, optional: &[&str]) {
    let roster = att["roster"].as_array().expect("roster");
    let mut seen = BTreeMap::new();
    for r in roster {
        let id = r["user_id"].as_str().expect("user_id").to_owned();
        seen.insert(id, r.clone());
    }
    for (id, r) in &seen {
        if !expected.contains_key(id.as_str()) {
            assert!(
                optional.contains(&id.as_str()),
                "{label}: unexpected roster row {r}"
            );
            assert_eq!(r["status"], "absent", "{label}: {id}");
            assert_eq!(r["attended_seconds"], 0, "{label}: {id}");
        }
    }
    for (id, e) in expected {
        let r = seen
            .get(*id)
            .unwrap_or_else(|| panic!("{label}: {id} missing from the roster"));
        assert_eq!(r["status"], e.status, "{label}: status of {id}: {r}");
        assert_eq!(
            r["attended_seconds"].as_i64(),
            Some(e.seconds),
            "{label}: attended_seconds of {id}: {r}"
        );
        let ratio = r["attendance_ratio"].as_f64().expect("ratio");
        let want = e.seconds as f64 / e.of as f64;
        assert!(
            (ratio - want).abs() < 0.001,
            "{label}: ratio of {id}: {ratio} vs {want}"
        );
        if let Some(j) = e.joins {
            assert_eq!(r["joins"].as_i64(), Some(j), "{label}: joins of {id}: {r}");
        }
        if e.seconds == 0 {
            assert!(r["first_join"].is_null(), "{label}: {id} first_join");
            assert!(r["last_leave"].is_null(), "{label}: {id} last_leave");
        }
    }
    let count = |s: &str| expected.values().filter(|r| r.status == s).count() as i64;
    let summary = &att["summary"];
    for s in ["present", "late", "left_early", "partial"] {
        assert_eq!(summary[s].as_i64(), Some(count(s)), "{label}: summary.{s}");
    }
    let extra_absent = seen
        .keys()
        .filter(|k| !expected.contains_key(k.as_str()))
        .count() as i64;
    assert_eq!(
        summary["absent"].as_i64(),
        Some(count("absent") + extra_absent),
        "{label}: summary.absent"
    );
    // Every registered student (all but leo) counts as registered.
    assert_eq!(
        summary["registered"].as_i64(),
        Some(12),
        "{label}: summary.registered"
    );
}

fn unmatched_by_name(att: &Value) -> BTreeMap<String, Value> {
    att["unmatched"]
        .as_array()
        .expect("unmatched")
        .iter()
        .map(|u| {
            (
                u["display_name"].as_str().unwrap_or("").to_owned(),
                u.clone(),
            )
        })
        .collect()
}

// ------------------------------------------------------------------ the test

async fn run_class(database_url: String) {
    let app: RunningApp = attend_example::start(Config::for_tests(database_url, false))
        .await
        .expect("the example app starts");
    let c = Client::new(app.local_url());
    let sim = app
        .simulator()
        .expect("demo mode has the simulator")
        .clone();
    let target = app.webhook_target().expect("webhook target");

    // An admin token, minted in-process as the host would from its own session.
    let admin = User {
        id: "root".into(),
        email: None,
        name: "Root".into(),
        role: Role::Admin,
    };
    let admin_token = app
        .lms()
        .tokens
        .issue(&admin, vec![], Span::hours(1))
        .expect("token")
        .token;

    // --- the LMS's own data, through its routes
    let user = |id: &str, name: &str, email: &str, role: &str| json!({"id": id, "name": name, "email": email, "role": role});
    c.json(
        reqwest::Method::POST,
        "/lms/users",
        &admin_token,
        Some(user(
            "t-hopper",
            "Grace Hopper",
            "hopper@school.example",
            "instructor",
        )),
        &[201],
    )
    .await;
    for (id, name, mail) in STUDENTS.iter().chain(std::iter::once(&LEO)) {
        c.json(
            reqwest::Method::POST,
            "/lms/users",
            &admin_token,
            Some(user(id, name, mail, "student")),
            &[201],
        )
        .await;
    }
    // Creating the same user again updates it (200), never duplicates.
    c.json(
        reqwest::Method::POST,
        "/lms/users",
        &admin_token,
        Some(user(
            "alice",
            "Alice Adams",
            "alice@school.example",
            "student",
        )),
        &[200],
    )
    .await;
    c.json(
        reqwest::Method::POST,
        "/lms/courses",
        &admin_token,
        Some(json!({"id": "bio201", "title": "BIO 201", "instructor_id": "t-hopper"})),
        &[201],
    )
    .await;
    // Every student but ken enrolled now; ken enrols after the meeting is linked.
    let enrolled_first: Vec<&str> = STUDENTS
        .iter()
        .map(|s| s.0)
        .filter(|id| *id != "ken")
        .collect();
    c.json(
        reqwest::Method::POST,
        "/lms/courses/bio201/enrollments",
        &admin_token,
        Some(json!({"user_ids": enrolled_first})),
        &[200],
    )
    .await;

    let token_of = |user: &str| {
        let c = &c;
        let user = user.to_owned();
        async move {
            c.json(
                reqwest::Method::GET,
                &format!("/lms/dev/token?user={user}"),
                "",
                None,
                &[200],
            )
            .await["token"]
                .as_str()
                .expect("token")
                .to_owned()
        }
    };
    let instructor = token_of("t-hopper").await;

    // --- an existing Zoom meeting, linked to the course through attend's API
    let t0 = (Utc::now() - Span::hours(3))
        .with_nanosecond(0)
        .expect("whole seconds");
    let zoom = sim
        .create_meeting(&MeetingSpec {
            approval_type: 2,
            ..MeetingSpec::scheduled("BIO 201 lecture", t0, 60)
        })
        .expect("meeting at the simulator");
    let meeting = c
        .json(
            reqwest::Method::POST,
            "/attend/meetings",
            &instructor,
            Some(json!({"group": "bio201", "kind": "meeting", "zoom_meeting_id": zoom.id})),
            &[201],
        )
        .await;
    let mid = meeting["id"].as_str().expect("meeting id").to_owned();
    assert_eq!(meeting["group"], "bio201");
    assert!(
        sim.meeting(zoom.id)
            .expect("still there")
            .registration_enabled(),
        "linking switches registration on at Zoom"
    );
    // Another course's instructor may not touch it.
    let (status, _, _) = c
        .send(
            reqwest::Method::GET,
            &format!("/attend/meetings/{mid}/attendance"),
            Some(&token_of("alice").await),
            None,
        )
        .await;
    assert_eq!(status, 403, "a student cannot read the roster");

    // --- register the class; then enrol ken, which registers him too (the LMS's hook)
    c.json(
        reqwest::Method::POST,
        &format!("/attend/meetings/{mid}/registrations"),
        &instructor,
        Some(json!({"user_ids": enrolled_first})),
        &[200, 202],
    )
    .await;
    let enrolled = c
        .json(
            reqwest::Method::POST,
            "/lms/courses/bio201/enrollments",
            &instructor,
            Some(json!({"user_ids": ["ken"]})),
            &[200],
        )
        .await;
    assert_eq!(enrolled["enrolled"], json!(["ken"]));
    let regs_path = format!("/attend/meetings/{mid}/registrations");
    wait_until("12 registrations", Duration::from_secs(30), || {
        let c = &c;
        let (path, tok) = (&regs_path, &instructor);
        async move { c.get(path, tok).await["counts"]["registered"] == 12 }
    })
    .await;
    // Registering again is idempotent: no second registrant at Zoom.
    c.json(
        reqwest::Method::POST,
        &regs_path,
        &instructor,
        Some(json!({"user_ids": ["alice", "bob"]})),
        &[200],
    )
    .await;
    assert_eq!(
        sim.registrants(zoom.id).len(),
        12,
        "one registrant per student"
    );

    // --- personal links: 302 to the user's own Zoom join_url
    let registrant_of = |mail: &str| {
        sim.registrants(zoom.id)
            .into_iter()
            .find(|r| r.email.eq_ignore_ascii_case(mail))
            .unwrap_or_else(|| panic!("registrant {mail}"))
    };
    let link = c
        .get(
            &format!("/attend/meetings/{mid}/join-link?user_id=alice"),
            &instructor,
        )
        .await["url"]
        .as_str()
        .expect("url")
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/attend/join/", app.public_url())),
        "{link}"
    );
    let (status, _, headers) = c.send(reqwest::Method::GET, &link, None, None).await;
    assert_eq!(status, 302);
    let location = headers["location"].to_str().expect("location").to_owned();
    assert_eq!(location, registrant_of(email("alice")).join_url);
    // A student asks for their own link; following it reaches the simulated join page.
    let bob = token_of("bob").await;
    let own = c
        .get(&format!("/attend/meetings/{mid}/join-link"), &bob)
        .await["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let (status, _, headers) = c.send(reqwest::Method::GET, &own, None, None).await;
    assert_eq!(status, 302);
    let location = headers["location"].to_str().expect("location").to_owned();
    assert_eq!(location, registrant_of(email("bob")).join_url);
    let (status, _, _) = c.send(reqwest::Method::GET, &location, None, None).await;
    assert_eq!(status, 200, "the simulated Zoom join page opens");
    assert!(
        sim.join_clicks()
            .contains(&(zoom.id, registrant_of(email("bob")).id)),
        "the simulator saw bob's click"
    );
    let (status, _, _) = c
        .send(
            reqwest::Method::GET,
            &format!("/attend/meetings/{mid}/join-link?user_id=alice"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, 403, "bob cannot get alice's link");
    let tampered = format!("{}x", link.trim_end_matches('/'));
    let (status, _, _) = c.send(reqwest::Method::GET, &tampered, None, None).await;
    assert_eq!(status, 401, "a tampered join token");

    // --- the class, delivered like Zoom: 1-3 copies of each event, reordered within 8
    let scenario = class(zoom.id, t0);
    let outcome = sim
        .play(&scenario, &target, &DeliveryOptions::chaotic(7))
        .await
        .expect("play");
    assert!(outcome.report.all_acked(), "every webhook acknowledged");
    assert!(
        outcome.report.deliveries.len() > outcome.report.events,
        "the delivery had duplicates"
    );

    // --- both instances become final (report pulled and merged)
    let inst_path = format!("/attend/meetings/{mid}/instances");
    wait_until("two final instances", Duration::from_secs(60), || {
        let c = &c;
        let (path, tok) = (&inst_path, &instructor);
        async move {
            let v = c.get(path, tok).await;
            let list = v["instances"].as_array().cloned().unwrap_or_default();
            list.len() == 2 && list.iter().all(|i| i["state"] == "final")
        }
    })
    .await;
    let instances = c.get(&inst_path, &instructor).await["instances"]
        .as_array()
        .expect("instances")
        .clone();
    let uuid_a = "e2eInstanceA0001aaaaaa==";
    let uuid_b = "/e2eInstance//B0002bbb==";
    assert_eq!(instances[0]["uuid"], uuid_a);
    assert_eq!(instances[1]["uuid"], uuid_b);
    same_instant(&instances[0]["started_at"], &at(t0, A.0), "A start");
    same_instant(&instances[0]["ended_at"], &at(t0, A.1), "A end");
    same_instant(&instances[1]["started_at"], &at(t0, B.0), "B start");
    same_instant(&instances[1]["ended_at"], &at(t0, B.1), "B end");

    // --- the rosters
    let att = |q: String| {
        let c = &c;
        let tok = instructor.clone();
        let path = format!("/attend/meetings/{mid}/attendance{q}");
        async move { c.get(&path, &tok).await }
    };
    let a = att(format!("?instance={}", enc(uuid_a))).await;
    assert_eq!(a["state"], "final");
    same_instant(&a["window"]["start"], &at(t0, 0), "A window start");
    same_instant(&a["window"]["end"], &at(t0, 1800), "A window end");
    check_roster("instance A", &a, &expected_a(), &[]);
    let rows = |v: &Value| -> BTreeMap<String, Value> {
        v["roster"]
            .as_array()
            .expect("roster")
            .iter()
            .map(|r| (r["user_id"].as_str().unwrap_or("").to_owned(), r.clone()))
            .collect()
    };
    let ra = rows(&a);
    same_instant(&ra["bob"]["first_join"], &at(t0, 600), "bob's first join");
    assert_eq!(ra["bob"]["late_seconds"], 600);
    same_instant(
        &ra["erin"]["first_join"],
        &at(t0, 200),
        "erin: waiting room does not count",
    );
    assert_eq!(ra["alice"]["matched_by"], "registrant_id");
    assert_eq!(ra["leo"]["matched_by"], "email");
    let dave_iv: Vec<(String, String)> = ra["dave"]["intervals"]
        .as_array()
        .expect("intervals")
        .iter()
        .map(|i| {
            (
                i["join"].as_str().unwrap_or("").to_owned(),
                i["leave"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        dave_iv.iter().any(|(j, l)| {
            DateTime::parse_from_rfc3339(j).ok() == DateTime::parse_from_rfc3339(&at(t0, 60)).ok()
                && DateTime::parse_from_rfc3339(l).ok()
                    == DateTime::parse_from_rfc3339(&at(t0, 840)).ok()
        }),
        "dave's first stretch [60, 840]: {dave_iv:?}"
    );
    // mia's link used by two different people at once: flagged, time credited to mia.
    let shared = a["possible_shared_links"]
        .as_array()
        .expect("possible_shared_links");
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert_eq!(
        shared[0]["registrant_id"],
        registrant_of(email("mia")).id.as_str()
    );
    assert_eq!(ra["mia"]["matched_by"], "registrant_id");
    let um = unmatched_by_name(&a);
    assert_eq!(um.len(), 2, "two unmatched guests in A: {um:?}");
    assert_eq!(um["Marie's iPhone"]["attended_seconds"], 1800 - 240);
    assert_eq!(um["Visiting Parent"]["attended_seconds"], 1500 - 360);
    assert_eq!(a["summary"]["unmatched"], 2);

    let b = att(format!("?instance={}", enc(uuid_b))).await;
    assert_eq!(b["state"], "final");
    check_roster("instance B", &b, &expected_b(), &["leo"]);
    let rb = rows(&b);
    same_instant(
        &rb["heidi"]["last_leave"],
        &at(t0, 2700),
        "heidi leaves from the breakout room",
    );
    same_instant(
        &rb["frank"]["last_leave"],
        &at(t0, 3000),
        "frank leaves early",
    );
    let um = unmatched_by_name(&b);
    assert_eq!(um.len(), 1, "{um:?}");
    assert_eq!(um["Marie's iPhone"]["attended_seconds"], 3300 - 1980);

    let all = att(String::new()).await;
    assert!(all["instance"].is_null());
    check_roster("all sessions", &all, &expected_all(), &[]);
    let um = unmatched_by_name(&all);
    assert_eq!(
        um["Marie's iPhone"]["attended_seconds"],
        (1800 - 240) + (3300 - 1980)
    );
    assert_eq!(um["Visiting Parent"]["attended_seconds"], 1140);

    // --- the CSV of instance A
    let (status, csv_text, headers) = c
        .send(
            reqwest::Method::GET,
            &format!(
                "/attend/meetings/{mid}/attendance.csv?instance={}",
                enc(uuid_a)
            ),
            Some(&instructor),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("csv header")
        .iter()
        .map(str::to_owned)
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("CSV column {name} in {header:?}"))
    };
    let (user_col, status_col, secs_col) = (col("user_id"), col("status"), col("attended_seconds"));
    let mut csv_users = BTreeMap::new();
    let mut csv_unmatched = 0;
    for rec in reader.records() {
        let rec = rec.expect("csv row");
        if rec.get(user_col).unwrap_or("").is_empty() {
            csv_unmatched += 1;
        } else {
            csv_users.insert(
                rec[user_col].to_owned(),
                (
                    rec[status_col].to_owned(),
                    rec[secs_col].parse::<i64>().expect("seconds"),
                ),
            );
        }
    }
    let want: BTreeMap<String, (String, i64)> = expected_a()
        .into_iter()
        .map(|(id, r)| (id.to_owned(), (r.status.to_owned(), r.seconds)))
        .collect();
    assert_eq!(csv_users, want, "CSV rows of instance A");
    assert_eq!(csv_unmatched, 2, "CSV unmatched rows of instance A");

    // --- the meeting-wide unmatched list, then a manual link
    let list = c
        .get(&format!("/attend/meetings/{mid}/unmatched"), &instructor)
        .await;
    let visitor = list["unmatched"]
        .as_array()
        .expect("unmatched")
        .iter()
        .find(|u| u["display_name"] == "Visiting Parent")
        .expect("the visiting parent is unmatched")["participant_key"]
        .as_str()
        .expect("key")
        .to_owned();
    c.json(
        reqwest::Method::POST,
        &format!("/attend/meetings/{mid}/unmatched/{}/link", enc(&visitor)),
        &instructor,
        Some(json!({"user_id": "judy"})),
        &[200, 201, 204],
    )
    .await;
    let a = att(format!("?instance={}", enc(uuid_a))).await;
    let ra = rows(&a);
    // judy now has the visitor's [360, 1500]: 1140 s, first join 360 > 300 → late.
    assert_eq!(ra["judy"]["status"], "late", "{}", ra["judy"]);
    assert_eq!(ra["judy"]["attended_seconds"], 1140);
    assert_eq!(ra["judy"]["matched_by"], "manual");
    assert_eq!(unmatched_by_name(&a).len(), 1);
    let all = att(String::new()).await;
    let judy = &rows(&all)["judy"];
    // 1140 / 3480 = 0.328 → partial.
    assert_eq!(judy["status"], "partial", "{judy}");
    assert!((judy["attendance_ratio"].as_f64().unwrap_or(0.0) - 1140.0 / 3480.0).abs() < 0.001);

    // --- a student's own history
    let alice = token_of("alice").await;
    let hist = c.get("/attend/users/alice/attendance", &alice).await;
    let records = hist["records"].as_array().expect("records");
    let secs: i64 = records
        .iter()
        .filter(|r| r["meeting_id"] == mid.as_str())
        .map(|r| r["attended_seconds"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(secs, 1770 + 1650, "alice's history adds up: {hist}");

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_realistic_class_on_sqlite() {
    let dir = std::env::temp_dir().join(format!(
        "attend-e2e-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}", dir.join("e2e.sqlite").display());
    run_class(url).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_realistic_class_on_postgres() {
    let Some(admin_url) = postgres_url("a_realistic_class_on_postgres") else {
        return;
    };
    let db = format!("attend_e2e_{}_{}", std::process::id(), rand_suffix());
    let mut admin = PgConnection::establish(&admin_url).expect("connect");
    diesel::sql_query(format!("CREATE DATABASE {db}"))
        .execute(&mut admin)
        .expect("create the test database");
    let url = database_in(&admin_url, &db);
    run_class(url).await;
    let _ =
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut admin);
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:08x}")
}

/// The PostgreSQL URL from `ATTEND_TEST_POSTGRES_URL`, or `None` (with the reason printed)
/// when it is unset or unreachable. With `CI` set, both are failures.
fn postgres_url(test: &str) -> Option<String> {
    let ci = std::env::var_os("CI").is_some();
    let Ok(url) = std::env::var("ATTEND_TEST_POSTGRES_URL") else {
        assert!(
            !ci,
            "{test}: ATTEND_TEST_POSTGRES_URL is not set, and CI is"
        );
        eprintln!(
            "{test}: SKIPPED: set ATTEND_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
        );
        return None;
    };
    match PgConnection::establish(&url) {
        Ok(_) => Some(url),
        Err(e) => {
            assert!(
                !ci,
                "{test}: PostgreSQL at ATTEND_TEST_POSTGRES_URL is unreachable: {e}"
            );
            eprintln!(
                "{test}: SKIPPED: PostgreSQL at ATTEND_TEST_POSTGRES_URL is unreachable: {e}"
            );
            None
        }
    }
}

/// `url` pointing at database `db` instead (query parameters kept).
fn database_in(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = head.find("://").map_or(0, |i| i + 3);
    let base = match head[after_scheme..].find('/') {
        Some(i) => &head[..after_scheme + i],
        None => head,
    };
    format!("{base}/{db}{query}")
}

#[test]
fn database_in_replaces_only_the_database() {
    assert_eq!(
        database_in("postgres://u@h:5432/test?sslmode=disable", "x"),
        "postgres://u@h:5432/x?sslmode=disable"
    );
    assert_eq!(database_in("postgres://u@h", "x"), "postgres://u@h/x");
}

#[test]
fn the_hand_computed_expectations_are_consistent() {
    // A guard against typos in the tables above: every registered student is in every
    // table, and no one attends more than the window.
    for table in [expected_a(), expected_b(), expected_all()] {
        for (id, _, _) in STUDENTS {
            assert!(table.contains_key(id), "{id}");
        }
        for r in table.values() {
            assert!(r.seconds <= r.of && r.seconds >= 0);
        }
    }
}

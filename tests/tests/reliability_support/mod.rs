//! Shared helpers of the `reliability_*` tests and `metrics_e2e` (each test file includes
//! this module; not every file uses every helper).
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use attend_example::config::{Mode, RealZoom, Secret, ZoomCredentials};
use attend_example::db::{Role, User};
use attend_example::{Config, RunningApp};
use attend_zoom_sim::SimHandle;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// The webhook secret every reliability app uses.
pub(crate) const WEBHOOK_SECRET: &str = "reliability-webhook-secret-3f9a1c";
/// The JWT secret every reliability app uses (≥ 32 bytes).
pub(crate) const JWT_SECRET: &str = "reliability-jwt-secret-0123456789abcdef-77";

/// The PostgreSQL URL for tests: `Some` when `ATTEND_TEST_POSTGRES_URL` is set and the server
/// answers; otherwise prints why the test is skipped and returns `None`. With `CI` set, a
/// missing or unreachable PostgreSQL fails the test instead.
pub(crate) fn postgres_url(test: &str) -> Option<String> {
    let ci = std::env::var_os("CI").is_some();
    let Ok(url) = std::env::var("ATTEND_TEST_POSTGRES_URL") else {
        assert!(
            !ci,
            "{test}: ATTEND_TEST_POSTGRES_URL is not set, and CI is: PostgreSQL tests must run in CI"
        );
        eprintln!(
            "{test}: SKIPPED: ATTEND_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)"
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

/// `url` with its database replaced by `database`.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, _) = split_url(url);
    format!("{base}/{database}")
}

/// `(scheme://user@host:port, query suffix)`.
fn split_url(url: &str) -> (String, String) {
    let (no_query, query) = match url.split_once('?') {
        Some((a, q)) => (a.to_owned(), format!("?{q}")),
        None => (url.to_owned(), String::new()),
    };
    let after_scheme = no_query.find("://").map_or(0, |i| i + 3);
    let base = match no_query[after_scheme..].find('/') {
        Some(i) => no_query[..after_scheme + i].to_owned(),
        None => no_query.clone(),
    };
    (base, query)
}

/// Creates (dropping any leftover) the database `name` on the server of `url`; returns its
/// URL. Each test uses its own database, so tests never see each other's rows.
pub(crate) fn fresh_database(url: &str, name: &str) -> String {
    let mut admin = PgConnection::establish(url).expect("connect to ATTEND_TEST_POSTGRES_URL");
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .expect("drop the test database");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create the test database (the test user needs CREATEDB)");
    let (base, query) = split_url(url);
    format!("{base}/{name}{query}")
}

/// Drops the database `name` (best effort, at the end of a test).
pub(crate) fn drop_database(url: &str, name: &str) {
    if let Ok(mut admin) = PgConnection::establish(url) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}

/// A demo-mode configuration with fixed secrets (the in-process Zoom simulator).
pub(crate) fn demo_config(database_url: &str, seed: bool) -> Config {
    let mut c = Config::for_tests(database_url, seed);
    c.jwt_secret = Some(Secret::new(JWT_SECRET));
    c.webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
    c
}

/// A real-mode configuration against a stand-alone simulator (several apps can share it).
pub(crate) fn sim_config(sim: &SimHandle, database_url: &str) -> Config {
    let creds = sim.sim().credentials();
    let mut c = demo_config(database_url, false);
    c.mode = Mode::Real(Box::new(RealZoom {
        credentials: ZoomCredentials {
            account_id: creds.account_id,
            client_id: creds.client_id,
            client_secret: Secret::new(creds.client_secret),
        },
        api_base: sim.base_url().parse().expect("simulator base URL"),
        oauth_url: sim.oauth_url().parse().expect("simulator OAuth URL"),
    }));
    c
}

/// The environment variables that make `Config::from_env` produce [`sim_config`] (for child
/// processes).
pub(crate) fn sim_env(sim: &SimHandle, database_url: &str) -> Vec<(&'static str, String)> {
    let creds = sim.sim().credentials();
    vec![
        ("ATTEND_BIND", "127.0.0.1:0".to_owned()),
        ("ATTEND_DATABASE_URL", database_url.to_owned()),
        ("ATTEND_JWT_SECRET", JWT_SECRET.to_owned()),
        ("ATTEND_ZOOM_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ("ATTEND_ZOOM_ACCOUNT_ID", creds.account_id),
        ("ATTEND_ZOOM_CLIENT_ID", creds.client_id),
        ("ATTEND_ZOOM_CLIENT_SECRET", creds.client_secret),
        ("ATTEND_ZOOM_API_BASE", sim.base_url()),
        ("ATTEND_ZOOM_OAUTH_URL", sim.oauth_url()),
    ]
}

/// A bearer token minted with [`JWT_SECRET`].
pub(crate) fn token(sub: &str, role: Role, groups: &[&str]) -> String {
    let tokens = attend_example::auth::Tokens::new(JWT_SECRET.as_bytes());
    let user = User {
        id: sub.to_owned(),
        email: None,
        name: sub.to_owned(),
        role,
    };
    tokens
        .issue(
            &user,
            groups.iter().map(|g| (*g).to_owned()).collect(),
            chrono::Duration::hours(1),
        )
        .expect("mint a token")
        .token
}

/// An HTTP client for tests: no proxy, no redirects, 20 s timeout.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

/// Sends `method url` with an optional bearer token and JSON body; returns status and JSON
/// (`Null` when the body is not JSON).
pub(crate) async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = client.request(method, url);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Sends `body` signed with `secret` at `timestamp` (Unix seconds) to `url`; `None` when no
/// answer came (connection refused or reset).
pub(crate) async fn send_signed(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    timestamp: i64,
    body: &str,
) -> Option<u16> {
    let ts = timestamp.to_string();
    let sig = attend_zoom_sim::sign(secret, &ts, body.as_bytes());
    let resp = client
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header("x-zm-request-timestamp", ts)
        .header("x-zm-signature", sig)
        .body(body.to_owned())
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    resp.bytes().await.ok()?;
    Some(status)
}

/// Sends `body` signed now.
pub(crate) async fn send_now(client: &reqwest::Client, url: &str, body: &str) -> Option<u16> {
    send_signed(
        client,
        url,
        WEBHOOK_SECRET,
        chrono::Utc::now().timestamp(),
        body,
    )
    .await
}

/// The webhook URL of an app.
pub(crate) fn webhook_url(base: &str) -> String {
    format!("{base}/attend/webhooks/zoom")
}

/// Creates host users (students) directly in the app's database.
pub(crate) async fn create_students(app: &RunningApp, users: &[(String, String)]) {
    let users: Vec<User> = users
        .iter()
        .map(|(id, email)| User {
            id: id.clone(),
            email: Some(email.clone()),
            name: format!("Student {id}"),
            role: Role::Student,
        })
        .collect();
    app.lms()
        .store
        .with_transaction(move |conn| {
            for u in &users {
                attend_example::db::upsert_user(conn, u)?;
            }
            Ok::<_, attend_example::db::DbError>(())
        })
        .await
        .expect("create users");
}

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Stored webhook deliveries by status.
pub(crate) async fn webhook_statuses(app: &RunningApp) -> std::collections::BTreeMap<String, i64> {
    app.lms()
        .store
        .with_conn(|conn| {
            diesel::sql_query("SELECT status, COUNT(*) AS n FROM attend_webhooks GROUP BY status")
                .load::<StatusRow>(conn)
        })
        .await
        .expect("count webhooks")
        .into_iter()
        .map(|r| (r.status, r.n))
        .collect()
}

/// Waits (at most `within`) until no stored delivery waits for processing and no job is
/// due; panics otherwise.
pub(crate) async fn wait_processed(app: &RunningApp, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let counts = webhook_statuses(app).await;
        if counts.get("received").copied().unwrap_or(0) == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries still unprocessed after {within:?}: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The parts of a roster that must not depend on how the events arrived: per user the
/// status, seconds, joins, first/last presence and how they were matched, sorted; plus the
/// unmatched people.
pub(crate) fn roster_essentials(attendance: &Value) -> Value {
    let mut rows: Vec<Value> = attendance["roster"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "user_id": r["user_id"], "status": r["status"],
                "attended_seconds": r["attended_seconds"], "joins": r["joins"],
                "first_join": r["first_join"], "last_leave": r["last_leave"],
                "matched_by": r["matched_by"], "intervals": r["intervals"],
            })
        })
        .collect();
    rows.sort_by_key(|r| r["user_id"].to_string());
    let mut unmatched: Vec<Value> = attendance["unmatched"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|u| {
            serde_json::json!({
                "display_name": u["display_name"], "email": u["email"],
                "attended_seconds": u["attended_seconds"],
            })
        })
        .collect();
    unmatched.sort_by_key(|u| u.to_string());
    serde_json::json!({ "roster": rows, "unmatched": unmatched, "window": attendance["window"] })
}

/// A TCP proxy in front of a server (PostgreSQL here) that can be cut off: [`cut`] closes
/// every proxied connection and refuses new ones (as a stopped server would), [`restore`]
/// lets connections through again.
///
/// [`cut`]: TcpProxy::cut
/// [`restore`]: TcpProxy::restore
pub(crate) struct TcpProxy {
    /// The proxy's port on 127.0.0.1.
    pub(crate) port: u16,
    down: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    /// Starts a proxy to `upstream` (`host:port`).
    pub(crate) async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let down = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let down = down.clone();
            let conns = conns.clone();
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if down.load(Ordering::SeqCst) {
                        drop(inbound); // refused: closed at once
                        continue;
                    }
                    let upstream = upstream.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    let mut list = conns.lock().await;
                    list.retain(|t| !t.is_finished());
                    list.push(task);
                }
            })
        };
        Self {
            port,
            down,
            conns,
            accept,
        }
    }

    /// Closes every proxied connection and refuses new ones.
    pub(crate) async fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for task in self.conns.lock().await.drain(..) {
            task.abort();
        }
    }

    /// Lets connections through again.
    pub(crate) fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// `host:port` of a `postgres://user@host:port/db` URL.
pub(crate) fn host_port(url: &str) -> String {
    let (base, _) = split_url(url);
    let after = base.split_once("://").map_or(base.as_str(), |(_, r)| r);
    let host = after.rsplit_once('@').map_or(after, |(_, h)| h);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

/// `url` with its host:port replaced by `127.0.0.1:{port}` and its database by `database`.
pub(crate) fn via_port(url: &str, port: u16, database: &str) -> String {
    let (base, query) = split_url(url);
    let (scheme, rest) = base
        .split_once("://")
        .unwrap_or(("postgres", base.as_str()));
    let user = rest
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{user}127.0.0.1:{port}/{database}{query}")
}

#[test]
fn url_helpers_split_postgres_urls() {
    let url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable";
    assert_eq!(
        with_database(url, "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(host_port(url), "127.0.0.1:5432");
    assert_eq!(
        via_port(url, 6000, "y"),
        "postgres://postgres@127.0.0.1:6000/y?sslmode=disable"
    );
    assert_eq!(host_port("postgres://u:p@db/x"), "db:5432");
}

/// Creates `students` through `POST /lms/users`, links the Zoom meeting `zoom_meeting_id` to
/// `group` and registers every student (waiting until none is pending). Returns attend's
/// meeting id.
pub(crate) async fn setup_class(
    http: &reqwest::Client,
    base: &str,
    zoom_meeting_id: u64,
    group: &str,
    students: &[(String, String)],
) -> String {
    let admin = token("admin", Role::Admin, &[]);
    for (id, email) in students {
        let (status, body) = call(
            http,
            reqwest::Method::POST,
            &format!("{base}/lms/users"),
            Some(&admin),
            Some(&serde_json::json!({"id": id, "email": email, "name": format!("Student {id}"), "role": "student"})),
        )
        .await;
        assert!(matches!(status, 200 | 201), "create {id}: {status} {body}");
    }
    let (status, meeting) = call(
        http,
        reqwest::Method::POST,
        &format!("{base}/attend/meetings"),
        Some(&admin),
        Some(&serde_json::json!({"group": group, "kind": "meeting", "zoom_meeting_id": zoom_meeting_id})),
    )
    .await;
    assert_eq!(status, 201, "link meeting: {meeting}");
    let id = meeting["id"].as_str().expect("meeting id").to_owned();
    let ids: Vec<&String> = students.iter().map(|(id, _)| id).collect();
    let (status, body) = call(
        http,
        reqwest::Method::POST,
        &format!("{base}/attend/meetings/{id}/registrations"),
        Some(&admin),
        Some(&serde_json::json!({"user_ids": ids})),
    )
    .await;
    assert!(matches!(status, 200 | 202), "register: {status} {body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, regs) = call(
            http,
            reqwest::Method::GET,
            &format!("{base}/attend/meetings/{id}/registrations"),
            Some(&admin),
            None,
        )
        .await;
        if regs["counts"]["pending"].as_u64() == Some(0) {
            assert_eq!(
                regs["counts"]["registered"].as_u64(),
                Some(students.len() as u64),
                "{}",
                regs["counts"]
            );
            return id;
        }
        assert!(
            Instant::now() < deadline,
            "registrations still pending: {}",
            regs["counts"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `GET /attend/meetings/{meeting}/attendance?instance=…` as admin (200 expected).
pub(crate) async fn attendance(
    http: &reqwest::Client,
    base: &str,
    meeting: &str,
    instance: &str,
) -> Value {
    let mut url: reqwest::Url = format!("{base}/attend/meetings/{meeting}/attendance")
        .parse()
        .expect("attendance URL");
    url.query_pairs_mut().append_pair("instance", instance);
    let admin = token("admin", Role::Admin, &[]);
    let (status, body) = call(http, reqwest::Method::GET, url.as_str(), Some(&admin), None).await;
    assert_eq!(status, 200, "attendance of {instance}: {body}");
    body
}

/// The environment variable that turns the ignored `reliability_child_app` test into a
/// child process running the app.
pub(crate) const CHILD_ENV: &str = "ATTEND_RELIABILITY_CHILD";
/// What the child prints once it serves: the marker and its URL.
pub(crate) const CHILD_READY: &str = "ATTEND_CHILD_READY";

/// The body of the ignored `reliability_child_app` test: when [`CHILD_ENV`] is set, start the
/// example app from the environment (`Config::from_env`, as `main` does), print
/// [`CHILD_READY`] and the URL, and serve for at most `serve_for`, until killed.
pub(crate) fn child_main(serve_for: Duration) {
    use std::io::Write as _;
    if std::env::var_os(CHILD_ENV).is_none() {
        eprintln!("reliability_child_app: not a child process ({CHILD_ENV} unset): nothing to do");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = Config::from_env().expect("child configuration");
        let app = attend_example::start(config)
            .await
            .expect("child app starts");
        println!("{CHILD_READY} {}", app.local_url());
        let _ = std::io::stdout().flush();
        tokio::time::sleep(serve_for).await;
        app.stop().await;
    });
}

/// The example app in a child process (this test binary re-run as the ignored
/// `reliability_child_app` test), so that it can be killed with SIGKILL.
pub(crate) struct ChildApp {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
}

impl ChildApp {
    /// Starts it with `env` and waits (at most 60 s) until it serves.
    pub(crate) fn spawn(env: &[(&'static str, String)]) -> Self {
        use std::io::BufRead as _;
        let exe = std::env::current_exe().expect("test binary path");
        let mut cmd = std::process::Command::new(exe);
        cmd.args([
            "--exact",
            "reliability_child_app",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn the child app");
        let stdout = child.stdout.take().expect("child stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may print "test reliability_child_app ... " on the same line.
                if let Some(i) = line.find(CHILD_READY) {
                    let url = line[i + CHILD_READY.len()..].split_whitespace().next();
                    let _ = tx.send(url.unwrap_or_default().to_owned());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => Self { child, url },
            Err(_) => {
                let _ = child.kill();
                panic!("the child app did not come up within 60 s");
            }
        }
    }

    /// SIGKILL, no chance to clean up (what `kill -9` does), and reap it.
    pub(crate) fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildApp {
    fn drop(&mut self) {
        self.kill9();
    }
}

//! The benchmark suite: the bare handler (the ceiling), then the example app (release
//! binary, demo mode) on SQLite and on PostgreSQL, each measured in the same run:
//!
//! 1. webhook ingest, closed loop (maximum throughput) over `connections` connections;
//! 2. webhook ingest, open loop at `target_rate` events/s (sustained rate and p99 ack latency);
//!    after each, the time the worker needs to process the backlog;
//! 3. join-link redirects of already-registered users, open loop at `join_rate` requests/s,
//!    each phase after [`JOIN_WARMUP`] of the same load that is not counted;
//! 4. roster read: 1,000 registered participants × 10 connections each, `GET attendance` of
//!    that instance, sequentially;
//! 5. the app's peak RSS (`VmHWM`) after all of it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::api::Api;
use crate::db::{Backend, WebhookCounts};
use crate::events::{EventFactory, ParticipantKind, Registrant};
use crate::load::{LoadResult, LoadSpec, Percentiles, RequestSource, run};
use crate::procs::{self, Machine, Proc};
use crate::sources::{GetSource, WebhookSource};

/// The JWT secret the suite starts the app with (a benchmark fixture, not a real secret).
pub const JWT_SECRET: &str = "attend-bench-jwt-secret-0123456789abcdef";
/// The webhook secret the suite starts the app (and the bare handler) with.
pub const WEBHOOK_SECRET: &str = "attend-bench-webhook-secret";

/// The join-link phases' warm-up: the same clicks over the same connections, not counted.
/// Their goal is a p99 over 10,000 clicks (5 s at 2,000/s), and the first tens of
/// milliseconds of a phase, while the generator opens its 64 connections at once, were up to
/// a hundred of the slowest clicks: the phase measured the connections' opening, not the
/// clicks (BENCHMARKS.md, thirteenth session).
pub const JOIN_WARMUP: Duration = Duration::from_secs(1);

/// What to run.
#[derive(Clone, Debug)]
pub struct SuiteConfig {
    /// The example app's release binary.
    pub app_bin: PathBuf,
    /// This binary (for the bare server).
    pub self_bin: PathBuf,
    /// Where databases and logs go.
    pub work_dir: PathBuf,
    /// `postgres://user@host:port` (no database), or `None` to skip PostgreSQL.
    pub postgres: Option<String>,
    /// Length of each load phase.
    pub duration: Duration,
    /// Concurrent connections for ingest.
    pub connections: usize,
    /// Open-loop ingest rate, events/s.
    pub target_rate: f64,
    /// Open-loop join-link rate, requests/s.
    pub join_rate: f64,
    /// Open-loop ingest rate of the steady phase (a busy app, not saturated), events/s;
    /// 0 skips it.
    pub steady_rate: f64,
    /// Participants in the roster phase (each with 10 connections).
    pub roster_participants: usize,
    /// Sequential reads in the roster phase.
    pub roster_reads: usize,
    /// Skip the SQLite run.
    pub skip_sqlite: bool,
    /// How long to wait for the worker to process a phase's backlog.
    pub drain_bound: Duration,
    /// PostgreSQL's `synchronous_commit` for the benchmark database (`None`: the server's).
    pub pg_synchronous_commit: Option<String>,
}

/// CPU used during a phase, seconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct CpuUse {
    /// The target process (the app or the bare server).
    pub target_s: f64,
    /// All `postgres` processes.
    pub postgres_s: f64,
    /// This load generator.
    pub generator_s: f64,
    /// The whole machine (busy time of all CPUs).
    pub machine_busy_s: f64,
    /// Wall time.
    pub wall_s: f64,
}

struct CpuMark {
    target: f64,
    postgres: f64,
    generator: f64,
    machine: f64,
    at: Instant,
}

impl CpuMark {
    fn now(target: u32) -> Self {
        Self {
            target: procs::cpu_seconds(target).unwrap_or(0.0),
            postgres: procs::cpu_seconds_of_command("postgres"),
            generator: procs::cpu_seconds(std::process::id()).unwrap_or(0.0),
            machine: procs::machine_cpu().map_or(0.0, |(busy, _)| busy),
            at: Instant::now(),
        }
    }

    fn since(&self, target: u32) -> CpuUse {
        let now = Self::now(target);
        CpuUse {
            target_s: now.target - self.target,
            postgres_s: now.postgres - self.postgres,
            generator_s: now.generator - self.generator,
            machine_busy_s: now.machine - self.machine,
            wall_s: now.at.duration_since(self.at).as_secs_f64(),
        }
    }
}

/// One load phase: the load result and the CPU it cost.
#[derive(Clone, Debug, Serialize)]
pub struct Phase {
    /// The load generator's figures.
    pub load: LoadResult,
    /// CPU during the load.
    pub cpu: CpuUse,
    /// Processing of what this phase stored (app only).
    pub processing: Option<Processing>,
}

/// How fast the worker processed a phase's deliveries.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Processing {
    /// Deliveries still waiting when the load stopped.
    pub backlog_at_end: i64,
    /// Deliveries processed from the start of the phase until the backlog was empty.
    pub processed: i64,
    /// Seconds from the start of the phase until the backlog was empty (or the bound).
    pub seconds: f64,
    /// `processed / seconds`.
    pub rate: f64,
    /// Whether the backlog emptied within the bound.
    pub drained: bool,
    /// The target's CPU from the start of the phase until the backlog was empty, seconds
    /// (`None`: not measured).
    pub target_cpu_s: Option<f64>,
    /// `target_cpu_s` per processed delivery, microseconds: what storing, acknowledging
    /// and processing one delivery cost the app.
    pub cpu_us_per_delivery: Option<f64>,
}

/// The roster read figures.
#[derive(Clone, Debug, Serialize)]
pub struct Roster {
    /// Registered participants with connections in the instance.
    pub participants: usize,
    /// Connections each.
    pub connections_each: usize,
    /// Roster rows in the answer.
    pub roster_rows: usize,
    /// Whether every participant shows `joins` = connections and the expected seconds.
    pub correct: bool,
    /// Size of the JSON answer, bytes.
    pub response_bytes: usize,
    /// The first read after the deliveries were processed: nothing cached, everything
    /// loaded and computed.
    pub cold_ms: f64,
    /// Latency of the sequential reads after it (served from the roster cache while
    /// nothing changes).
    pub latency_ms: Percentiles,
    /// Sequential reads made.
    pub reads: usize,
    /// Reads each made right after one more delivery was stored and processed (a new
    /// connection of a registered participant, as in a live class): the evidence changed
    /// since the previous read.
    pub after_change_ms: Percentiles,
    /// How many such reads.
    pub after_change_reads: usize,
}

/// The figures of one backend.
#[derive(Clone, Debug, Serialize)]
pub struct BackendReport {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Durability settings in force.
    pub durability: String,
    /// Closed-loop ingest.
    pub ingest_max: Phase,
    /// The bare handler's closed-loop maximum right before and right after `ingest_max`
    /// (`None` when the bare handler could not run).
    pub bare_around_max: Option<BareAround>,
    /// Open-loop ingest at the target rate.
    pub ingest_rate: Phase,
    /// Open-loop ingest at the steady rate (after the other ingest phases), if run.
    pub ingest_steady: Option<Phase>,
    /// Join links at the join rate, on a quiet app (before the ingest phases).
    pub join: Phase,
    /// Join links at the join rate right after the ingest phases, while the worker still
    /// processes their backlog (every click is a write too).
    pub join_busy: Phase,
    /// Roster read.
    pub roster: Option<Roster>,
    /// RSS right after start-up, KiB.
    pub rss_idle_kib: Option<u64>,
    /// Peak RSS (`VmHWM`) at the end, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Peak RSS after the ingest phases (the steady one included, if run), KiB.
    pub peak_rss_after_ingest_kib: Option<u64>,
}

/// The bare handler's closed-loop maximum measured right before and right after one of the
/// app's.
#[derive(Clone, Debug, Serialize)]
pub struct BareAround {
    /// Right before.
    pub before: Phase,
    /// Right after.
    pub after: Phase,
}

/// The bare handler's figures.
#[derive(Clone, Debug, Serialize)]
pub struct BareReport {
    /// Closed loop.
    pub ingest_max: Phase,
    /// Open loop at the target rate.
    pub ingest_rate: Phase,
}

/// Everything one suite run measured.
#[derive(Clone, Debug, Serialize)]
pub struct SuiteReport {
    /// The machine.
    pub machine: Machine,
    /// UTC start time.
    pub started_at: String,
    /// Settings.
    pub connections: usize,
    /// Seconds per load phase.
    pub phase_seconds: f64,
    /// Open-loop ingest target, events/s.
    pub target_rate: f64,
    /// Join-link rate, requests/s.
    pub join_rate: f64,
    /// Steady ingest rate, events/s (0: not run).
    pub steady_rate: f64,
    /// The ceiling.
    pub bare: Option<BareReport>,
    /// Per backend.
    pub backends: Vec<BackendReport>,
    /// Errors of phases that could not run.
    pub errors: Vec<String>,
}

/// A suite failure: what step and why.
type Res<T> = Result<T, String>;

fn err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

async fn load_phase(spec: LoadSpec, source: Arc<dyn RequestSource>, target_pid: u32) -> Res<Phase> {
    // The CPU figures cover the measured load: marked before the run starts, or, after a
    // warm-up, once it is over.
    let before = CpuMark::now(target_pid);
    let (load, mark) = tokio::join!(run(spec, source), async {
        if spec.warmup.is_zero() {
            return before;
        }
        tokio::time::sleep(spec.warmup).await;
        CpuMark::now(target_pid)
    });
    let load = load.map_err(err("load"))?;
    Ok(Phase {
        load,
        cpu: mark.since(target_pid),
        processing: None,
    })
}

/// The bare handler's server, kept running (idle between its phases) for the whole suite so
/// that its maximum can be measured again right next to each backend's.
struct BareServer {
    proc_: Proc,
    url: String,
    factory: EventFactory,
}

impl BareServer {
    async fn start(cfg: &SuiteConfig) -> Res<Self> {
        let port = procs::free_port().map_err(err("port"))?;
        let bind = format!("127.0.0.1:{port}");
        let mut proc_ = Proc::spawn(
            "bare handler",
            &cfg.self_bin,
            &[
                "bare-server",
                "--bind",
                &bind,
                "--secret",
                WEBHOOK_SECRET,
                "--workers",
                "4",
            ],
            &[],
            &cfg.work_dir.join("bare.log"),
        )
        .map_err(|e| e.to_string())?;
        proc_
            .wait_ready(&format!("http://{bind}/health"), Duration::from_secs(30))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            proc_,
            url: format!("http://{bind}/webhooks/zoom"),
            factory: bench_factory(0, "bare", Vec::new()),
        })
    }

    async fn phase(&self, spec: LoadSpec, tag: &str) -> Res<Phase> {
        let mut f = self.factory.clone();
        f.tag = tag.to_owned();
        let source = Arc::new(WebhookSource::stream(self.url.clone(), WEBHOOK_SECRET, f));
        load_phase(spec, source, self.proc_.pid()).await
    }

    /// Its closed-loop maximum, as in the suite's first bare phase.
    async fn max(&self, cfg: &SuiteConfig, tag: &str) -> Res<Phase> {
        self.phase(LoadSpec::closed(cfg.connections, cfg.duration), tag)
            .await
    }
}

/// Runs the bare handler phases.
async fn run_bare(cfg: &SuiteConfig, server: &BareServer) -> Res<BareReport> {
    server
        .phase(
            LoadSpec::closed(cfg.connections, Duration::from_secs(2)),
            "bare-warm",
        )
        .await?;
    let ingest_max = server.max(cfg, "bare-max").await?;
    let ingest_rate = server
        .phase(
            LoadSpec::open(cfg.connections, cfg.duration, cfg.target_rate),
            "bare-rate",
        )
        .await?;
    Ok(BareReport {
        ingest_max,
        ingest_rate,
    })
}

fn bench_factory(zoom_meeting_id: i64, tag: &str, registrants: Vec<Registrant>) -> EventFactory {
    EventFactory {
        zoom_meeting_id,
        instance_uuid: format!("benchInstance{tag}AAAAAA"),
        host_id: "bench-host-id".into(),
        account_id: "SimAccount-0001".into(),
        start: Utc::now() - TimeDelta::hours(1),
        registrants,
        tag: tag.to_owned(),
    }
}

/// Waits until no stored delivery waits for processing (at most `bound`), and reports the
/// processing rate since `phase_start` (when `done_before` deliveries were done).
async fn drain(
    backend: &Backend,
    phase_start: Instant,
    done_before: i64,
    bound: Duration,
    cpu: Option<(&CpuMark, u32)>,
) -> Res<Processing> {
    let backlog_at_end = backend.waiting()?;
    let deadline = Instant::now() + bound;
    let mut waiting = backlog_at_end;
    while waiting > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        waiting = backend.waiting()?;
    }
    let seconds = phase_start.elapsed().as_secs_f64();
    let counts = backend.webhook_counts()?;
    let processed = counts.done - done_before;
    let target_cpu_s = cpu.map(|(mark, pid)| mark.since(pid).target_s);
    Ok(Processing {
        backlog_at_end,
        processed,
        seconds,
        rate: processed as f64 / seconds.max(1e-9),
        drained: counts.received == 0,
        target_cpu_s,
        cpu_us_per_delivery: target_cpu_s.map(|s| s * 1e6 / (processed.max(1) as f64)),
    })
}

async fn ingest_phase(
    cfg: &SuiteConfig,
    backend: &Backend,
    spec: LoadSpec,
    source: Arc<dyn RequestSource>,
    pid: u32,
) -> Res<Phase> {
    let before: WebhookCounts = backend.webhook_counts()?;
    let start = Instant::now();
    let mark = CpuMark::now(pid);
    let mut phase = load_phase(spec, source, pid).await?;
    phase.processing = Some(
        drain(
            backend,
            start,
            before.done,
            cfg.drain_bound,
            Some((&mark, pid)),
        )
        .await?,
    );
    Ok(phase)
}

/// Runs every phase on one backend.
async fn run_backend(
    cfg: &SuiteConfig,
    backend: &Backend,
    bare: Option<&BareServer>,
) -> Res<BackendReport> {
    backend.reset()?;
    let port = procs::free_port().map_err(err("port"))?;
    let base = format!("http://127.0.0.1:{port}");
    let mut app = Proc::spawn(
        "attend-example",
        &cfg.app_bin,
        &[],
        &[
            ("ATTEND_BIND", format!("127.0.0.1:{port}")),
            ("ATTEND_DATABASE_URL", backend.url()),
            ("ATTEND_JWT_SECRET", JWT_SECRET.to_owned()),
            ("ATTEND_ZOOM_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ],
        &cfg.work_dir.join(format!("app-{}.log", backend.name())),
    )
    .map_err(|e| e.to_string())?;
    app.wait_ready(
        &format!("{base}/attend/openapi.json"),
        Duration::from_secs(120),
    )
    .await
    .map_err(|e| e.to_string())?;
    let pid = app.pid();
    let rss_idle_kib = procs::status_field(pid, "VmRSS:");
    let durability = backend.durability()?;
    let api = Api::new(&base, JWT_SECRET).map_err(|e| e.to_string())?;

    // The demo meeting and its registered students. The app serves before its demo data is
    // seeded (the seeding registers students through the simulator it serves), so wait.
    let deadline = Instant::now() + Duration::from_secs(120);
    let meeting = loop {
        let meetings = api.meetings().await.map_err(|e| e.to_string())?;
        let found = meetings
            .iter()
            .find(|m| m["group"] == "cs101")
            .or(meetings.first())
            .cloned();
        match found {
            Some(meeting) => break meeting,
            None if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            None => return Err("the demo meeting is missing 120 s after start-up".into()),
        }
    };
    let meeting_id = meeting["id"].as_str().unwrap_or_default().to_owned();
    let zoom_id = meeting["zoom_meeting_id"].as_i64().unwrap_or_default();
    // The demo registers its students in the background: wait until some are registered
    // and none is pending (right after the meeting appears, there may be no rows at all).
    let deadline = Instant::now() + Duration::from_secs(120);
    let regs = loop {
        let regs = api
            .registrations(&meeting_id)
            .await
            .map_err(|e| e.to_string())?;
        let settled = regs["counts"]["pending"].as_u64() == Some(0)
            && regs["counts"]["registered"].as_u64().unwrap_or(0) > 0;
        if settled || Instant::now() > deadline {
            break regs;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let emails = api.user_emails().await.map_err(|e| e.to_string())?;
    let registered = registered_of(&regs, &emails);
    if registered.is_empty() {
        return Err("the demo meeting has no registered student".into());
    }

    // Join links of already-registered users, on a quiet app (before any webhook load).
    let links: Vec<String> = registered.iter().map(|(_, _, l)| l.clone()).collect();
    for link in &links {
        // Each link once first: every user is registered, the first click is not special.
        let _ = api
            .call(reqwest::Method::GET, link.trim_start_matches(&base), None)
            .await;
    }
    let join_spec =
        LoadSpec::open(cfg.connections, cfg.duration, cfg.join_rate).with_warmup(JOIN_WARMUP);
    let join_source = || -> Arc<dyn RequestSource> { Arc::new(GetSource::new(links.clone(), 302)) };
    let join = load_phase(join_spec, join_source(), pid).await?;

    let url = format!("{base}/attend/webhooks/zoom");
    let source = |tag: &str| -> Arc<dyn RequestSource> {
        let f = bench_factory(
            zoom_id,
            &format!("{}{tag}", backend.name()),
            registered.iter().map(|(_, r, _)| r.clone()).collect(),
        );
        Arc::new(WebhookSource::stream(url.clone(), WEBHOOK_SECRET, f))
    };
    ingest_phase(
        cfg,
        backend,
        LoadSpec::closed(cfg.connections, Duration::from_secs(2)),
        source("warm"),
        pid,
    )
    .await?;
    // The bare handler's maximum right before and right after the app's (the app idle, its
    // backlog processed): the ratio is taken against these, measured minutes apart at most,
    // not against the suite's first bare phase.
    let bare_before = match bare {
        Some(b) => Some(
            b.max(cfg, &format!("bare-before-{}", backend.name()))
                .await?,
        ),
        None => None,
    };
    let ingest_max = ingest_phase(
        cfg,
        backend,
        LoadSpec::closed(cfg.connections, cfg.duration),
        source("max"),
        pid,
    )
    .await?;
    let bare_around_max = match (bare, bare_before) {
        (Some(b), Some(before)) => Some(BareAround {
            before,
            after: b
                .max(cfg, &format!("bare-after-{}", backend.name()))
                .await?,
        }),
        _ => None,
    };
    let ingest_rate = ingest_phase(
        cfg,
        backend,
        LoadSpec::open(cfg.connections, cfg.duration, cfg.target_rate),
        source("rate"),
        pid,
    )
    .await?;
    let ingest_steady = if cfg.steady_rate > 0.0 {
        Some(
            ingest_phase(
                cfg,
                backend,
                LoadSpec::open(cfg.connections, cfg.duration, cfg.steady_rate),
                source("steady"),
                pid,
            )
            .await?,
        )
    } else {
        None
    };
    let peak_rss_after_ingest_kib = app.peak_rss_kib();

    // Join links again, while the worker still works through the ingest backlog.
    let join_busy = load_phase(join_spec, join_source(), pid).await?;

    let roster = if cfg.roster_participants > 0 {
        Some(roster_phase(cfg, backend, &api, &meeting_id, zoom_id, &url).await?)
    } else {
        None
    };
    let peak_rss_kib = app.peak_rss_kib();
    app.kill();
    Ok(BackendReport {
        backend: backend.name().to_owned(),
        durability,
        ingest_max,
        bare_around_max,
        ingest_rate,
        ingest_steady,
        join,
        join_busy,
        roster,
        rss_idle_kib,
        peak_rss_kib,
        peak_rss_after_ingest_kib,
    })
}

/// `(user_id, registrant, personal join link)` of every registered user.
fn registered_of(
    regs: &Value,
    emails: &HashMap<String, String>,
) -> Vec<(String, Registrant, String)> {
    regs["registrations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|r| r["status"] == "registered")
        .filter_map(|r| {
            let user = r["user_id"].as_str()?.to_owned();
            let registrant = Registrant {
                registrant_id: r["registrant_id"].as_str()?.to_owned(),
                email: emails.get(&user).cloned().unwrap_or_default(),
                name: user.clone(),
            };
            Some((user, registrant, r["join_link"].as_str()?.to_owned()))
        })
        .collect()
}

async fn roster_phase(
    cfg: &SuiteConfig,
    backend: &Backend,
    api: &Api,
    meeting_id: &str,
    zoom_id: i64,
    webhook_url: &str,
) -> Res<Roster> {
    const CONNECTIONS: usize = 10;
    let n = cfg.roster_participants;
    let users: Vec<String> = (0..n).map(|i| format!("rb-{i:05}")).collect();
    // Create the users, 16 at a time.
    for chunk in users.chunks(16) {
        let mut set = tokio::task::JoinSet::new();
        for u in chunk {
            let api = api.clone();
            let u = u.clone();
            set.spawn(async move {
                api.upsert_user(&u, &format!("{u}@bench.invalid"), &u, "student")
                    .await
            });
        }
        while let Some(r) = set.join_next().await {
            r.map_err(err("task"))?.map_err(|e| e.to_string())?;
        }
    }
    let regs = api
        .register_all(meeting_id, &users, Duration::from_secs(300))
        .await
        .map_err(|e| e.to_string())?;
    let emails: HashMap<String, String> = users
        .iter()
        .map(|u| (u.clone(), format!("{u}@bench.invalid")))
        .collect();
    let by_user: HashMap<String, Registrant> = registered_of(&regs, &emails)
        .into_iter()
        .map(|(u, r, _)| (u, r))
        .collect();
    let registrants: Vec<Registrant> = users
        .iter()
        .map(|u| {
            by_user
                .get(u)
                .cloned()
                .ok_or(format!("{u} is not registered"))
        })
        .collect::<Res<_>>()?;

    let mut factory = bench_factory(zoom_id, &format!("roster{}", backend.name()), registrants);
    factory.start = Utc::now() - TimeDelta::hours(3);
    let start = factory.start;
    let mut bodies = vec![factory.started()];
    for r in 0..CONNECTIONS {
        for i in 0..n {
            let connection = (r * n + i) as u64;
            let join = start + TimeDelta::seconds((r * 360 + i % 60) as i64);
            bodies.push(factory.participant(ParticipantKind::Joined, connection, join));
            bodies.push(factory.participant(
                ParticipantKind::Left,
                connection,
                join + TimeDelta::seconds(300),
            ));
        }
    }
    bodies.push(factory.ended(start + TimeDelta::hours(1)));
    let total = bodies.len() as u64;
    let before = backend.webhook_counts()?;
    let t0 = Instant::now();
    let spec = LoadSpec {
        max_requests: total,
        ..LoadSpec::closed(cfg.connections, Duration::from_secs(600))
    };
    let sent = run(
        spec,
        Arc::new(WebhookSource::list(webhook_url, WEBHOOK_SECRET, bodies)),
    )
    .await
    .map_err(err("load"))?;
    if sent.ok != total {
        return Err(format!(
            "roster phase: {} of {total} deliveries acknowledged",
            sent.ok
        ));
    }
    drain(backend, t0, before.done, Duration::from_secs(600), None).await?;

    let path = format!(
        "/attend/meetings/{meeting_id}/attendance?instance={}",
        factory.instance_uuid
    );
    let cold = Instant::now();
    let first = api.get_bytes(&path).await.map_err(|e| e.to_string())?;
    let cold_ms = cold.elapsed().as_secs_f64() * 1000.0;
    let first: serde_json::Value =
        serde_json::from_slice(&first).map_err(|e| format!("roster answer: {e}"))?;
    let rows = first["roster"].as_array().cloned().unwrap_or_default();
    let expected_seconds = (CONNECTIONS * 300) as u64;
    let correct = users.iter().all(|u| {
        rows.iter().any(|row| {
            row["user_id"] == u.as_str()
                && row["joins"].as_u64() == Some(CONNECTIONS as u64)
                && row["attended_seconds"].as_u64() == Some(expected_seconds)
        })
    });
    let response_bytes = first.to_string().len();
    // Time the HTTP round trip only: the body is read, not parsed.
    let mut samples = Vec::with_capacity(cfg.roster_reads);
    for _ in 0..cfg.roster_reads {
        let t = Instant::now();
        let bytes = api.get_bytes(&path).await.map_err(|e| e.to_string())?;
        samples.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
        if bytes.len() < response_bytes / 2 {
            return Err(format!("roster read answered {} bytes", bytes.len()));
        }
    }
    // One more delivery before each read: the evidence changed since the last read.
    let after_change_reads = cfg.roster_reads.min(20);
    let mut changed = Vec::with_capacity(after_change_reads);
    for k in 0..after_change_reads {
        let connection = (CONNECTIONS * n + k) as u64;
        let at = start + TimeDelta::seconds(3_000 + k as i64);
        let body = factory.participant(ParticipantKind::Joined, connection, at);
        let before = backend.webhook_counts()?;
        let spec = LoadSpec {
            max_requests: 1,
            ..LoadSpec::closed(1, Duration::from_secs(30))
        };
        let sent = run(
            spec,
            Arc::new(WebhookSource::list(webhook_url, WEBHOOK_SECRET, vec![body])),
        )
        .await
        .map_err(err("load"))?;
        if sent.ok != 1 {
            return Err("roster phase: a delivery after the reads was not acknowledged".into());
        }
        drain(
            backend,
            Instant::now(),
            before.done,
            Duration::from_secs(30),
            None,
        )
        .await?;
        let t = Instant::now();
        let bytes = api.get_bytes(&path).await.map_err(|e| e.to_string())?;
        changed.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
        if bytes.len() < response_bytes / 2 {
            return Err(format!("roster read answered {} bytes", bytes.len()));
        }
    }
    Ok(Roster {
        after_change_ms: Percentiles::of_micros(changed),
        after_change_reads,
        participants: n,
        connections_each: CONNECTIONS,
        roster_rows: rows.len(),
        correct,
        response_bytes,
        cold_ms,
        latency_ms: Percentiles::of_micros(samples),
        reads: cfg.roster_reads,
    })
}

/// Runs the whole suite. Phases that fail are recorded in `errors`; the rest still run.
pub async fn run_suite(cfg: &SuiteConfig) -> SuiteReport {
    let _ = std::fs::create_dir_all(&cfg.work_dir);
    let mut report = SuiteReport {
        machine: Machine::detect(),
        started_at: Utc::now().to_rfc3339(),
        connections: cfg.connections,
        phase_seconds: cfg.duration.as_secs_f64(),
        target_rate: cfg.target_rate,
        join_rate: cfg.join_rate,
        steady_rate: cfg.steady_rate,
        bare: None,
        backends: Vec::new(),
        errors: Vec::new(),
    };
    eprintln!("attend-bench: bare handler …");
    let bare = match BareServer::start(cfg).await {
        Ok(server) => Some(server),
        Err(e) => {
            report.errors.push(format!("bare handler: {e}"));
            None
        }
    };
    if let Some(server) = &bare {
        match run_bare(cfg, server).await {
            Ok(b) => report.bare = Some(b),
            Err(e) => report.errors.push(format!("bare handler: {e}")),
        }
    }
    let mut backends = Vec::new();
    if !cfg.skip_sqlite {
        backends.push(Backend::Sqlite {
            path: cfg.work_dir.join("sqlite").join("attend-bench.sqlite"),
        });
    }
    if let Some(server) = &cfg.postgres {
        backends.push(Backend::Postgres {
            server: server.trim_end_matches('/').to_owned(),
            database: "attend_bench".into(),
            synchronous_commit: cfg.pg_synchronous_commit.clone(),
        });
    }
    for backend in backends {
        eprintln!("attend-bench: example app on {} …", backend.name());
        match run_backend(cfg, &backend, bare.as_ref()).await {
            Ok(r) => report.backends.push(r),
            Err(e) => report.errors.push(format!("{}: {e}", backend.name())),
        }
    }
    report
}

impl BackendReport {
    /// The app's ingest maximum over the mean of the bare handler's maxima measured right
    /// before and after it; `None` without them.
    pub fn ratio_to_bare_around(&self) -> Option<f64> {
        let around = self.bare_around_max.as_ref()?;
        let mean = (around.before.load.throughput + around.after.load.throughput) / 2.0;
        (mean > 0.0).then(|| self.ingest_max.load.throughput / mean)
    }
}

impl SuiteReport {
    /// A Markdown summary (the tables BENCHMARKS.md is written from).
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let m = &self.machine;
        let _ = writeln!(
            s,
            "machine: {} CPUs, {}, {:.1} GiB RAM, kernel {}; {} connections, {} s per phase; run {}\n",
            m.cpus,
            m.cpu_model,
            m.memory_gib,
            m.kernel,
            self.connections,
            self.phase_seconds,
            self.started_at
        );
        let _ = writeln!(
            s,
            "| target | phase | events/s (ok) | non-200 | errors | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | p99 from due ms | target CPU s | pg CPU s | gen CPU s | machine busy s / wall s | processed/s (drained) | app CPU µs per delivery |"
        );
        let _ = writeln!(
            s,
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        let mut row = |target: &str, phase: &str, p: &Phase| {
            let l = &p.load;
            let non200: u64 = l.unexpected.values().sum();
            let due = l
                .latency_from_due_ms
                .map_or("-".to_owned(), |d| format!("{:.2}", d.p99));
            let proc_ = p.processing.map_or("-".to_owned(), |x| {
                format!("{:.0} ({})", x.rate, if x.drained { "yes" } else { "NO" })
            });
            let per = p
                .processing
                .and_then(|x| x.cpu_us_per_delivery)
                .map_or("-".to_owned(), |us| format!("{us:.0}"));
            let _ = writeln!(
                s,
                "| {target} | {phase} | {:.0} | {non200} {:?} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {due} | {:.1} | {:.1} | {:.1} | {:.1} / {:.1} | {proc_} | {per} |",
                l.throughput,
                l.unexpected,
                l.transport_errors,
                l.latency_ms.p50,
                l.latency_ms.p90,
                l.latency_ms.p99,
                l.latency_ms.p999,
                l.latency_ms.max,
                p.cpu.target_s,
                p.cpu.postgres_s,
                p.cpu.generator_s,
                p.cpu.machine_busy_s,
                p.cpu.wall_s,
            );
        };
        if let Some(b) = &self.bare {
            row("bare handler", "ingest max", &b.ingest_max);
            row(
                "bare handler",
                &format!("ingest @{}/s", self.target_rate),
                &b.ingest_rate,
            );
        }
        for b in &self.backends {
            let t = format!("app/{}", b.backend);
            let around = b.bare_around_max.as_ref();
            if let Some(a) = around {
                let phase = format!("ingest max, right before {t}'s");
                row("bare handler", &phase, &a.before);
            }
            row(&t, "ingest max", &b.ingest_max);
            if let Some(a) = around {
                let phase = format!("ingest max, right after {t}'s");
                row("bare handler", &phase, &a.after);
            }
            row(
                &t,
                &format!("ingest @{}/s", self.target_rate),
                &b.ingest_rate,
            );
            if let Some(steady) = &b.ingest_steady {
                row(&t, &format!("ingest @{}/s", self.steady_rate), steady);
            }
            // A warm-up (not counted) is named in the phase.
            let warm = |p: &Phase| {
                let w = p.load.spec.warmup;
                if w.is_zero() {
                    String::new()
                } else {
                    format!(" (after {:.1} s not counted)", w.as_secs_f64())
                }
            };
            let quiet = format!("join @{}/s, quiet{}", self.join_rate, warm(&b.join));
            row(&t, &quiet, &b.join);
            let busy = format!(
                "join @{}/s, during backlog{}",
                self.join_rate,
                warm(&b.join_busy)
            );
            row(&t, &busy, &b.join_busy);
        }
        let _ = writeln!(s);
        for b in &self.backends {
            let first = self.bare.as_ref().map_or(f64::NAN, |bare| {
                b.ingest_max.load.throughput / bare.ingest_max.load.throughput
            });
            let around = b.ratio_to_bare_around();
            let _ = writeln!(
                s,
                "- {}: durability {}; ingest max / bare = {} (the bare handler's maximum right before and after the app's: {}; against the suite's first bare phase: {:.2}); RSS idle {} KiB, peak after ingest {} KiB, peak at end (VmHWM) {} KiB",
                b.backend,
                b.durability,
                around.map_or("-".to_owned(), |r| format!("{r:.2}")),
                b.bare_around_max
                    .as_ref()
                    .map_or("-".to_owned(), |a| format!(
                        "{:.0}/s and {:.0}/s",
                        a.before.load.throughput, a.after.load.throughput
                    )),
                first,
                b.rss_idle_kib.unwrap_or(0),
                b.peak_rss_after_ingest_kib.unwrap_or(0),
                b.peak_rss_kib.unwrap_or(0)
            );
            if let Some(r) = &b.roster {
                let _ = writeln!(
                    s,
                    "  roster: {} participants × {} connections, {} rows, correct={}, {} bytes; first (cold) read {:.1} ms; {} sequential reads after it: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} reads each after one more event: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
                    r.participants,
                    r.connections_each,
                    r.roster_rows,
                    r.correct,
                    r.response_bytes,
                    r.cold_ms,
                    r.reads,
                    r.latency_ms.p50,
                    r.latency_ms.p90,
                    r.latency_ms.p99,
                    r.latency_ms.max,
                    r.after_change_reads,
                    r.after_change_ms.p50,
                    r.after_change_ms.p90,
                    r.after_change_ms.max
                );
            }
        }
        for e in &self.errors {
            let _ = writeln!(s, "- ERROR {e}");
        }
        s
    }
}

//! `attend-bench`: the benchmark suite's command line.
//!
//! ```text
//! attend-bench suite --app PATH [--postgres URL] [--duration S] [--connections N]
//!                    [--rate R] [--join-rate R] [--steady-rate R] [--roster N] [--roster-reads N]
//!                    [--work-dir DIR] [--json FILE] [--skip-sqlite]
//!                    [--pg-synchronous-commit on|off] [--drain-bound S]
//! attend-bench bare-server --bind ADDR --secret S [--workers N]
//! attend-bench ingest --url URL --secret S [--zoom-meeting-id N] [--tag T] [--duration S]
//!                     [--connections N] [--rate R] [--max N] [--acked-out FILE]
//! attend-bench verify --database URL --acked FILE [--zoom-meeting-id N] [--tag T]
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use attend_bench::suite::{SuiteConfig, run_suite};

const USAGE: &str = "usage:
  attend-bench suite --app PATH [--postgres postgres://user@127.0.0.1:5432] [--duration 15]
                     [--connections 64] [--rate 5000] [--join-rate 2000] [--steady-rate 2000]
                     [--roster 1000] [--roster-reads 50] [--work-dir DIR] [--json FILE] [--skip-sqlite]
                     [--pg-synchronous-commit on|off] [--drain-bound 300]
  attend-bench bare-server --bind 127.0.0.1:PORT --secret SECRET [--workers 4]
  attend-bench ingest --url http://127.0.0.1:PORT/attend/webhooks/zoom --secret SECRET
                      [--zoom-meeting-id N] [--tag T] [--start RFC3339] [--duration 15]
                      [--connections 64] [--rate R] [--max N] [--acked-out FILE]
  attend-bench verify --database URL --acked FILE [--zoom-meeting-id N] [--tag T] [--start RFC3339]
                      (are the deliveries `ingest` got a 200 for stored, and processed?)";

fn parse(args: &[String]) -> Result<(HashMap<String, String>, Vec<String>), String> {
    let mut opts = HashMap::new();
    let mut flags = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(name) = a.strip_prefix("--") else {
            return Err(format!("unexpected argument {a:?}"));
        };
        if name.starts_with("skip-") || name == "help" {
            flags.push(name.to_owned());
        } else {
            let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            opts.insert(name.to_owned(), v.clone());
        }
    }
    Ok((opts, flags))
}

/// The event stream of `ingest`/`verify`: fixed start and tag, so `verify` regenerates the
/// exact bodies `ingest` sent.
fn cli_factory(
    opts: &HashMap<String, String>,
) -> Result<attend_bench::events::EventFactory, String> {
    let start = opts
        .get("start")
        .map_or("2026-01-05T15:00:00Z", String::as_str);
    Ok(attend_bench::events::EventFactory {
        zoom_meeting_id: num(opts, "zoom-meeting-id", 0)?,
        instance_uuid: opts
            .get("instance")
            .cloned()
            .unwrap_or_else(|| "benchIngestInstanceAAAA".into()),
        host_id: "bench-host-id".into(),
        account_id: "bench-account".into(),
        start: chrono::DateTime::parse_from_rfc3339(start)
            .map_err(|e| format!("--start: {e}"))?
            .with_timezone(&chrono::Utc),
        registrants: Vec::new(),
        tag: opts.get("tag").cloned().unwrap_or_else(|| "cli".into()),
    })
}

fn num<T: std::str::FromStr>(opts: &HashMap<String, String>, k: &str, d: T) -> Result<T, String> {
    opts.get(k).map_or(Ok(d), |v| {
        v.parse().map_err(|_| format!("--{k}: not a number: {v:?}"))
    })
}

async fn real_main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        return Err(USAGE.into());
    };
    let (opts, flags) = parse(rest)?;
    if flags.iter().any(|f| f == "help") {
        println!("{USAGE}");
        return Ok(());
    }
    match cmd.as_str() {
        "bare-server" => {
            let bind = opts.get("bind").ok_or("--bind is required")?;
            let bind = bind
                .parse()
                .map_err(|_| format!("--bind: bad address {bind:?}"))?;
            let secret = opts.get("secret").ok_or("--secret is required")?.clone();
            attend_bench::bare::serve(bind, secret, num(&opts, "workers", 4)?)
                .await
                .map_err(|e| e.to_string())
        }
        "ingest" => {
            let url = opts.get("url").ok_or("--url is required")?.clone();
            let secret = opts.get("secret").ok_or("--secret is required")?.clone();
            let factory = cli_factory(&opts)?;
            let connections = num(&opts, "connections", 64)?;
            let duration = Duration::from_secs(num(&opts, "duration", 15)?);
            let mut spec = match opts.get("rate") {
                Some(_) => attend_bench::load::LoadSpec::open(
                    connections,
                    duration,
                    num(&opts, "rate", 0.0)?,
                ),
                None => attend_bench::load::LoadSpec::closed(connections, duration),
            };
            spec.max_requests = num(&opts, "max", u64::MAX)?;
            let source = std::sync::Arc::new(
                attend_bench::sources::WebhookSource::stream(url, secret, factory).recording(),
            );
            let result = attend_bench::load::run(spec, source.clone())
                .await
                .map_err(|e| e.to_string())?;
            if let Some(path) = opts.get("acked-out") {
                let text: String = source.acked().iter().map(|n| format!("{n}\n")).collect();
                std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))?;
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?
            );
            Ok(())
        }
        "verify" => {
            let factory = cli_factory(&opts)?;
            let path = opts.get("acked").ok_or("--acked is required")?;
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let acked: Vec<u64> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
            let url = opts.get("database").ok_or("--database is required")?;
            let backend = attend_bench::db::Backend::from_url(url)?;
            let stored = backend.webhook_statuses_by_key()?;
            let mut missing = 0u64;
            let mut unprocessed = 0u64;
            for n in &acked {
                let key = attend_core::zoom::dedupe_key(factory.nth(*n).as_bytes());
                match stored.get(key.as_str()).map(String::as_str) {
                    None => missing += 1,
                    Some("received") => unprocessed += 1,
                    Some(_) => {}
                }
            }
            println!(
                "{}",
                serde_json::json!({
                    "acked": acked.len(),
                    "missing": missing,
                    "unprocessed": unprocessed,
                    "stored_rows": stored.len(),
                })
            );
            if missing > 0 {
                Err(format!(
                    "{missing} acknowledged deliveries are not in the store"
                ))
            } else {
                Ok(())
            }
        }
        "suite" => {
            let work_dir = opts
                .get("work-dir")
                .map_or_else(|| std::env::temp_dir().join("attend-bench"), PathBuf::from);
            let cfg = SuiteConfig {
                app_bin: PathBuf::from(opts.get("app").ok_or("--app is required")?),
                self_bin: std::env::current_exe().map_err(|e| e.to_string())?,
                work_dir,
                postgres: opts.get("postgres").cloned(),
                duration: Duration::from_secs(num(&opts, "duration", 15)?),
                connections: num(&opts, "connections", 64)?,
                target_rate: num(&opts, "rate", 5000.0)?,
                join_rate: num(&opts, "join-rate", 2000.0)?,
                steady_rate: num(&opts, "steady-rate", 2000.0)?,
                roster_participants: num(&opts, "roster", 1000)?,
                roster_reads: num(&opts, "roster-reads", 50)?,
                skip_sqlite: flags.iter().any(|f| f == "skip-sqlite"),
                pg_synchronous_commit: opts.get("pg-synchronous-commit").cloned(),
                drain_bound: Duration::from_secs(num(&opts, "drain-bound", 300)?),
            };
            let report = run_suite(&cfg).await;
            if let Some(path) = opts.get("json") {
                let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
                std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))?;
            }
            println!("{}", report.markdown());
            if report.errors.is_empty() {
                Ok(())
            } else {
                Err(format!("{} phase(s) failed", report.errors.len()))
            }
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match real_main().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("attend-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

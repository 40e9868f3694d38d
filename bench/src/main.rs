//! `attend-bench`: the benchmark suite's command line.
//!
//! ```text
//! attend-bench suite --app PATH [--postgres URL] [--duration S] [--connections N]
//!                    [--rate R] [--join-rate R] [--roster N] [--roster-reads N]
//!                    [--work-dir DIR] [--json FILE] [--skip-sqlite]
//! attend-bench bare-server --bind ADDR --secret S [--workers N]
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use attend_bench::suite::{SuiteConfig, run_suite};

const USAGE: &str = "usage:
  attend-bench suite --app PATH [--postgres postgres://user@127.0.0.1:5432] [--duration 15]
                     [--connections 64] [--rate 5000] [--join-rate 2000] [--roster 1000]
                     [--roster-reads 50] [--work-dir DIR] [--json FILE] [--skip-sqlite]
  attend-bench bare-server --bind 127.0.0.1:PORT --secret SECRET [--workers 4]";

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
                roster_participants: num(&opts, "roster", 1000)?,
                roster_reads: num(&opts, "roster-reads", 50)?,
                skip_sqlite: flags.iter().any(|f| f == "skip-sqlite"),
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

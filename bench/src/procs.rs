//! Child processes (the example app, the bare server) and what `/proc` tells about them and
//! the machine: peak RSS (`VmHWM`), CPU time, CPU model, memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started child process, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Proc {
    child: Child,
    /// What it is, for messages.
    pub name: String,
    /// Its combined stdout/stderr log file.
    pub log: PathBuf,
}

/// Why a child could not be started or did not come up.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The program could not be spawned.
    #[error("cannot start {name}: {source}")]
    Spawn {
        /// What.
        name: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// It did not answer in time, or exited.
    #[error("{name} did not come up within {secs} s (see {log})")]
    NotReady {
        /// What.
        name: String,
        /// The deadline in seconds.
        secs: u64,
        /// Its log file.
        log: String,
    },
}

impl Proc {
    /// Spawns `program args` with `env` added, output to `log`.
    ///
    /// # Errors
    /// [`ProcError::Spawn`].
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &[(&str, String)],
        log: &Path,
    ) -> Result<Self, ProcError> {
        let spawn_err = |source| ProcError::Spawn {
            name: name.to_owned(),
            source,
        };
        let out = std::fs::File::create(log).map_err(spawn_err)?;
        let err = out.try_clone().map_err(spawn_err)?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .env("RUST_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().map_err(spawn_err)?;
        Ok(Self {
            child,
            name: name.to_owned(),
            log: log.to_owned(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `GET url` answers 200 (at most `within`).
    ///
    /// # Errors
    /// [`ProcError::NotReady`] if it exits or does not answer in time.
    pub async fn wait_ready(&mut self, url: &str, within: Duration) -> Result<(), ProcError> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .ok();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            if let Some(c) = &client
                && let Ok(r) = c.get(url).send().await
                && r.status().as_u16() == 200
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(ProcError::NotReady {
            name: self.name.clone(),
            secs: within.as_secs(),
            log: self.log.display().to_string(),
        })
    }

    /// Peak resident set size so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        status_field(self.pid(), "VmHWM:")
    }

    /// CPU time used so far (user + system), seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(self.pid())
    }

    /// Kills it at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `kB` field of `/proc/<pid>/status` (e.g. `VmHWM:`, `VmRSS:`), in KiB.
pub fn status_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// User + system CPU seconds of `pid` (from `/proc/<pid>/stat`, at the usual 100 ticks/s).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 → index 0; utime is field 14 → index 11, stime 15 → 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Total CPU seconds (user + system) of every process whose command name is `comm`, e.g.
/// `postgres`.
pub fn cpu_seconds_of_command(comm: &str) -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .filter_map(cpu_seconds)
        .sum()
}

/// Machine-wide busy and total CPU seconds since boot (from `/proc/stat`).
pub fn machine_cpu() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some(((total - idle) as f64 / 100.0, total as f64 / 100.0))
}

/// This machine: CPU count, CPU model, total memory.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Machine {
    /// `nproc`.
    pub cpus: usize,
    /// `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `MemTotal`, GiB.
    pub memory_gib: f64,
    /// `uname -r` equivalent.
    pub kernel: String,
}

impl Machine {
    /// Reads it from `/proc`.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|r| r.split_once(':'))
            .map(|(_, m)| m.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        Self {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model,
            memory_gib: mem_kib / 1024.0 / 1024.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }
    }
}

/// A free loopback TCP port (bound and released; good enough for a benchmark).
///
/// # Errors
/// If no port can be bound.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process_figures() {
        let me = std::process::id();
        assert!(status_field(me, "VmHWM:").is_some_and(|k| k > 0));
        assert!(cpu_seconds(me).is_some());
        assert!(machine_cpu().is_some_and(|(busy, total)| total >= busy));
        assert!(Machine::detect().cpus >= 1);
    }
}

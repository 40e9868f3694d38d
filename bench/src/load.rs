//! The load generator: `connections` HTTP/1.1 connections (one client each, so exactly that
//! many sockets), closed loop (each connection sends its next request as soon as the last
//! answered: the maximum throughput) or open loop at a fixed rate (request `n` is due at
//! `start + n / rate`; its latency is measured from when it was *due*, so a server that falls
//! behind shows it instead of slowing the generator down).
//!
//! Every run is bounded by a request count and a duration; only loopback targets are used
//! by the suite.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// What one request is and what counts as success.
pub trait RequestSource: Send + Sync + 'static {
    /// Builds request number `n` (0-based, each `n` used once per run).
    fn request(&self, n: u64, client: &reqwest::Client) -> reqwest::RequestBuilder;

    /// Whether `status` is the expected answer.
    fn ok(&self, status: u16) -> bool {
        status == 200
    }

    /// Told how request `n` ended: `Some(status)`, or `None` on a transport error. Default:
    /// nothing.
    fn finished(&self, _n: u64, _status: Option<u16>) {}
}

/// How to load the target.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LoadSpec {
    /// Concurrent connections.
    pub connections: usize,
    /// Stop sending after this long.
    pub duration: Duration,
    /// Stop after this many requests.
    pub max_requests: u64,
    /// `Some(r)`: open loop at `r` requests/s; `None`: closed loop, as fast as answered.
    pub rate: Option<f64>,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl LoadSpec {
    /// Closed loop over `connections` for `duration`.
    pub fn closed(connections: usize, duration: Duration) -> Self {
        Self {
            connections,
            duration,
            max_requests: u64::MAX,
            rate: None,
            timeout: Duration::from_secs(10),
        }
    }

    /// Open loop at `rate` requests/s over `connections` for `duration`.
    pub fn open(connections: usize, duration: Duration, rate: f64) -> Self {
        Self {
            rate: Some(rate),
            ..Self::closed(connections, duration)
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Maximum.
    pub max: f64,
}

impl Percentiles {
    /// Percentiles of latencies given in microseconds (sorted here).
    pub fn of_micros(mut samples: Vec<u32>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let idx = ((samples.len() as f64 - 1.0) * q).round() as usize;
            f64::from(samples[idx.min(samples.len() - 1)]) / 1000.0
        };
        Self {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: at(1.0),
        }
    }
}

/// The outcome of one run.
#[derive(Clone, Debug, Serialize)]
pub struct LoadResult {
    /// The spec it ran with.
    pub spec: LoadSpec,
    /// Requests sent.
    pub sent: u64,
    /// Answers with an expected status.
    pub ok: u64,
    /// Other answers, by status.
    pub unexpected: BTreeMap<u16, u64>,
    /// Requests that got no answer (connect error, reset, timeout).
    pub transport_errors: u64,
    /// Wall time from the first request to the last answer, seconds.
    pub elapsed_s: f64,
    /// Expected answers per second over `elapsed_s`.
    pub throughput: f64,
    /// Latency from sending to the complete answer.
    pub latency_ms: Percentiles,
    /// Open loop only: latency from when the request was due (includes queueing in the
    /// generator when the target falls behind).
    pub latency_from_due_ms: Option<Percentiles>,
}

struct Shared {
    next: AtomicU64,
    source: Arc<dyn RequestSource>,
    spec: LoadSpec,
    start: Instant,
}

#[derive(Default)]
struct WorkerStats {
    sent: u64,
    ok: u64,
    unexpected: BTreeMap<u16, u64>,
    transport_errors: u64,
    latencies: Vec<u32>,
    from_due: Vec<u32>,
}

/// A client holding at most one connection, HTTP/1.1, no redirects, no proxy.
///
/// # Errors
/// If reqwest cannot build a client (TLS backend initialisation).
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .pool_max_idle_per_host(1)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .tcp_nodelay(true)
        .build()
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

async fn worker(shared: Arc<Shared>, client: reqwest::Client) -> WorkerStats {
    let spec = shared.spec;
    let mut stats = WorkerStats::default();
    loop {
        let n = shared.next.fetch_add(1, Ordering::Relaxed);
        if n >= spec.max_requests || shared.start.elapsed() >= spec.duration {
            break;
        }
        let due = spec
            .rate
            .map(|rate| shared.start + Duration::from_secs_f64(n as f64 / rate));
        if let Some(due) = due {
            if due >= shared.start + spec.duration {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        let sent_at = Instant::now();
        let result = shared.source.request(n, &client).send().await;
        let status = match result {
            Ok(response) => {
                let status = response.status().as_u16();
                // The answer is complete only once its body is read.
                match response.bytes().await {
                    Ok(_) => Some(status),
                    Err(_) => None,
                }
            }
            Err(_) => None,
        };
        let done = Instant::now();
        stats.sent += 1;
        shared.source.finished(n, status);
        match status {
            Some(s) if shared.source.ok(s) => stats.ok += 1,
            Some(s) => *stats.unexpected.entry(s).or_default() += 1,
            None => stats.transport_errors += 1,
        }
        stats.latencies.push(micros(done - sent_at));
        if let Some(due) = due {
            stats
                .from_due
                .push(micros(done.saturating_duration_since(due)));
        }
    }
    stats
}

/// Runs the load described by `spec` with requests from `source`.
///
/// # Errors
/// If a client cannot be built.
pub async fn run(spec: LoadSpec, source: Arc<dyn RequestSource>) -> reqwest::Result<LoadResult> {
    let clients = (0..spec.connections.max(1))
        .map(|_| client(spec.timeout))
        .collect::<reqwest::Result<Vec<_>>>()?;
    let shared = Arc::new(Shared {
        next: AtomicU64::new(0),
        source,
        spec,
        start: Instant::now(),
    });
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|c| tokio::spawn(worker(shared.clone(), c)))
        .collect();
    let mut total = WorkerStats::default();
    for task in tasks {
        // A worker only ends by returning its stats; a panic there is a bug in this crate.
        let stats = task.await.unwrap_or_default();
        total.sent += stats.sent;
        total.ok += stats.ok;
        total.transport_errors += stats.transport_errors;
        for (k, v) in stats.unexpected {
            *total.unexpected.entry(k).or_default() += v;
        }
        total.latencies.extend(stats.latencies);
        total.from_due.extend(stats.from_due);
    }
    let elapsed = shared.start.elapsed().as_secs_f64();
    Ok(LoadResult {
        spec,
        sent: total.sent,
        ok: total.ok,
        unexpected: total.unexpected,
        transport_errors: total.transport_errors,
        elapsed_s: elapsed,
        throughput: total.ok as f64 / elapsed.max(1e-9),
        latency_ms: Percentiles::of_micros(total.latencies),
        latency_from_due_ms: spec.rate.map(|_| Percentiles::of_micros(total.from_due)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_samples() {
        let p = Percentiles::of_micros((1..=1000).rev().map(|i| i * 1000).collect());
        assert_eq!(p.p50, 501.0);
        assert_eq!(p.p99, 990.0);
        assert_eq!(p.max, 1000.0);
        assert_eq!(Percentiles::of_micros(Vec::new()).max, 0.0);
    }
}

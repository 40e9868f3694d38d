//! The load generator: `connections` HTTP/1.1 connections (one client each, so exactly that
//! many sockets), closed loop (each connection sends its next request as soon as the last
//! answered: the maximum throughput) or open loop at a fixed rate (request `n` is due at
//! `start + n / rate`; its latency is measured from when it was *due*, so a server that falls
//! behind shows it instead of slowing the generator down).
//!
//! Every run is bounded by a request count and a duration; only loopback targets are used
//! by the suite. A run may start with a warm-up ([`LoadSpec::warmup`]): the same load over the
//! same connections, sent and answered but not counted, so that what is measured is the
//! steady state and not the 64 connections being opened at once.

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
    /// Load sent before the measured `duration` (same connections, same rate), whose requests
    /// are not counted in any figure. Zero: none. The request count bound includes them.
    pub warmup: Duration,
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
            warmup: Duration::ZERO,
        }
    }

    /// Open loop at `rate` requests/s over `connections` for `duration`.
    pub fn open(connections: usize, duration: Duration, rate: f64) -> Self {
        Self {
            rate: Some(rate),
            ..Self::closed(connections, duration)
        }
    }

    /// The same load, preceded by `warmup` of it that is not measured.
    #[must_use]
    pub fn with_warmup(self, warmup: Duration) -> Self {
        Self { warmup, ..self }
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
    /// Wall time from the first measured request (after the warm-up) to the last answer,
    /// seconds.
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
    let measured_from = shared.start + spec.warmup;
    let end = measured_from + spec.duration;
    loop {
        let n = shared.next.fetch_add(1, Ordering::Relaxed);
        if n >= spec.max_requests || Instant::now() >= end {
            break;
        }
        let due = spec
            .rate
            .map(|rate| shared.start + Duration::from_secs_f64(n as f64 / rate));
        if let Some(due) = due {
            if due >= end {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        let sent_at = Instant::now();
        // A request belongs to the warm-up by when it was due (open loop) or sent (closed).
        let measured = due.unwrap_or(sent_at) >= measured_from;
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
        // Told even during the warm-up: an acknowledged delivery is acknowledged.
        shared.source.finished(n, status);
        if !measured {
            continue;
        }
        stats.sent += 1;
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
    let elapsed = shared
        .start
        .elapsed()
        .saturating_sub(spec.warmup)
        .as_secs_f64();
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

    /// `GET url`, counting how many requests were told finished.
    struct Counting {
        url: String,
        finished: AtomicU64,
    }

    impl RequestSource for Counting {
        fn request(&self, _n: u64, client: &reqwest::Client) -> reqwest::RequestBuilder {
            client.get(&self.url)
        }

        fn finished(&self, _n: u64, _status: Option<u16>) {
            self.finished.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A keep-alive HTTP/1.1 server answering every bodiless request with 200, on threads;
    /// returns its address and the count of requests it answered.
    fn tiny_server() -> (std::net::SocketAddr, Arc<AtomicU64>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let served = Arc::new(AtomicU64::new(0));
        let count = served.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let count = count.clone();
                std::thread::spawn(move || {
                    let mut pending = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(read) = stream.read(&mut buf) {
                        if read == 0 {
                            return;
                        }
                        pending.extend_from_slice(&buf[..read]);
                        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            pending.drain(..end + 4);
                            count.fetch_add(1, Ordering::Relaxed);
                            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                            if stream.write_all(answer).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (addr, served)
    }

    #[tokio::test]
    async fn warm_up_requests_are_sent_and_reported_but_not_counted() {
        let (addr, served) = tiny_server();
        let source = Arc::new(Counting {
            url: format!("http://{addr}/"),
            finished: AtomicU64::new(0),
        });
        // 100/s: requests 0..20 are due in the 200 ms warm-up, 20..50 in the measured 300 ms.
        let spec = LoadSpec::open(2, Duration::from_millis(300), 100.0)
            .with_warmup(Duration::from_millis(200));
        let result = run(spec, source.clone()).await.expect("clients");
        assert_eq!(
            (result.sent, result.ok),
            (30, 30),
            "only the measured requests"
        );
        assert_eq!(result.transport_errors, 0);
        assert_eq!(
            source.finished.load(Ordering::Relaxed),
            50,
            "all told finished"
        );
        assert_eq!(served.load(Ordering::Relaxed), 50, "all sent");

        // Without a warm-up every request counts.
        let source = Arc::new(Counting {
            url: format!("http://{addr}/"),
            finished: AtomicU64::new(0),
        });
        let plain = run(LoadSpec::open(2, Duration::from_millis(300), 100.0), source)
            .await
            .expect("clients");
        assert_eq!((plain.sent, plain.ok), (30, 30));
        assert_eq!(served.load(Ordering::Relaxed), 80);
    }

    #[test]
    fn percentiles_pick_the_right_samples() {
        let p = Percentiles::of_micros((1..=1000).rev().map(|i| i * 1000).collect());
        assert_eq!(p.p50, 501.0);
        assert_eq!(p.p99, 990.0);
        assert_eq!(p.max, 1000.0);
        assert_eq!(Percentiles::of_micros(Vec::new()).max, 0.0);
    }
}

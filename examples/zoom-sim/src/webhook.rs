//! Signing and delivering webhook bodies the way Zoom does.
//!
//! Every delivery carries `x-zm-signature: v0=<hex HMAC-SHA256(secret, "v0:{ts}:{body}")>`,
//! `x-zm-request-timestamp: {ts}` (Unix **seconds**, the real sending time plus
//! [`DeliveryOptions::timestamp_skew_secs`]), a fresh `x-zm-request-id`, a legacy
//! `authorization` verification token (receivers should ignore it), `user-agent: Zoom
//! Marketplace/1.0a` and `content-type: application/json; charset=utf-8`. The body bytes are
//! sent exactly as generated.
//!
//! Like Zoom, a delivery is retried only after a 5xx answer or a transport failure (refused,
//! timeout after [`DeliveryOptions::timeout`]), never after 3xx/4xx, following
//! [`DeliveryOptions::retry_schedule`] (Zoom: +5 min, +20 min, +60 min), then dropped.

use crate::rng::SplitMix64;
use crate::timeline::WebhookEvent;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// `v0=` + lowercase hex HMAC-SHA256(`secret`, `v0:{timestamp}:{body}`): the value of
/// `x-zm-signature`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// The `encryptedToken` Zoom expects for an `endpoint.url_validation` `plainToken`:
/// lowercase hex HMAC-SHA256(`secret`, `plain_token`).
pub fn crc_token(secret: &str, plain_token: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(plain_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Where webhooks go: the receiver URL and the app's webhook secret token.
#[derive(Clone)]
pub struct WebhookTarget {
    /// Receiver URL, e.g. `http://127.0.0.1:8080/attend/webhooks/zoom`.
    pub url: String,
    secret: String,
}

impl fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Failure to talk to the receiver at all.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Could not build the HTTP client or send the request.
    #[error("webhook request failed")]
    Http(#[source] reqwest::Error),
    /// The receiver answered, but not what Zoom expects.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

impl WebhookTarget {
    /// A target with this URL and secret token.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
        }
    }

    /// The secret token (for building test expectations; never log it).
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Sends one body signed now (plus `skew_secs`), once, with no retry; the HTTP status.
    pub async fn send_raw(&self, body: &str, skew_secs: i64) -> Result<u16, DeliveryError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(DeliveryError::Http)?;
        let resp = send_once(&client, self, body, skew_secs, &request_id(&mut seed_rng()))
            .await
            .map_err(DeliveryError::Http)?;
        Ok(resp.status().as_u16())
    }

    /// Sends a signed `endpoint.url_validation` (as Zoom does when the endpoint is saved and
    /// every 72 h) and checks the answer's `plainToken`/`encryptedToken`. `Ok(())` when the
    /// receiver answered 200 with the right `encryptedToken`.
    pub async fn validate_endpoint(&self) -> Result<(), DeliveryError> {
        let plain = request_id(&mut seed_rng()).replace('_', "");
        let ts_ms = chrono::Utc::now().timestamp_millis();
        let body = format!(
            r#"{{"payload":{{"plainToken":"{plain}"}},"event_ts":{ts_ms},"event":"endpoint.url_validation"}}"#
        );
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .map_err(DeliveryError::Http)?;
        let resp = send_once(&client, self, &body, 0, &request_id(&mut seed_rng()))
            .await
            .map_err(DeliveryError::Http)?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(DeliveryError::Unexpected(format!("status {status}")));
        }
        let v: serde_json::Value = resp.json().await.map_err(DeliveryError::Http)?;
        let expected = crc_token(&self.secret, &plain);
        if v.get("plainToken").and_then(|x| x.as_str()) != Some(plain.as_str()) {
            return Err(DeliveryError::Unexpected("plainToken differs".into()));
        }
        if v.get("encryptedToken").and_then(|x| x.as_str()) != Some(expected.as_str()) {
            return Err(DeliveryError::Unexpected("encryptedToken differs".into()));
        }
        Ok(())
    }
}

fn seed_rng() -> SplitMix64 {
    SplitMix64::new(rand::random())
}

fn request_id(rng: &mut SplitMix64) -> String {
    let h = hex::encode(rng.bytes::<16>());
    format!(
        "{}_{}_{}_{}_{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

async fn send_once(
    client: &reqwest::Client,
    target: &WebhookTarget,
    body: &str,
    skew_secs: i64,
    request_id: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    let ts = (chrono::Utc::now().timestamp() + skew_secs).to_string();
    let signature = sign(&target.secret, &ts, body.as_bytes());
    client
        .post(&target.url)
        .header("content-type", "application/json; charset=utf-8")
        .header("user-agent", "Zoom Marketplace/1.0a")
        .header("authorization", "c2ltLWxlZ2FjeS12ZXJpZmljYXRpb24tdG9rZW4")
        .header("clientid", "sim-webhook-client")
        .header("x-zm-request-timestamp", ts)
        .header("x-zm-signature", signature)
        .header("x-zm-request-id", request_id)
        .header(
            "x-zm-trackingid",
            format!("v=2.0;clid=sim;rid={request_id}"),
        )
        .body(body.to_owned())
        .send()
        .await
}

/// How deliveries are shuffled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reorder {
    /// Zoom's emission order.
    None,
    /// Each delivery may move up to this many places (a local shuffle).
    Window(usize),
    /// A full random permutation.
    Shuffle,
}

/// Delivery behaviour. [`DeliveryOptions::default`] is "like Zoom, as fast as possible":
/// one copy each, in order, no delay, Zoom's retry schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryOptions {
    /// Copies of each event: a random number in `copies.0..=copies.1` (at least 1). Zoom's
    /// at-least-once delivery: use `(1, 3)` to test idempotence.
    pub copies: (u8, u8),
    /// Reordering.
    pub reorder: Reorder,
    /// Pause between deliveries in compressed mode.
    pub delay: Duration,
    /// Live playback: meeting seconds per real second (e.g. 60.0 plays an hour in a
    /// minute). `None`: as fast as possible (a whole class in about a second).
    pub speed: Option<f64>,
    /// Waits before the 1st, 2nd, … retry of a delivery answered 5xx or failed in
    /// transport; its length is the number of retries.
    pub retry_schedule: Vec<Duration>,
    /// Per-request timeout (Zoom expects an answer within 3 s).
    pub timeout: Duration,
    /// Seed for copies and reordering.
    pub seed: u64,
    /// Added to `x-zm-request-timestamp` (negative: a stale-looking delivery).
    pub timestamp_skew_secs: i64,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            copies: (1, 1),
            reorder: Reorder::None,
            delay: Duration::ZERO,
            speed: None,
            retry_schedule: vec![
                Duration::from_secs(5 * 60),
                Duration::from_secs(20 * 60),
                Duration::from_secs(60 * 60),
            ],
            timeout: Duration::from_secs(3),
            seed: 1,
            timestamp_skew_secs: 0,
        }
    }
}

impl DeliveryOptions {
    /// Zoom's behaviour with the retry schedule shortened to 50/100/200 ms.
    pub fn for_tests() -> Self {
        Self {
            retry_schedule: vec![
                Duration::from_millis(50),
                Duration::from_millis(100),
                Duration::from_millis(200),
            ],
            ..Self::default()
        }
    }

    /// The harsh variant: 1–3 copies of every event, reordered within 8 places, short
    /// retries.
    pub fn chaotic(seed: u64) -> Self {
        Self {
            copies: (1, 3),
            reorder: Reorder::Window(8),
            seed,
            ..Self::for_tests()
        }
    }
}

/// One HTTP attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Index of the event in the timeline.
    pub event_index: usize,
    /// Event name.
    pub event: String,
    /// Which copy (0-based) of the event this is.
    pub copy: u8,
    /// 0 for the first attempt, then 1, 2, 3 for retries.
    pub attempt: u8,
    /// `x-zm-request-id` sent.
    pub request_id: String,
    /// HTTP status, if an answer came.
    pub status: Option<u16>,
    /// Transport error text, if none came.
    pub error: Option<String>,
    /// Whether another attempt follows.
    pub will_retry: bool,
}

impl Delivery {
    /// Whether the receiver acknowledged (2xx).
    pub fn acked(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The outcome of delivering a list of events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Every attempt, in sending order.
    pub deliveries: Vec<Delivery>,
    /// Number of events that were to be delivered.
    pub events: usize,
}

impl DeliveryReport {
    /// Indices of events no copy of which was acknowledged (lost, as Zoom would lose them).
    pub fn lost_events(&self) -> Vec<usize> {
        let mut acked = vec![false; self.events];
        for d in &self.deliveries {
            if d.acked()
                && let Some(a) = acked.get_mut(d.event_index)
            {
                *a = true;
            }
        }
        acked
            .iter()
            .enumerate()
            .filter(|(_, a)| !**a)
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether every event was acknowledged at least once.
    pub fn all_acked(&self) -> bool {
        self.lost_events().is_empty()
    }

    /// Number of attempts answered with `status`.
    pub fn count_status(&self, status: u16) -> usize {
        self.deliveries
            .iter()
            .filter(|d| d.status == Some(status))
            .count()
    }
}

struct Pending {
    due: Instant,
    seq: usize,
    event_index: usize,
    copy: u8,
    attempt: u8,
}

/// Signs and delivers `events` to `target` with `opts`; never fails as a whole (every
/// attempt's result is in the report).
pub async fn deliver(
    events: &[WebhookEvent],
    target: &WebhookTarget,
    opts: &DeliveryOptions,
) -> DeliveryReport {
    deliver_with(events, target, opts, |_| {}).await
}

/// Like [`deliver`], calling `first_attempt(event_index)` just before the first attempt of
/// each event's first sent copy.
pub(crate) async fn deliver_with(
    events: &[WebhookEvent],
    target: &WebhookTarget,
    opts: &DeliveryOptions,
    mut first_attempt: impl FnMut(usize),
) -> DeliveryReport {
    let mut report = DeliveryReport {
        deliveries: Vec::new(),
        events: events.len(),
    };
    let client = match reqwest::Client::builder().timeout(opts.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            for (i, ev) in events.iter().enumerate() {
                report.deliveries.push(Delivery {
                    event_index: i,
                    event: ev.event.clone(),
                    copy: 0,
                    attempt: 0,
                    request_id: String::new(),
                    status: None,
                    error: Some(e.to_string()),
                    will_retry: false,
                });
            }
            return report;
        }
    };
    let mut rng = SplitMix64::new(opts.seed);
    let (lo, hi) = (
        opts.copies.0.max(1),
        opts.copies.1.max(opts.copies.0.max(1)),
    );
    let mut order: Vec<(usize, u8)> = Vec::new();
    for i in 0..events.len() {
        let n = rng.range(i64::from(lo), i64::from(hi)) as u8;
        for c in 0..n {
            order.push((i, c));
        }
    }
    match opts.reorder {
        Reorder::None => {}
        Reorder::Shuffle => rng.shuffle(&mut order),
        Reorder::Window(w) => {
            let mut keyed: Vec<(f64, (usize, u8))> = order
                .iter()
                .enumerate()
                .map(|(pos, item)| (pos as f64 + rng.unit() * w as f64, *item))
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            order = keyed.into_iter().map(|(_, item)| item).collect();
        }
    }

    let start = Instant::now();
    let first_at = events.iter().map(|e| e.at).min();
    let mut queue: Vec<Pending> = Vec::new();
    let mut prev_due = start;
    for (k, (i, c)) in order.iter().enumerate() {
        let mut due = start + opts.delay * k as u32;
        if let (Some(speed), Some(first)) = (opts.speed.filter(|s| *s > 0.0), first_at) {
            let secs = (events[*i].at - first).num_milliseconds().max(0) as f64 / 1000.0 / speed;
            due = due.max(start + Duration::from_secs_f64(secs));
        }
        due = due.max(prev_due);
        prev_due = due;
        queue.push(Pending {
            due,
            seq: k,
            event_index: *i,
            copy: *c,
            attempt: 0,
        });
    }
    let mut seq = queue.len();
    let mut started = vec![false; events.len()];
    while !queue.is_empty() {
        let next = queue
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| (p.due, p.seq))
            .map(|(pos, _)| pos)
            .unwrap_or(0);
        let p = queue.swap_remove(next);
        tokio::time::sleep_until(p.due).await;
        let ev = &events[p.event_index];
        if !started[p.event_index] {
            started[p.event_index] = true;
            first_attempt(p.event_index);
        }
        let rid = request_id(&mut rng);
        let result = send_once(&client, target, &ev.body, opts.timestamp_skew_secs, &rid).await;
        let (status, error) = match result {
            Ok(resp) => {
                let s = resp.status().as_u16();
                // Drain the body so the connection can be reused.
                let _ = resp.bytes().await;
                (Some(s), None)
            }
            Err(e) => (None, Some(e.to_string())),
        };
        let retryable = status.is_none_or(|s| s >= 500);
        let will_retry = retryable && usize::from(p.attempt) < opts.retry_schedule.len();
        report.deliveries.push(Delivery {
            event_index: p.event_index,
            event: ev.event.clone(),
            copy: p.copy,
            attempt: p.attempt,
            request_id: rid,
            status,
            error,
            will_retry,
        });
        if will_retry {
            queue.push(Pending {
                due: Instant::now() + opts.retry_schedule[usize::from(p.attempt)],
                seq,
                event_index: p.event_index,
                copy: p.copy,
                attempt: p.attempt + 1,
            });
            seq += 1;
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_published_vector_v1() {
        let body = r#"{"payload":{"plainToken":"xys8n8PGS7mAU0m5-YJjRA"},"event_ts":1720705455858,"event":"endpoint.url_validation"}"#;
        assert_eq!(
            sign("4fv1RkqGQUq5sWbEz6hA5A", "1720705455", body.as_bytes()),
            "v0=93a1a675965ceb9c5a50c5dfb31f20e50f763be37a54ef74cd2d16a1a8e5c0d6"
        );
    }

    #[test]
    fn crc_vectors() {
        assert_eq!(
            crc_token("UB_rdTwhTruoYCMr6x6-MQ", "qgg8vlvZRS6UYooatFL8Aw"),
            "439d1ed256e8d5513d2acd195e0adc64bbbfeb6b795b9d1880534610b58c674c"
        );
        assert_eq!(
            crc_token("4fv1RkqGQUq5sWbEz6hA5A", "xys8n8PGS7mAU0m5-YJjRA"),
            "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
        );
    }

    #[test]
    fn target_debug_redacts() {
        let t = WebhookTarget::new("http://x", "supersecret");
        assert!(!format!("{t:?}").contains("supersecret"));
    }
}

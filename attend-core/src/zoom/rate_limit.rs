//! Zoom rate limits: telling a per-second 429 from a daily one, reading `Retry-After`,
//! backoff with jitter for transient failures, and optional client-side pacing per rate-limit
//! category so bulk work stays under the account's limits.
//!
//! Zoom's limits are per **account** (shared by every app on it), by endpoint category
//! (Light / Medium / Heavy / Resource-intensive) and plan (Free / Pro / Business+), plus
//! per-user/per-registrant daily limits (e.g. three registration requests per day for the same
//! registrant in the same meeting). A per-second hit is worth retrying after a short
//! backoff; a daily hit is not — it surfaces as [`super::ZoomApiError::DailyLimit`] with the
//! time the limit resets.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use rand::Rng;
use tokio::time::Instant;

/// Zoom's rate-limit category of an endpoint (`X-RateLimit-Category`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RateLimitCategory {
    /// e.g. add a registrant, get a registrant, delete a registrant.
    Light,
    /// e.g. create/get/update a meeting, list registrants, registrant status, past
    /// participants, past instances.
    Medium,
    /// e.g. batch registrants, report participants.
    Heavy,
    /// The most expensive report endpoints.
    ResourceIntensive,
}

impl RateLimitCategory {
    /// Parses Zoom's header value (`Light`, `Medium`, `Heavy`, `Resource-intensive`),
    /// case-insensitively.
    pub fn from_header(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "light" => Some(Self::Light),
            "medium" => Some(Self::Medium),
            "heavy" => Some(Self::Heavy),
            "resource-intensive" | "resource intensive" | "resource_intensive" => {
                Some(Self::ResourceIntensive)
            }
            _ => None,
        }
    }
}

/// The account's Zoom plan, which sets its per-second limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RatePlan {
    /// Free (Basic) accounts.
    Free,
    /// Pro accounts.
    Pro,
    /// Business and above (Business+, Enterprise, Education…).
    Business,
}

impl RatePlan {
    /// The documented steady rate of a category on this plan, as the minimum spacing between
    /// two requests (Zoom rate-limits page, Feb 2026 snapshot):
    ///
    /// | plan | Light | Medium | Heavy | Resource-intensive |
    /// |---|---|---|---|---|
    /// | Free | 4/s | 2/s | 1/s | 10/min |
    /// | Pro | 30/s | 20/s | 10/s | 10/min |
    /// | Business | 80/s | 60/s | 40/s | 20/min |
    pub fn min_interval(self, category: RateLimitCategory) -> Duration {
        use RateLimitCategory as C;
        let per_second = |n: u64| Duration::from_nanos(1_000_000_000 / n);
        let per_minute = |n: u64| Duration::from_millis(60_000 / n);
        match (self, category) {
            (RatePlan::Free, C::Light) => per_second(4),
            (RatePlan::Free, C::Medium) => per_second(2),
            (RatePlan::Free, C::Heavy) => per_second(1),
            (RatePlan::Free, C::ResourceIntensive) => per_minute(10),
            (RatePlan::Pro, C::Light) => per_second(30),
            (RatePlan::Pro, C::Medium) => per_second(20),
            (RatePlan::Pro, C::Heavy) => per_second(10),
            (RatePlan::Pro, C::ResourceIntensive) => per_minute(10),
            (RatePlan::Business, C::Light) => per_second(80),
            (RatePlan::Business, C::Medium) => per_second(60),
            (RatePlan::Business, C::Heavy) => per_second(40),
            (RatePlan::Business, C::ResourceIntensive) => per_minute(20),
        }
    }
}

/// What kind of limit a 429 reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateLimitKind {
    /// The per-second (QPS) limit of a category: retry after a short backoff.
    PerSecond,
    /// Too many concurrent requests: retry after a short backoff.
    Concurrent,
    /// The account's daily limit of a category: resets at 00:00 UTC (or at `Retry-After`).
    Daily,
    /// A per-user or per-registrant daily limit, e.g. three registration requests per day for
    /// the same registrant in the same meeting, or 100 meeting creates/updates per host per
    /// day. Other registrants/users may still proceed.
    DailyPerResource,
}

impl RateLimitKind {
    /// Whether this is a daily limit (never worth an immediate retry).
    pub fn is_daily(self) -> bool {
        matches!(self, RateLimitKind::Daily | RateLimitKind::DailyPerResource)
    }
}

/// A classified 429 response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitHit {
    /// Which limit was hit.
    pub kind: RateLimitKind,
    /// The endpoint's category, if Zoom said (`X-RateLimit-Category`).
    pub category: Option<RateLimitCategory>,
    /// When to try again: `Retry-After` (an ISO-8601 time or a number of seconds), else
    /// `X-RateLimit-Reset` for per-second hits, else the next 00:00 UTC for daily hits,
    /// else `None`.
    pub retry_at: Option<DateTime<Utc>>,
}

/// The parts of a 429 response the classifier looks at.
#[derive(Clone, Copy, Debug, Default)]
pub struct RateLimitResponse<'a> {
    /// `X-RateLimit-Type` (`QPS`, `Daily-limit`, …).
    pub limit_type: Option<&'a str>,
    /// `X-RateLimit-Category`.
    pub category: Option<&'a str>,
    /// `Retry-After`.
    pub retry_after: Option<&'a str>,
    /// `X-RateLimit-Reset` (epoch seconds).
    pub reset: Option<&'a str>,
    /// The error message of the body (`{"code","message"}`), or the raw body text.
    pub message: Option<&'a str>,
}

/// Classifies a 429. Headers win; without them the body text decides (Zoom does not always
/// send the headers, e.g. on per-user limits): "daily" in the message means a daily limit, and
/// a message naming a registrant or user ("…for the registrant…", "…for this user…") means a
/// per-resource daily limit. Anything else is treated as a per-second limit.
pub fn classify_429(response: RateLimitResponse<'_>, now: DateTime<Utc>) -> RateLimitHit {
    let message = response.message.unwrap_or("").to_ascii_lowercase();
    let header_type = response
        .limit_type
        .map(|t| t.trim().to_ascii_lowercase().replace(['_', ' '], "-"));
    let message_says_daily = message.contains("daily") || message.contains("per day");
    let message_names_resource = message.contains("registrant")
        || message.contains("this user")
        || message.contains("same user");
    let kind = match header_type.as_deref() {
        Some(t) if t.contains("daily") => {
            if message_names_resource {
                RateLimitKind::DailyPerResource
            } else {
                RateLimitKind::Daily
            }
        }
        Some(t) if t.contains("concurren") => RateLimitKind::Concurrent,
        Some(t) if t.contains("qps") || t.contains("second") => RateLimitKind::PerSecond,
        _ if message_says_daily && message_names_resource => RateLimitKind::DailyPerResource,
        _ if message_says_daily => RateLimitKind::Daily,
        _ if message.contains("concurren") => RateLimitKind::Concurrent,
        _ => RateLimitKind::PerSecond,
    };
    let retry_at = response
        .retry_after
        .and_then(|v| parse_retry_after(v, now))
        .or_else(|| {
            if kind.is_daily() {
                Some(next_utc_midnight(now))
            } else {
                response
                    .reset
                    .and_then(|r| r.trim().parse::<i64>().ok())
                    .and_then(|secs| Utc.timestamp_opt(secs, 0).single())
                    .filter(|t| *t >= now)
            }
        });
    RateLimitHit {
        kind,
        category: response.category.and_then(RateLimitCategory::from_header),
        retry_at,
    }
}

/// Parses `Retry-After`: a number of seconds, an ISO-8601/RFC 3339 time
/// (`2025-01-20T00:00:00Z`, which Zoom sends on daily limits), or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        let seconds = i64::try_from(seconds).ok()?;
        return now.checked_add_signed(chrono::Duration::try_seconds(seconds)?);
    }
    if let Some(t) = super::de::parse_time(value) {
        return Some(t);
    }
    DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The next 00:00:00 UTC strictly after `now` (when Zoom's daily limits reset).
pub fn next_utc_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now
        .date_naive()
        .checked_add_days(Days::new(1))
        .unwrap_or(now.date_naive());
    tomorrow.and_time(NaiveTime::MIN).and_utc()
}

/// Retries for transient failures: per-second 429s, 5xx, timeouts and connection errors.
///
/// `max_attempts` counts every attempt, the first included (so `1` means no retry). The delay
/// before retry *n* (1-based) is `base_delay · 2^(n-1)`, capped at `max_delay`, with "equal
/// jitter" (a random value between half and all of it); a per-second 429 that says when to
/// retry waits at least that long, unless that is later than `max_delay`, in which case the
/// error is returned to the caller instead of sleeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, including the first (at least 1).
    pub max_attempts: u32,
    /// The delay before the first retry (before jitter).
    pub base_delay: Duration,
    /// The longest delay between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 500 ms base, 20 s cap.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay before retry number `retry` (1 = the first retry), with jitter.
    pub fn delay(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let half = full / 2;
        let jitter_nanos = u64::try_from((full - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = if jitter_nanos == 0 {
            0
        } else {
            rand::rng().random_range(0..=jitter_nanos)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// Client-side pacing: spaces requests of each category at the plan's documented rate, so a
/// bulk job (thousands of registrants) stays under the per-second limits instead of bouncing
/// off 429s. One pacer per account (limits are per account). Requests that must wait are
/// served in arrival order.
#[derive(Debug)]
pub struct Pacer {
    plan: RatePlan,
    next_free: Mutex<[Option<Instant>; 4]>,
}

impl Pacer {
    /// A pacer for an account on `plan`.
    pub fn new(plan: RatePlan) -> Self {
        Self {
            plan,
            next_free: Mutex::new([None; 4]),
        }
    }

    /// The plan in use.
    pub fn plan(&self) -> RatePlan {
        self.plan
    }

    /// Reserves the next slot of `category` and waits for it.
    pub async fn acquire(&self, category: RateLimitCategory) {
        let slot = self.reserve(category, Instant::now());
        tokio::time::sleep_until(slot).await;
    }

    /// Reserves the next slot of `category` at or after `now` and returns when it is.
    pub fn reserve(&self, category: RateLimitCategory, now: Instant) -> Instant {
        let index = category as usize;
        let interval = self.plan.min_interval(category);
        let mut next = self
            .next_free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = next[index].map_or(now, |t| t.max(now));
        next[index] = Some(slot + interval);
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 19, 15, 30, 0).unwrap()
    }

    #[test]
    fn headers_decide_first() {
        let hit = classify_429(
            RateLimitResponse {
                limit_type: Some("Daily-limit"),
                category: Some("Heavy"),
                retry_after: Some("2025-01-20T00:00:00Z"),
                ..Default::default()
            },
            now(),
        );
        assert_eq!(hit.kind, RateLimitKind::Daily);
        assert_eq!(hit.category, Some(RateLimitCategory::Heavy));
        assert_eq!(
            hit.retry_at,
            Some(Utc.with_ymd_and_hms(2025, 1, 20, 0, 0, 0).unwrap())
        );

        let qps = classify_429(
            RateLimitResponse {
                limit_type: Some("QPS"),
                retry_after: Some("2"),
                ..Default::default()
            },
            now(),
        );
        assert_eq!(qps.kind, RateLimitKind::PerSecond);
        assert_eq!(qps.retry_at, Some(now() + chrono::Duration::seconds(2)));
    }

    #[test]
    fn body_text_decides_without_headers() {
        let cases = [
            (
                "You have reached the maximum per-second rate limit for this API. Try again later.",
                RateLimitKind::PerSecond,
            ),
            (
                "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.",
                RateLimitKind::Daily,
            ),
            (
                "You have reached the daily rate limit of 3 for Add meeting registrant API request for the registrant abc@x.org. You can resume these API requests at GMT 00:00:00.",
                RateLimitKind::DailyPerResource,
            ),
            ("Too many concurrent requests", RateLimitKind::Concurrent),
            ("", RateLimitKind::PerSecond),
        ];
        for (message, kind) in cases {
            let hit = classify_429(
                RateLimitResponse {
                    message: Some(message),
                    ..Default::default()
                },
                now(),
            );
            assert_eq!(hit.kind, kind, "{message}");
            if kind.is_daily() {
                assert_eq!(
                    hit.retry_at,
                    Some(Utc.with_ymd_and_hms(2025, 1, 20, 0, 0, 0).unwrap())
                );
            } else {
                assert_eq!(hit.retry_at, None);
            }
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("0", now()), Some(now()));
        assert_eq!(
            parse_retry_after("Wed, 22 Jan 2025 07:28:00 GMT", now()),
            Some(Utc.with_ymd_and_hms(2025, 1, 22, 7, 28, 0).unwrap())
        );
        assert_eq!(parse_retry_after("soon", now()), None);
        assert_eq!(
            next_utc_midnight(Utc.with_ymd_and_hms(2025, 1, 19, 0, 0, 0).unwrap()),
            Utc.with_ymd_and_hms(2025, 1, 20, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let d1 = p.delay(1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d3 = p.delay(3);
            assert!(
                d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400),
                "{d3:?}"
            );
            let d9 = p.delay(9);
            assert!(
                d9 >= Duration::from_millis(500) && d9 <= Duration::from_secs(1),
                "{d9:?}"
            );
        }
        assert!(p.delay(100) <= Duration::from_secs(1));
    }

    #[test]
    fn pacer_spaces_requests_per_category() {
        let pacer = Pacer::new(RatePlan::Free);
        let t0 = Instant::now();
        let heavy: Vec<_> = (0..3)
            .map(|_| pacer.reserve(RateLimitCategory::Heavy, t0))
            .collect();
        assert_eq!(
            heavy,
            vec![t0, t0 + Duration::from_secs(1), t0 + Duration::from_secs(2)]
        );
        // Categories are independent.
        assert_eq!(pacer.reserve(RateLimitCategory::Light, t0), t0);
        assert_eq!(
            pacer.reserve(RateLimitCategory::Light, t0),
            t0 + Duration::from_millis(250)
        );
        // After an idle period, no debt is carried over.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(pacer.reserve(RateLimitCategory::Heavy, later), later);
    }

    #[test]
    fn plans_rates() {
        assert_eq!(
            RatePlan::Pro.min_interval(RateLimitCategory::Light),
            Duration::from_nanos(33_333_333)
        );
        assert_eq!(
            RatePlan::Business.min_interval(RateLimitCategory::ResourceIntensive),
            Duration::from_secs(3)
        );
        assert_eq!(
            RateLimitCategory::from_header("Resource-intensive"),
            Some(RateLimitCategory::ResourceIntensive)
        );
    }
}

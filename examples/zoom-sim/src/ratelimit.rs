//! Rate limiting as Zoom does it: a per-second token bucket per category, daily caps, and the
//! per-registrant / per-user daily caps. Pure logic: every call takes "now".

use crate::config::{Category, CategoryLimit, RateLimits};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

/// A token bucket: `capacity` tokens, refilled continuously at `capacity / period`.
/// A client that spaces its calls at the documented rate never finds it empty.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    capacity: f64,
    refill_per_ms: f64,
    tokens: f64,
    last: DateTime<Utc>,
}

impl TokenBucket {
    pub(crate) fn new(limit: CategoryLimit, now: DateTime<Utc>) -> Self {
        let capacity = f64::from(limit.rate.max(1));
        let period_ms = (limit.per.as_millis() as f64).max(1.0);
        Self {
            capacity,
            refill_per_ms: capacity / period_ms,
            tokens: capacity,
            last: now,
        }
    }

    fn refill(&mut self, now: DateTime<Utc>) {
        let elapsed = (now - self.last).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0;
        if elapsed > 0.0 {
            self.tokens = (self.tokens + elapsed * self.refill_per_ms).min(self.capacity);
            self.last = now;
        }
    }

    /// Takes one token; on success the tokens left (rounded down), on failure the time at
    /// which one token will be available.
    pub(crate) fn try_take(&mut self, now: DateTime<Utc>) -> Result<u64, DateTime<Utc>> {
        self.refill(now);
        // A hair of tolerance so a client pacing exactly at the rate is never refused by
        // floating-point rounding.
        if self.tokens >= 1.0 - 1e-6 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            Ok(self.tokens.floor() as u64)
        } else {
            let missing_ms = ((1.0 - self.tokens) / self.refill_per_ms).ceil() as i64;
            Err(now + chrono::Duration::milliseconds(missing_ms.max(1)))
        }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    /// Per-second (per-minute) bucket empty.
    Qps {
        category: Category,
        limit: u32,
        reset: DateTime<Utc>,
    },
    /// Daily cap of the category (or the Heavy + RI combined cap).
    Daily { category: Category, limit: u64 },
}

#[derive(Debug, Default)]
struct DailyCounter {
    day: Option<NaiveDate>,
    count: u64,
}

impl DailyCounter {
    fn count_on(&mut self, day: NaiveDate) -> &mut u64 {
        if self.day != Some(day) {
            self.day = Some(day);
            self.count = 0;
        }
        &mut self.count
    }
}

/// All limiter state of one simulated account.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    buckets: HashMap<Category, TokenBucket>,
    daily: HashMap<Category, DailyCounter>,
    heavy_ri: DailyCounter,
    keyed: HashMap<String, DailyCounter>,
}

impl Limiter {
    /// Checks and counts one request of `category`.
    pub(crate) fn check(
        &mut self,
        limits: &RateLimits,
        category: Category,
        now: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let Some(limit) = limits.category(category) else {
            return Ok(());
        };
        let day = now.date_naive();
        if let Some(cap) = limit.daily {
            let used = *self.daily.entry(category).or_default().count_on(day);
            if used >= cap {
                return Err(Refusal::Daily {
                    category,
                    limit: cap,
                });
            }
        }
        let heavyish = matches!(category, Category::Heavy | Category::ResourceIntensive);
        if heavyish
            && let Some(cap) = limits.heavy_and_ri_daily
            && *self.heavy_ri.count_on(day) >= cap
        {
            return Err(Refusal::Daily {
                category,
                limit: cap,
            });
        }
        let bucket = self
            .buckets
            .entry(category)
            .or_insert_with(|| TokenBucket::new(limit, now));
        bucket.try_take(now).map_err(|reset| Refusal::Qps {
            category,
            limit: limit.rate,
            reset,
        })?;
        if limit.daily.is_some() {
            *self.daily.entry(category).or_default().count_on(day) += 1;
        }
        if heavyish && limits.heavy_and_ri_daily.is_some() {
            *self.heavy_ri.count_on(day) += 1;
        }
        Ok(())
    }

    /// Counts one use of a keyed daily allowance (e.g. "registrations of x@y in meeting 1");
    /// `false` when the allowance of `cap` per UTC day is already used up (then nothing is
    /// counted).
    pub(crate) fn take_keyed(&mut self, key: &str, cap: u32, now: DateTime<Utc>) -> bool {
        let c = self.keyed.entry(key.to_owned()).or_default();
        let n = c.count_on(now.date_naive());
        if *n >= u64::from(cap) {
            false
        } else {
            *n += 1;
            true
        }
    }

    /// How many uses of a keyed allowance are left today without counting one.
    pub(crate) fn keyed_left(&mut self, key: &str, cap: u32, now: DateTime<Utc>) -> u32 {
        let c = self.keyed.entry(key.to_owned()).or_default();
        let used = *c.count_on(now.date_naive());
        u64::from(cap).saturating_sub(used) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Plan;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn well_paced_client_never_refused() {
        let limits = RateLimits::plan(Plan::Free);
        let mut l = Limiter::default();
        // Medium on Free: 2/s. One call every 500 ms for a minute.
        for i in 0..120 {
            let now = t0() + Duration::milliseconds(500 * i);
            assert!(l.check(&limits, Category::Medium, now).is_ok(), "call {i}");
        }
    }

    #[test]
    fn burst_beyond_rate_refused_then_recovers() {
        let limits = RateLimits::plan(Plan::Free);
        let mut l = Limiter::default();
        assert!(l.check(&limits, Category::Medium, t0()).is_ok());
        assert!(l.check(&limits, Category::Medium, t0()).is_ok());
        match l.check(&limits, Category::Medium, t0()) {
            Err(Refusal::Qps {
                limit: 2, reset, ..
            }) => assert!(reset > t0()),
            other => panic!("expected QPS refusal, got {other:?}"),
        }
        assert!(
            l.check(
                &limits,
                Category::Medium,
                t0() + Duration::milliseconds(500)
            )
            .is_ok()
        );
    }

    #[test]
    fn daily_cap_and_reset_at_midnight() {
        let mut limits = RateLimits::plan(Plan::Free);
        limits.heavy = Some(CategoryLimit {
            rate: 1000,
            per: std::time::Duration::from_secs(1),
            daily: Some(3),
        });
        let mut l = Limiter::default();
        for i in 0..3 {
            assert!(
                l.check(&limits, Category::Heavy, t0() + Duration::seconds(i))
                    .is_ok()
            );
        }
        assert_eq!(
            l.check(&limits, Category::Heavy, t0() + Duration::seconds(10)),
            Err(Refusal::Daily {
                category: Category::Heavy,
                limit: 3
            })
        );
        assert!(
            l.check(&limits, Category::Heavy, t0() + Duration::hours(12))
                .is_ok()
        );
    }

    #[test]
    fn keyed_allowance() {
        let mut l = Limiter::default();
        assert!(l.take_keyed("k", 3, t0()));
        assert!(l.take_keyed("k", 3, t0()));
        assert_eq!(l.keyed_left("k", 3, t0()), 1);
        assert!(l.take_keyed("k", 3, t0()));
        assert!(!l.take_keyed("k", 3, t0()));
        assert!(l.take_keyed("other", 3, t0()));
        assert!(l.take_keyed("k", 3, t0() + Duration::days(1)));
    }

    #[test]
    fn unlimited_never_refuses() {
        let limits = RateLimits::unlimited();
        let mut l = Limiter::default();
        for _ in 0..1000 {
            assert!(l.check(&limits, Category::Heavy, t0()).is_ok());
        }
    }
}

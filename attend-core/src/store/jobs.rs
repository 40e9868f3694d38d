//! attend's background job queue: [`Job`], [`JobQueue`] and the [`Backoff`] helper.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{StoreError, StoreResult};

/// The id a store gives a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for `run_at`, then claimable.
    Ready,
    /// Claimed by a worker until `locked_until`; claimable again once that passed.
    Running,
    /// Completed.
    Done,
    /// Failed `max_attempts` times; kept for inspection, never run again.
    Dead,
}

impl JobState {
    /// The snake_case name used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Ready => "ready",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    /// `Done` or `Dead`.
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Done | JobState::Dead)
    }
}

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    /// What to do (`process_webhook`, `register_users`, `reconcile`, ...).
    pub kind: String,
    /// The job's arguments.
    pub payload: serde_json::Value,
    /// While a job with this key is not finished (`Ready` or `Running`), enqueueing another
    /// one with the same key returns the existing job instead.
    pub dedupe_key: Option<String>,
    /// Not claimable before this time.
    pub run_at: DateTime<Utc>,
    /// Claims allowed before the job is `Dead` (at least 1; 0 counts as 1).
    pub max_attempts: u32,
}

impl NewJob {
    /// A job of `kind` with `payload`, runnable at `run_at`, no dedupe key, 5 attempts.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value, run_at: DateTime<Utc>) -> Self {
        Self {
            kind: kind.into(),
            payload,
            dedupe_key: None,
            run_at,
            max_attempts: 5,
        }
    }

    /// Sets the dedupe key.
    #[must_use]
    pub fn with_dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    /// Sets the maximum number of attempts.
    #[must_use]
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }
}

/// A stored job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// The store's id.
    pub id: JobId,
    /// See [`NewJob::kind`].
    pub kind: String,
    /// See [`NewJob::payload`].
    pub payload: serde_json::Value,
    /// See [`NewJob::dedupe_key`].
    pub dedupe_key: Option<String>,
    /// Where it stands.
    pub state: JobState,
    /// How many times it was claimed (a deferral gives the attempt back).
    pub attempts: u32,
    /// See [`NewJob::max_attempts`] (stored as at least 1).
    pub max_attempts: u32,
    /// Not claimable before this time.
    pub run_at: DateTime<Utc>,
    /// The worker holding the lease (while `Running`; kept afterwards for inspection).
    pub locked_by: Option<String>,
    /// When the current lease expires (while `Running`).
    pub locked_until: Option<DateTime<Utc>>,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it was last written.
    pub updated_at: DateTime<Utc>,
}

/// The outcome of [`JobQueue::enqueue_job`]. A duplicate is not an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job was stored under this id.
    Created(JobId),
    /// An unfinished job with the same dedupe key exists under this id; nothing changed.
    Duplicate(JobId),
}

impl Enqueued {
    /// The id of the job, new or existing.
    pub fn id(self) -> JobId {
        match self {
            Enqueued::Created(id) | Enqueued::Duplicate(id) => id,
        }
    }

    /// Whether this call stored a new job.
    pub fn is_new(self) -> bool {
        matches!(self, Enqueued::Created(_))
    }
}

/// How many jobs are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// `Ready` jobs (due or not).
    pub ready: u64,
    /// `Running` jobs (including expired leases not yet re-claimed).
    pub running: u64,
    /// `Done` jobs.
    pub done: u64,
    /// `Dead` jobs.
    pub dead: u64,
}

impl JobCounts {
    /// The count for one state.
    pub fn get(&self, state: JobState) -> u64 {
        match state {
            JobState::Ready => self.ready,
            JobState::Running => self.running,
            JobState::Done => self.done,
            JobState::Dead => self.dead,
        }
    }

    /// Adds one job in `state` (a helper for backends that count in Rust).
    pub fn add(&mut self, state: JobState) {
        match state {
            JobState::Ready => self.ready += 1,
            JobState::Running => self.running += 1,
            JobState::Done => self.done += 1,
            JobState::Dead => self.dead += 1,
        }
    }
}

/// Exponential backoff with jitter, as a pure function of the attempt number and a random
/// number the caller supplies (so that it is testable and reproducible).
///
/// The delay after attempt `n` (1-based) is `base · 2^(n-1)`, capped at `max`, then reduced by
/// up to `jitter` of itself: `delay · (1 − jitter · r)` for `r` in `[0, 1)`. So it never exceeds
/// `max` and never falls below `(1 − jitter) ·` the capped delay.
///
/// ```
/// use attend_core::store::Backoff;
/// use chrono::TimeDelta;
///
/// let b = Backoff::new(TimeDelta::seconds(10), TimeDelta::hours(1), 0.0);
/// assert_eq!(b.delay(1, 0.5), TimeDelta::seconds(10));
/// assert_eq!(b.delay(3, 0.5), TimeDelta::seconds(40));
/// assert_eq!(b.delay(30, 0.5), TimeDelta::hours(1));
/// let jittered = Backoff::new(TimeDelta::seconds(10), TimeDelta::hours(1), 0.5);
/// assert_eq!(jittered.delay(1, 0.5), TimeDelta::milliseconds(7_500));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The delay after the first attempt.
    pub base: TimeDelta,
    /// The largest delay.
    pub max: TimeDelta,
    /// The fraction (within `0.0..=1.0`) by which jitter may shorten a delay.
    pub jitter: f64,
}

impl Default for Backoff {
    /// 10 s doubling up to 1 h, with 20 % jitter.
    fn default() -> Self {
        Self {
            base: TimeDelta::seconds(10),
            max: TimeDelta::hours(1),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// A backoff policy; `jitter` is clamped to `0.0..=1.0` (NaN counts as 0).
    pub fn new(base: TimeDelta, max: TimeDelta, jitter: f64) -> Self {
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        Self { base, max, jitter }
    }

    /// The delay after failed attempt `attempt` (1-based; 0 counts as 1), given a random
    /// `r` in `[0, 1)` (values outside are clamped). Never negative, never above `max`.
    pub fn delay(&self, attempt: u32, r: f64) -> TimeDelta {
        let base_ms = self.base.num_milliseconds().max(0);
        let max_ms = self.max.num_milliseconds().max(0);
        let exponent = attempt.saturating_sub(1).min(62);
        let raw = base_ms.checked_mul(1_i64 << exponent).unwrap_or(i64::MAX);
        let capped = raw.min(max_ms);
        let r = if r.is_nan() { 0.0 } else { r.clamp(0.0, 1.0) };
        let jitter = if self.jitter.is_nan() {
            0.0
        } else {
            self.jitter.clamp(0.0, 1.0)
        };
        // `capped` is at most `max_ms`, well within f64's exact integer range for any
        // realistic delay; the product is rounded back to whole milliseconds.
        let factor = 1.0 - jitter * r;
        let ms = (capped as f64 * factor).round() as i64;
        TimeDelta::milliseconds(ms.clamp(0, max_ms))
    }

    /// `now` plus [`delay`](Self::delay).
    pub fn retry_at(&self, now: DateTime<Utc>, attempt: u32, r: f64) -> DateTime<Utc> {
        now.checked_add_signed(self.delay(attempt, r))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// attend's durable job queue (at-least-once: a job may run again after a crash, so job
/// handlers must be idempotent).
///
/// Times are passed in by the caller (`now`), so the queue never reads a clock. Several
/// workers, in one process or several processes sharing one database, may claim
/// concurrently: a job is never leased to two workers at once. Only `Unavailable` errors are
/// retryable.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Stores a new `Ready` job (attempts 0) and returns `Created(id)`, unless `dedupe_key` is
    /// set and an unfinished (`Ready` or `Running`) job has the same key: then it returns
    /// `Duplicate(existing id)` and changes nothing. A finished job does not block its key.
    /// Concurrent enqueues of one key create one job.
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<Enqueued>;

    /// The job; `None` if there is none (or it was purged).
    async fn get_job(&self, id: JobId) -> StoreResult<Option<Job>>;

    /// Leases up to `limit` claimable jobs to `worker` until `now + lease`, and returns them
    /// as stored after the claim (state `Running`, `attempts` incremented, `locked_by`,
    /// `locked_until` set).
    ///
    /// Claimable: `Ready` with `run_at <= now`, or `Running` with an expired lease
    /// (`locked_until <= now`: the worker crashed). Oldest `run_at` first, ties by id. An
    /// expired job that already used all its attempts is made `Dead` (with `last_error`
    /// "lease expired") instead of being claimed. Concurrent claims never return the same job
    /// twice. Empty if nothing is claimable.
    ///
    /// Expired leases are rare, so a store may look for them less often than it claims: at
    /// most one second (of the callers' `now`) after it last looked, a claim must look again.
    /// So a job whose lease expired is claimable again at the latest by the first claim a
    /// second after its lease ended. (The memory store looks at every claim; attend-diesel
    /// once a second per store.)
    async fn claim_jobs(
        &self,
        worker: &str,
        limit: usize,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Job>>;

    /// Marks a job `Done`. `NotFound` if there is no such job; `Conflict` (nothing changed) if
    /// it is not `Running` under `worker` (another worker re-claimed it after the lease
    /// expired, or it is already finished).
    async fn complete_job(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> StoreResult<()>;

    /// [`complete_job`](Self::complete_job) for each of `ids`, and the ids it completed: those
    /// `Running` under `worker`. The others (unknown, finished, or leased to another worker
    /// since) are left unchanged and not returned; that is not an error. On error, some of the
    /// jobs may have been completed and others not.
    ///
    /// The worker finishes a batch of processed deliveries with one call. The default
    /// completes them one by one; SQL stores write one statement.
    async fn complete_jobs(
        &self,
        ids: &[JobId],
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<JobId>> {
        let mut completed = Vec::with_capacity(ids.len());
        for id in ids {
            match self.complete_job(*id, worker, now).await {
                Ok(()) => completed.push(*id),
                Err(StoreError::NotFound { .. } | StoreError::Conflict { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(completed)
    }

    /// Records a failed attempt with `error` and returns the new state: `Ready` again at
    /// `retry_at` (compute it with [`Backoff::retry_at`]) while `attempts < max_attempts`,
    /// otherwise `Dead`. `NotFound` / `Conflict` as for [`complete_job`](Self::complete_job).
    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<JobState>;

    /// Puts a claimed job back to `Ready` at `run_at` without counting the attempt (for
    /// example when Zoom's daily limit is reached): `attempts` goes back down by one.
    /// `NotFound` / `Conflict` as for [`complete_job`](Self::complete_job).
    async fn defer_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Gives back `worker`'s leases on jobs it is not running, and returns how many it gave
    /// back: every `Running` job leased to `worker` whose id is not in `keep` becomes `Ready`
    /// again, due at once (its `run_at` is unchanged), lease cleared, without counting the
    /// attempt (`attempts` back down by one, as [`defer_job`](Self::defer_job) does). Jobs of
    /// other workers, finished jobs and the jobs in `keep` are untouched; `0` if there is
    /// nothing to give back.
    ///
    /// For a worker whose claim failed: the claim may have committed while its answer was
    /// lost with the connection, leaving jobs leased to a worker that never got them (they
    /// would wait for the lease to end, minutes). Once storage answers again the worker calls
    /// this with the jobs it is running in `keep`. Only sound while `worker` names one live
    /// worker; attend's worker leases under a name unique to each run.
    async fn release_jobs(
        &self,
        worker: &str,
        keep: &[JobId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// How many jobs are in each state, for all kinds or only `kind`. Counts finished jobs
    /// too (kept until [`purge_finished_jobs`](Self::purge_finished_jobs)), so it may read
    /// the whole queue; [`unfinished_job_count`](Self::unfinished_job_count) is the cheap
    /// question.
    async fn job_counts(&self, kind: Option<&str>) -> StoreResult<JobCounts>;

    /// How many jobs, of all kinds or only `kind`, are `Ready` or `Running`: `ready + running`
    /// of [`job_counts`](Self::job_counts), which the default answers with. A store should
    /// answer it without reading finished jobs, as it is asked on request paths (a meeting's
    /// registration asks whether registration jobs are under way) while finished jobs pile up
    /// for days.
    async fn unfinished_job_count(&self, kind: Option<&str>) -> StoreResult<u64> {
        let counts = self.job_counts(kind).await?;
        Ok(counts.ready + counts.running)
    }

    /// Deletes `Done` and `Dead` jobs last written strictly before `older_than`, and returns
    /// how many were deleted. Unfinished jobs are never deleted.
    async fn purge_finished_jobs(&self, older_than: DateTime<Utc>) -> StoreResult<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff::new(TimeDelta::seconds(1), TimeDelta::seconds(60), 0.0);
        let delays: Vec<i64> = (1..=8).map(|n| b.delay(n, 0.9).num_seconds()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.delay(0, 0.0), TimeDelta::seconds(1));
        assert_eq!(b.delay(u32::MAX, 0.0), TimeDelta::seconds(60));
    }

    #[test]
    fn jitter_only_shortens_within_bounds() {
        let b = Backoff::new(TimeDelta::seconds(100), TimeDelta::hours(1), 0.25);
        assert_eq!(b.delay(1, 0.0), TimeDelta::seconds(100));
        assert_eq!(b.delay(1, 0.999_999), TimeDelta::seconds(75));
        for i in 0..100 {
            let d = b.delay(1, f64::from(i) / 100.0);
            assert!(
                d <= TimeDelta::seconds(100) && d >= TimeDelta::seconds(75),
                "{d}"
            );
        }
        // Out-of-range inputs are clamped, never panicking or going negative.
        assert_eq!(b.delay(1, -3.0), TimeDelta::seconds(100));
        assert_eq!(b.delay(1, f64::NAN), TimeDelta::seconds(100));
        assert_eq!(
            Backoff::new(TimeDelta::seconds(-5), TimeDelta::seconds(5), 2.0).delay(1, 0.5),
            TimeDelta::zero()
        );
    }

    #[test]
    fn retry_at_adds_delay_and_saturates() {
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("valid time");
        let b = Backoff::new(TimeDelta::seconds(10), TimeDelta::hours(1), 0.0);
        assert_eq!(b.retry_at(now, 2, 0.0), now + TimeDelta::seconds(20));
        assert_eq!(
            b.retry_at(DateTime::<Utc>::MAX_UTC, 2, 0.0),
            DateTime::<Utc>::MAX_UTC
        );
    }
}

//! The worker: claims jobs from the store's queue and runs them.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::task::JoinSet;
use tracing::{Instrument, debug, info_span, warn};

use crate::store::{Backoff, Job as StoredJob, JobId, JobState, WebhookId, WebhookStatus};

use super::jobs::{Job, PROCESS_WEBHOOK, PROCESS_WEBHOOKS};
use super::{Attend, JobRunReport, ServiceError};

/// The outcome of a job as written to the queue.
enum Record {
    Complete,
    Defer(DateTime<Utc>),
    Fail {
        message: String,
        retry_at: DateTime<Utc>,
    },
}

/// The most deliveries processed together as one batch ([`Attend::process_webhook_batch`]):
/// the store's [`webhook_batch_size`](crate::store::WebhookInbox::webhook_batch_size), within
/// 1..=256. A claim's webhook jobs are split into batches of at most this many deliveries,
/// each run as one task; a larger `process_webhooks` job's deliveries are processed in
/// batches of this many, one after the other.
pub(super) fn webhook_batch(store: &dyn crate::store::Store) -> usize {
    store.webhook_batch_size().clamp(1, 256)
}

/// The worker's capacity, in deliveries, while the receiver is busy (see [`worker_capacity`]).
const BURST_CAPACITY: usize = 16;

/// One task's share of a claim.
enum Work {
    /// Any job, run on its own, with its weight: the deliveries a `process_webhooks` job
    /// names, 1 for any other job.
    One(StoredJob, usize),
    /// Webhook jobs (`process_webhook`, or `process_webhooks` naming at most
    /// one batch of deliveries), each with the deliveries it names, processed together.
    Webhooks(Vec<(StoredJob, Vec<WebhookId>)>),
}

impl Work {
    /// Splits claimed jobs into tasks: webhook jobs in batches of up to `batch_size`
    /// deliveries (a job's deliveries never split between batches), a `process_webhooks` job
    /// naming more than that alone, every other job alone.
    fn split(jobs: Vec<StoredJob>, batch_size: usize) -> Vec<Work> {
        let mut work = Vec::new();
        let mut batch: Vec<(StoredJob, Vec<WebhookId>)> = Vec::new();
        let mut in_batch = 0usize;
        let close = |batch: &mut Vec<(StoredJob, Vec<WebhookId>)>, work: &mut Vec<Work>| {
            let mut jobs = std::mem::take(batch);
            match jobs.len() {
                0 => {}
                1 => {
                    let (job, ids) = jobs.remove(0);
                    work.push(Work::One(job, ids.len().max(1)));
                }
                _ => work.push(Work::Webhooks(jobs)),
            }
        };
        for job in jobs {
            let ids = match Job::from_payload(&job.payload) {
                Ok(Job::ProcessWebhook { webhook }) => vec![webhook],
                Ok(Job::ProcessWebhooks { webhooks }) if webhooks.len() <= batch_size => webhooks,
                Ok(Job::ProcessWebhooks { webhooks }) => {
                    work.push(Work::One(job, webhooks.len()));
                    continue;
                }
                _ => {
                    work.push(Work::One(job, 1));
                    continue;
                }
            };
            if in_batch + ids.len() > batch_size {
                close(&mut batch, &mut work);
                in_batch = 0;
            }
            in_batch += ids.len();
            batch.push((job, ids));
        }
        close(&mut batch, &mut work);
        work
    }

    /// The jobs this task runs.
    fn job_ids(&self) -> Vec<JobId> {
        match self {
            Work::One(job, _) => vec![job.id],
            Work::Webhooks(jobs) => jobs.iter().map(|(job, _)| job.id).collect(),
        }
    }

    /// How much of the worker's capacity this task takes: one per delivery it processes,
    /// one for any other job.
    fn weight(&self) -> usize {
        match self {
            Work::One(_, weight) => *weight,
            Work::Webhooks(jobs) => jobs.iter().map(|(_, ids)| ids.len().max(1)).sum(),
        }
    }
}

/// The worker's capacity now (see [`Work::weight`]): `batch`, or at most [`BURST_CAPACITY`]
/// deliveries while at least `yield_at` deliveries wait for their commit (`yield_at` 0:
/// never). Acknowledgements come first during a burst; processing goes on (a task is claimed
/// whenever nothing is in flight, whatever its weight).
fn worker_capacity(batch: usize, yield_at: usize, ingesting: usize) -> usize {
    if yield_at > 0 && ingesting >= yield_at {
        batch.min(BURST_CAPACITY)
    } else {
        batch
    }
}

/// What a job handler decided.
pub(crate) enum JobOutcome {
    /// Finished.
    Done,
    /// Put back until `run_at` without using up an attempt (rate limit, report not ready,
    /// a long run yielding before its lease ends).
    Defer(DateTime<Utc>),
    /// Failed; retry with backoff (or dead after the last attempt).
    Retry(ServiceError),
}

impl Attend {
    /// Runs the background worker until `shutdown` completes: claims due jobs (leased, so
    /// several processes on one database share the queue), runs up to
    /// [`WorkerOptions::batch`](super::WorkerOptions::batch) of them concurrently, retries
    /// failures with backoff, and every
    /// [`sweep_interval`](super::WorkerOptions::sweep_interval) queues stored webhooks that
    /// have no job (see the sweep: the receiver stores each delivery with its job, so these
    /// come from older versions or other paths) and purges expired data.
    ///
    /// Spawn it once per process: `tokio::spawn(attend.clone().run_worker(signal))`. On
    /// shutdown it stops claiming and waits for the jobs in flight. Storage outages are
    /// logged and waited out; the worker never returns an error. A claim that fails may
    /// still have committed (its answer lost with the connection): once storage answers
    /// again, the worker gives back every lease it holds on a job it is not running
    /// ([`release_jobs`](crate::store::JobQueue::release_jobs)) instead of leaving those jobs
    /// until their lease ends.
    pub async fn run_worker(self, shutdown: impl Future<Output = ()> + Send) {
        // Leases carry a name unique to this run, so that giving back leases after a lost
        // claim answer (below) can never touch another worker's jobs, even if two processes
        // were configured with the same `worker_id`.
        let worker = format!(
            "{}.{:08x}",
            self.inner.worker.worker_id,
            rand::random::<u32>()
        );
        let poll = self.inner.worker.poll_interval;
        let gather = self.inner.worker.gather;
        // No claim before this instant (see `WorkerOptions::gather`).
        let mut next_claim = tokio::time::Instant::now();
        let sweep_every = self.inner.worker.sweep_interval;
        tokio::pin!(shutdown);
        let mut running: JoinSet<JobRunReport> = JoinSet::new();
        // The jobs each task runs (what must stay leased when leases are given back), and the
        // task's weight (see `Work::weight`).
        let mut in_flight: HashMap<tokio::task::Id, (Vec<JobId>, usize)> = HashMap::new();
        // The capacity in use: deliveries being processed, plus other jobs running.
        let mut busy = 0usize;
        // The weight of a claimed job, as the last claim had it on average: a claim takes as
        // many jobs as should fit the free capacity. A `process_webhooks` job names a whole
        // group commit's deliveries, so under load a claim of `free` jobs could bring many
        // times the capacity; the next claim is smaller instead.
        let mut job_weight = 1usize;
        let mut last_sweep: Option<tokio::time::Instant> = None;
        let mut outage = 0u32;
        // A claim failed: it may have committed while its answer was lost, leaving jobs
        // leased to this worker that it never got. Given back once storage answers again.
        let mut claim_unseen = false;
        loop {
            if last_sweep.is_none_or(|t| t.elapsed() >= sweep_every) {
                let startup = last_sweep.is_none();
                last_sweep = Some(tokio::time::Instant::now());
                if let Err(err) = self.sweep(startup).await {
                    warn!(error = %err, "worker sweep failed");
                }
            }
            if claim_unseen {
                let keep: Vec<JobId> = in_flight
                    .values()
                    .flat_map(|(ids, _)| ids)
                    .copied()
                    .collect();
                match self.give_back_unseen(&worker, &keep).await {
                    Ok(()) => claim_unseen = false,
                    Err(err) => {
                        outage = outage.saturating_add(1);
                        warn!(error = %err, "worker could not give back unseen leases");
                    }
                }
            }
            let capacity = worker_capacity(
                self.inner.worker.batch,
                self.inner.worker.yield_to_ingest,
                self.inner.ingesting.load(Ordering::Relaxed),
            );
            let free = capacity.saturating_sub(busy);
            let mut claimed = 0;
            // Claims held back until `next_claim` (see `WorkerOptions::gather`).
            let held = tokio::time::Instant::now() < next_claim;
            if free > 0 && !claim_unseen && !held {
                let asked = (free / job_weight).max(1);
                match self.claim(&worker, asked).await {
                    Ok(jobs) => {
                        outage = 0;
                        claimed = jobs.len();
                        if claimed < asked {
                            next_claim = tokio::time::Instant::now() + gather;
                        }
                        let mut weight = 0;
                        for work in Work::split(jobs, webhook_batch(&*self.inner.store)) {
                            let this = self.clone();
                            let worker = worker.clone();
                            let ids = work.job_ids();
                            let task_weight = work.weight();
                            weight += task_weight;
                            let task =
                                running.spawn(async move { this.run_work(work, &worker).await });
                            in_flight.insert(task.id(), (ids, task_weight));
                        }
                        busy += weight;
                        if claimed > 0 {
                            job_weight = weight.div_ceil(claimed).max(1);
                        }
                    }
                    Err(err) => {
                        outage = outage.saturating_add(1);
                        claim_unseen = true;
                        warn!(error = %err, "worker could not claim jobs");
                    }
                }
            }
            let gathering = next_claim.saturating_duration_since(tokio::time::Instant::now());
            let wait = if outage > 0 {
                poll.saturating_mul(outage.min(30))
            } else if claimed > 0 || (held && free > 0) {
                // After a full claim at once; after one that drained the queue (or while
                // waiting since), when `gather` has passed.
                gathering
            } else {
                poll
            };
            tokio::select! {
                () = &mut shutdown => break,
                Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                    let task = done.map_or_else(|err| err.id(), |(task, _)| task);
                    if let Some((_, weight)) = in_flight.remove(&task) {
                        busy = busy.saturating_sub(weight);
                    }
                }
                () = tokio::time::sleep(wait) => {}
            }
        }
        while running.join_next().await.is_some() {}
    }

    /// Gives back the jobs leased to `worker` other than `keep` (those it is running): after
    /// a failed claim, jobs a committed claim leased without the worker seeing them.
    async fn give_back_unseen(&self, worker: &str, keep: &[JobId]) -> Result<(), ServiceError> {
        let released = self
            .inner
            .store
            .release_jobs(worker, keep, self.now())
            .await?;
        if released > 0 {
            warn!(
                jobs = released,
                "gave back jobs leased by a claim whose answer was lost"
            );
        }
        Ok(())
    }

    /// Runs every job that is due now, in this task, until none is left (jobs deferred to
    /// later times stay queued). For tests, demos and hosts with their own scheduler.
    ///
    /// # Errors
    /// Only if claiming fails (storage unavailable); job failures are counted in the report.
    pub async fn run_pending_jobs(&self) -> Result<JobRunReport, ServiceError> {
        let worker = format!("{}-inline", self.inner.worker.worker_id);
        let mut report = JobRunReport::default();
        loop {
            let jobs = self.claim(&worker, self.inner.worker.batch.max(1)).await?;
            if jobs.is_empty() {
                return Ok(report);
            }
            for work in Work::split(jobs, webhook_batch(&*self.inner.store)) {
                report.add(self.run_work(work, &worker).await);
            }
        }
    }

    /// Processes stored webhooks without a job, then runs every due job, repeatedly, until
    /// nothing is left to do now. The one call tests and the demo need after feeding events.
    ///
    /// # Errors
    /// As [`run_pending_jobs`](Self::run_pending_jobs).
    pub async fn drain(&self) -> Result<JobRunReport, ServiceError> {
        let mut total = JobRunReport::default();
        loop {
            let processed = self.process_pending().await?;
            let report = self.run_pending_jobs().await?;
            total.add(report);
            if report.claimed == 0 && processed.processed + processed.unparseable == 0 {
                return Ok(total);
            }
        }
    }

    async fn claim(&self, worker: &str, limit: usize) -> Result<Vec<StoredJob>, ServiceError> {
        let lease = TimeDelta::from_std(self.inner.worker.lease).unwrap_or(TimeDelta::minutes(5));
        Ok(self
            .inner
            .store
            .claim_jobs(worker, limit, lease, self.now())
            .await?)
    }

    /// Queues stored webhooks that have no job, and purges expired data.
    ///
    /// The receiver stores a delivery and its processing job in one transaction
    /// ([`insert_webhook_with_job`](crate::store::WebhookInbox::insert_webhook_with_job)), so
    /// it never leaves one without a job. The sweep stays for deliveries stored otherwise: by
    /// an older version, which queued the job in a second transaction that a crash could
    /// prevent, or by a host calling
    /// [`insert_webhook`](crate::store::WebhookInbox::insert_webhook) directly.
    ///
    /// Later sweeps only look at deliveries older than a minute. The first sweep of a process
    /// looks at every waiting delivery, whatever its age, so that such a delivery is picked up
    /// at once after a restart instead of a sweep interval later. Queueing a delivery that
    /// already has a `process_webhook` job is a no-op. A delivery that waits in a
    /// `process_webhooks` job (one per group commit) for over a minute gets a job of its own
    /// too: processing is idempotent, and whichever job comes second finds it processed.
    async fn sweep(&self, startup: bool) -> Result<(), ServiceError> {
        let now = self.now();
        // At start-up the waiting deliveries may include a backlog that has jobs; the orphans
        // are the newest of them, so look further.
        let (before, limit) = if startup {
            (now + TimeDelta::seconds(1), 10_000)
        } else {
            (now - TimeDelta::minutes(1), 1_000)
        };
        let stale = self
            .inner
            .store
            .list_unprocessed_webhooks(before, limit)
            .await?;
        for webhook in stale {
            self.enqueue(
                Job::ProcessWebhook {
                    webhook: webhook.id,
                },
                now,
            )
            .await?;
        }
        self.purge_expired().await?;
        Ok(())
    }

    /// Runs one task's share of a claim.
    async fn run_work(&self, work: Work, worker: &str) -> JobRunReport {
        match work {
            Work::One(job, _) => self.run_job(job, worker).await,
            Work::Webhooks(jobs) => self.run_webhook_jobs(jobs, worker).await,
        }
    }

    /// Runs claimed webhook jobs as one batch of their deliveries
    /// ([`process_webhook_batch`](Self::process_webhook_batch)) and completes, with one
    /// write, the jobs whose deliveries all finished. A job with a delivery the batch leaves
    /// aside, and every job of a batch that failed (storage), runs on its own through
    /// [`run_job`](Self::run_job), which skips what is processed, retries and records
    /// failures as for any job. Each delivery is processed as it would be alone: the batch
    /// only shares reads and writes.
    async fn run_webhook_jobs(
        &self,
        jobs: Vec<(StoredJob, Vec<WebhookId>)>,
        worker: &str,
    ) -> JobRunReport {
        let ids: Vec<WebhookId> = jobs
            .iter()
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        let span = info_span!("attend.webhook.batch", deliveries = ids.len());
        let outcome = match self.process_webhook_batch(&ids).instrument(span).await {
            Ok(outcome) => outcome,
            Err(err) => {
                debug!(error = %err, "batch processing failed; processing one by one");
                let mut report = JobRunReport::default();
                for (job, _) in jobs {
                    report.add(self.run_job(job, worker).await);
                }
                return report;
            }
        };
        let finished: HashSet<WebhookId> = outcome.finished.into_iter().collect();
        let (done, rest): (Vec<_>, Vec<_>) = jobs
            .into_iter()
            .partition(|(_, ids)| ids.iter().all(|id| finished.contains(id)));
        let mut report = JobRunReport::default();
        if !done.is_empty() {
            let count = done.len() as u64;
            report.claimed += count;
            report.completed += count;
            let groups = done
                .iter()
                .filter(|(job, _)| job.kind == PROCESS_WEBHOOKS)
                .count() as u64;
            for (kind, n) in [
                (PROCESS_WEBHOOK, count - groups),
                (PROCESS_WEBHOOKS, groups),
            ] {
                if n > 0 {
                    metrics::counter!("attend_jobs_total", "kind" => kind, "outcome" => "done")
                        .increment(n);
                }
            }
            let ids: Vec<JobId> = done.iter().map(|(job, _)| job.id).collect();
            // A job not completed here was leased to another worker meanwhile: it owns the
            // job now, as in `record_outcome`.
            if let Err(err) = self
                .inner
                .store
                .complete_jobs(&ids, worker, self.now())
                .await
            {
                debug!(error = %err, "could not complete the batch's jobs at once; one by one");
                for (job, _) in &done {
                    let lease_left = (self.lease_end(job) - self.now())
                        .to_std()
                        .unwrap_or_default();
                    self.record_outcome(job, worker, &Record::Complete, lease_left)
                        .await;
                }
            }
        }
        for (job, _) in rest {
            report.add(self.run_job(job, worker).await);
        }
        report
    }

    /// Runs one claimed job and records its outcome in the queue.
    pub(crate) async fn run_job(&self, stored: StoredJob, worker: &str) -> JobRunReport {
        let mut report = JobRunReport {
            claimed: 1,
            ..JobRunReport::default()
        };
        let span = info_span!("attend.job", id = %stored.id, kind = %stored.kind, attempt = stored.attempts);
        async {
            let lease_end = self.lease_end(&stored);
            let outcome = match Job::from_payload(&stored.payload) {
                Ok(job) => self.handle(job, lease_end).await,
                Err(err) => JobOutcome::Retry(ServiceError::internal(err)),
            };
            let now = self.now();
            let kind = stored.kind.clone();
            let record = match outcome {
                JobOutcome::Done => {
                    report.completed += 1;
                    metrics::counter!("attend_jobs_total", "kind" => kind, "outcome" => "done")
                        .increment(1);
                    Record::Complete
                }
                JobOutcome::Defer(run_at) => {
                    report.deferred += 1;
                    metrics::counter!("attend_jobs_total", "kind" => kind, "outcome" => "deferred")
                        .increment(1);
                    Record::Defer(run_at)
                }
                JobOutcome::Retry(err) => {
                    report.failed += 1;
                    metrics::counter!("attend_jobs_total", "kind" => kind, "outcome" => "failed")
                        .increment(1);
                    warn!(error = %err, code = err.code(), "job failed");
                    let retry_at = match err.retry_after() {
                        Some(after) => now + TimeDelta::from_std(after).unwrap_or_default(),
                        None => self.inner.worker.backoff.retry_at(
                            now,
                            stored.attempts,
                            rand::random::<f64>(),
                        ),
                    };
                    Record::Fail {
                        message: err.to_string(),
                        retry_at,
                    }
                }
            };
            let lease_left = (lease_end - now).to_std().unwrap_or_default();
            self.record_outcome(&stored, worker, &record, lease_left)
                .await;
        }
        .instrument(span)
        .await;
        report
    }

    /// When a claimed job's lease ends (a claim always sets it; 5 minutes from now if not).
    fn lease_end(&self, stored: &StoredJob) -> DateTime<Utc> {
        stored
            .locked_until
            .unwrap_or_else(|| self.now() + TimeDelta::minutes(5))
    }

    /// Writes a job's outcome to the queue. A storage outage here would otherwise leave the
    /// job `running` until its lease ends (minutes), so a retryable failure is tried again
    /// with backoff while the lease lasts (`lease_left`, in real time). A lease lost to
    /// another worker is final: that worker owns the job now.
    async fn record_outcome(
        &self,
        stored: &StoredJob,
        worker: &str,
        record: &Record,
        lease_left: Duration,
    ) {
        let store = &self.inner.store;
        let deadline = tokio::time::Instant::now() + lease_left;
        // 100 ms doubling up to 5 s: short, since the database is usually back within seconds.
        let backoff = Backoff::new(TimeDelta::milliseconds(100), TimeDelta::seconds(5), 0.2);
        let mut attempt = 0u32;
        loop {
            let now = self.now();
            let result = match record {
                Record::Complete => store
                    .complete_job(stored.id, worker, now)
                    .await
                    .map(|()| None),
                Record::Defer(run_at) => store
                    .defer_job(stored.id, worker, (*run_at).max(now), now)
                    .await
                    .map(|()| None),
                Record::Fail { message, retry_at } => store
                    .fail_job(stored.id, worker, message, *retry_at, now)
                    .await
                    .map(Some),
            };
            match result {
                Ok(Some(JobState::Dead)) => {
                    self.on_dead_job(stored).await;
                    return;
                }
                Ok(_) => return,
                Err(err) if err.is_retryable() => {
                    attempt += 1;
                    let pause = backoff
                        .delay(attempt, rand::random::<f64>())
                        .to_std()
                        .unwrap_or_default();
                    if tokio::time::Instant::now() + pause >= deadline {
                        debug!(error = %err, "could not record the job outcome before its lease ends");
                        return;
                    }
                    debug!(error = %err, "could not record the job outcome yet; retrying");
                    tokio::time::sleep(pause).await;
                }
                Err(err) => {
                    debug!(error = %err, "could not record the job outcome");
                    return;
                }
            }
        }
    }

    async fn handle(&self, job: Job, lease_end: DateTime<Utc>) -> JobOutcome {
        let result = match job {
            Job::ProcessWebhook { webhook } => self
                .process_webhook(webhook)
                .await
                .map(|()| JobOutcome::Done),
            Job::ProcessWebhooks { webhooks } => self
                .process_webhook_group(&webhooks)
                .await
                .map(|()| JobOutcome::Done),
            Job::Register { meeting } => self.registration_job(&meeting, lease_end).await,
            Job::Reconcile {
                meeting,
                instance,
                ended_at,
                ..
            } => {
                self.reconcile_job(&meeting, &instance, ended_at)
                    .await
                    .map(|outcome| match outcome {
                        super::ReconcileOutcome::NotReady { retry_at } => {
                            JobOutcome::Defer(retry_at)
                        }
                        _ => JobOutcome::Done,
                    })
            }
            Job::Finalize { instance } => self.finalize_job(&instance).await,
            Job::LiveCheck {
                meeting,
                instance,
                seen,
            } => self.live_check_job(&meeting, &instance, seen).await,
            Job::DenyRegistrant {
                meeting,
                registrant_id,
                email,
            } => self
                .deny_registrant_job(&meeting, &registrant_id, email.as_deref())
                .await
                .map(|()| JobOutcome::Done),
            Job::DeleteRegistrants {
                account,
                kind,
                zoom_meeting_id,
                registrant_ids,
            } => self
                .delete_registrants_job(&account, kind, zoom_meeting_id, &registrant_ids)
                .await
                .map(|()| JobOutcome::Done),
        };
        result.unwrap_or_else(JobOutcome::Retry)
    }

    /// A job used up its attempts: leave a visible trace where it matters.
    ///
    /// A dead `process_webhook` job marks its delivery `failed`; a dead `process_webhooks`
    /// job marks those of its deliveries still waiting (the ones that kept failing: the others
    /// were processed by an earlier attempt).
    async fn on_dead_job(&self, stored: &StoredJob) {
        let ids = match Job::from_payload(&stored.payload) {
            Ok(Job::ProcessWebhook { webhook }) => vec![webhook],
            Ok(Job::ProcessWebhooks { webhooks }) => {
                match self.inner.store.get_webhooks(&webhooks).await {
                    Ok(found) => found
                        .into_iter()
                        .filter(|w| w.status == WebhookStatus::Received)
                        .map(|w| w.id)
                        .collect(),
                    Err(err) => {
                        warn!(error = %err, "could not read the deliveries of a dead job");
                        return;
                    }
                }
            }
            _ => return,
        };
        let reason = stored
            .last_error
            .clone()
            .unwrap_or_else(|| "processing failed repeatedly".into());
        for webhook in ids {
            if let Err(err) = self
                .inner
                .store
                .mark_webhook_failed(webhook, &reason, self.now())
                .await
            {
                warn!(error = %err, "could not mark the webhook failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BURST_CAPACITY, Work, worker_capacity};
    use crate::store::{Job as StoredJob, JobId, JobState};

    fn job(id: i64, payload: serde_json::Value) -> StoredJob {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        StoredJob {
            id: JobId(id),
            kind: payload["job"].as_str().unwrap_or_default().to_owned(),
            payload,
            dedupe_key: None,
            state: JobState::Running,
            attempts: 1,
            max_attempts: 8,
            run_at: t,
            locked_by: Some("w".into()),
            locked_until: Some(t),
            last_error: None,
            created_at: t,
            updated_at: t,
        }
    }

    fn group(id: i64, deliveries: std::ops::Range<i64>) -> StoredJob {
        let ids: Vec<i64> = deliveries.collect();
        job(
            id,
            serde_json::json!({ "job": "process_webhooks", "webhooks": ids }),
        )
    }

    /// Each task as (its jobs, its weight).
    fn tasks(work: &[Work]) -> Vec<(Vec<i64>, usize)> {
        work.iter()
            .map(|w| (w.job_ids().iter().map(|id| id.0).collect(), w.weight()))
            .collect()
    }

    #[test]
    fn small_webhook_jobs_share_batches_and_a_job_is_never_split() {
        let single = |id: i64| {
            job(
                id,
                serde_json::json!({ "job": "process_webhook", "webhook": id }),
            )
        };
        let other = job(
            9,
            serde_json::json!({ "job": "finalize", "instance": "abc" }),
        );
        let work = Work::split(
            vec![
                group(1, 0..6),
                single(2),
                group(3, 10..20),
                other,
                group(4, 100..117),
                single(5),
                group(6, 30..33),
            ],
            16,
        );
        assert_eq!(
            tasks(&work),
            vec![
                // 6 + 1 deliveries; 10 more would pass 16, so job 3 starts the next batch.
                (vec![1, 2], 7),
                // Not a webhook job, or over one batch: alone.
                (vec![9], 1),
                (vec![4], 17),
                (vec![3, 5, 6], 14),
            ]
        );
        // Larger batches (a store that asks for them): fewer tasks, jobs still whole.
        let work = Work::split(
            vec![
                group(1, 0..6),
                single(2),
                group(3, 10..20),
                group(4, 100..170),
                group(6, 30..33),
            ],
            64,
        );
        assert_eq!(tasks(&work), vec![(vec![4], 70), (vec![1, 2, 3, 6], 20)]);
        // A batch of one job runs it alone.
        assert_eq!(
            tasks(&Work::split(vec![group(7, 0..3)], 16)),
            vec![(vec![7], 3)]
        );
    }

    #[test]
    fn the_worker_yields_to_a_burst_of_deliveries_but_never_stops() {
        // Quiet, or below the threshold: the whole capacity.
        assert_eq!(worker_capacity(64, 16, 0), 64);
        assert_eq!(worker_capacity(64, 16, 15), 64);
        // A burst: at most the burst share, never nothing.
        assert_eq!(worker_capacity(64, 16, 16), BURST_CAPACITY);
        assert_eq!(worker_capacity(64, 16, 10_000), BURST_CAPACITY);
        // A capacity already below one batch stays as configured.
        assert_eq!(worker_capacity(4, 16, 100), 4);
        // 0: never yields.
        assert_eq!(worker_capacity(64, 0, 10_000), 64);
    }
}

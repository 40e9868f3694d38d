//! Checks of [`JobQueue`](crate::store::JobQueue).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::TimeDelta;
use serde_json::json;

use crate::store::{Backoff, Enqueued, Job, JobCounts, JobId, JobState, NewJob, Store};

use super::fixtures::{t, t_us};
use super::{CheckResult, Ctx, Cx, ExpectErr, Failure, ensure, ensure_eq, race};

const LEASE: TimeDelta = TimeDelta::seconds(30);

/// Ids and states only: whole jobs make failure messages unreadable.
fn brief(jobs: &[Job]) -> Vec<(JobId, JobState, u32)> {
    jobs.iter().map(|j| (j.id, j.state, j.attempts)).collect()
}

fn job(kind: &str, run_at: i64) -> NewJob {
    NewJob::new(
        kind,
        json!({"kind": kind, "n": run_at, "nested": {"ids": [1, 2, 3]}}),
        t(run_at),
    )
}

async fn must_get(s: &dyn Store, id: JobId) -> Result<Job, Failure> {
    match s.get_job(id).await.ctx("get_job")? {
        Some(job) => Ok(job),
        None => Err(Failure(format!("job {id} is missing"))),
    }
}

async fn enqueue(s: &dyn Store, new: &NewJob) -> Result<JobId, Failure> {
    match s.enqueue_job(new, t(0)).await.ctx("enqueue_job")? {
        Enqueued::Created(id) => Ok(id),
        other => Err(Failure(format!(
            "enqueue of a new job must be Created, got {other:?}"
        ))),
    }
}

pub(super) async fn enqueue_then_claim_in_order(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let late = enqueue(s, &job("b", 20)).await?;
    let first = enqueue(s, &job("a", 5).with_max_attempts(0)).await?;
    let tie = enqueue(s, &job("a", 10)).await?;
    let tie2 = enqueue(s, &job("a", 10)).await?;
    let future = enqueue(s, &job("a", 1_000)).await?;

    let stored = must_get(s, first).await?;
    ensure_eq!(
        (
            stored.state,
            stored.attempts,
            stored.max_attempts,
            stored.locked_by.clone(),
            stored.created_at
        ),
        (JobState::Ready, 0, 1, None, t(0)),
        "(state, attempts, max_attempts (0 stored as 1), locked_by, created_at) of a new job"
    );
    ensure_eq!(stored.payload, job("a", 5).payload, "payload round trip");
    ensure_eq!(
        s.get_job(JobId(987_654_321)).await.ctx("get_job unknown")?,
        None,
        "get_job of an unknown id"
    );

    let none = s
        .claim_jobs("w1", 10, LEASE, t(4))
        .await
        .ctx("claim before any is due")?;
    ensure!(
        none.is_empty(),
        "nothing is due before t+5, got {:?}",
        brief(&none)
    );
    let zero = s
        .claim_jobs("w1", 0, LEASE, t(100))
        .await
        .ctx("claim with limit 0")?;
    ensure!(
        zero.is_empty(),
        "limit 0 claims nothing, got {:?}",
        brief(&zero)
    );

    let now = t_us(100, 1);
    let claimed = s.claim_jobs("w1", 3, LEASE, now).await.ctx("claim_jobs")?;
    let ids: Vec<JobId> = claimed.iter().map(|j| j.id).collect();
    ensure_eq!(
        ids,
        vec![first, tie, tie2],
        "claimed ids: oldest run_at first, ties by id, limit 3"
    );
    for j in &claimed {
        ensure_eq!(
            (j.state, j.attempts, j.locked_by.as_deref(), j.locked_until),
            (JobState::Running, 1, Some("w1"), Some(now + LEASE)),
            "(state, attempts, locked_by, locked_until) of claimed job {}",
            j.id
        );
        ensure_eq!(
            &must_get(s, j.id).await?,
            j,
            "claim_jobs must return the jobs as stored"
        );
    }
    let rest = s
        .claim_jobs("w2", 10, LEASE, now)
        .await
        .ctx("claim the rest")?;
    let ids: Vec<JobId> = rest.iter().map(|j| j.id).collect();
    ensure_eq!(
        ids,
        vec![late],
        "a second claim gets only the remaining due job"
    );
    ensure_eq!(
        must_get(s, future).await?.state,
        JobState::Ready,
        "a job due later stays Ready"
    );
    Ok(())
}

pub(super) async fn dedupe_key_blocks_only_unfinished_jobs(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let keyed = job("reconcile", 0).with_dedupe_key("reconcile:i1");
    let id = enqueue(s, &keyed).await?;
    let dup = s
        .enqueue_job(&job("reconcile", 50).with_dedupe_key("reconcile:i1"), t(1))
        .await
        .ctx("enqueue duplicate")?;
    ensure_eq!(
        dup,
        Enqueued::Duplicate(id),
        "enqueue with the key of a Ready job"
    );
    ensure_eq!(
        must_get(s, id).await?.run_at,
        t(0),
        "a duplicate enqueue changes nothing"
    );

    s.claim_jobs("w", 1, LEASE, t(0)).await.ctx("claim")?;
    let dup = s
        .enqueue_job(&keyed, t(2))
        .await
        .ctx("enqueue while running")?;
    ensure_eq!(
        dup,
        Enqueued::Duplicate(id),
        "enqueue with the key of a Running job"
    );
    s.complete_job(id, "w", t(3)).await.ctx("complete")?;
    let fresh = s
        .enqueue_job(&keyed, t(4))
        .await
        .ctx("enqueue after done")?;
    ensure!(
        matches!(fresh, Enqueued::Created(new) if new != id),
        "a Done job must not block its key: expected Created(new id), got {fresh:?}"
    );
    let other = s
        .enqueue_job(&job("reconcile", 0).with_dedupe_key("reconcile:i2"), t(4))
        .await
        .ctx("enqueue another key")?;
    ensure!(other.is_new(), "another key is a new job, got {other:?}");
    let a = enqueue(s, &job("plain", 0)).await?;
    let b = enqueue(s, &job("plain", 0)).await?;
    ensure!(a != b, "jobs without a key are never deduplicated");
    Ok(())
}

pub(super) async fn lease_owner_completes(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let id = enqueue(s, &job("a", 0)).await?;
    let ready_err = s
        .complete_job(id, "w1", t(1))
        .await
        .expect_failure("complete_job of a job never claimed")?;
    ensure!(
        ready_err.is_conflict(),
        "completing a Ready job must be Conflict, got {ready_err:?}"
    );
    s.claim_jobs("w1", 1, LEASE, t(1)).await.ctx("claim")?;
    let err = s
        .complete_job(id, "w2", t(2))
        .await
        .expect_failure("complete_job by a worker without the lease")?;
    ensure!(
        err.is_conflict(),
        "another worker's complete must be Conflict, got {err:?}"
    );
    ensure_eq!(
        must_get(s, id).await?.state,
        JobState::Running,
        "state after a rejected complete"
    );
    s.complete_job(id, "w1", t(3))
        .await
        .ctx("complete_job by the owner")?;
    let done = must_get(s, id).await?;
    ensure_eq!(
        (done.state, done.updated_at),
        (JobState::Done, t(3)),
        "(state, updated_at) after complete"
    );
    let err = s
        .complete_job(id, "w1", t(4))
        .await
        .expect_failure("completing a Done job again")?;
    ensure!(
        err.is_conflict(),
        "completing a finished job must be Conflict, got {err:?}"
    );
    let err = s
        .complete_job(JobId(987_654_321), "w1", t(4))
        .await
        .expect_failure("complete_job of an unknown id")?;
    ensure!(
        err.is_not_found(),
        "an unknown job must be NotFound, got {err:?}"
    );
    let err = s
        .fail_job(JobId(987_654_321), "w1", "x", t(5), t(4))
        .await
        .expect_failure("fail_job of an unknown id")?;
    ensure!(
        err.is_not_found(),
        "fail_job of an unknown job must be NotFound, got {err:?}"
    );
    let again = s
        .claim_jobs("w1", 10, LEASE, t(1_000))
        .await
        .ctx("claim after done")?;
    ensure!(
        again.is_empty(),
        "a Done job is never claimed again, got {:?}",
        brief(&again)
    );
    Ok(())
}

pub(super) async fn failures_retry_then_die(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let backoff = Backoff::new(TimeDelta::seconds(10), TimeDelta::hours(1), 0.0);
    let id = enqueue(s, &job("a", 0).with_max_attempts(2)).await?;
    s.claim_jobs("w", 1, LEASE, t(0)).await.ctx("claim 1")?;
    let retry_at = backoff.retry_at(t(1), 1, 0.3);
    let state = s
        .fail_job(id, "w", "zoom said 500", retry_at, t(1))
        .await
        .ctx("fail 1")?;
    ensure_eq!(state, JobState::Ready, "state after failing attempt 1 of 2");
    let j = must_get(s, id).await?;
    ensure_eq!(
        (
            j.state,
            j.run_at,
            j.attempts,
            j.last_error.as_deref(),
            j.locked_until
        ),
        (JobState::Ready, t(11), 1, Some("zoom said 500"), None),
        "(state, run_at, attempts, last_error, locked_until) after a retryable failure"
    );
    let early = s
        .claim_jobs("w", 1, LEASE, t(10))
        .await
        .ctx("claim before retry_at")?;
    ensure!(
        early.is_empty(),
        "a failed job is not claimable before its retry time, got {:?}",
        brief(&early)
    );
    let again = s
        .claim_jobs("w", 1, LEASE, t(11))
        .await
        .ctx("claim at retry_at")?;
    ensure_eq!(
        again.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(),
        vec![(id, 2)],
        "(id, attempts) re-claimed at retry_at"
    );
    let state = s
        .fail_job(id, "w", "still 500", t(100), t(12))
        .await
        .ctx("fail 2")?;
    ensure_eq!(
        state,
        JobState::Dead,
        "state after failing the last attempt"
    );
    let j = must_get(s, id).await?;
    ensure_eq!(
        (j.state, j.last_error.as_deref()),
        (JobState::Dead, Some("still 500")),
        "(state, last_error) of a dead job"
    );
    let never = s
        .claim_jobs("w", 1, LEASE, t(10_000))
        .await
        .ctx("claim after dead")?;
    ensure!(
        never.is_empty(),
        "a Dead job is never claimed, got {:?}",
        brief(&never)
    );
    Ok(())
}

pub(super) async fn expired_lease_is_reclaimed(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let id = enqueue(s, &job("a", 0)).await?;
    s.claim_jobs("crashed", 1, LEASE, t(0))
        .await
        .ctx("claim by the worker that crashes")?;
    let before = s
        .claim_jobs("w2", 1, LEASE, t(29))
        .await
        .ctx("claim before the lease expires")?;
    ensure!(
        before.is_empty(),
        "a live lease must not be re-claimed, got {:?}",
        brief(&before)
    );
    let after = s
        .claim_jobs("w2", 1, LEASE, t(30))
        .await
        .ctx("claim when the lease expires")?;
    ensure_eq!(
        after
            .iter()
            .map(|j| (j.id, j.attempts, j.locked_by.clone()))
            .collect::<Vec<_>>(),
        vec![(id, 2, Some("w2".to_owned()))],
        "(id, attempts, locked_by) re-claimed at locked_until"
    );
    let err = s
        .complete_job(id, "crashed", t(31))
        .await
        .expect_failure("complete by the worker whose lease was taken over")?;
    ensure!(
        err.is_conflict(),
        "the old lease holder must get Conflict, got {err:?}"
    );
    let err = s
        .fail_job(id, "crashed", "late", t(40), t(31))
        .await
        .expect_failure("fail by the worker whose lease was taken over")?;
    ensure!(
        err.is_conflict(),
        "the old lease holder must get Conflict on fail too, got {err:?}"
    );
    s.complete_job(id, "w2", t(32))
        .await
        .ctx("complete by the new holder")?;
    ensure_eq!(
        must_get(s, id).await?.state,
        JobState::Done,
        "state after the new holder completes"
    );
    Ok(())
}

pub(super) async fn exhausted_expired_job_dies(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let id = enqueue(s, &job("poison", 0).with_max_attempts(1)).await?;
    let healthy = enqueue(s, &job("ok", 0)).await?;
    let first = s.claim_jobs("w1", 10, LEASE, t(0)).await.ctx("claim")?;
    ensure_eq!(first.len(), 2, "both jobs claimed");
    s.complete_job(healthy, "w1", t(1))
        .await
        .ctx("complete healthy")?;
    // w1 crashes while running the poison job; its single attempt is used up.
    let reclaimed = s
        .claim_jobs("w2", 10, LEASE, t(60))
        .await
        .ctx("claim after expiry")?;
    ensure!(
        reclaimed.is_empty(),
        "an expired job without attempts left must not be claimed, got {:?}",
        brief(&reclaimed)
    );
    let j = must_get(s, id).await?;
    ensure_eq!(
        j.state,
        JobState::Dead,
        "an expired job without attempts left becomes Dead"
    );
    ensure!(
        j.last_error.is_some(),
        "a job that died by lease expiry must say so in last_error"
    );
    Ok(())
}

pub(super) async fn defer_gives_the_attempt_back(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let id = enqueue(s, &job("register", 0).with_max_attempts(1)).await?;
    s.claim_jobs("w", 1, LEASE, t(0)).await.ctx("claim")?;
    let err = s
        .defer_job(id, "other", t(500), t(1))
        .await
        .expect_failure("defer_job by a worker without the lease")?;
    ensure!(
        err.is_conflict(),
        "deferring another worker's job must be Conflict, got {err:?}"
    );
    s.defer_job(id, "w", t(86_400), t(1))
        .await
        .ctx("defer_job")?;
    let j = must_get(s, id).await?;
    ensure_eq!(
        (j.state, j.attempts, j.run_at, j.locked_until),
        (JobState::Ready, 0, t(86_400), None),
        "(state, attempts, run_at, locked_until) after a deferral"
    );
    let early = s
        .claim_jobs("w", 1, LEASE, t(86_399))
        .await
        .ctx("claim before run_at")?;
    ensure!(
        early.is_empty(),
        "a deferred job waits for its run_at, got {:?}",
        brief(&early)
    );
    let later = s
        .claim_jobs("w", 1, LEASE, t(86_400))
        .await
        .ctx("claim at run_at")?;
    ensure_eq!(
        later.len(),
        1,
        "a deferred single-attempt job is still claimable (the attempt was given back)"
    );
    let err = s
        .defer_job(JobId(987_654_321), "w", t(1), t(1))
        .await
        .expect_failure("defer_job of an unknown id")?;
    ensure!(
        err.is_not_found(),
        "an unknown job must be NotFound, got {err:?}"
    );
    Ok(())
}

pub(super) async fn release_gives_back_unkept_leases(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let kept = enqueue(s, &job("a", 0)).await?;
    let lost = enqueue(s, &job("a", 1)).await?;
    let finished = enqueue(s, &job("a", 2)).await?;
    let others = enqueue(s, &job("a", 3).with_max_attempts(1)).await?;
    let mine = s.claim_jobs("w", 3, LEASE, t(10)).await.ctx("claim by w")?;
    ensure_eq!(
        mine.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![kept, lost, finished],
        "jobs claimed by w"
    );
    s.claim_jobs("other", 1, LEASE, t(10))
        .await
        .ctx("claim by other")?;
    s.complete_job(finished, "w", t(10))
        .await
        .ctx("complete_job")?;

    let released = s
        .release_jobs("w", &[kept], t(11))
        .await
        .ctx("release_jobs keeping one")?;
    ensure_eq!(released, 1, "jobs given back (w's one unkept running job)");
    let j = must_get(s, lost).await?;
    ensure_eq!(
        (j.state, j.attempts, j.run_at, j.locked_until, j.updated_at),
        (JobState::Ready, 0, t(1), None, t(11)),
        "(state, attempts, run_at, locked_until, updated_at) of a job given back"
    );
    let mut untouched = Vec::new();
    for id in [kept, finished, others] {
        let j = must_get(s, id).await?;
        untouched.push((j.state, j.attempts, j.locked_by));
    }
    ensure_eq!(
        untouched,
        vec![
            (JobState::Running, 1, Some("w".to_owned())),
            (JobState::Done, 1, Some("w".to_owned())),
            (JobState::Running, 1, Some("other".to_owned())),
        ],
        "(state, attempts, locked_by) of the kept, the finished and another worker's job"
    );
    ensure_eq!(
        s.release_jobs("w", &[kept], t(12))
            .await
            .ctx("second release_jobs")?,
        0,
        "a second release with nothing left to give back"
    );
    let again = s
        .claim_jobs("x", 5, LEASE, t(12))
        .await
        .ctx("claim after the release")?;
    ensure_eq!(
        brief(&again),
        vec![(lost, JobState::Running, 1)],
        "a job given back is claimable at once (and only it)"
    );

    // An empty `keep` gives back everything; a single-attempt job is not used up by it.
    ensure_eq!(
        s.release_jobs("other", &[], t(13))
            .await
            .ctx("release_jobs of other")?,
        1,
        "jobs given back by other"
    );
    let retried = s
        .claim_jobs("y", 5, LEASE, t(13))
        .await
        .ctx("claim the single-attempt job")?;
    ensure_eq!(
        brief(&retried),
        vec![(others, JobState::Running, 1)],
        "a single-attempt job given back runs again"
    );
    Ok(())
}

pub(super) async fn counts_and_purge(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let ids = [
        enqueue(s, &job("a", 0)).await?,
        enqueue(s, &job("a", 0)).await?,
        enqueue(s, &job("a", 0).with_max_attempts(1)).await?,
        enqueue(s, &job("b", 0)).await?,
        enqueue(s, &job("b", 500)).await?,
    ];
    s.claim_jobs("w", 4, LEASE, t(0)).await.ctx("claim 4")?;
    s.complete_job(ids[0], "w", t(10)).await.ctx("complete")?;
    s.fail_job(ids[2], "w", "boom", t(20), t(20))
        .await
        .ctx("fail to dead")?;
    s.complete_job(ids[3], "w", t(30)).await.ctx("complete b")?;

    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            ready: 1,
            running: 1,
            done: 2,
            dead: 1
        },
        "job_counts(None)"
    );
    ensure_eq!(
        s.job_counts(Some("a")).await.ctx("job_counts(a)")?,
        JobCounts {
            ready: 0,
            running: 1,
            done: 1,
            dead: 1
        },
        "job_counts(Some(\"a\"))"
    );
    ensure_eq!(
        s.job_counts(Some("zzz")).await.ctx("job_counts unknown")?,
        JobCounts::default(),
        "counts of an unknown kind"
    );
    for (kind, unfinished) in [(None, 2), (Some("a"), 1), (Some("b"), 1), (Some("zzz"), 0)] {
        ensure_eq!(
            s.unfinished_job_count(kind)
                .await
                .ctx("unfinished_job_count")?,
            unfinished,
            "unfinished_job_count({kind:?}): ready + running"
        );
    }

    let purged = s
        .purge_finished_jobs(t(30))
        .await
        .ctx("purge_finished_jobs")?;
    ensure_eq!(
        purged,
        2,
        "finished jobs last written strictly before the cut-off"
    );
    ensure_eq!(
        s.get_job(ids[0]).await.ctx("get")?,
        None,
        "a purged job is gone"
    );
    ensure!(
        s.get_job(ids[3]).await.ctx("get")?.is_some(),
        "a job finished at the cut-off stays"
    );
    ensure!(
        s.get_job(ids[1]).await.ctx("get")?.is_some(),
        "a running job is never purged"
    );
    let far = s
        .purge_finished_jobs(t(1_000_000))
        .await
        .ctx("purge all finished")?;
    ensure_eq!(far, 1, "only finished jobs are purged");
    ensure_eq!(
        s.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            ready: 1,
            running: 1,
            done: 0,
            dead: 0
        },
        "job_counts after purging"
    );
    Ok(())
}

pub(super) async fn concurrent_claims_never_overlap(cx: Cx) -> CheckResult {
    let total = 60;
    let mut all = BTreeSet::new();
    for i in 0..total {
        all.insert(enqueue(&*cx.store, &job("bulk", i % 7)).await?);
    }
    let store: Arc<dyn Store> = Arc::clone(&cx.store);
    let results = race(cx.caps.concurrency, |w| {
        let store = Arc::clone(&store);
        async move {
            let worker = format!("worker-{w}");
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_jobs(&worker, 3, TimeDelta::hours(1), t(100))
                    .await?;
                if batch.is_empty() {
                    return Ok::<_, crate::store::StoreError>(mine);
                }
                for job in batch {
                    store.complete_job(job.id, &worker, t(101)).await?;
                    mine.push(job.id);
                }
            }
        }
    })
    .await?;
    let mut seen = BTreeSet::new();
    for r in results {
        for id in r.ctx("a racing worker")? {
            ensure!(seen.insert(id), "job {id} was claimed by two workers");
        }
    }
    ensure_eq!(
        seen,
        all,
        "the set of jobs claimed by {} racing workers",
        cx.caps.concurrency
    );
    let counts = cx.store.job_counts(Some("bulk")).await.ctx("job_counts")?;
    ensure_eq!(counts.done, total as u64, "done jobs after the race");
    Ok(())
}

pub(super) async fn concurrent_dedupe_enqueue_creates_one(cx: Cx) -> CheckResult {
    let store: Arc<dyn Store> = Arc::clone(&cx.store);
    let results = race(cx.caps.concurrency, |i| {
        let store = Arc::clone(&store);
        async move {
            store
                .enqueue_job(
                    &job("process", i as i64).with_dedupe_key("webhook:42"),
                    t(0),
                )
                .await
        }
    })
    .await?;
    let mut outcomes = Vec::new();
    for r in results {
        outcomes.push(r.ctx("a racing enqueue_job")?);
    }
    ensure_eq!(
        outcomes.iter().filter(|o| o.is_new()).count(),
        1,
        "racing enqueues of one key that got Created ({outcomes:?})"
    );
    let id = outcomes[0].id();
    ensure!(
        outcomes.iter().all(|o| o.id() == id),
        "all racing enqueues must name the same job, got {outcomes:?}"
    );
    ensure_eq!(
        cx.store.job_counts(None).await.ctx("job_counts")?,
        JobCounts {
            ready: 1,
            ..JobCounts::default()
        },
        "jobs stored after racing enqueues of one key"
    );
    Ok(())
}

pub(super) async fn complete_many_completes_only_own_running(cx: Cx) -> CheckResult {
    let s = &*cx.store;
    let none = s
        .complete_jobs(&[], "w", t(1))
        .await
        .ctx("complete_jobs of nothing")?;
    ensure_eq!(none, Vec::<JobId>::new(), "complete_jobs of no ids");
    let a = enqueue(s, &job("a", 0)).await?;
    let b = enqueue(s, &job("a", 1)).await?;
    let finished = enqueue(s, &job("a", 2)).await?;
    let theirs = enqueue(s, &job("a", 3)).await?;
    let waiting = enqueue(s, &job("a", 4)).await?;
    s.claim_jobs("w", 3, LEASE, t(10)).await.ctx("claim by w")?;
    s.claim_jobs("other", 1, LEASE, t(10))
        .await
        .ctx("claim by other")?;
    s.complete_job(finished, "w", t(10))
        .await
        .ctx("complete_job")?;

    let mut done = s
        .complete_jobs(
            &[b, finished, theirs, waiting, JobId(987_654_321), a],
            "w",
            t(11),
        )
        .await
        .ctx("complete_jobs")?;
    done.sort();
    ensure_eq!(
        done,
        vec![a, b],
        "jobs completed: w's running ones (finished, another's, ready and unknown left out)"
    );
    let mut states = Vec::new();
    for id in [a, b, finished, theirs, waiting] {
        let j = must_get(s, id).await?;
        states.push((j.state, j.locked_until.is_some(), j.updated_at));
    }
    ensure_eq!(
        states,
        vec![
            (JobState::Done, false, t(11)),
            (JobState::Done, false, t(11)),
            (JobState::Done, false, t(10)),
            (JobState::Running, true, t(10)),
            (JobState::Ready, false, t(0)),
        ],
        "(state, leased, updated_at) of the completed, the finished, another's and a ready job"
    );
    ensure_eq!(
        s.complete_jobs(&[a, b], "w", t(12))
            .await
            .ctx("complete_jobs again")?,
        Vec::<JobId>::new(),
        "completing finished jobs again completes nothing"
    );
    Ok(())
}

//! `JobQueue` on `attend_jobs`: leases, retries, dead letters, several workers and processes.
//!
//! Claiming is the one place where the backends differ most:
//!
//! * **PostgreSQL**: `SELECT … ORDER BY run_at, id LIMIT n FOR UPDATE SKIP LOCKED` (once for
//!   ready jobs, once for expired leases, merged), then `UPDATE … WHERE id IN (…)` in the
//!   same transaction. Rows another worker is claiming are
//!   skipped rather than waited for, so concurrent workers (in any number of processes) get
//!   disjoint jobs without blocking each other.
//! * **SQLite**: inside `BEGIN IMMEDIATE` (one writer at a time, so no two claims overlap),
//!   `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING …` in one statement.
//!
//! Either way each of the two claimable sets is read as one limited index range, so a claim
//! costs the same with ten or a hundred thousand jobs waiting.
//!
//! Expired leases are looked for at most once a second per store ([`LEASE_CHECK_EVERY`]);
//! when they are, both first dead-letter expired leases that used their last attempt.
//!
//! The indexes hold only the rows each query wants (claimable, leased, finished jobs; see the
//! migration `2026-12-07-000000_attend_state_indexes`); queries that rely on a partial index
//! spell its state condition out ([`IS_READY`] and its siblings).

use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use attend_core::store::{
    Enqueued, Entity, Job, JobCounts, JobId, JobQueue, JobState, NewJob, StoreResult,
};
use chrono::{DateTime, TimeDelta, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::group::{Lane, refusal_as_answer};
use super::prepared::{kept, kept_list};
use super::{DieselStore, ID_CHUNK, per_backend};
use crate::codec::{Codec, micros, opt_time, time, u32_col};
use crate::connection::AnyConnection;
use crate::error::DieselStoreError;
use crate::schema::attend_jobs as j;

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = j, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct JobRow {
    id: i64,
    kind: String,
    payload: String,
    dedupe_key: Option<String>,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_at: i64,
    locked_by: Option<String>,
    locked_until: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// A job to insert, as [`new_job_row`] builds it.
#[derive(Insertable)]
#[diesel(table_name = j)]
pub(super) struct NewJobRow {
    kind: String,
    payload: String,
    dedupe_key: Option<String>,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_at: i64,
    created_at: i64,
    updated_at: i64,
}

impl JobRow {
    fn into_job(self) -> Result<Job, DieselStoreError> {
        const E: Entity = Entity::Job;
        Ok(Job {
            id: JobId(self.id),
            kind: self.kind,
            payload: serde_json::from_str(&self.payload)
                .map_err(|e| DieselStoreError::corrupt(E, format!("payload: {e}")))?,
            dedupe_key: self.dedupe_key,
            state: JobState::decode(&self.state)?,
            attempts: u32_col(E, "attempts", self.attempts)?,
            max_attempts: u32_col(E, "max_attempts", self.max_attempts)?,
            run_at: time(E, self.run_at)?,
            locked_by: self.locked_by,
            locked_until: opt_time(E, self.locked_until)?,
            last_error: self.last_error,
            created_at: time(E, self.created_at)?,
            updated_at: time(E, self.updated_at)?,
        })
    }
}

const READY: &str = "ready";
const RUNNING: &str = "running";
const DONE: &str = "done";
const DEAD: &str = "dead";

/// `state = 'ready'`, written out: the claim reads the partial index `attend_jobs_ready_idx`,
/// which a query only gets when its own WHERE names the same literal (a bound `state = $1`
/// cannot prove it). Kept in step with [`READY`] by a unit test.
const IS_READY: &str = "attend_jobs.state = 'ready'";

/// `state IN ('ready', 'running')`, written out for the partial unique index
/// `attend_jobs_dedupe_key` (see [`IS_READY`]).
const IS_UNFINISHED: &str = "attend_jobs.state IN ('ready', 'running')";

/// `state IN ('done', 'dead')`, written out for the partial index `attend_jobs_finished_idx`
/// (see [`IS_READY`]).
const IS_FINISHED: &str = "attend_jobs.state IN ('done', 'dead')";

/// How often a store looks for expired leases, in microseconds (one second).
///
/// A lease expires only when a worker died or stalled: rare, and leases last minutes. Looking
/// at every claim cost two statements per claim (dead-lettering used-up jobs, claiming the
/// rest), each reading the lease index through the entries finished jobs leave behind until
/// a vacuum; under load these were the costliest statements on PostgreSQL. So a claim looks
/// for them only if this store did not in the last second (by the callers' `now`), and an
/// expired job waits up to a second longer than its lease, as the `JobQueue` contract allows.
const LEASE_CHECK_EVERY: i64 = 1_000_000;

/// When this store last looked for expired leases (microseconds; see [`LEASE_CHECK_EVERY`]).
#[derive(Debug)]
pub(super) struct LeaseCheck {
    last: AtomicI64,
}

impl Default for LeaseCheck {
    fn default() -> Self {
        Self {
            last: AtomicI64::new(i64::MIN),
        }
    }
}

impl LeaseCheck {
    /// Whether a claim at `now` looks for expired leases: when the last look was at least
    /// [`LEASE_CHECK_EVERY`] before `now`, or after it (a caller's clock went back). One of
    /// several concurrent claims gets `true`.
    fn due(&self, now: i64) -> bool {
        self.last
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                let due = now < last || now.saturating_sub(last) >= LEASE_CHECK_EVERY;
                due.then_some(now)
            })
            .is_ok()
    }
}

/// How often an enqueue retries when the job holding its dedupe key finished between the
/// conflicting INSERT and the look-up (PostgreSQL READ COMMITTED only; never on SQLite).
const ENQUEUE_ROUNDS: usize = 3;

/// The row of a new `Ready` job enqueued at `now`.
pub(super) fn new_job_row(job: &NewJob, now: DateTime<Utc>) -> Result<NewJobRow, DieselStoreError> {
    let payload = serde_json::to_string(&job.payload)
        .map_err(|e| DieselStoreError::corrupt(Entity::Job, format!("payload: {e}")))?;
    Ok(NewJobRow {
        kind: job.kind.clone(),
        payload,
        dedupe_key: job.dedupe_key.clone(),
        state: READY.to_owned(),
        attempts: 0,
        max_attempts: i64::from(job.max_attempts.max(1)),
        run_at: micros(job.run_at),
        created_at: micros(now),
        updated_at: micros(now),
    })
}

impl NewJobRow {
    /// Appends this row to the column arrays of a PostgreSQL group insert, naming the
    /// deliveries `named` (comma-separated ids).
    pub(super) fn push_into(&self, cols: &mut super::pg_deliveries::JobColumns, named: String) {
        cols.kind.push(self.kind.clone());
        cols.payload.push(self.payload.clone());
        cols.dedupe_key.push(self.dedupe_key.clone());
        cols.state.push(self.state.clone());
        cols.attempts.push(self.attempts);
        cols.max_attempts.push(self.max_attempts);
        cols.run_at.push(self.run_at);
        cols.created_at.push(self.created_at);
        cols.updated_at.push(self.updated_at);
        cols.named.push(named);
    }
}

/// `JobQueue::enqueue_job` inside the caller's write transaction.
pub(super) fn enqueue_tx(
    conn: &mut AnyConnection,
    row: &NewJobRow,
) -> Result<Enqueued, DieselStoreError> {
    for _ in 0..ENQUEUE_ROUNDS {
        // The partial unique index on unfinished jobs' dedupe keys decides; a conflicting
        // INSERT returns no row (on PostgreSQL after waiting for the other transaction).
        let inserted: Option<i64> = per_backend!(conn, |c| diesel::insert_into(j::table)
            .values(row)
            .on_conflict_do_nothing()
            .returning(j::id)
            .get_result(c)
            .optional())?;
        if let Some(id) = inserted {
            return Ok(Enqueued::Created(JobId(id)));
        }
        let Some(key) = &row.dedupe_key else {
            // Without a key nothing can conflict; an empty RETURNING would be a driver bug.
            return Err(DieselStoreError::conflict(
                Entity::Job,
                "insert returned no id",
            ));
        };
        let existing: Option<i64> = j::table
            .filter(j::dedupe_key.eq(key))
            .filter(sql::<Bool>(IS_UNFINISHED))
            .select(j::id)
            .get_result(conn)
            .optional()?;
        if let Some(id) = existing {
            return Ok(Enqueued::Duplicate(JobId(id)));
        }
    }
    Err(DieselStoreError::conflict(
        Entity::Job,
        "dedupe key kept changing hands; try again",
    ))
}

/// Expired leases whose job has no attempt left become `Dead`.
fn bury_expired(conn: &mut AnyConnection, now: i64) -> Result<(), DieselStoreError> {
    let expired = j::table
        .filter(j::state.eq(RUNNING))
        .filter(j::locked_until.le(now))
        .filter(j::attempts.ge(j::max_attempts));
    let ids: Vec<i64> = match conn {
        // Skip rows another worker holds: it is claiming or finishing them right now.
        AnyConnection::Postgresql(c) => expired.select(j::id).for_update().skip_locked().load(c)?,
        AnyConnection::Sqlite(c) => expired.select(j::id).load(c)?,
    };
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(j::table.filter(j::id.eq_any(&ids)))
        .set((
            j::state.eq(DEAD),
            j::last_error.eq("lease expired"),
            j::locked_until.eq(None::<i64>),
            j::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The SQLite claim of up to `limit` jobs (`?1` worker, `?2` lease end, `?3` now): both
/// claimable index ranges read limited, merged in `(run_at, id)` order, updated and returned;
/// without `expired`, only the ready range.
fn sqlite_claim_sql(limit: i64, expired: bool) -> String {
    let ready = format!(
        "SELECT id, run_at FROM ( \
           SELECT id, run_at FROM attend_jobs \
           WHERE state = 'ready' AND run_at <= ?3 \
           ORDER BY run_at, id LIMIT {limit})"
    );
    let candidates = if expired {
        format!(
            "SELECT id FROM ( \
               {ready} \
               UNION ALL \
               SELECT id, run_at FROM ( \
                 SELECT id, run_at FROM attend_jobs \
                 WHERE state = 'running' AND locked_until <= ?3 \
                 ORDER BY locked_until, id LIMIT {limit})) \
             ORDER BY run_at, id LIMIT {limit}"
        )
    } else {
        format!("SELECT id FROM ({ready})")
    };
    format!(
        "UPDATE attend_jobs \
         SET state = 'running', attempts = attempts + 1, locked_by = ?1, \
             locked_until = ?2, updated_at = ?3 \
         WHERE id IN ({candidates}) \
         RETURNING *"
    )
}

/// Claims up to `limit` jobs for `worker` until `until`; expired leases too when `expired`
/// (see [`LEASE_CHECK_EVERY`]).
fn claim_tx(
    conn: &mut AnyConnection,
    worker: &str,
    limit: i64,
    until: i64,
    now: i64,
    expired: bool,
) -> Result<Vec<JobRow>, DieselStoreError> {
    if expired {
        bury_expired(conn, now)?;
    }
    // The claimable rows are two index ranges: `ready` by `(state, run_at, id)` and expired
    // leases by `(state, locked_until)`. Each is read on its own, in index order and limited,
    // then merged; a single `… OR …` with `ORDER BY run_at, id` would collect and sort every
    // claimable row at each claim, which costs as much as the whole backlog.
    let mut rows: Vec<JobRow> = match conn {
        AnyConnection::Postgresql(c) => {
            let ready: Vec<(i64, i64)> = j::table
                .filter(sql::<Bool>(IS_READY).and(j::run_at.le(now)))
                .order((j::run_at, j::id))
                .limit(limit)
                .select((j::run_at, j::id))
                .for_update()
                .skip_locked()
                .load(c)?;
            let expired: Vec<(i64, i64)> = if expired {
                j::table
                    .filter(j::state.eq(RUNNING).and(j::locked_until.le(now)))
                    .order((j::locked_until, j::id))
                    .limit(limit)
                    .select((j::run_at, j::id))
                    .for_update()
                    .skip_locked()
                    .load(c)?
            } else {
                Vec::new()
            };
            let mut candidates: Vec<(i64, i64)> = ready.into_iter().chain(expired).collect();
            candidates.sort_unstable();
            candidates.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            let ids: Vec<i64> = candidates.into_iter().map(|(_, id)| id).collect();
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(j::table.filter(j::id.eq_any(&ids)))
                .set((
                    j::state.eq(RUNNING),
                    j::attempts.eq(j::attempts + 1),
                    j::locked_by.eq(worker),
                    j::locked_until.eq(until),
                    j::updated_at.eq(now),
                ))
                .returning(JobRow::as_returning())
                .get_results(c)?
        }
        AnyConnection::Sqlite(c) => {
            // The limit is written into the statement's text, not bound: SQLite compiles a
            // statement with a bound `LIMIT` again at every binding. To keep the kept
            // statements few, a claim of n runs the statement for each power of two in n
            // (50 = 32 + 16 + 2); later runs skip what earlier ones claimed, which is now
            // `running` with a lease in the future.
            let mut rows = Vec::new();
            let mut left = limit.max(0);
            while left > 0 {
                let part = 1_i64 << (63 - left.leading_zeros());
                let claimed: Vec<JobRow> = kept(
                    diesel::sql_query(sqlite_claim_sql(part, expired))
                        .bind::<Text, _>(worker)
                        .bind::<BigInt, _>(until)
                        .bind::<BigInt, _>(now),
                )
                .load(c)?;
                let short = i64::try_from(claimed.len()).unwrap_or(i64::MAX) < part;
                rows.extend(claimed);
                if short {
                    break;
                }
                left -= part;
            }
            rows
        }
    };
    rows.sort_by_key(|r| (r.run_at, r.id));
    Ok(rows)
}

/// The job if `worker` holds it: `NotFound` if there is no such job, `Conflict` if it is not
/// `Running` under `worker`. Locked for the rest of the transaction on PostgreSQL.
fn owned_job(conn: &mut AnyConnection, id: i64, worker: &str) -> Result<JobRow, DieselStoreError> {
    let row: Option<JobRow> = match conn {
        AnyConnection::Postgresql(c) => j::table
            .find(id)
            .select(JobRow::as_select())
            .for_update()
            .get_result(c)
            .optional()?,
        AnyConnection::Sqlite(c) => j::table
            .find(id)
            .select(JobRow::as_select())
            .get_result(c)
            .optional()?,
    };
    let row = row.ok_or_else(|| DieselStoreError::not_found(Entity::Job))?;
    if row.state != RUNNING || row.locked_by.as_deref() != Some(worker) {
        return Err(DieselStoreError::conflict(
            Entity::Job,
            "job is not running under this worker",
        ));
    }
    Ok(row)
}

#[async_trait]
impl JobQueue for DieselStore {
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<Enqueued> {
        let row = new_job_row(job, now)?;
        // Grouped with other concurrent enqueues (the webhook receiver queues one job per
        // delivery): one transaction for many, each committed before its call returns.
        Ok(self
            .write_grouped(
                Lane::Request,
                row.dedupe_key
                    .as_ref()
                    .map_or_else(String::new, |key| format!("job\u{0}{key}")),
                move |conn| enqueue_tx(conn, &row),
            )
            .await?)
    }

    async fn get_job(&self, id: JobId) -> StoreResult<Option<Job>> {
        let row = self
            .run(move |conn| {
                Ok(j::table
                    .find(id.0)
                    .select(JobRow::as_select())
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        Ok(row.map(JobRow::into_job).transpose()?)
    }

    async fn claim_jobs(
        &self,
        worker: &str,
        limit: usize,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Job>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let worker = worker.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let until = micros(
            now.checked_add_signed(lease)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
        let now = micros(now);
        let expired = self.inner.lease_check.due(now);
        let rows = self
            .write(move |conn| claim_tx(conn, &worker, limit, until, now, expired))
            .await?;
        Ok(rows
            .into_iter()
            .map(JobRow::into_job)
            .collect::<Result<_, _>>()?)
    }

    async fn complete_job(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let worker = worker.to_owned();
        let now = micros(now);
        // Grouped with the other small writes of the moment (the worker finishes many
        // deliveries' jobs while the receiver stores new ones).
        self.write_grouped(
            Lane::Background,
            format!("job-row\u{0}{:020}", id.0),
            move |conn| {
                // Not ours (another worker re-claimed it, or it is finished): refused before any
                // write, so this caller's error and the group commits.
                if let Err(refused) = refusal_as_answer(owned_job(conn, id.0, &worker))? {
                    return Ok(Err(refused));
                }
                diesel::update(j::table.find(id.0))
                    .set((
                        j::state.eq(DONE),
                        j::locked_until.eq(None::<i64>),
                        j::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(Ok(()))
            },
        )
        .await??;
        Ok(())
    }

    async fn complete_jobs(
        &self,
        ids: &[JobId],
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<JobId>> {
        let Some(first) = ids.iter().map(|id| id.0).min() else {
            return Ok(Vec::new());
        };
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let worker = worker.to_owned();
        let now = micros(now);
        // Grouped like `complete_job`, keyed by the lowest id. One conditional UPDATE: jobs no
        // longer running under `worker` do not match, and are simply not returned.
        let done: Vec<i64> = self
            .write_grouped(
                Lane::Background,
                format!("job-row\u{0}{first:020}"),
                move |conn| {
                    let mut done = Vec::with_capacity(ids.len());
                    for chunk in ids.chunks(ID_CHUNK) {
                        let target = j::table
                            .filter(j::id.eq_any(chunk))
                            .filter(j::state.eq(RUNNING))
                            .filter(j::locked_by.eq(&worker));
                        let update = diesel::update(target).set((
                            j::state.eq(DONE),
                            j::locked_until.eq(None::<i64>),
                            j::updated_at.eq(now),
                        ));
                        // Kept prepared on SQLite for the worker's batches (16 at a time there).
                        let ids: Vec<i64> = per_backend!(&mut *conn, |c| kept_list(
                            update.returning(j::id),
                            chunk.len()
                        )
                        .get_results(c))?;
                        done.extend(ids);
                    }
                    Ok(done)
                },
            )
            .await?;
        Ok(done.into_iter().map(JobId).collect())
    }

    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<JobState> {
        let (worker, error) = (worker.to_owned(), error.to_owned());
        let (retry_at, now) = (micros(retry_at), micros(now));
        Ok(self
            .write(move |conn| {
                let row = owned_job(conn, id.0, &worker)?;
                let state = if row.attempts < row.max_attempts {
                    JobState::Ready
                } else {
                    JobState::Dead
                };
                let run_at = if state == JobState::Ready {
                    retry_at
                } else {
                    row.run_at
                };
                diesel::update(j::table.find(id.0))
                    .set((
                        j::state.eq(state.encode()),
                        j::run_at.eq(run_at),
                        j::last_error.eq(&error),
                        j::locked_until.eq(None::<i64>),
                        j::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(state)
            })
            .await?)
    }

    async fn defer_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let worker = worker.to_owned();
        let (run_at, now) = (micros(run_at), micros(now));
        self.write(move |conn| {
            let row = owned_job(conn, id.0, &worker)?;
            diesel::update(j::table.find(id.0))
                .set((
                    j::state.eq(READY),
                    j::run_at.eq(run_at),
                    j::attempts.eq((row.attempts - 1).max(0)),
                    j::locked_until.eq(None::<i64>),
                    j::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn release_jobs(
        &self,
        worker: &str,
        keep: &[JobId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let worker = worker.to_owned();
        let keep: Vec<i64> = keep.iter().map(|id| id.0).collect();
        let now = micros(now);
        let released = self
            .write(move |conn| {
                // A running job has used at least one attempt (its claim counted it).
                let query = diesel::update(
                    j::table
                        .filter(j::state.eq(RUNNING))
                        .filter(j::locked_by.eq(&worker))
                        .filter(j::id.ne_all(&keep)),
                )
                .set((
                    j::state.eq(READY),
                    j::attempts.eq(j::attempts - 1),
                    j::locked_until.eq(None::<i64>),
                    j::updated_at.eq(now),
                ));
                Ok(per_backend!(conn, |c| query.execute(c))?)
            })
            .await?;
        Ok(released as u64)
    }

    async fn job_counts(&self, kind: Option<&str>) -> StoreResult<JobCounts> {
        let kind = kind.map(str::to_owned);
        let groups: Vec<(String, i64)> = self
            .run(move |conn| {
                let mut query = j::table
                    .group_by(j::state)
                    .select((j::state, diesel::dsl::count_star()))
                    .into_boxed();
                if let Some(kind) = kind {
                    query = query.filter(j::kind.eq(kind));
                }
                Ok(query.load(conn)?)
            })
            .await?;
        let mut counts = JobCounts::default();
        for (state, n) in groups {
            let n = u64::try_from(n).unwrap_or(0);
            match JobState::decode(&state)? {
                JobState::Ready => counts.ready += n,
                JobState::Running => counts.running += n,
                JobState::Done => counts.done += n,
                JobState::Dead => counts.dead += n,
            }
        }
        Ok(counts)
    }

    async fn unfinished_job_count(&self, kind: Option<&str>) -> StoreResult<u64> {
        let kind = kind.map(str::to_owned);
        let (ready, running): (i64, i64) = self
            .run(move |conn| {
                // Two reads of the partial indexes: ready jobs, and leased ones (only a
                // running job has a lease). Finished jobs are not read.
                let mut ready = j::table
                    .filter(sql::<Bool>(IS_READY))
                    .select(diesel::dsl::count_star())
                    .into_boxed();
                let mut running = j::table
                    .filter(j::locked_until.is_not_null())
                    .filter(j::state.eq(RUNNING))
                    .select(diesel::dsl::count_star())
                    .into_boxed();
                if let Some(kind) = kind {
                    ready = ready.filter(j::kind.eq(kind.clone()));
                    running = running.filter(j::kind.eq(kind));
                }
                Ok((ready.get_result(conn)?, running.get_result(conn)?))
            })
            .await?;
        Ok(u64::try_from(ready + running).unwrap_or(0))
    }

    async fn purge_finished_jobs(&self, older_than: DateTime<Utc>) -> StoreResult<u64> {
        let cutoff = micros(older_than);
        let purged = self
            .write(move |conn| {
                Ok(diesel::delete(
                    j::table
                        .filter(sql::<Bool>(IS_FINISHED))
                        .filter(j::updated_at.lt(cutoff)),
                )
                .execute(conn)?)
            })
            .await?;
        Ok(purged as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::{
        DEAD, DONE, IS_FINISHED, IS_READY, IS_UNFINISHED, LeaseCheck, READY, RUNNING,
        sqlite_claim_sql,
    };
    use crate::store::planner::Planner;

    #[test]
    fn written_out_states_are_the_encoded_ones() {
        assert!(IS_READY.ends_with(&format!("= '{READY}'")), "{IS_READY}");
        assert!(
            IS_UNFINISHED.ends_with(&format!("IN ('{READY}', '{RUNNING}')")),
            "{IS_UNFINISHED}"
        );
        assert!(
            IS_FINISHED.ends_with(&format!("IN ('{DONE}', '{DEAD}')")),
            "{IS_FINISHED}"
        );
    }

    #[test]
    fn leases_are_looked_at_once_a_second_or_when_the_clock_goes_back() {
        let check = LeaseCheck::default();
        assert!(check.due(10_000_000), "the first claim looks");
        assert!(!check.due(10_000_000));
        assert!(!check.due(10_999_999), "within the second");
        assert!(check.due(11_000_000), "a second later");
        assert!(!check.due(11_500_000));
        assert!(check.due(5_000_000), "a clock that went back looks at once");
        assert!(!check.due(5_000_001));
    }

    /// The claim reads claimable and expired jobs from their partial indexes: if its WHERE no
    /// longer implied theirs, SQLite would scan the whole table at every claim.
    #[tokio::test]
    async fn the_sqlite_claim_reads_the_partial_indexes() {
        let planner = Planner::new().await;
        let plan = planner.plan(sqlite_claim_sql(16, true)).await;
        for index in ["attend_jobs_ready_idx", "attend_jobs_lease_idx"] {
            assert!(
                plan.iter().any(|d| d.contains(index)),
                "{index} not used: {plan:#?}"
            );
        }
        assert!(
            !plan.iter().any(|d| d.starts_with("SCAN attend_jobs")),
            "a full scan: {plan:#?}"
        );
        // Between lease checks: the ready range alone.
        let plan = planner.plan(sqlite_claim_sql(16, false)).await;
        assert!(
            plan.iter().any(|d| d.contains("attend_jobs_ready_idx")),
            "{plan:#?}"
        );
        assert!(
            !plan.iter().any(|d| d.contains("attend_jobs_lease_idx")),
            "{plan:#?}"
        );
    }
}

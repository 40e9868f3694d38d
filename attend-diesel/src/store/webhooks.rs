//! `WebhookInbox` on `attend_webhooks`.

use async_trait::async_trait;
use attend_core::model::AccountKey;
use attend_core::store::{
    Entity, NewWebhook, RawWebhook, StoreResult, WebhookId, WebhookInbox, WebhookInsert,
    WebhookJob, WebhookStatus,
};
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::group::{Lane, refusal_as_answer};
use super::jobs::{NewJobRow, enqueue_tx, new_job_row};
use super::pg_deliveries::{DeliveryColumns, IdReserve, InsertGroup, JobColumns};
use super::prepared::kept_list;
use super::{DieselStore, ID_CHUNK, per_backend};
use crate::codec::{Codec, decode_body, encode_body, micros, opt_time, time};
use crate::connection::AnyConnection;
use crate::error::DieselStoreError;
use crate::schema::attend_webhooks as w;

#[derive(Queryable, Selectable)]
#[diesel(table_name = w, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct WebhookRow {
    id: i64,
    account: String,
    dedupe_key: String,
    event_type: String,
    received_at: i64,
    body: Option<String>,
    body_encoding: Option<String>,
    status: String,
    processed_at: Option<i64>,
    failure: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = w)]
struct NewWebhookRow {
    account: String,
    dedupe_key: String,
    event_type: String,
    received_at: i64,
    body: Option<String>,
    body_encoding: Option<String>,
    status: String,
}

impl WebhookRow {
    fn into_record(self) -> Result<RawWebhook, DieselStoreError> {
        const E: Entity = Entity::Webhook;
        Ok(RawWebhook {
            id: WebhookId(self.id),
            account: AccountKey(self.account),
            dedupe_key: self.dedupe_key,
            event_type: self.event_type,
            received_at: time(E, self.received_at)?,
            body: decode_body(self.body, self.body_encoding.as_deref())?,
            status: WebhookStatus::decode(&self.status)?,
            processed_at: opt_time(E, self.processed_at)?,
            failure: self.failure,
        })
    }
}

/// `status = 'received'`, written out: the sweep reads the partial index
/// `attend_webhooks_waiting_idx`, which a query only gets when its own WHERE names the same
/// literal. Kept in step with `WebhookStatus::Received` by a unit test.
const IS_WAITING: &str = "attend_webhooks.status = 'received'";

/// Sets status, `processed_at` and `failure` of one delivery; `NotFound` if there is none.
fn mark(
    conn: &mut AnyConnection,
    id: i64,
    status: WebhookStatus,
    failure: Option<String>,
    now: i64,
) -> Result<(), DieselStoreError> {
    let updated = diesel::update(w::table.find(id))
        .set((
            w::status.eq(status.encode()),
            w::processed_at.eq(Some(now)),
            w::failure.eq(failure),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(DieselStoreError::not_found(Entity::Webhook));
    }
    Ok(())
}

impl NewWebhookRow {
    /// Appends this row, under the reserved `id`, to the column arrays of a PostgreSQL group
    /// insert (as `NewJobRow::push_into` does for jobs).
    fn push_into(&self, cols: &mut DeliveryColumns, id: i64) {
        cols.id.push(id);
        cols.account.push(self.account.clone());
        cols.dedupe_key.push(self.dedupe_key.clone());
        cols.event_type.push(self.event_type.clone());
        cols.received_at.push(self.received_at);
        cols.body.push(self.body.clone());
        cols.body_encoding.push(self.body_encoding.clone());
        cols.status.push(self.status.clone());
    }
}

/// The row of a new delivery.
fn new_webhook_row(webhook: &NewWebhook) -> NewWebhookRow {
    let (body, encoding) = encode_body(&webhook.body);
    let status = if webhook.unparseable {
        WebhookStatus::Unparseable
    } else {
        WebhookStatus::Received
    };
    NewWebhookRow {
        account: webhook.account.0.clone(),
        dedupe_key: webhook.dedupe_key.clone(),
        event_type: webhook.event_type.clone(),
        received_at: micros(webhook.received_at),
        body: Some(body),
        body_encoding: Some(encoding.to_owned()),
        status: status.encode().to_owned(),
    }
}

/// The group-commit lock key of a delivery: the unique `(account, dedupe_key)` it writes.
fn lock_key(row: &NewWebhookRow) -> String {
    format!("webhook\u{0}{}\u{0}{}", row.account, row.dedupe_key)
}

/// `WebhookInbox::insert_webhook` inside the caller's write transaction.
fn insert_tx(
    conn: &mut AnyConnection,
    row: &NewWebhookRow,
) -> Result<WebhookInsert, DieselStoreError> {
    // The UNIQUE (account, dedupe_key) constraint decides; a conflicting insert returns no
    // row instead of failing (which would abort a PostgreSQL transaction), and then the
    // existing id is looked up.
    let inserted: Option<i64> = per_backend!(conn, |c| diesel::insert_into(w::table)
        .values(row)
        .on_conflict_do_nothing()
        .returning(w::id)
        .get_result(c)
        .optional())?;
    if let Some(id) = inserted {
        return Ok(WebhookInsert::Inserted(WebhookId(id)));
    }
    let existing: i64 = w::table
        .filter(w::account.eq(&row.account))
        .filter(w::dedupe_key.eq(&row.dedupe_key))
        .select(w::id)
        .get_result(conn)?;
    Ok(WebhookInsert::Duplicate(WebhookId(existing)))
}

/// A delivery waiting in the group-commit queue with the job to queue for it: the receiver's
/// write (`insert_webhook_with_job`). The deliveries of a group are applied together, with
/// one job for the new ones ([`insert_deliveries`]); a delivery alone in its group, or run
/// alone after its group failed, is [`insert_one`](Self::insert_one).
pub(super) struct PendingDelivery {
    row: NewWebhookRow,
    unparseable: bool,
    job: WebhookJob,
    now: DateTime<Utc>,
}

impl PendingDelivery {
    /// The group-commit lock key: the delivery's unique `(account, dedupe_key)`. The job's
    /// dedupe key names the new id, which no other transaction can be writing yet, so it adds
    /// no lock to order by.
    pub(super) fn lock_key(&self) -> String {
        lock_key(&self.row)
    }

    /// Stores the delivery and, if it is new and parseable, queues its job.
    pub(super) fn insert_one(
        &self,
        conn: &mut AnyConnection,
    ) -> Result<WebhookInsert, DieselStoreError> {
        let insert = insert_tx(conn, &self.row)?;
        if let WebhookInsert::Inserted(id) = insert
            && !self.unparseable
        {
            enqueue_tx(conn, &new_job_row(&self.job.for_webhook(id), self.now)?)?;
        }
        Ok(insert)
    }
}

/// [`PendingDelivery::insert_one`] for the deliveries of one group (in lock-key order), with
/// their jobs grouped: the new, parseable deliveries whose templates
/// [group with](WebhookJob::groups_with) each other get one job naming them all
/// ([`WebhookJob::for_webhooks`], with the earliest `run_at` among theirs), the others one job
/// each. Under load that is one job row per group commit instead of one per delivery: the
/// receiver's transaction writes a fraction of the job rows and indexes, and the worker claims
/// and completes a fraction of the jobs.
///
/// The outcome of each delivery is what `insert_one` would give, in order; a delivery listed
/// twice is `Inserted` once and then `Duplicate` of it. A job whose dedupe key an unfinished
/// job holds is not added, as `enqueue_tx` decides.
///
/// On PostgreSQL, where every statement is a round trip, this is one statement of fixed text
/// for the deliveries and their jobs ([`pg_deliveries`](super::pg_deliveries), with ids
/// reserved ahead from `reserve`), plus one lookup per delivery that was already stored
/// (rare: a redelivery). Being one statement, it needs no transaction of its own. SQLite runs
/// in process, where a statement costs no round trip: one insert per delivery and per job.
pub(super) fn insert_deliveries(
    conn: &mut AnyConnection,
    many: &[&PendingDelivery],
    reserve: &IdReserve,
) -> Result<Vec<WebhookInsert>, DieselStoreError> {
    if let AnyConnection::Postgresql(pg) = conn {
        return insert_group_pg(pg, many, reserve);
    }
    let outcomes = many
        .iter()
        .map(|d| insert_tx(conn, &d.row))
        .collect::<Result<Vec<_>, _>>()?;
    for (job, _) in group_jobs(many, &outcomes)? {
        enqueue_tx(conn, &job)?;
    }
    Ok(outcomes)
}

/// The job rows for a group's deliveries, given what storing each gave (see
/// [`insert_deliveries`]), each with the ids of the deliveries it names.
fn group_jobs(
    many: &[&PendingDelivery],
    outcomes: &[WebhookInsert],
) -> Result<Vec<(NewJobRow, Vec<i64>)>, DieselStoreError> {
    // Each bucket: the delivery whose template makes the group's job (the earliest `run_at`),
    // and the new deliveries it names, in the order they were stored.
    let mut buckets: Vec<(&PendingDelivery, Vec<WebhookId>)> = Vec::new();
    for (delivery, outcome) in many.iter().zip(outcomes) {
        let WebhookInsert::Inserted(id) = *outcome else {
            continue;
        };
        if delivery.unparseable {
            continue;
        }
        match buckets
            .iter_mut()
            .find(|(first, _)| first.job.groups_with(&delivery.job))
        {
            Some((first, ids)) => {
                if delivery.job.template().run_at < first.job.template().run_at {
                    *first = delivery;
                }
                ids.push(id);
            }
            None => buckets.push((delivery, vec![id])),
        }
    }
    let mut ordered: Vec<(i64, NewJobRow, Vec<i64>)> = Vec::new();
    for (first, mut ids) in buckets {
        ids.sort_unstable();
        let lowest = ids.first().map_or(0, |id| id.0);
        let jobs = first.job.for_webhooks(&ids);
        // One job per delivery names its own; a group job names them all.
        let one_each = jobs.len() == ids.len();
        for (n, job) in jobs.iter().enumerate() {
            let named = if one_each {
                vec![ids[n].0]
            } else {
                ids.iter().map(|id| id.0).collect()
            };
            ordered.push((lowest, new_job_row(job, first.now)?, named));
        }
    }
    // Jobs in the order of the first delivery each names: a claim takes the oldest first.
    ordered.sort_by_key(|(lowest, _, _)| *lowest);
    Ok(ordered
        .into_iter()
        .map(|(_, row, named)| (row, named))
        .collect())
}

/// [`insert_deliveries`] on PostgreSQL: one [`InsertGroup`] statement.
fn insert_group_pg(
    conn: &mut diesel::PgConnection,
    many: &[&PendingDelivery],
    reserve: &IdReserve,
) -> Result<Vec<WebhookInsert>, DieselStoreError> {
    use std::collections::hash_map::{Entry, HashMap};
    let ids = reserve.take(conn, many.len())?;
    // What storing each would give if none was stored before: the first delivery of a key is
    // inserted under its reserved id, a later one in the group is its duplicate.
    let mut first_of_key: HashMap<(&str, &str), i64> = HashMap::new();
    let mut expected = Vec::with_capacity(many.len());
    let mut deliveries = DeliveryColumns::default();
    for (delivery, &id) in many.iter().zip(&ids) {
        let row = &delivery.row;
        match first_of_key.entry((&row.account, &row.dedupe_key)) {
            Entry::Occupied(first) => {
                expected.push(WebhookInsert::Duplicate(WebhookId(*first.get())));
            }
            Entry::Vacant(slot) => {
                slot.insert(id);
                expected.push(WebhookInsert::Inserted(WebhookId(id)));
                row.push_into(&mut deliveries, id);
            }
        }
    }
    let mut jobs = JobColumns::default();
    for (row, named) in group_jobs(many, &expected)? {
        let named: Vec<String> = named.iter().map(i64::to_string).collect();
        row.push_into(&mut jobs, named.join(","));
    }
    let inserted: std::collections::HashSet<i64> = InsertGroup {
        deliveries: &deliveries,
        jobs: &jobs,
    }
    .load::<i64>(conn)?
    .into_iter()
    .collect();
    // A key whose reserved id was not inserted was stored before: its existing id, looked up
    // once per key.
    let mut existing: HashMap<(&str, &str), i64> = HashMap::new();
    let mut outcomes = Vec::with_capacity(many.len());
    for (delivery, expected) in many.iter().zip(expected) {
        let reserved = expected.id().0;
        if inserted.contains(&reserved) {
            outcomes.push(expected);
            continue;
        }
        let key = (
            delivery.row.account.as_str(),
            delivery.row.dedupe_key.as_str(),
        );
        let id = match existing.get(&key) {
            Some(&id) => id,
            None => {
                let id: i64 = w::table
                    .filter(w::account.eq(key.0))
                    .filter(w::dedupe_key.eq(key.1))
                    .select(w::id)
                    .get_result(conn)?;
                existing.insert(key, id);
                id
            }
        };
        outcomes.push(WebhookInsert::Duplicate(WebhookId(id)));
    }
    Ok(outcomes)
}

#[async_trait]
impl WebhookInbox for DieselStore {
    async fn insert_webhook(&self, webhook: &NewWebhook) -> StoreResult<WebhookInsert> {
        let row = new_webhook_row(webhook);
        // Grouped: concurrent deliveries share one transaction (store/group.rs); the answer
        // still comes only after that transaction committed.
        Ok(self
            .write_grouped(Lane::Request, lock_key(&row), move |conn| {
                insert_tx(conn, &row)
            })
            .await?)
    }

    async fn insert_webhook_with_job(
        &self,
        webhook: &NewWebhook,
        job: &WebhookJob,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookInsert> {
        // One group member does both writes, so they commit (or roll back, and then run
        // alone) together, and concurrent deliveries still share one transaction.
        Ok(self
            .write_delivery(PendingDelivery {
                row: new_webhook_row(webhook),
                unparseable: webhook.unparseable,
                job: job.clone(),
                now,
            })
            .await?)
    }

    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Option<RawWebhook>> {
        let row = self
            .run(move |conn| {
                Ok(w::table
                    .find(id.0)
                    .select(WebhookRow::as_select())
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        Ok(row.map(WebhookRow::into_record).transpose()?)
    }

    async fn get_webhooks(&self, ids: &[WebhookId]) -> StoreResult<Vec<RawWebhook>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let rows = self
            .run(move |conn| {
                let mut rows = Vec::with_capacity(ids.len());
                // Bounded: SQLite binds one parameter per id.
                for chunk in ids.chunks(ID_CHUNK) {
                    // Kept prepared on SQLite for the worker's batches (16 at a time there).
                    rows.extend(per_backend!(&mut *conn, |c| kept_list(
                        w::table
                            .filter(w::id.eq_any(chunk))
                            .select(WebhookRow::as_select()),
                        chunk.len()
                    )
                    .load(c))?);
                }
                Ok(rows)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(WebhookRow::into_record)
            .collect::<Result<_, _>>()?)
    }

    async fn mark_webhooks_processed(
        &self,
        ids: &[WebhookId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let Some(first) = ids.iter().map(|id| id.0).min() else {
            return Ok(0);
        };
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let now = micros(now);
        // Grouped like the single mark; keyed by the lowest id it writes.
        Ok(self
            .write_grouped(
                Lane::Background,
                format!("webhook-row\u{0}{first:020}"),
                move |conn| {
                    let mut marked = 0;
                    for chunk in ids.chunks(ID_CHUNK) {
                        // Kept prepared on SQLite for the worker's batches (16 at a time there);
                        // with `RETURNING`, as keeping needs, the marked ids are counted.
                        let update = diesel::update(w::table.filter(w::id.eq_any(chunk))).set((
                            w::status.eq(WebhookStatus::Processed.encode()),
                            w::processed_at.eq(Some(now)),
                            w::failure.eq(None::<String>),
                        ));
                        let ids: Vec<i64> = per_backend!(&mut *conn, |c| kept_list(
                            update.returning(w::id),
                            chunk.len()
                        )
                        .get_results(c))?;
                        marked += ids.len();
                    }
                    Ok(marked as u64)
                },
            )
            .await?)
    }

    async fn mark_webhook_processed(&self, id: WebhookId, now: DateTime<Utc>) -> StoreResult<()> {
        let now = micros(now);
        // Grouped: the worker marks deliveries processed while the receiver stores new ones.
        // One UPDATE (so alone it needs no transaction). No such row wrote nothing: that is
        // this caller's answer, and the group commits; a lone mark on a lost connection runs
        // again on another.
        self.write_grouped_statement(
            Lane::Background,
            format!("webhook-row\u{0}{:020}", id.0),
            move |conn| refusal_as_answer(mark(conn, id.0, WebhookStatus::Processed, None, now)),
        )
        .await??;
        Ok(())
    }

    async fn mark_webhook_failed(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (now, reason) = (micros(now), reason.to_owned());
        self.write(move |conn| mark(conn, id.0, WebhookStatus::Failed, Some(reason), now))
            .await?;
        Ok(())
    }

    async fn mark_webhook_unparseable(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (now, reason) = (micros(now), reason.to_owned());
        self.write(move |conn| mark(conn, id.0, WebhookStatus::Unparseable, Some(reason), now))
            .await?;
        Ok(())
    }

    async fn list_unprocessed_webhooks(
        &self,
        received_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<RawWebhook>> {
        let before = micros(received_before);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .run(move |conn| {
                Ok(w::table
                    .filter(sql::<Bool>(IS_WAITING))
                    .filter(w::received_at.lt(before))
                    .order((w::received_at, w::id))
                    .limit(limit)
                    .select(WebhookRow::as_select())
                    .load(conn)?)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(WebhookRow::into_record)
            .collect::<Result<_, _>>()?)
    }

    /// 16 on SQLite (the default: one writer, which a larger batch holds longer); 32 on
    /// PostgreSQL, where each statement is a round trip and the worker writes beside the
    /// receiver. Measured (BENCHMARKS.md, seventeenth session): 32 against 16 processes a
    /// burst's backlog faster with less CPU per delivery; 64 saves more but lets the worker's
    /// batches delay acknowledgements at a steady 2,000 deliveries a second (p99 18–44 ms
    /// against 5 ms).
    fn webhook_batch_size(&self) -> usize {
        match self.backend() {
            crate::BackendKind::Sqlite => attend_core::store::DEFAULT_WEBHOOK_BATCH,
            crate::BackendKind::Postgres => 32,
        }
    }

    async fn purge_webhook_bodies(&self, older_than: DateTime<Utc>) -> StoreResult<u64> {
        let cutoff = micros(older_than);
        let mut purged = 0_u64;
        // One transaction per batch: other writers (acknowledgements included) wait for a
        // batch at most, never for a whole day's bodies.
        loop {
            let batch = self
                .write(move |conn| {
                    let ids: Vec<i64> = bodies_before(cutoff, PURGE_BATCH).load(conn)?;
                    if ids.is_empty() {
                        return Ok(0);
                    }
                    Ok(diesel::update(w::table.filter(w::id.eq_any(&ids)))
                        .set((
                            w::body.eq(None::<String>),
                            w::body_encoding.eq(None::<String>),
                        ))
                        .execute(conn)?)
                })
                .await?;
            purged += batch as u64;
            if batch < PURGE_BATCH as usize {
                return Ok(purged);
            }
        }
    }
}

/// How many bodies one purge transaction drops at most.
const PURGE_BATCH: i64 = 500;

/// The ids of the oldest `batch` deliveries received before `cutoff` that still have a body.
/// The condition implies that of the partial index `attend_webhooks_body_idx`, which holds
/// only deliveries with a body, so a purged delivery is never read again.
#[diesel::dsl::auto_type]
fn bodies_before(cutoff: i64, batch: i64) -> _ {
    w::table
        .select(w::id)
        .filter(w::received_at.lt(cutoff))
        .filter(w::body.is_not_null())
        .order((w::received_at, w::id))
        .limit(batch)
}

#[cfg(test)]
mod tests {
    use attend_core::store::WebhookStatus;

    use super::{IS_WAITING, bodies_before};
    use crate::codec::Codec;
    use crate::store::planner::Planner;

    /// The purge reads deliveries that still have a body from their partial index: if its
    /// WHERE no longer implied the index's, SQLite would walk every delivery ever purged
    /// again, at every sweep.
    #[tokio::test]
    async fn the_sqlite_purge_reads_only_deliveries_with_a_body() {
        let query =
            diesel::debug_query::<diesel::sqlite::Sqlite, _>(&bodies_before(0, 500)).to_string();
        // The statement without its bind list, each bind a literal.
        let sql = query.split(" -- binds:").next().unwrap().replace('?', "0");
        let plan = Planner::new().await.plan(sql).await;
        assert!(
            plan.iter().any(|d| d.contains("attend_webhooks_body_idx")),
            "{query}: {plan:#?}"
        );
        assert!(
            !plan.iter().any(|d| d.starts_with("SCAN attend_webhooks")),
            "a full scan: {plan:#?}"
        );
    }

    #[test]
    fn the_written_out_status_is_the_encoded_one() {
        let received = WebhookStatus::Received.encode();
        assert!(
            IS_WAITING.ends_with(&format!("= '{received}'")),
            "{IS_WAITING}"
        );
    }
}

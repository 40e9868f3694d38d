//! `AttendanceStore`: instances, participant events, report rows, manual links, join clicks.

use std::collections::BTreeSet;

use async_trait::async_trait;
use attend_core::model::{
    ConnectionKey, IdentityHints, InstanceId, InstanceState, MeetingId, ParticipantAction,
    ParticipantEvent, UserId,
};
use attend_core::store::{
    AttendanceStore, Entity, EvidenceRevision, InstanceRecord, InstanceUpdate, JoinClick,
    ManualLink, ReportRow, StoreResult, StoredEvent, WebhookId, merge_instance,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::group::{Lane, refusal_as_answer};
use super::meetings::require_meeting;
use super::{DieselStore, per_backend};
use crate::codec::{Codec, email_key, micros, opt_micros, opt_time, time};
use crate::connection::{AnyConnection, BackendKind};
use crate::error::DieselStoreError;
use crate::schema::{
    attend_instances as i, attend_join_clicks as jc, attend_manual_links as ml,
    attend_meetings as m, attend_participant_events as pe, attend_report_rows as rr,
};

// ---------------------------------------------------------------------------------------------
// Instances

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = i, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct InstanceRow {
    uuid: String,
    meeting_id: String,
    started_at: Option<i64>,
    ended_at: Option<i64>,
    state: String,
    reconciled_at: Option<i64>,
    updated_at: i64,
}

impl InstanceRow {
    fn from_record(x: &InstanceRecord) -> Self {
        Self {
            uuid: x.uuid.0.clone(),
            meeting_id: x.meeting.0.clone(),
            started_at: opt_micros(x.started_at),
            ended_at: opt_micros(x.ended_at),
            state: x.state.encode().to_owned(),
            reconciled_at: opt_micros(x.reconciled_at),
            updated_at: micros(x.updated_at),
        }
    }

    fn into_record(self) -> Result<InstanceRecord, DieselStoreError> {
        const E: Entity = Entity::Instance;
        Ok(InstanceRecord {
            meeting: MeetingId(self.meeting_id),
            uuid: InstanceId(self.uuid),
            started_at: opt_time(E, self.started_at)?,
            ended_at: opt_time(E, self.ended_at)?,
            state: InstanceState::decode(&self.state)?,
            reconciled_at: opt_time(E, self.reconciled_at)?,
            updated_at: time(E, self.updated_at)?,
        })
    }
}

/// The instance row, locked for the rest of the transaction on PostgreSQL (`FOR UPDATE`; on
/// SQLite the immediate transaction already excludes other writers).
fn lock_instance(
    conn: &mut AnyConnection,
    uuid: &str,
) -> Result<Option<InstanceRecord>, DieselStoreError> {
    let row = match conn {
        AnyConnection::Postgresql(c) => i::table
            .find(uuid)
            .select(InstanceRow::as_select())
            .for_update()
            .get_result(c)
            .optional()?,
        AnyConnection::Sqlite(c) => i::table
            .find(uuid)
            .select(InstanceRow::as_select())
            .get_result(c)
            .optional()?,
    };
    row.map(InstanceRow::into_record).transpose()
}

fn save_instance(conn: &mut AnyConnection, x: &InstanceRecord) -> Result<(), DieselStoreError> {
    let row = InstanceRow::from_record(x);
    diesel::update(i::table.find(&row.uuid))
        .set((
            i::started_at.eq(row.started_at),
            i::ended_at.eq(row.ended_at),
            i::state.eq(&row.state),
            i::reconciled_at.eq(row.reconciled_at),
            i::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

fn upsert_instance_tx(
    conn: &mut AnyConnection,
    update: &InstanceUpdate,
) -> Result<InstanceRecord, DieselStoreError> {
    require_meeting(conn, update.meeting.as_str())?;
    if let Some(existing) = lock_instance(conn, update.uuid.as_str())? {
        let merged = merge_instance(Some(&existing), update).map_err(conflict_from_core)?;
        save_instance(conn, &merged)?;
        return Ok(merged);
    }
    let fresh = merge_instance(None, update).map_err(conflict_from_core)?;
    let row = InstanceRow::from_record(&fresh);
    let inserted = per_backend!(conn, |c| diesel::insert_into(i::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 1 {
        return Ok(fresh);
    }
    // PostgreSQL only: another transaction inserted the row between our SELECT and INSERT
    // (the INSERT waited for its commit). Merge into the committed row under a lock.
    let existing = lock_instance(conn, update.uuid.as_str())?
        .ok_or_else(|| DieselStoreError::not_found(Entity::Instance))?;
    let merged = merge_instance(Some(&existing), update).map_err(conflict_from_core)?;
    save_instance(conn, &merged)?;
    Ok(merged)
}

/// `merge_instance` only fails with `Conflict`; carried through as ours.
fn conflict_from_core(e: attend_core::store::StoreError) -> DieselStoreError {
    DieselStoreError::conflict(Entity::Instance, e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Participant events and report rows (identity hints are columns, not JSON, so that erasure
// can find a user's rows with indexed comparisons)

/// The modulus of the id sums in an [`EvidenceRevision`] (2^32), as a literal, so that the
/// SQL of `evidence_revision` and the check of `participant_events_since` share it.
macro_rules! id_sum_modulus {
    () => {
        4294967296
    };
}

/// [`id_sum_modulus!`] as a number.
const ID_SUM_MODULUS: i64 = id_sum_modulus!();

/// One table's part of an [`EvidenceRevision`] made by `evidence_revision`: the row count,
/// the largest id and the sum of the ids modulo [`ID_SUM_MODULUS`] (as `SUMMARY` reads them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Summary {
    count: i64,
    max_id: i64,
    id_sum: i64,
}

impl Summary {
    /// The summary of the set with one more row, of id `id`.
    fn with_row(self, id: i64) -> Self {
        Self {
            count: self.count + 1,
            max_id: self.max_id.max(id),
            id_sum: self.id_sum + id % ID_SUM_MODULUS,
        }
    }
}

impl From<(i64, i64, i64)> for Summary {
    fn from((count, max_id, id_sum): (i64, i64, i64)) -> Self {
        Self {
            count,
            max_id,
            id_sum,
        }
    }
}

/// The two parts of an [`EvidenceRevision`] made by `evidence_revision`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Summaries {
    events: Summary,
    report: Summary,
}

impl Summaries {
    /// The revision these summaries make (the events' part first).
    fn revision(self) -> EvidenceRevision {
        let (e, r) = (self.events, self.report);
        EvidenceRevision::new([e.count, e.max_id, e.id_sum, r.count, r.max_id, r.id_sum])
    }

    /// The summaries behind a [`revision`](Self::revision); `None` for a revision this
    /// backend did not make (another shape).
    fn of(revision: &EvidenceRevision) -> Option<Self> {
        let &[a, b, c, d, e, f] = revision.parts() else {
            return None;
        };
        Some(Self {
            events: Summary::from((a, b, c)),
            report: Summary::from((d, e, f)),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = pe, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct EventRow {
    meeting_id: String,
    instance_uuid: String,
    connection_key: String,
    action: String,
    occurred_at: i64,
    registrant_id: Option<String>,
    customer_key: Option<String>,
    email: Option<String>,
    email_lower: Option<String>,
    participant_user_id: Option<String>,
    participant_uuid: Option<String>,
    zoom_user_id: Option<String>,
    user_name: Option<String>,
    source_webhook_id: Option<i64>,
}

impl EventRow {
    fn from_stored(x: &StoredEvent) -> Self {
        let h = &x.event.hints;
        Self {
            meeting_id: x.meeting.0.clone(),
            instance_uuid: x.event.instance.0.clone(),
            connection_key: x.event.connection.0.clone(),
            action: x.event.action.encode().to_owned(),
            occurred_at: micros(x.event.at),
            registrant_id: h.registrant_id.clone(),
            customer_key: h.customer_key.clone(),
            email: h.email.clone(),
            email_lower: h.email.as_deref().map(email_key),
            participant_user_id: h.participant_user_id.clone(),
            participant_uuid: h.participant_uuid.clone(),
            zoom_user_id: h.zoom_user_id.clone(),
            user_name: h.user_name.clone(),
            source_webhook_id: x.source.map(|id| id.0),
        }
    }

    fn into_stored(self) -> Result<StoredEvent, DieselStoreError> {
        Ok(StoredEvent {
            meeting: MeetingId(self.meeting_id),
            event: ParticipantEvent {
                instance: InstanceId(self.instance_uuid),
                connection: ConnectionKey(self.connection_key),
                action: ParticipantAction::decode(&self.action)?,
                at: time(Entity::ParticipantEvent, self.occurred_at)?,
                hints: IdentityHints {
                    registrant_id: self.registrant_id,
                    customer_key: self.customer_key,
                    email: self.email,
                    participant_user_id: self.participant_user_id,
                    participant_uuid: self.participant_uuid,
                    zoom_user_id: self.zoom_user_id,
                    user_name: self.user_name,
                },
            },
            source: self.source_webhook_id.map(WebhookId),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = rr, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ReportRowRow {
    meeting_id: String,
    instance_uuid: String,
    join_at: i64,
    leave_at: i64,
    registrant_id: Option<String>,
    customer_key: Option<String>,
    email: Option<String>,
    email_lower: Option<String>,
    participant_user_id: Option<String>,
    participant_uuid: Option<String>,
    zoom_user_id: Option<String>,
    user_name: Option<String>,
}

impl ReportRowRow {
    fn new(meeting: &str, instance: &str, x: &ReportRow) -> Self {
        let h = &x.hints;
        Self {
            meeting_id: meeting.to_owned(),
            instance_uuid: instance.to_owned(),
            join_at: micros(x.join),
            leave_at: micros(x.leave),
            registrant_id: h.registrant_id.clone(),
            customer_key: h.customer_key.clone(),
            email: h.email.clone(),
            email_lower: h.email.as_deref().map(email_key),
            participant_user_id: h.participant_user_id.clone(),
            participant_uuid: h.participant_uuid.clone(),
            zoom_user_id: h.zoom_user_id.clone(),
            user_name: h.user_name.clone(),
        }
    }

    fn into_report_row(self) -> Result<ReportRow, DieselStoreError> {
        const E: Entity = Entity::ReportRow;
        Ok(ReportRow {
            hints: IdentityHints {
                registrant_id: self.registrant_id,
                customer_key: self.customer_key,
                email: self.email,
                participant_user_id: self.participant_user_id,
                participant_uuid: self.participant_uuid,
                zoom_user_id: self.zoom_user_id,
                user_name: self.user_name,
            },
            join: time(E, self.join_at)?,
            leave: time(E, self.leave_at)?,
        })
    }
}

/// Serializes report replacements of one instance on PostgreSQL. Without it, two concurrent
/// replacements that both find no rows to delete would both insert, leaving a mix of two
/// reports. A transaction-scoped advisory lock in attend's own key space (first key: "at")
/// keyed by the instance is released at commit. SQLite's immediate transaction already
/// serializes all writers.
fn lock_report(conn: &mut AnyConnection, instance: &str) -> Result<(), DieselStoreError> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(24948, hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(instance)
            .execute(c)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Manual links and join clicks

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = ml, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ManualLinkRow {
    meeting_id: String,
    participant_key: String,
    user_id: String,
    linked_by: String,
    linked_at: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = jc, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct JoinClickRow {
    meeting_id: String,
    user_id: String,
    clicked_at: i64,
}

#[async_trait]
impl AttendanceStore for DieselStore {
    async fn upsert_instance(&self, update: &InstanceUpdate) -> StoreResult<InstanceRecord> {
        let update = update.clone();
        Ok(self
            .write(move |conn| upsert_instance_tx(conn, &update))
            .await?)
    }

    async fn finalize_instance(
        &self,
        uuid: &InstanceId,
        at: DateTime<Utc>,
    ) -> StoreResult<InstanceRecord> {
        let uuid = uuid.0.clone();
        Ok(self
            .write(move |conn| {
                let mut x = lock_instance(conn, &uuid)?
                    .ok_or_else(|| DieselStoreError::not_found(Entity::Instance))?;
                x.state = InstanceState::Final;
                x.reconciled_at = Some(x.reconciled_at.map_or(at, |r| r.max(at)));
                x.updated_at = at;
                save_instance(conn, &x)?;
                Ok(x)
            })
            .await?)
    }

    async fn get_instance(&self, uuid: &InstanceId) -> StoreResult<Option<InstanceRecord>> {
        let uuid = uuid.0.clone();
        let row = self
            .run(move |conn| {
                Ok(i::table
                    .find(uuid)
                    .select(InstanceRow::as_select())
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        Ok(row.map(InstanceRow::into_record).transpose()?)
    }

    async fn list_instances(&self, meeting: &MeetingId) -> StoreResult<Vec<InstanceRecord>> {
        let meeting = meeting.0.clone();
        let rows: Vec<InstanceRow> = self
            .run(move |conn| {
                Ok(i::table
                    .filter(i::meeting_id.eq(meeting))
                    .select(InstanceRow::as_select())
                    .load(conn)?)
            })
            .await?;
        let mut out = rows
            .into_iter()
            .map(InstanceRow::into_record)
            .collect::<Result<Vec<_>, _>>()?;
        // NULLs sort differently on the two backends: order here (no start = last).
        out.sort_by(|a, b| {
            (a.started_at.is_none(), a.started_at, &a.uuid).cmp(&(
                b.started_at.is_none(),
                b.started_at,
                &b.uuid,
            ))
        });
        Ok(out)
    }

    async fn insert_participant_events(&self, events: &[StoredEvent]) -> StoreResult<u64> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut rows: Vec<EventRow> = events.iter().map(EventRow::from_stored).collect();
        // Insert in dedupe-key order: two PostgreSQL transactions inserting overlapping
        // batches then wait for each other's keys in the same order and cannot deadlock.
        rows.sort_by(|a, b| {
            (
                &a.instance_uuid,
                &a.connection_key,
                &a.action,
                a.occurred_at,
            )
                .cmp(&(
                    &b.instance_uuid,
                    &b.connection_key,
                    &b.action,
                    b.occurred_at,
                ))
        });
        // Grouped with the other small writes of the moment (one delivery's event, while the
        // receiver stores new deliveries); keyed by the first event's unique key.
        let key = rows.first().map_or_else(String::new, |r| {
            format!("event\u{0}{}\u{0}{}", r.instance_uuid, r.connection_key)
        });
        Ok(self
            .write_grouped(Lane::Background, key, move |conn| {
                let meetings: BTreeSet<&str> = rows.iter().map(|r| r.meeting_id.as_str()).collect();
                for meeting in meetings {
                    // No such meeting, refused before any write: this caller's error, the
                    // group commits.
                    if let Err(missing) = refusal_as_answer(require_meeting(conn, meeting))? {
                        return Ok(Err(missing));
                    }
                }
                // Duplicates (stored before or earlier in this batch) hit the UNIQUE key and
                // insert nothing. PostgreSQL: multi-row statements, one round trip per chunk
                // (14 parameters per row, at most 65,535 per statement). SQLite runs in
                // process, where one cached statement per row costs no round trip.
                let mut inserted = 0u64;
                match conn {
                    AnyConnection::Postgresql(c) => {
                        for chunk in rows.chunks(1_000) {
                            let n = diesel::insert_into(pe::table)
                                .values(chunk)
                                .on_conflict_do_nothing()
                                .execute(c)?;
                            inserted += n as u64;
                        }
                    }
                    AnyConnection::Sqlite(c) => {
                        for row in &rows {
                            let n = diesel::insert_into(pe::table)
                                .values(row)
                                .on_conflict_do_nothing()
                                .execute(c)?;
                            inserted += n as u64;
                        }
                    }
                }
                Ok(Ok(inserted))
            })
            .await??)
    }

    async fn list_participant_events(
        &self,
        instance: &InstanceId,
    ) -> StoreResult<Vec<StoredEvent>> {
        let instance = instance.0.clone();
        let rows: Vec<EventRow> = self
            .run(move |conn| {
                Ok(pe::table
                    .filter(pe::instance_uuid.eq(instance))
                    .order((pe::occurred_at, pe::id))
                    .select(EventRow::as_select())
                    .load(conn)?)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(EventRow::into_stored)
            .collect::<Result<_, _>>()?)
    }

    async fn replace_report_rows(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
        rows: &[ReportRow],
    ) -> StoreResult<()> {
        let meeting = meeting.0.clone();
        let instance = instance.0.clone();
        let rows: Vec<ReportRowRow> = rows
            .iter()
            .map(|x| ReportRowRow::new(&meeting, &instance, x))
            .collect();
        self.write(move |conn| {
            require_meeting(conn, &meeting)?;
            lock_report(conn, &instance)?;
            diesel::delete(rr::table.filter(rr::instance_uuid.eq(&instance))).execute(conn)?;
            for row in &rows {
                diesel::insert_into(rr::table).values(row).execute(conn)?;
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn list_report_rows(&self, instance: &InstanceId) -> StoreResult<Vec<ReportRow>> {
        let instance = instance.0.clone();
        let rows: Vec<ReportRowRow> = self
            .run(move |conn| {
                Ok(rr::table
                    .filter(rr::instance_uuid.eq(instance))
                    .order((rr::join_at, rr::id))
                    .select(ReportRowRow::as_select())
                    .load(conn)?)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(ReportRowRow::into_report_row)
            .collect::<Result<_, _>>()?)
    }

    async fn evidence_revision(
        &self,
        instance: &InstanceId,
    ) -> StoreResult<Option<EvidenceRevision>> {
        // Rows of both tables are only inserted (with ids that are never reused: SQLite
        // AUTOINCREMENT, PostgreSQL sequences) and deleted, never updated in place, so the
        // count, the largest id and a sum of the ids change with every change of the set.
        // The sum catches a delete and a late-committing insert (a PostgreSQL id taken
        // before a larger one committed) that leave count and largest id as they were; the
        // modulo keeps it far from overflowing on either backend.
        const SUMMARY: &str = concat!(
            "COUNT(*), COALESCE(MAX(id), 0), CAST(COALESCE(SUM(id % ",
            id_sum_modulus!(),
            "), 0) AS BIGINT)"
        );
        type Row = (i64, i64, i64);
        let instance = instance.0.clone();
        let (events, report): (Row, Row) = self
            .run(move |conn| {
                use diesel::dsl::sql;
                use diesel::sql_types::BigInt;
                let events = pe::table
                    .filter(pe::instance_uuid.eq(&instance))
                    .select(sql::<(BigInt, BigInt, BigInt)>(SUMMARY))
                    .get_result(conn)?;
                let report = rr::table
                    .filter(rr::instance_uuid.eq(&instance))
                    .select(sql::<(BigInt, BigInt, BigInt)>(SUMMARY))
                    .get_result(conn)?;
                Ok((events, report))
            })
            .await?;
        let summaries = Summaries {
            events: events.into(),
            report: report.into(),
        };
        Ok(Some(summaries.revision()))
    }

    async fn participant_events_since(
        &self,
        instance: &InstanceId,
        since: &EvidenceRevision,
        now: &EvidenceRevision,
    ) -> StoreResult<Option<Vec<StoredEvent>>> {
        let (Some(old), Some(new)) = (Summaries::of(since), Summaries::of(now)) else {
            return Ok(None);
        };
        if old.report != new.report || new.events.count < old.events.count {
            return Ok(None);
        }
        let instance = instance.0.clone();
        let (after, upto) = (old.events.max_id, new.events.max_id);
        let rows: Vec<(i64, EventRow)> = self
            .run(move |conn| {
                Ok(pe::table
                    .filter(pe::instance_uuid.eq(instance))
                    .filter(pe::id.gt(after).and(pe::id.le(upto)))
                    .order((pe::occurred_at, pe::id))
                    .select((pe::id, EventRow::as_select()))
                    .load(conn)?)
            })
            .await?;
        // The rows above the old largest id must account for the whole difference: then no
        // older row went away and none with a smaller id committed late (see
        // `evidence_revision`), so the old set plus these is the new set.
        let added = rows
            .iter()
            .fold(old.events, |summary, (id, _)| summary.with_row(*id));
        if added != new.events {
            return Ok(None);
        }
        Ok(Some(
            rows.into_iter()
                .map(|(_, row)| row.into_stored())
                .collect::<Result<_, _>>()?,
        ))
    }

    async fn upsert_manual_link(&self, link: &ManualLink) -> StoreResult<()> {
        let row = ManualLinkRow {
            meeting_id: link.meeting.0.clone(),
            participant_key: link.participant_key.clone(),
            user_id: link.user.0.clone(),
            linked_by: link.linked_by.0.clone(),
            linked_at: micros(link.linked_at),
        };
        self.write(move |conn| {
            require_meeting(conn, &row.meeting_id)?;
            per_backend!(conn, |c| diesel::insert_into(ml::table)
                .values(&row)
                .on_conflict((ml::meeting_id, ml::participant_key))
                .do_update()
                .set((
                    ml::user_id.eq(&row.user_id),
                    ml::linked_by.eq(&row.linked_by),
                    ml::linked_at.eq(row.linked_at),
                ))
                .execute(c))?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn list_manual_links(&self, meeting: &MeetingId) -> StoreResult<Vec<ManualLink>> {
        let meeting = meeting.0.clone();
        let rows: Vec<ManualLinkRow> = self
            .run(move |conn| {
                Ok(ml::table
                    .filter(ml::meeting_id.eq(meeting))
                    .order(ml::participant_key)
                    .select(ManualLinkRow::as_select())
                    .load(conn)?)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                Ok(ManualLink {
                    meeting: MeetingId(r.meeting_id),
                    participant_key: r.participant_key,
                    user: UserId(r.user_id),
                    linked_by: UserId(r.linked_by),
                    linked_at: time(Entity::ManualLink, r.linked_at)?,
                })
            })
            .collect::<Result<_, DieselStoreError>>()?)
    }

    async fn record_join_click(&self, click: &JoinClick) -> StoreResult<()> {
        let row = JoinClickRow {
            meeting_id: click.meeting.0.clone(),
            user_id: click.user.0.clone(),
            clicked_at: micros(click.at),
        };
        // One statement, `INSERT … SELECT` from the meeting's row, so that an unknown meeting
        // inserts nothing (NotFound) and a click needs no transaction of its own: a click at
        // 2,000 a second was four round trips (BEGIN, the meeting check, INSERT, COMMIT) and
        // most of the server's CPU in the join-link benchmark.
        if self.backend() == BackendKind::Postgres {
            // Alone, never grouped, and committed without waiting for the WAL flush: a click
            // is a hint for the roster ("opened the link"), not attendance evidence, and the
            // redirect should not wait on a disk flush (a checkpoint made it wait tens of
            // milliseconds). A server crash may lose the last fraction of a second of clicks,
            // nothing else; the setting lasts for this statement's own transaction only, so
            // it can never reach a grouped write such as a delivery.
            let inserted = self.run(move |conn| insert_click(conn, &row, true)).await?;
            return Ok(click_outcome(inserted)?);
        }
        // SQLite: grouped with other concurrent small writes (a class opening its links at
        // once); its commit is already not flushed (`synchronous = NORMAL`).
        self.write_grouped_statement(Lane::Request, String::new(), move |conn| {
            Ok(click_outcome(insert_click(conn, &row, false)?))
        })
        .await??;
        Ok(())
    }

    async fn list_join_clicks(&self, meeting: &MeetingId) -> StoreResult<Vec<JoinClick>> {
        let meeting = meeting.0.clone();
        let rows: Vec<JoinClickRow> = self
            .run(move |conn| {
                Ok(jc::table
                    .filter(jc::meeting_id.eq(meeting))
                    .order((jc::clicked_at, jc::id))
                    .select(JoinClickRow::as_select())
                    .load(conn)?)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                Ok(JoinClick {
                    meeting: MeetingId(r.meeting_id),
                    user: UserId(r.user_id),
                    at: time(Entity::JoinClick, r.clicked_at)?,
                })
            })
            .collect::<Result<_, DieselStoreError>>()?)
    }
}

#[declare_sql_function]
extern "SQL" {
    /// PostgreSQL's `set_config(name, value, is_local)`: sets a setting for the current
    /// transaction only when `is_local`.
    fn set_config(
        name: diesel::sql_types::Text,
        value: diesel::sql_types::Text,
        is_local: diesel::sql_types::Bool,
    ) -> diesel::sql_types::Text;
}

/// The join click's one statement: `INSERT … SELECT` from the meeting's row (no row for an
/// unknown meeting). With `lazy_commit` (PostgreSQL only) the statement also switches
/// `synchronous_commit` off for its own transaction, as `SET LOCAL` would, so that it commits
/// without waiting for the WAL flush; the filter is only evaluated for the meeting's row.
fn insert_click(
    conn: &mut AnyConnection,
    row: &JoinClickRow,
    lazy_commit: bool,
) -> Result<usize, DieselStoreError> {
    use diesel::IntoSql;
    use diesel::sql_types::{BigInt, Text};
    let columns = (
        m::id,
        row.user_id.clone().into_sql::<Text>(),
        row.clicked_at.into_sql::<BigInt>(),
    );
    let into = (jc::meeting_id, jc::user_id, jc::clicked_at);
    let meeting = m::table.filter(m::id.eq(row.meeting_id.clone()));
    Ok(match conn {
        AnyConnection::Postgresql(pg) if lazy_commit => diesel::insert_into(jc::table)
            .values(
                meeting
                    .filter(set_config("synchronous_commit", "off", true).eq("off"))
                    .select(columns),
            )
            .into_columns(into)
            .execute(pg)?,
        _ => diesel::insert_into(jc::table)
            .values(meeting.select(columns))
            .into_columns(into)
            .execute(conn)?,
    })
}

/// A click's outcome from the rows its statement inserted: none means no such meeting.
fn click_outcome(inserted: usize) -> Result<(), DieselStoreError> {
    if inserted == 0 {
        Err(DieselStoreError::not_found(Entity::Meeting))
    } else {
        Ok(())
    }
}

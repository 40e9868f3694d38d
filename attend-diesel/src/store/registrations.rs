//! `RegistrationStore` on `attend_registrations`.

use async_trait::async_trait;
use attend_core::model::{MeetingId, RegistrantId, RegistrationStatus, UserId};
use attend_core::store::{
    Entity, FailureReason, RegistrationCounts, RegistrationRecord, RegistrationStore, StoreResult,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::meetings::require_meeting;
use super::{DieselStore, conflict_on_unique, per_backend};
use crate::codec::{Codec, email_key, micros, opt_micros, opt_time, time, u32_col};
use crate::error::DieselStoreError;
use crate::schema::attend_registrations as r;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = r, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct RegistrationRow {
    meeting_id: String,
    user_id: String,
    status: String,
    registrant_id: Option<String>,
    join_url: Option<String>,
    registrant_email: Option<String>,
    registrant_email_lower: Option<String>,
    registered_at: Option<i64>,
    error_code: Option<String>,
    error_message: Option<String>,
    attempts: i64,
    next_attempt_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl RegistrationRow {
    fn from_record(x: &RegistrationRecord) -> Self {
        Self {
            meeting_id: x.meeting.0.clone(),
            user_id: x.user.0.clone(),
            status: x.status.encode().to_owned(),
            registrant_id: x.registrant_id.as_ref().map(|id| id.0.clone()),
            join_url: x.join_url.clone(),
            registrant_email: x.registrant_email.clone(),
            registrant_email_lower: x.registrant_email.as_deref().map(email_key),
            registered_at: opt_micros(x.registered_at),
            error_code: x.error.as_ref().map(|e| e.code.clone()),
            error_message: x.error.as_ref().map(|e| e.message.clone()),
            attempts: i64::from(x.attempts),
            next_attempt_at: opt_micros(x.next_attempt_at),
            created_at: micros(x.created_at),
            updated_at: micros(x.updated_at),
        }
    }

    fn into_record(self) -> Result<RegistrationRecord, DieselStoreError> {
        const E: Entity = Entity::Registration;
        let error = match (self.error_code, self.error_message) {
            (Some(code), message) => Some(FailureReason {
                code,
                message: message.unwrap_or_default(),
            }),
            (None, _) => None,
        };
        Ok(RegistrationRecord {
            meeting: MeetingId(self.meeting_id),
            user: UserId(self.user_id),
            status: RegistrationStatus::decode(&self.status)?,
            registrant_id: self.registrant_id.map(RegistrantId),
            join_url: self.join_url,
            registrant_email: self.registrant_email,
            registered_at: opt_time(E, self.registered_at)?,
            error,
            attempts: u32_col(E, "attempts", self.attempts)?,
            next_attempt_at: opt_time(E, self.next_attempt_at)?,
            created_at: time(E, self.created_at)?,
            updated_at: time(E, self.updated_at)?,
        })
    }
}

fn records(rows: Vec<RegistrationRow>) -> Result<Vec<RegistrationRecord>, DieselStoreError> {
    rows.into_iter().map(RegistrationRow::into_record).collect()
}

#[async_trait]
impl RegistrationStore for DieselStore {
    async fn ensure_pending_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationRecord> {
        let row = RegistrationRow::from_record(&RegistrationRecord::pending(
            meeting.clone(),
            user.clone(),
            now,
        ));
        let stored = self
            .write(move |conn| {
                require_meeting(conn, &row.meeting_id)?;
                // Concurrent callers: on PostgreSQL the loser's INSERT waits for the winner's
                // commit and then does nothing; on SQLite the immediate transaction serializes.
                per_backend!(conn, |c| diesel::insert_into(r::table)
                    .values(&row)
                    .on_conflict_do_nothing()
                    .execute(c))?;
                Ok(r::table
                    .find((&row.meeting_id, &row.user_id))
                    .select(RegistrationRow::as_select())
                    .get_result(conn)?)
            })
            .await?;
        Ok(stored.into_record()?)
    }

    async fn update_registration(&self, record: &RegistrationRecord) -> StoreResult<()> {
        let row = RegistrationRow::from_record(record);
        self.write(move |conn| {
            let updated = diesel::update(r::table.find((&row.meeting_id, &row.user_id)))
                .set((
                    r::status.eq(&row.status),
                    r::registrant_id.eq(&row.registrant_id),
                    r::join_url.eq(&row.join_url),
                    r::registrant_email.eq(&row.registrant_email),
                    r::registrant_email_lower.eq(&row.registrant_email_lower),
                    r::registered_at.eq(row.registered_at),
                    r::error_code.eq(&row.error_code),
                    r::error_message.eq(&row.error_message),
                    r::attempts.eq(row.attempts),
                    r::next_attempt_at.eq(row.next_attempt_at),
                    r::updated_at.eq(row.updated_at),
                ))
                .execute(conn)
                .map_err(|e| {
                    conflict_on_unique(
                        e,
                        Entity::Registration,
                        "registrant id already used by another user of the meeting",
                    )
                })?;
            if updated == 0 {
                return Err(DieselStoreError::not_found(Entity::Registration));
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn get_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
    ) -> StoreResult<Option<RegistrationRecord>> {
        let key = (meeting.0.clone(), user.0.clone());
        let row = self
            .run(move |conn| {
                Ok(r::table
                    .find(key)
                    .select(RegistrationRow::as_select())
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        Ok(row.map(RegistrationRow::into_record).transpose()?)
    }

    async fn list_registrations(
        &self,
        meeting: &MeetingId,
    ) -> StoreResult<Vec<RegistrationRecord>> {
        let meeting = meeting.0.clone();
        let rows = self
            .run(move |conn| {
                Ok(r::table
                    .filter(r::meeting_id.eq(meeting))
                    .order(r::user_id)
                    .select(RegistrationRow::as_select())
                    .load(conn)?)
            })
            .await?;
        Ok(records(rows)?)
    }

    async fn count_registrations(&self, meeting: &MeetingId) -> StoreResult<RegistrationCounts> {
        let meeting = meeting.0.clone();
        let groups: Vec<(String, i64)> = self
            .run(move |conn| {
                Ok(r::table
                    .filter(r::meeting_id.eq(meeting))
                    .group_by(r::status)
                    .select((r::status, diesel::dsl::count_star()))
                    .load(conn)?)
            })
            .await?;
        let mut counts = RegistrationCounts::default();
        for (status, n) in groups {
            let n = u64::try_from(n).unwrap_or(0);
            match RegistrationStatus::decode(&status)? {
                RegistrationStatus::Registered => counts.registered += n,
                RegistrationStatus::Pending => counts.pending += n,
                RegistrationStatus::Failed => counts.failed += n,
                RegistrationStatus::Cancelled => counts.cancelled += n,
            }
        }
        Ok(counts)
    }

    async fn find_registration_by_registrant_id(
        &self,
        meeting: &MeetingId,
        registrant_id: &RegistrantId,
    ) -> StoreResult<Option<RegistrationRecord>> {
        let meeting = meeting.0.clone();
        let registrant_id = registrant_id.0.clone();
        let row = self
            .run(move |conn| {
                Ok(r::table
                    .filter(r::meeting_id.eq(meeting))
                    .filter(r::registrant_id.eq(registrant_id))
                    .select(RegistrationRow::as_select())
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        Ok(row.map(RegistrationRow::into_record).transpose()?)
    }

    async fn find_registrations_by_email(
        &self,
        meeting: &MeetingId,
        email: &str,
    ) -> StoreResult<Vec<RegistrationRecord>> {
        let meeting = meeting.0.clone();
        let key = email_key(email);
        let rows = self
            .run(move |conn| {
                Ok(r::table
                    .filter(r::meeting_id.eq(meeting))
                    .filter(r::registrant_email_lower.eq(key))
                    .order(r::user_id)
                    .select(RegistrationRow::as_select())
                    .load(conn)?)
            })
            .await?;
        Ok(records(rows)?)
    }

    async fn list_user_registrations(&self, user: &UserId) -> StoreResult<Vec<RegistrationRecord>> {
        let user = user.0.clone();
        let rows = self
            .run(move |conn| {
                Ok(r::table
                    .filter(r::user_id.eq(user))
                    .order((r::created_at, r::meeting_id))
                    .select(RegistrationRow::as_select())
                    .load(conn)?)
            })
            .await?;
        Ok(records(rows)?)
    }
}

//! `MeetingStore` on `attend_meetings`.

use async_trait::async_trait;
use attend_core::model::{AccountKey, GroupKey, MeetingId, MeetingKind, ZoomMeetingId};
use attend_core::store::{Entity, MeetingRecord, MeetingStore, StoreResult};
use diesel::prelude::*;

use super::{DieselStore, conflict_on_unique};
use crate::codec::{micros, opt_micros, opt_time, time, u32_col};
use crate::connection::AnyConnection;
use crate::error::DieselStoreError;
use crate::schema::attend_meetings as m;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = m, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct MeetingRow {
    id: String,
    account: String,
    zoom_meeting_id: i64,
    kind: String,
    group_key: String,
    topic: String,
    start_time: Option<i64>,
    duration_minutes: Option<i64>,
    timezone: Option<String>,
    host_id: Option<String>,
    restrict_to_registered: i32,
    policy: String,
    created_at: i64,
}

impl MeetingRow {
    fn from_record(r: &MeetingRecord) -> Result<Self, DieselStoreError> {
        Ok(Self {
            id: r.id.0.clone(),
            account: r.account.0.clone(),
            zoom_meeting_id: r.zoom_meeting_id.0,
            kind: r.kind.as_str().to_owned(),
            group_key: r.group.0.clone(),
            topic: r.topic.clone(),
            start_time: opt_micros(r.start_time),
            duration_minutes: r.duration_minutes.map(i64::from),
            timezone: r.timezone.clone(),
            host_id: r.host_id.clone(),
            restrict_to_registered: i32::from(r.restrict_to_registered),
            policy: serde_json::to_string(&r.policy)
                .map_err(|e| DieselStoreError::corrupt(Entity::Meeting, format!("policy: {e}")))?,
            created_at: micros(r.created_at),
        })
    }

    fn into_record(self) -> Result<MeetingRecord, DieselStoreError> {
        const E: Entity = Entity::Meeting;
        let kind = match self.kind.as_str() {
            "meeting" => MeetingKind::Meeting,
            "webinar" => MeetingKind::Webinar,
            other => return Err(DieselStoreError::corrupt(E, format!("kind {other:?}"))),
        };
        Ok(MeetingRecord {
            id: MeetingId(self.id),
            account: AccountKey(self.account),
            zoom_meeting_id: ZoomMeetingId(self.zoom_meeting_id),
            kind,
            group: GroupKey(self.group_key),
            topic: self.topic,
            start_time: opt_time(E, self.start_time)?,
            duration_minutes: self
                .duration_minutes
                .map(|d| u32_col(E, "duration_minutes", d))
                .transpose()?,
            timezone: self.timezone,
            host_id: self.host_id,
            restrict_to_registered: self.restrict_to_registered != 0,
            policy: serde_json::from_str(&self.policy)
                .map_err(|e| DieselStoreError::corrupt(E, format!("policy: {e}")))?,
            created_at: time(E, self.created_at)?,
        })
    }
}

fn records(rows: Vec<MeetingRow>) -> Result<Vec<MeetingRecord>, DieselStoreError> {
    rows.into_iter().map(MeetingRow::into_record).collect()
}

/// Whether a meeting with this id exists (used by writes whose contract says `NotFound`).
pub(super) fn meeting_exists(conn: &mut AnyConnection, id: &str) -> Result<bool, DieselStoreError> {
    let found: Option<String> = m::table
        .find(id)
        .select(m::id)
        .get_result(conn)
        .optional()?;
    Ok(found.is_some())
}

/// `NotFound` unless the meeting exists.
pub(super) fn require_meeting(conn: &mut AnyConnection, id: &str) -> Result<(), DieselStoreError> {
    if meeting_exists(conn, id)? {
        Ok(())
    } else {
        Err(DieselStoreError::not_found(Entity::Meeting))
    }
}

#[async_trait]
impl MeetingStore for DieselStore {
    async fn insert_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
        let row = MeetingRow::from_record(meeting)?;
        self.write(move |conn| {
            diesel::insert_into(m::table)
                .values(&row)
                .execute(conn)
                .map_err(|e| conflict_on_unique(e, Entity::Meeting, "meeting already linked"))?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn get_meeting(&self, id: &MeetingId) -> StoreResult<Option<MeetingRecord>> {
        let id = id.0.clone();
        let row = self
            .run(move |conn| {
                Ok(m::table
                    .find(id)
                    .select(MeetingRow::as_select())
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        Ok(row.map(MeetingRow::into_record).transpose()?)
    }

    async fn find_meeting(
        &self,
        account: &AccountKey,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Option<MeetingRecord>> {
        let account = account.0.clone();
        let row = self
            .run(move |conn| {
                Ok(m::table
                    .filter(m::account.eq(account))
                    .filter(m::zoom_meeting_id.eq(zoom_id.0))
                    .select(MeetingRow::as_select())
                    .get_result(conn)
                    .optional()?)
            })
            .await?;
        Ok(row.map(MeetingRow::into_record).transpose()?)
    }

    async fn find_meetings_by_zoom_id(
        &self,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Vec<MeetingRecord>> {
        let rows = self
            .run(move |conn| {
                Ok(m::table
                    .filter(m::zoom_meeting_id.eq(zoom_id.0))
                    .order((m::created_at, m::id))
                    .select(MeetingRow::as_select())
                    .load(conn)?)
            })
            .await?;
        Ok(records(rows)?)
    }

    async fn list_meetings(&self, group: Option<&GroupKey>) -> StoreResult<Vec<MeetingRecord>> {
        let group = group.map(|g| g.0.clone());
        let rows = self
            .run(move |conn| {
                let mut query = m::table
                    .order((m::created_at, m::id))
                    .select(MeetingRow::as_select())
                    .into_boxed();
                if let Some(group) = group {
                    query = query.filter(m::group_key.eq(group));
                }
                Ok(query.load(conn)?)
            })
            .await?;
        Ok(records(rows)?)
    }

    async fn update_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
        let row = MeetingRow::from_record(meeting)?;
        self.write(move |conn| {
            let updated = diesel::update(m::table.find(&row.id))
                .set((
                    m::account.eq(&row.account),
                    m::zoom_meeting_id.eq(row.zoom_meeting_id),
                    m::kind.eq(&row.kind),
                    m::group_key.eq(&row.group_key),
                    m::topic.eq(&row.topic),
                    m::start_time.eq(row.start_time),
                    m::duration_minutes.eq(row.duration_minutes),
                    m::timezone.eq(&row.timezone),
                    m::host_id.eq(&row.host_id),
                    m::restrict_to_registered.eq(row.restrict_to_registered),
                    m::policy.eq(&row.policy),
                ))
                .execute(conn)
                .map_err(|e| {
                    conflict_on_unique(e, Entity::Meeting, "zoom meeting linked to another meeting")
                })?;
            if updated == 0 {
                return Err(DieselStoreError::not_found(Entity::Meeting));
            }
            Ok(())
        })
        .await?;
        Ok(())
    }
}

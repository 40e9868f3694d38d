//! Linked meetings: [`MeetingRecord`] and [`MeetingStore`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::model::{AccountKey, GroupKey, MeetingId, MeetingKind, Policy, ZoomMeetingId};

/// One Zoom meeting or webinar linked to a host group.
///
/// `(account, zoom_meeting_id)` is unique, and so is `id`.
#[derive(Clone, Debug, PartialEq)]
pub struct MeetingRecord {
    /// attend's own id (chosen by the caller, e.g. a UUID); never changes.
    pub id: MeetingId,
    /// The configured Zoom account the meeting belongs to.
    pub account: AccountKey,
    /// The Zoom meeting number.
    pub zoom_meeting_id: ZoomMeetingId,
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// The host group (course, section) the meeting is linked to.
    pub group: GroupKey,
    /// The topic as Zoom has it.
    pub topic: String,
    /// Scheduled start, if the meeting has one (recurring meetings without a fixed time have
    /// none).
    pub start_time: Option<DateTime<Utc>>,
    /// Scheduled length in minutes, if known.
    pub duration_minutes: Option<u32>,
    /// The IANA time zone Zoom shows the meeting in, if known.
    pub timezone: Option<String>,
    /// Zoom user id of the meeting's host, used to keep the host out of rosters.
    pub host_id: Option<String>,
    /// Only attend-issued registrants may join (manual approval at Zoom).
    pub restrict_to_registered: bool,
    /// The attendance policy.
    pub policy: Policy,
    /// When the meeting was linked; never changes.
    pub created_at: DateTime<Utc>,
}

/// Storage of linked meetings.
///
/// All methods are safe to call concurrently. Errors follow [`StoreError`](super::StoreError):
/// only `Unavailable` is retryable.
#[async_trait]
pub trait MeetingStore: Send + Sync {
    /// Stores a newly linked meeting.
    ///
    /// Fails with `Conflict` (and changes nothing) when a meeting with the same
    /// `(account, zoom_meeting_id)` or the same `id` is already stored; the caller can then look
    /// the existing one up with [`find_meeting`](Self::find_meeting).
    async fn insert_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()>;

    /// The meeting with this id; `None` if there is none.
    async fn get_meeting(&self, id: &MeetingId) -> StoreResult<Option<MeetingRecord>>;

    /// The meeting linked for Zoom meeting `zoom_id` of `account`; `None` if that Zoom meeting
    /// is not linked.
    async fn find_meeting(
        &self,
        account: &AccountKey,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Option<MeetingRecord>>;

    /// Every meeting linked for Zoom meeting `zoom_id`, whatever the account (one per account
    /// at most), oldest `created_at` first; empty if none.
    async fn find_meetings_by_zoom_id(
        &self,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Vec<MeetingRecord>>;

    /// All meetings, or only those of `group`, oldest `created_at` first (ties in any order);
    /// empty if none.
    async fn list_meetings(&self, group: Option<&GroupKey>) -> StoreResult<Vec<MeetingRecord>>;

    /// Replaces the stored meeting that has `meeting.id` with `meeting`, every field except
    /// `id` and `created_at` (which keep their stored values).
    ///
    /// `NotFound` if no meeting has that id; `Conflict` (nothing changed) if the new
    /// `(account, zoom_meeting_id)` belongs to another meeting. Updating with unchanged values
    /// succeeds. Concurrent updates of one meeting: the last write wins.
    async fn update_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()>;
}

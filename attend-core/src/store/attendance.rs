//! What happened in meetings: instances, participant events, report rows, manual links and
//! join-link clicks ([`AttendanceStore`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Entity, StoreError, StoreResult, WebhookId};
use crate::model::{IdentityHints, InstanceId, InstanceState, MeetingId, ParticipantEvent, UserId};

/// One instance (one Zoom `uuid`) of a linked meeting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceRecord {
    /// The linked meeting.
    pub meeting: MeetingId,
    /// Zoom's instance uuid (globally unique).
    pub uuid: InstanceId,
    /// The earliest start seen (`object.start_time` of `meeting.started`).
    pub started_at: Option<DateTime<Utc>>,
    /// The latest end seen (`object.end_time` of `meeting.ended`).
    pub ended_at: Option<DateTime<Utc>>,
    /// `Live` until an end is known, then `Provisional`, `Final` once finalized. Never goes
    /// back.
    pub state: InstanceState,
    /// When the instance was last finalized (report merged, or grace period over).
    pub reconciled_at: Option<DateTime<Utc>>,
    /// When the row was last written.
    pub updated_at: DateTime<Utc>,
}

impl InstanceRecord {
    /// Whether the instance is still open as far as attend knows: `Live`, and no end seen
    /// (no `meeting.ended`). Its roster is measured up to now; only Zoom's report can tell
    /// whether it really ended.
    pub fn is_open(&self) -> bool {
        self.ended_at.is_none() && self.state == InstanceState::Live
    }
}

/// What one observation says about an instance; merged into the stored row by
/// [`AttendanceStore::upsert_instance`] (see [`merge_instance`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceUpdate {
    /// The linked meeting.
    pub meeting: MeetingId,
    /// Zoom's instance uuid.
    pub uuid: InstanceId,
    /// A start time, if this observation carries one.
    pub started_at: Option<DateTime<Utc>>,
    /// An end time, if this observation carries one.
    pub ended_at: Option<DateTime<Utc>>,
    /// Now (becomes `updated_at`).
    pub at: DateTime<Utc>,
}

fn state_rank(state: InstanceState) -> u8 {
    match state {
        InstanceState::Live => 0,
        InstanceState::Provisional => 1,
        InstanceState::Final => 2,
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn latest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The merge rule of [`AttendanceStore::upsert_instance`], as a pure function that backends
/// may call inside their transaction.
///
/// The result does not depend on the order observations arrive in (apart from `updated_at`,
/// which is the update's `at`): `started_at` is the earliest start seen, `ended_at` the latest
/// end seen, and the state is the furthest of the stored state and `Provisional` when an end
/// is known (`Live` otherwise); a `Final` instance stays `Final`.
///
/// `Conflict` if `existing` belongs to another meeting than the update.
pub fn merge_instance(
    existing: Option<&InstanceRecord>,
    update: &InstanceUpdate,
) -> StoreResult<InstanceRecord> {
    if let Some(existing) = existing
        && existing.meeting != update.meeting
    {
        return Err(StoreError::conflict(
            Entity::Instance,
            "instance uuid already belongs to another meeting",
        ));
    }
    let started_at = earliest(existing.and_then(|e| e.started_at), update.started_at);
    let ended_at = latest(existing.and_then(|e| e.ended_at), update.ended_at);
    let observed = if ended_at.is_some() {
        InstanceState::Provisional
    } else {
        InstanceState::Live
    };
    let state = match existing {
        Some(e) if state_rank(e.state) > state_rank(observed) => e.state,
        _ => observed,
    };
    Ok(InstanceRecord {
        meeting: update.meeting.clone(),
        uuid: update.uuid.clone(),
        started_at,
        ended_at,
        state,
        reconciled_at: existing.and_then(|e| e.reconciled_at),
        updated_at: update.at,
    })
}

/// A normalized participant event as stored.
///
/// Events are deduplicated on `(event.instance, event.connection, event.action, event.at)`:
/// the first stored copy wins, including its hints and source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// The linked meeting.
    pub meeting: MeetingId,
    /// The normalized event.
    pub event: ParticipantEvent,
    /// The raw webhook it was parsed from, if any.
    pub source: Option<WebhookId>,
}

/// One row of Zoom's participant report for an instance (one connection's stay).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    /// Identity hints of the row: `registrant_id`, `customer_key`, `email`, `user_name`,
    /// `participant_user_id`, `zoom_user_id` (the report's `user_id`), `participant_uuid`.
    pub hints: IdentityHints,
    /// `join_time`.
    pub join: DateTime<Utc>,
    /// `leave_time`.
    pub leave: DateTime<Utc>,
}

/// A fingerprint of the evidence stored for one instance (its participant events and report
/// rows), from [`AttendanceStore::evidence_revision`].
///
/// Readers keep what they computed from an instance's evidence next to the revision it was
/// read at, and reuse it while the store answers the same revision. Two revisions are only
/// compared when they are of the same instance; the parts mean nothing outside the backend
/// that made them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EvidenceRevision(Vec<i64>);

impl EvidenceRevision {
    /// A revision made of `parts` (counters, row counts, largest ids, checksums: whatever
    /// the backend needs so that any change of the evidence changes at least one part).
    pub fn new(parts: impl Into<Vec<i64>>) -> Self {
        Self(parts.into())
    }

    /// The parts, as given to [`new`](Self::new).
    pub fn parts(&self) -> &[i64] {
        &self.0
    }
}

/// An instructor's link of an unmatched participant to a host user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManualLink {
    /// The linked meeting.
    pub meeting: MeetingId,
    /// The unmatched participant's person key (as shown in the unmatched list).
    pub participant_key: String,
    /// The host user the participant is.
    pub user: UserId,
    /// The host user (instructor, admin) who made the link.
    pub linked_by: UserId,
    /// When the link was made.
    pub linked_at: DateTime<Utc>,
}

/// A host user opened their personal join link. No IP address or user agent is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinClick {
    /// The linked meeting.
    pub meeting: MeetingId,
    /// The host user who clicked.
    pub user: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Storage of what happened in meetings.
///
/// Every write here is idempotent or order-independent, so that webhook retries, report
/// re-fetches and crashes between steps end in the state of one clean pass. Times round-trip
/// with at least microsecond precision. All methods are safe to call concurrently; only
/// `Unavailable` errors are retryable.
#[async_trait]
pub trait AttendanceStore: Send + Sync {
    /// Creates or updates the instance `update.uuid` by the rule of [`merge_instance`], and
    /// returns the stored row.
    ///
    /// Observations may arrive in any order and any number of times: a late `started` after
    /// `ended` keeps `ended_at`, the earliest start wins, the state never goes back.
    /// Concurrent upserts of one uuid must not lose either side's times. `Conflict` if the uuid
    /// belongs to another meeting; `NotFound` if the meeting does not exist.
    async fn upsert_instance(&self, update: &InstanceUpdate) -> StoreResult<InstanceRecord>;

    /// Marks an instance `Final` and sets `reconciled_at` to the later of the stored value and
    /// `at`; returns the stored row. Idempotent. `NotFound` if there is no such instance.
    async fn finalize_instance(
        &self,
        uuid: &InstanceId,
        at: DateTime<Utc>,
    ) -> StoreResult<InstanceRecord>;

    /// The instance; `None` if there is none.
    async fn get_instance(&self, uuid: &InstanceId) -> StoreResult<Option<InstanceRecord>>;

    /// The instances of a meeting, by `started_at` ascending, instances without a start last
    /// (ties in any order); empty if none.
    async fn list_instances(&self, meeting: &MeetingId) -> StoreResult<Vec<InstanceRecord>>;

    /// Stores participant events, skipping any whose `(instance, connection, action, at)` is
    /// already stored (also within `events`), and returns how many were newly stored.
    ///
    /// Atomic: on error nothing is stored. Storing the same events again returns 0 and changes
    /// nothing. Events may precede their instance row (no instance needs to exist); `NotFound`
    /// if an event's meeting does not exist.
    async fn insert_participant_events(&self, events: &[StoredEvent]) -> StoreResult<u64>;

    /// The events of one instance, by `at` ascending (ties in any order); empty if none.
    async fn list_participant_events(&self, instance: &InstanceId)
    -> StoreResult<Vec<StoredEvent>>;

    /// Replaces all report rows of `instance` with `rows`, atomically: a re-fetch of the same
    /// report leaves the same rows, and an empty `rows` clears them. Readers see either the old
    /// or the new set, never a mix. `NotFound` if the meeting does not exist.
    async fn replace_report_rows(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
        rows: &[ReportRow],
    ) -> StoreResult<()>;

    /// The report rows of one instance, by `join` ascending (ties in any order); empty if none
    /// were stored (or the stored report was empty).
    async fn list_report_rows(&self, instance: &InstanceId) -> StoreResult<Vec<ReportRow>>;

    /// A fingerprint of what [`list_participant_events`](Self::list_participant_events) and
    /// [`list_report_rows`](Self::list_report_rows) return for `instance` now.
    ///
    /// The contract: if the events or report rows of the instance changed between two calls
    /// (events stored, report rows replaced, rows erased), the two revisions differ. Calls
    /// with nothing changed in between return equal revisions (storing only duplicates
    /// changes nothing); a backend may also return a new revision for other reasons, which
    /// only costs readers a reload. Read the revision *before* the evidence: a change
    /// landing in between then shows as a different revision on the next call.
    ///
    /// `Ok(None)` means the backend cannot tell (the default): readers then load the
    /// evidence every time. An instance with no evidence has a revision too.
    async fn evidence_revision(
        &self,
        instance: &InstanceId,
    ) -> StoreResult<Option<EvidenceRevision>> {
        let _ = instance;
        Ok(None)
    }

    /// The events of `instance` stored between two of its revisions, when the backend can
    /// show that adding them is the only change from `since` to `now` (both returned by
    /// [`evidence_revision`](Self::evidence_revision) for `instance`, `since` first).
    ///
    /// `Ok(Some(added))`: `list_participant_events` read at `since`, with `added` put in by
    /// `at` (ties: after the older events), is exactly what it returns at `now`; the report
    /// rows did not change. Lets a reader that kept the evidence of `since` bring it up to
    /// date without loading all of it again (the roster of a live class, re-read after each
    /// new event). `Ok(None)`: the backend cannot show that (the default; also whenever rows
    /// were erased, the report was replaced, or the revisions are not its own): the reader
    /// loads everything. Never a guess: when in doubt, `None`.
    async fn participant_events_since(
        &self,
        instance: &InstanceId,
        since: &EvidenceRevision,
        now: &EvidenceRevision,
    ) -> StoreResult<Option<Vec<StoredEvent>>> {
        let _ = (instance, since, now);
        Ok(None)
    }

    /// Creates or replaces the link for `(link.meeting, link.participant_key)`: one link per
    /// participant key, the last write wins. `NotFound` if the meeting does not exist.
    async fn upsert_manual_link(&self, link: &ManualLink) -> StoreResult<()>;

    /// The manual links of a meeting, in any order; empty if none.
    async fn list_manual_links(&self, meeting: &MeetingId) -> StoreResult<Vec<ManualLink>>;

    /// Records one click of a personal join link. Every call adds a row (clicks are counted,
    /// not deduplicated). `NotFound` if the meeting does not exist. A click is a hint for the
    /// roster, not attendance evidence: a store may commit it without waiting for its disk
    /// flush (attend-diesel does on PostgreSQL), so that a crash of the database server may
    /// lose the last moment's clicks, never other data.
    async fn record_join_click(&self, click: &JoinClick) -> StoreResult<()>;

    /// The join-link clicks of a meeting, oldest first (ties in any order); empty if none.
    async fn list_join_clicks(&self, meeting: &MeetingId) -> StoreResult<Vec<JoinClick>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).expect("valid time")
    }

    fn update(start: Option<i64>, end: Option<i64>, at: i64) -> InstanceUpdate {
        InstanceUpdate {
            meeting: MeetingId::from("m1"),
            uuid: InstanceId::from("u1"),
            started_at: start.map(t),
            ended_at: end.map(t),
            at: t(at),
        }
    }

    fn fold(updates: &[InstanceUpdate]) -> InstanceRecord {
        let mut row: Option<InstanceRecord> = None;
        for u in updates {
            row = Some(merge_instance(row.as_ref(), u).expect("same meeting"));
        }
        row.expect("at least one update")
    }

    #[test]
    fn late_start_keeps_end_and_earliest_start_wins() {
        let ended_first = fold(&[update(None, Some(3600), 10), update(Some(5), None, 20)]);
        assert_eq!(ended_first.started_at, Some(t(5)));
        assert_eq!(ended_first.ended_at, Some(t(3600)));
        assert_eq!(ended_first.state, InstanceState::Provisional);

        let restarted = fold(&[update(Some(60), None, 1), update(Some(0), None, 2)]);
        assert_eq!(restarted.started_at, Some(t(0)));
        assert_eq!(restarted.state, InstanceState::Live);
    }

    #[test]
    fn every_order_gives_the_same_times_and_state() {
        let ups = [
            update(Some(0), None, 1),
            update(None, Some(100), 2),
            update(Some(0), None, 3),
            update(None, Some(90), 4),
        ];
        let reference = fold(&ups);
        let orders = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]];
        for order in orders {
            let row = fold(&order.map(|i| ups[i].clone()));
            assert_eq!(
                (row.started_at, row.ended_at, row.state),
                (reference.started_at, reference.ended_at, reference.state),
                "order {order:?}"
            );
        }
        assert_eq!(reference.ended_at, Some(t(100)));
    }

    #[test]
    fn final_never_goes_back_and_reconciled_at_is_kept() {
        let mut row = fold(&[update(Some(0), Some(100), 1)]);
        row.state = InstanceState::Final;
        row.reconciled_at = Some(t(200));
        let merged = merge_instance(Some(&row), &update(Some(0), None, 300)).expect("merge");
        assert_eq!(merged.state, InstanceState::Final);
        assert_eq!(merged.reconciled_at, Some(t(200)));
        assert_eq!(merged.updated_at, t(300));
    }

    #[test]
    fn another_meeting_is_a_conflict() {
        let row = fold(&[update(Some(0), None, 1)]);
        let mut other = update(None, Some(5), 2);
        other.meeting = MeetingId::from("m2");
        let err = merge_instance(Some(&row), &other).expect_err("conflict");
        assert!(err.is_conflict());
    }
}

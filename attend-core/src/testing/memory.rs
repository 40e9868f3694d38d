//! [`MemoryStore`] and [`MemoryDirectory`]: in-memory reference implementations of every
//! storage contract, for tests, doctests and examples.
//!
//! Both are cheap to clone; clones share the same data (so a test can keep a handle while the
//! service owns another). Both can simulate an outage
//! ([`MemoryStore::set_unavailable`]) to test how callers handle
//! [`StoreError::Unavailable`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), attend_core::store::StoreError> {
//! use attend_core::store::{NewWebhook, WebhookInbox, WebhookInsert};
//! use attend_core::testing::memory::MemoryStore;
//!
//! let store = MemoryStore::new();
//! let hook = NewWebhook {
//!     account: "main".into(),
//!     dedupe_key: "sha256:abc".into(),
//!     event_type: "meeting.started".into(),
//!     received_at: chrono::Utc::now(),
//!     body: br#"{"event":"meeting.started"}"#.to_vec(),
//!     unparseable: false,
//! };
//! let first = store.insert_webhook(&hook).await?;
//! assert!(first.is_new());
//! assert_eq!(store.insert_webhook(&hook).await?, WebhookInsert::Duplicate(first.id()));
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, TimeDelta, Utc};

use crate::model::{
    AccountKey, ConnectionKey, GroupKey, IdentityHints, InstanceId, InstanceState, MeetingId,
    ParticipantAction, RegistrantId, UserId, ZoomMeetingId,
};
use crate::store::{
    AttendanceStore, DirectoryError, Enqueued, Entity, ErasureSummary, HostUser, InstanceRecord,
    InstanceUpdate, Job, JobCounts, JobId, JobQueue, JobState, JoinClick, ManualLink,
    MeetingRecord, MeetingStore, NewJob, NewWebhook, Privacy, RawWebhook, RegistrationCounts,
    RegistrationRecord, RegistrationStore, ReportRow, StoreError, StoreResult, StoredEvent,
    UserDirectory, WebhookId, WebhookInbox, WebhookInsert, WebhookJob, WebhookStatus, async_trait,
    merge_instance,
};

/// The error [`MemoryStore`] and [`MemoryDirectory`] report while simulating an outage.
#[derive(Debug, thiserror::Error)]
#[error("the in-memory store is set to be unavailable")]
pub struct SimulatedOutage;

type EventKey = (InstanceId, ConnectionKey, ParticipantAction, DateTime<Utc>);

#[derive(Debug, Default)]
struct State {
    meetings: BTreeMap<MeetingId, MeetingRecord>,
    registrations: BTreeMap<(MeetingId, UserId), RegistrationRecord>,
    webhooks: BTreeMap<WebhookId, RawWebhook>,
    next_webhook: i64,
    instances: BTreeMap<InstanceId, InstanceRecord>,
    events: Vec<StoredEvent>,
    event_keys: HashSet<EventKey>,
    /// Per instance: the meeting and the current report rows.
    reports: BTreeMap<InstanceId, (MeetingId, Vec<ReportRow>)>,
    manual_links: BTreeMap<(MeetingId, String), ManualLink>,
    clicks: Vec<JoinClick>,
    jobs: BTreeMap<JobId, Job>,
    next_job: i64,
    /// Bumped whenever any instance's events or report rows change (one counter for all:
    /// coarse, but every change shows).
    evidence_generation: i64,
    /// Bumped by every change of the evidence other than appending to `events` (erasure, a
    /// report stored): between two equal values, `events` only grew at its end.
    evidence_rewrites: i64,
}

impl State {
    /// [`WebhookInbox::insert_webhook`] on the locked state.
    fn insert_webhook(&mut self, webhook: &NewWebhook) -> WebhookInsert {
        if let Some(existing) = self
            .webhooks
            .values()
            .find(|w| w.account == webhook.account && w.dedupe_key == webhook.dedupe_key)
        {
            return WebhookInsert::Duplicate(existing.id);
        }
        self.next_webhook += 1;
        let id = WebhookId(self.next_webhook);
        let status = if webhook.unparseable {
            WebhookStatus::Unparseable
        } else {
            WebhookStatus::Received
        };
        self.webhooks.insert(
            id,
            RawWebhook {
                id,
                account: webhook.account.clone(),
                dedupe_key: webhook.dedupe_key.clone(),
                event_type: webhook.event_type.clone(),
                received_at: webhook.received_at,
                body: Some(webhook.body.clone()),
                status,
                processed_at: None,
                failure: None,
            },
        );
        WebhookInsert::Inserted(id)
    }

    /// [`JobQueue::enqueue_job`] on the locked state.
    fn enqueue_job(&mut self, job: &NewJob, now: DateTime<Utc>) -> Enqueued {
        if let Some(key) = &job.dedupe_key
            && let Some(existing) = self
                .jobs
                .values()
                .find(|j| !j.state.is_finished() && j.dedupe_key.as_ref() == Some(key))
        {
            return Enqueued::Duplicate(existing.id);
        }
        self.next_job += 1;
        let id = JobId(self.next_job);
        self.jobs.insert(
            id,
            Job {
                id,
                kind: job.kind.clone(),
                payload: job.payload.clone(),
                dedupe_key: job.dedupe_key.clone(),
                state: JobState::Ready,
                attempts: 0,
                max_attempts: job.max_attempts.max(1),
                run_at: job.run_at,
                locked_by: None,
                locked_until: None,
                last_error: None,
                created_at: now,
                updated_at: now,
            },
        );
        Enqueued::Created(id)
    }

    fn require_meeting(&self, meeting: &MeetingId) -> StoreResult<()> {
        if self.meetings.contains_key(meeting) {
            Ok(())
        } else {
            Err(StoreError::not_found(Entity::Meeting))
        }
    }

    fn leased_job(&mut self, id: JobId, worker: &str) -> StoreResult<&mut Job> {
        let job = self
            .jobs
            .get_mut(&id)
            .ok_or(StoreError::not_found(Entity::Job))?;
        if job.state != JobState::Running || job.locked_by.as_deref() != Some(worker) {
            return Err(StoreError::conflict(
                Entity::Job,
                "job is not running under this worker",
            ));
        }
        Ok(job)
    }

    fn webhook(&mut self, id: WebhookId) -> StoreResult<&mut RawWebhook> {
        self.webhooks
            .get_mut(&id)
            .ok_or(StoreError::not_found(Entity::Webhook))
    }
}

fn event_key(event: &StoredEvent) -> EventKey {
    (
        event.event.instance.clone(),
        event.event.connection.clone(),
        event.event.action,
        event.event.at,
    )
}

fn email_eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The in-memory reference store: implements every storage trait (and so
/// [`Store`](crate::store::Store)) with a mutex over ordered maps.
///
/// It follows every documented contract exactly and passes the
/// [conformance suite](super::conformance); it is not meant for production (nothing is
/// persisted).
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    unavailable: Arc<AtomicBool>,
    lost_claim_answers: Arc<AtomicU32>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// While `true`, every call fails with [`StoreError::Unavailable`] (source:
    /// [`SimulatedOutage`]) and changes nothing. Affects all clones.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// The next `n` calls of [`claim_jobs`](JobQueue::claim_jobs) lease their jobs and then
    /// fail with [`StoreError::Unavailable`], as when a claim commits at the database and its
    /// answer is lost with the connection. Affects all clones.
    pub fn lose_claim_answers(&self, n: u32) {
        self.lost_claim_answers.store(n, Ordering::SeqCst);
    }

    fn state(&self) -> StoreResult<MutexGuard<'_, State>> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable(SimulatedOutage));
        }
        // A poisoned lock means a panic while holding it: report it instead of panicking.
        self.state
            .lock()
            .map_err(|_| StoreError::backend("in-memory store lock poisoned"))
    }
}

#[async_trait]
impl MeetingStore for MemoryStore {
    async fn insert_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
        let mut st = self.state()?;
        if st.meetings.contains_key(&meeting.id) {
            return Err(StoreError::conflict(Entity::Meeting, "meeting id taken"));
        }
        if st
            .meetings
            .values()
            .any(|m| m.account == meeting.account && m.zoom_meeting_id == meeting.zoom_meeting_id)
        {
            return Err(StoreError::conflict(
                Entity::Meeting,
                "zoom meeting already linked for this account",
            ));
        }
        st.meetings.insert(meeting.id.clone(), meeting.clone());
        Ok(())
    }

    async fn get_meeting(&self, id: &MeetingId) -> StoreResult<Option<MeetingRecord>> {
        Ok(self.state()?.meetings.get(id).cloned())
    }

    async fn find_meeting(
        &self,
        account: &AccountKey,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Option<MeetingRecord>> {
        Ok(self
            .state()?
            .meetings
            .values()
            .find(|m| &m.account == account && m.zoom_meeting_id == zoom_id)
            .cloned())
    }

    async fn find_meetings_by_zoom_id(
        &self,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Vec<MeetingRecord>> {
        let mut found: Vec<_> = self
            .state()?
            .meetings
            .values()
            .filter(|m| m.zoom_meeting_id == zoom_id)
            .cloned()
            .collect();
        found.sort_by_key(|m| m.created_at);
        Ok(found)
    }

    async fn list_meetings(&self, group: Option<&GroupKey>) -> StoreResult<Vec<MeetingRecord>> {
        let mut found: Vec<_> = self
            .state()?
            .meetings
            .values()
            .filter(|m| group.is_none_or(|g| &m.group == g))
            .cloned()
            .collect();
        found.sort_by_key(|m| m.created_at);
        Ok(found)
    }

    async fn update_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
        let mut st = self.state()?;
        if st.meetings.values().any(|m| {
            m.id != meeting.id
                && m.account == meeting.account
                && m.zoom_meeting_id == meeting.zoom_meeting_id
        }) {
            return Err(StoreError::conflict(
                Entity::Meeting,
                "zoom meeting already linked for this account",
            ));
        }
        let stored = st
            .meetings
            .get_mut(&meeting.id)
            .ok_or(StoreError::not_found(Entity::Meeting))?;
        *stored = MeetingRecord {
            created_at: stored.created_at,
            ..meeting.clone()
        };
        Ok(())
    }
}

#[async_trait]
impl RegistrationStore for MemoryStore {
    async fn ensure_pending_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationRecord> {
        let mut st = self.state()?;
        st.require_meeting(meeting)?;
        let row = st
            .registrations
            .entry((meeting.clone(), user.clone()))
            .or_insert_with(|| RegistrationRecord::pending(meeting.clone(), user.clone(), now));
        Ok(row.clone())
    }

    async fn update_registration(&self, record: &RegistrationRecord) -> StoreResult<()> {
        let mut st = self.state()?;
        if let Some(rid) = &record.registrant_id
            && st.registrations.values().any(|r| {
                r.meeting == record.meeting
                    && r.user != record.user
                    && r.registrant_id.as_ref() == Some(rid)
            })
        {
            return Err(StoreError::conflict(
                Entity::Registration,
                "registrant id already used in this meeting",
            ));
        }
        let stored = st
            .registrations
            .get_mut(&(record.meeting.clone(), record.user.clone()))
            .ok_or(StoreError::not_found(Entity::Registration))?;
        *stored = RegistrationRecord {
            created_at: stored.created_at,
            ..record.clone()
        };
        Ok(())
    }

    async fn get_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
    ) -> StoreResult<Option<RegistrationRecord>> {
        Ok(self
            .state()?
            .registrations
            .get(&(meeting.clone(), user.clone()))
            .cloned())
    }

    async fn list_registrations(
        &self,
        meeting: &MeetingId,
    ) -> StoreResult<Vec<RegistrationRecord>> {
        Ok(self
            .state()?
            .registrations
            .values()
            .filter(|r| &r.meeting == meeting)
            .cloned()
            .collect())
    }

    async fn count_registrations(&self, meeting: &MeetingId) -> StoreResult<RegistrationCounts> {
        let mut counts = RegistrationCounts::default();
        for r in self.state()?.registrations.values() {
            if &r.meeting == meeting {
                counts.add(r.status);
            }
        }
        Ok(counts)
    }

    async fn find_registration_by_registrant_id(
        &self,
        meeting: &MeetingId,
        registrant_id: &RegistrantId,
    ) -> StoreResult<Option<RegistrationRecord>> {
        Ok(self
            .state()?
            .registrations
            .values()
            .find(|r| &r.meeting == meeting && r.registrant_id.as_ref() == Some(registrant_id))
            .cloned())
    }

    async fn find_registrations_by_email(
        &self,
        meeting: &MeetingId,
        email: &str,
    ) -> StoreResult<Vec<RegistrationRecord>> {
        Ok(self
            .state()?
            .registrations
            .values()
            .filter(|r| {
                &r.meeting == meeting
                    && r.registrant_email
                        .as_deref()
                        .is_some_and(|e| email_eq(e, email))
            })
            .cloned()
            .collect())
    }

    async fn list_user_registrations(&self, user: &UserId) -> StoreResult<Vec<RegistrationRecord>> {
        Ok(self
            .state()?
            .registrations
            .values()
            .filter(|r| &r.user == user)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl WebhookInbox for MemoryStore {
    async fn insert_webhook(&self, webhook: &NewWebhook) -> StoreResult<WebhookInsert> {
        Ok(self.state()?.insert_webhook(webhook))
    }

    async fn insert_webhook_with_job(
        &self,
        webhook: &NewWebhook,
        job: &WebhookJob,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookInsert> {
        // One lock for both writes: nobody sees the delivery without its job.
        let mut st = self.state()?;
        let insert = st.insert_webhook(webhook);
        if let WebhookInsert::Inserted(id) = insert
            && !webhook.unparseable
        {
            st.enqueue_job(&job.for_webhook(id), now);
        }
        Ok(insert)
    }

    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Option<RawWebhook>> {
        Ok(self.state()?.webhooks.get(&id).cloned())
    }

    async fn mark_webhook_processed(&self, id: WebhookId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut st = self.state()?;
        let hook = st.webhook(id)?;
        hook.status = WebhookStatus::Processed;
        hook.processed_at = Some(now);
        hook.failure = None;
        Ok(())
    }

    async fn mark_webhook_failed(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut st = self.state()?;
        let hook = st.webhook(id)?;
        hook.status = WebhookStatus::Failed;
        hook.processed_at = Some(now);
        hook.failure = Some(reason.to_owned());
        Ok(())
    }

    async fn mark_webhook_unparseable(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut st = self.state()?;
        let hook = st.webhook(id)?;
        hook.status = WebhookStatus::Unparseable;
        hook.processed_at = Some(now);
        hook.failure = Some(reason.to_owned());
        Ok(())
    }

    async fn list_unprocessed_webhooks(
        &self,
        received_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<RawWebhook>> {
        let mut found: Vec<_> = self
            .state()?
            .webhooks
            .values()
            .filter(|w| w.status == WebhookStatus::Received && w.received_at < received_before)
            .cloned()
            .collect();
        found.sort_by_key(|w| (w.received_at, w.id));
        found.truncate(limit);
        Ok(found)
    }

    async fn purge_webhook_bodies(&self, older_than: DateTime<Utc>) -> StoreResult<u64> {
        let mut st = self.state()?;
        let mut purged = 0;
        for hook in st.webhooks.values_mut() {
            if hook.received_at < older_than && hook.body.take().is_some() {
                purged += 1;
            }
        }
        Ok(purged)
    }
}

#[async_trait]
impl AttendanceStore for MemoryStore {
    async fn upsert_instance(&self, update: &InstanceUpdate) -> StoreResult<InstanceRecord> {
        let mut st = self.state()?;
        st.require_meeting(&update.meeting)?;
        let merged = merge_instance(st.instances.get(&update.uuid), update)?;
        st.instances.insert(update.uuid.clone(), merged.clone());
        Ok(merged)
    }

    async fn finalize_instance(
        &self,
        uuid: &InstanceId,
        at: DateTime<Utc>,
    ) -> StoreResult<InstanceRecord> {
        let mut st = self.state()?;
        let row = st
            .instances
            .get_mut(uuid)
            .ok_or(StoreError::not_found(Entity::Instance))?;
        row.state = InstanceState::Final;
        row.reconciled_at = Some(row.reconciled_at.map_or(at, |r| r.max(at)));
        row.updated_at = at;
        Ok(row.clone())
    }

    async fn get_instance(&self, uuid: &InstanceId) -> StoreResult<Option<InstanceRecord>> {
        Ok(self.state()?.instances.get(uuid).cloned())
    }

    async fn list_instances(&self, meeting: &MeetingId) -> StoreResult<Vec<InstanceRecord>> {
        let mut found: Vec<_> = self
            .state()?
            .instances
            .values()
            .filter(|i| &i.meeting == meeting)
            .cloned()
            .collect();
        // Instances with a start first, by start; those without one last.
        found.sort_by_key(|i| (i.started_at.is_none(), i.started_at));
        Ok(found)
    }

    async fn insert_participant_events(&self, events: &[StoredEvent]) -> StoreResult<u64> {
        let mut st = self.state()?;
        for event in events {
            st.require_meeting(&event.meeting)?;
        }
        let mut inserted = 0;
        for event in events {
            if st.event_keys.insert(event_key(event)) {
                st.events.push(event.clone());
                inserted += 1;
            }
        }
        if inserted > 0 {
            st.evidence_generation += 1;
        }
        Ok(inserted)
    }

    async fn list_participant_events(
        &self,
        instance: &InstanceId,
    ) -> StoreResult<Vec<StoredEvent>> {
        let mut found: Vec<_> = self
            .state()?
            .events
            .iter()
            .filter(|e| &e.event.instance == instance)
            .cloned()
            .collect();
        found.sort_by_key(|e| e.event.at);
        Ok(found)
    }

    async fn replace_report_rows(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
        rows: &[ReportRow],
    ) -> StoreResult<()> {
        let mut st = self.state()?;
        st.require_meeting(meeting)?;
        st.reports
            .insert(instance.clone(), (meeting.clone(), rows.to_vec()));
        st.evidence_generation += 1;
        st.evidence_rewrites += 1;
        Ok(())
    }

    async fn list_report_rows(&self, instance: &InstanceId) -> StoreResult<Vec<ReportRow>> {
        let mut rows = self
            .state()?
            .reports
            .get(instance)
            .map(|(_, rows)| rows.clone())
            .unwrap_or_default();
        rows.sort_by_key(|r| r.join);
        Ok(rows)
    }

    async fn evidence_revision(
        &self,
        _instance: &InstanceId,
    ) -> StoreResult<Option<crate::store::EvidenceRevision>> {
        let st = self.state()?;
        let appended = i64::try_from(st.events.len()).unwrap_or(i64::MAX);
        Ok(Some(crate::store::EvidenceRevision::new([
            st.evidence_generation,
            st.evidence_rewrites,
            appended,
        ])))
    }

    async fn participant_events_since(
        &self,
        instance: &InstanceId,
        since: &crate::store::EvidenceRevision,
        now: &crate::store::EvidenceRevision,
    ) -> StoreResult<Option<Vec<StoredEvent>>> {
        let st = self.state()?;
        let (&[_, since_rewrites, from], &[_, now_rewrites, to]) = (since.parts(), now.parts())
        else {
            return Ok(None);
        };
        // Only appends between the two, and none of it rewritten since `now` was read: the
        // events then sit at the same places in `events`.
        if since_rewrites != now_rewrites || now_rewrites != st.evidence_rewrites {
            return Ok(None);
        }
        let (Ok(from), Ok(to)) = (usize::try_from(from), usize::try_from(to)) else {
            return Ok(None);
        };
        // (`None` also when `from > to`: `since` was not the earlier one.)
        let Some(appended) = st.events.get(from..to) else {
            return Ok(None);
        };
        let mut added: Vec<StoredEvent> = appended
            .iter()
            .filter(|e| &e.event.instance == instance)
            .cloned()
            .collect();
        added.sort_by_key(|e| e.event.at);
        Ok(Some(added))
    }

    async fn upsert_manual_link(&self, link: &ManualLink) -> StoreResult<()> {
        let mut st = self.state()?;
        st.require_meeting(&link.meeting)?;
        st.manual_links.insert(
            (link.meeting.clone(), link.participant_key.clone()),
            link.clone(),
        );
        Ok(())
    }

    async fn list_manual_links(&self, meeting: &MeetingId) -> StoreResult<Vec<ManualLink>> {
        Ok(self
            .state()?
            .manual_links
            .values()
            .filter(|l| &l.meeting == meeting)
            .cloned()
            .collect())
    }

    async fn record_join_click(&self, click: &JoinClick) -> StoreResult<()> {
        let mut st = self.state()?;
        st.require_meeting(&click.meeting)?;
        st.clicks.push(click.clone());
        Ok(())
    }

    async fn list_join_clicks(&self, meeting: &MeetingId) -> StoreResult<Vec<JoinClick>> {
        let mut found: Vec<_> = self
            .state()?
            .clicks
            .iter()
            .filter(|c| &c.meeting == meeting)
            .cloned()
            .collect();
        found.sort_by_key(|c| c.at);
        Ok(found)
    }
}

#[async_trait]
impl JobQueue for MemoryStore {
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<Enqueued> {
        Ok(self.state()?.enqueue_job(job, now))
    }

    async fn get_job(&self, id: JobId) -> StoreResult<Option<Job>> {
        Ok(self.state()?.jobs.get(&id).cloned())
    }

    async fn claim_jobs(
        &self,
        worker: &str,
        limit: usize,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Job>> {
        let mut st = self.state()?;
        let expired =
            |j: &Job| j.state == JobState::Running && j.locked_until.is_none_or(|t| t <= now);
        // Expired leases of jobs that used all their attempts: dead, not claimed again.
        for job in st.jobs.values_mut() {
            if expired(job) && job.attempts >= job.max_attempts {
                job.state = JobState::Dead;
                job.locked_until = None;
                job.last_error = Some("lease expired".to_owned());
                job.updated_at = now;
            }
        }
        let mut claimable: Vec<(DateTime<Utc>, JobId)> = st
            .jobs
            .values()
            .filter(|j| (j.state == JobState::Ready && j.run_at <= now) || expired(j))
            .map(|j| (j.run_at, j.id))
            .collect();
        claimable.sort();
        claimable.truncate(limit);
        let until = now
            .checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut claimed = Vec::with_capacity(claimable.len());
        for (_, id) in claimable {
            if let Some(job) = st.jobs.get_mut(&id) {
                job.state = JobState::Running;
                job.attempts = job.attempts.saturating_add(1);
                job.locked_by = Some(worker.to_owned());
                job.locked_until = Some(until);
                job.updated_at = now;
                claimed.push(job.clone());
            }
        }
        let lose = |n: u32| n.checked_sub(1);
        if self
            .lost_claim_answers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, lose)
            .is_ok()
        {
            return Err(StoreError::unavailable(SimulatedOutage));
        }
        Ok(claimed)
    }

    async fn complete_job(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let mut st = self.state()?;
        let job = st.leased_job(id, worker)?;
        job.state = JobState::Done;
        job.locked_until = None;
        job.updated_at = now;
        Ok(())
    }

    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<JobState> {
        let mut st = self.state()?;
        let job = st.leased_job(id, worker)?;
        job.last_error = Some(error.to_owned());
        job.locked_until = None;
        job.updated_at = now;
        if job.attempts >= job.max_attempts {
            job.state = JobState::Dead;
        } else {
            job.state = JobState::Ready;
            job.run_at = retry_at;
        }
        Ok(job.state)
    }

    async fn defer_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut st = self.state()?;
        let job = st.leased_job(id, worker)?;
        job.state = JobState::Ready;
        job.attempts = job.attempts.saturating_sub(1);
        job.run_at = run_at;
        job.locked_until = None;
        job.updated_at = now;
        Ok(())
    }

    async fn release_jobs(
        &self,
        worker: &str,
        keep: &[JobId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut st = self.state()?;
        let mut released = 0;
        for job in st.jobs.values_mut() {
            if job.state == JobState::Running
                && job.locked_by.as_deref() == Some(worker)
                && !keep.contains(&job.id)
            {
                job.state = JobState::Ready;
                job.attempts = job.attempts.saturating_sub(1);
                job.locked_until = None;
                job.updated_at = now;
                released += 1;
            }
        }
        Ok(released)
    }

    async fn job_counts(&self, kind: Option<&str>) -> StoreResult<JobCounts> {
        let mut counts = JobCounts::default();
        for job in self.state()?.jobs.values() {
            if kind.is_none_or(|k| job.kind == k) {
                counts.add(job.state);
            }
        }
        Ok(counts)
    }

    async fn purge_finished_jobs(&self, older_than: DateTime<Utc>) -> StoreResult<u64> {
        let mut st = self.state()?;
        let before = st.jobs.len();
        st.jobs
            .retain(|_, j| !(j.state.is_finished() && j.updated_at < older_than));
        Ok((before - st.jobs.len()) as u64)
    }
}

/// Decides whether a participant's hints belong to the erased user.
struct ErasureMatcher<'a> {
    user: &'a UserId,
    emails: &'a [String],
    /// Per meeting: the user's registrant ids and registrant emails there.
    registered: BTreeMap<MeetingId, (BTreeSet<String>, Vec<String>)>,
}

impl ErasureMatcher<'_> {
    fn matches(&self, meeting: &MeetingId, hints: &IdentityHints) -> bool {
        if hints.customer_key.as_deref() == Some(self.user.as_str()) {
            return true;
        }
        if let Some(email) = &hints.email
            && self.emails.iter().any(|e| email_eq(e, email))
        {
            return true;
        }
        let Some((registrant_ids, registrant_emails)) = self.registered.get(meeting) else {
            return false;
        };
        hints
            .registrant_id
            .as_ref()
            .is_some_and(|r| registrant_ids.contains(r))
            || hints
                .email
                .as_deref()
                .is_some_and(|e| registrant_emails.iter().any(|r| email_eq(r, e)))
    }
}

#[async_trait]
impl Privacy for MemoryStore {
    async fn erase_user(&self, user: &UserId, emails: &[String]) -> StoreResult<ErasureSummary> {
        let mut st = self.state()?;
        let st = &mut *st;
        let mut matcher = ErasureMatcher {
            user,
            emails,
            registered: BTreeMap::new(),
        };
        for r in st.registrations.values().filter(|r| &r.user == user) {
            let entry = matcher.registered.entry(r.meeting.clone()).or_default();
            if let Some(rid) = &r.registrant_id {
                entry.0.insert(rid.as_str().to_owned());
            }
            if let Some(email) = &r.registrant_email {
                entry.1.push(email.clone());
            }
        }

        let mut summary = ErasureSummary::default();
        let before = st.registrations.len();
        st.registrations.retain(|_, r| &r.user != user);
        summary.registrations = (before - st.registrations.len()) as u64;

        let before = st.clicks.len();
        st.clicks.retain(|c| &c.user != user);
        summary.join_clicks = (before - st.clicks.len()) as u64;

        let before = st.manual_links.len();
        st.manual_links.retain(|_, l| &l.user != user);
        summary.manual_links = (before - st.manual_links.len()) as u64;

        let before = st.events.len();
        let mut erased_keys = Vec::new();
        st.events.retain(|e| {
            let erase = matcher.matches(&e.meeting, &e.event.hints);
            if erase {
                erased_keys.push(event_key(e));
            }
            !erase
        });
        for key in erased_keys {
            st.event_keys.remove(&key);
        }
        summary.participant_events = (before - st.events.len()) as u64;

        for (meeting, rows) in st.reports.values_mut() {
            let before = rows.len();
            rows.retain(|r| !matcher.matches(meeting, &r.hints));
            summary.report_rows += (before - rows.len()) as u64;
        }
        if summary.participant_events + summary.report_rows > 0 {
            st.evidence_generation += 1;
            st.evidence_rewrites += 1;
        }
        Ok(summary)
    }
}

/// An in-memory [`UserDirectory`] for tests and examples.
///
/// Clones share the same users. Group listing is supported unless turned off with
/// [`without_group_listing`](Self::without_group_listing).
#[derive(Clone, Debug)]
pub struct MemoryDirectory {
    inner: Arc<Mutex<DirectoryState>>,
    unavailable: Arc<AtomicBool>,
    group_listing: bool,
}

#[derive(Debug, Default)]
struct DirectoryState {
    users: BTreeMap<UserId, HostUser>,
    groups: BTreeMap<GroupKey, BTreeSet<UserId>>,
}

impl Default for MemoryDirectory {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            unavailable: Arc::default(),
            group_listing: true,
        }
    }
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// A directory holding `users`.
    pub fn with_users(users: impl IntoIterator<Item = HostUser>) -> Self {
        let dir = Self::new();
        for user in users {
            dir.insert(user);
        }
        dir
    }

    /// This directory (same data), answering `list_group_users` with
    /// [`DirectoryError::Unsupported`], like a host that offers no group listing.
    #[must_use]
    pub fn without_group_listing(mut self) -> Self {
        self.group_listing = false;
        self
    }

    /// Adds or replaces a user.
    pub fn insert(&self, user: HostUser) {
        self.lock().users.insert(user.id.clone(), user);
    }

    /// Removes a user (and their group memberships); returns whether they existed.
    pub fn remove(&self, id: &UserId) -> bool {
        let mut st = self.lock();
        for members in st.groups.values_mut() {
            members.remove(id);
        }
        st.users.remove(id).is_some()
    }

    /// Puts a user into a group (the user need not exist yet).
    pub fn add_to_group(&self, group: &GroupKey, user: &UserId) {
        self.lock()
            .groups
            .entry(group.clone())
            .or_default()
            .insert(user.clone());
    }

    /// While `true`, every call fails with [`DirectoryError::Unavailable`].
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    fn lock(&self) -> MutexGuard<'_, DirectoryState> {
        // Only this module's short, non-panicking critical sections hold the lock, so poison
        // cannot carry a half-written state: recover the data.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn state(&self) -> Result<MutexGuard<'_, DirectoryState>, DirectoryError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(DirectoryError::unavailable(SimulatedOutage));
        }
        Ok(self.lock())
    }
}

#[async_trait]
impl UserDirectory for MemoryDirectory {
    async fn get_user(&self, id: &UserId) -> Result<Option<HostUser>, DirectoryError> {
        Ok(self.state()?.users.get(id).cloned())
    }

    async fn get_users(&self, ids: &[UserId]) -> Result<Vec<HostUser>, DirectoryError> {
        let st = self.state()?;
        let wanted: BTreeSet<&UserId> = ids.iter().collect();
        Ok(wanted
            .into_iter()
            .filter_map(|id| st.users.get(id).cloned())
            .collect())
    }

    async fn find_users_by_email(&self, email: &str) -> Result<Vec<HostUser>, DirectoryError> {
        Ok(self
            .state()?
            .users
            .values()
            .filter(|u| u.email.as_deref().is_some_and(|e| email_eq(e, email)))
            .cloned()
            .collect())
    }

    async fn list_group_users(&self, group: &GroupKey) -> Result<Vec<HostUser>, DirectoryError> {
        if !self.group_listing {
            return Err(DirectoryError::Unsupported {
                operation: "list_group_users",
            });
        }
        let st = self.state()?;
        Ok(st
            .groups
            .get(group)
            .into_iter()
            .flatten()
            .filter_map(|id| st.users.get(id).cloned())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_simulated_outage_is_retryable_and_changes_nothing() {
        let store = MemoryStore::new();
        let handle = store.clone();
        let job = NewJob::new("x", serde_json::json!({}), DateTime::<Utc>::UNIX_EPOCH);
        handle.set_unavailable(true);
        let err = store
            .enqueue_job(&job, DateTime::<Utc>::UNIX_EPOCH)
            .await
            .expect_err("unavailable");
        assert!(err.is_retryable(), "{err:?}");
        handle.set_unavailable(false);
        let counts = store.job_counts(None).await.expect("available again");
        assert_eq!(counts, JobCounts::default());
    }

    #[tokio::test]
    async fn directory_outage_and_missing_group_listing() {
        let dir = MemoryDirectory::with_users([HostUser {
            id: UserId::from("1"),
            email: Some("a@example.org".into()),
            name: "A".into(),
        }]);
        dir.set_unavailable(true);
        let err = dir.get_user(&UserId::from("1")).await.expect_err("down");
        assert!(err.is_retryable());
        dir.set_unavailable(false);
        assert!(dir.remove(&UserId::from("1")));
        assert_eq!(dir.get_user(&UserId::from("1")).await.expect("up"), None);
        let err = dir
            .without_group_listing()
            .list_group_users(&GroupKey::from("g"))
            .await
            .expect_err("unsupported");
        assert!(matches!(err, DirectoryError::Unsupported { .. }));
    }
}

//! [`FaultyStore`]: the in-memory store, except for the writes a test chooses to fail (as a
//! storage outage would), to exercise the service's recovery paths.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use attend_core::model::{
    AccountKey, GroupKey, InstanceId, MeetingId, RegistrantId, UserId, ZoomMeetingId,
};
use attend_core::store::{
    AttendanceStore, Enqueued, ErasureSummary, EvidenceRevision, InstanceRecord, InstanceUpdate,
    Job, JobCounts, JobId, JobQueue, JobState, JoinClick, ManualLink, MeetingRecord, MeetingStore,
    NewJob, NewWebhook, Privacy, RawWebhook, RegistrationCounts, RegistrationRecord,
    RegistrationStore, ReportRow, StoreError, StoreResult, StoredEvent, WebhookId, WebhookInbox,
    WebhookInsert, WebhookJob, async_trait,
};
use attend_core::testing::memory::MemoryStore;
use chrono::{DateTime, TimeDelta, Utc};

/// A write a [`FaultyStore`] may refuse.
pub enum Write<'a> {
    /// `update_registration`.
    Registration(&'a RegistrationRecord),
    /// `insert_participant_events` (one delivery's event, or a batch's).
    ParticipantEvents(&'a [StoredEvent]),
}

/// Forwards every call to `inner`, except a [`Write`] for which `fails` answers `true`: that
/// one fails as unavailable storage (retryable) and changes nothing. Counts the claims that
/// leased at least one job in `working_claims`. Asks for the worker batch size set by
/// [`with_webhook_batch_size`](Self::with_webhook_batch_size), or `inner`'s.
#[derive(Clone)]
pub struct FaultyStore {
    pub inner: MemoryStore,
    pub working_claims: Arc<AtomicUsize>,
    fails: Arc<dyn Fn(Write<'_>) -> bool + Send + Sync>,
    webhook_batch_size: Option<usize>,
}

impl FaultyStore {
    pub fn new(
        inner: MemoryStore,
        fails: impl Fn(Write<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner,
            working_claims: Arc::default(),
            fails: Arc::new(fails),
            webhook_batch_size: None,
        }
    }

    /// The same store, answering `size` to `webhook_batch_size`.
    #[allow(dead_code)] // Not every test binary that includes this module uses it.
    pub fn with_webhook_batch_size(self, size: usize) -> Self {
        Self {
            webhook_batch_size: Some(size),
            ..self
        }
    }

    fn check(&self, write: Write<'_>) -> StoreResult<()> {
        if (self.fails)(write) {
            return Err(StoreError::unavailable(std::io::Error::other(
                "injected storage fault",
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl RegistrationStore for FaultyStore {
    async fn ensure_pending_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationRecord> {
        self.inner
            .ensure_pending_registration(meeting, user, now)
            .await
    }
    async fn update_registration(&self, record: &RegistrationRecord) -> StoreResult<()> {
        self.check(Write::Registration(record))?;
        self.inner.update_registration(record).await
    }
    async fn get_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
    ) -> StoreResult<Option<RegistrationRecord>> {
        self.inner.get_registration(meeting, user).await
    }
    async fn list_registrations(
        &self,
        meeting: &MeetingId,
    ) -> StoreResult<Vec<RegistrationRecord>> {
        self.inner.list_registrations(meeting).await
    }
    async fn count_registrations(&self, meeting: &MeetingId) -> StoreResult<RegistrationCounts> {
        self.inner.count_registrations(meeting).await
    }
    async fn find_registration_by_registrant_id(
        &self,
        meeting: &MeetingId,
        registrant_id: &RegistrantId,
    ) -> StoreResult<Option<RegistrationRecord>> {
        self.inner
            .find_registration_by_registrant_id(meeting, registrant_id)
            .await
    }
    async fn find_registrations_by_email(
        &self,
        meeting: &MeetingId,
        email: &str,
    ) -> StoreResult<Vec<RegistrationRecord>> {
        self.inner.find_registrations_by_email(meeting, email).await
    }
    async fn list_user_registrations(&self, user: &UserId) -> StoreResult<Vec<RegistrationRecord>> {
        self.inner.list_user_registrations(user).await
    }
}

#[async_trait]
impl MeetingStore for FaultyStore {
    async fn insert_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
        self.inner.insert_meeting(meeting).await
    }
    async fn get_meeting(&self, id: &MeetingId) -> StoreResult<Option<MeetingRecord>> {
        self.inner.get_meeting(id).await
    }
    async fn find_meeting(
        &self,
        account: &AccountKey,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Option<MeetingRecord>> {
        self.inner.find_meeting(account, zoom_id).await
    }
    async fn find_meetings_by_zoom_id(
        &self,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Vec<MeetingRecord>> {
        self.inner.find_meetings_by_zoom_id(zoom_id).await
    }
    async fn list_meetings(&self, group: Option<&GroupKey>) -> StoreResult<Vec<MeetingRecord>> {
        self.inner.list_meetings(group).await
    }
    async fn update_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
        self.inner.update_meeting(meeting).await
    }
}

#[async_trait]
impl WebhookInbox for FaultyStore {
    async fn insert_webhook(&self, webhook: &NewWebhook) -> StoreResult<WebhookInsert> {
        self.inner.insert_webhook(webhook).await
    }
    async fn insert_webhook_with_job(
        &self,
        webhook: &NewWebhook,
        job: &WebhookJob,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookInsert> {
        self.inner.insert_webhook_with_job(webhook, job, now).await
    }
    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Option<RawWebhook>> {
        self.inner.get_webhook(id).await
    }
    async fn get_webhooks(&self, ids: &[WebhookId]) -> StoreResult<Vec<RawWebhook>> {
        self.inner.get_webhooks(ids).await
    }
    async fn mark_webhook_processed(&self, id: WebhookId, now: DateTime<Utc>) -> StoreResult<()> {
        self.inner.mark_webhook_processed(id, now).await
    }
    async fn mark_webhooks_processed(
        &self,
        ids: &[WebhookId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.inner.mark_webhooks_processed(ids, now).await
    }
    async fn mark_webhook_failed(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.inner.mark_webhook_failed(id, reason, now).await
    }
    async fn mark_webhook_unparseable(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.inner.mark_webhook_unparseable(id, reason, now).await
    }
    async fn list_unprocessed_webhooks(
        &self,
        received_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<RawWebhook>> {
        self.inner
            .list_unprocessed_webhooks(received_before, limit)
            .await
    }
    async fn purge_webhook_bodies(&self, older_than: DateTime<Utc>) -> StoreResult<u64> {
        self.inner.purge_webhook_bodies(older_than).await
    }
    fn webhook_batch_size(&self) -> usize {
        self.webhook_batch_size
            .unwrap_or_else(|| self.inner.webhook_batch_size())
    }
}

#[async_trait]
impl AttendanceStore for FaultyStore {
    async fn upsert_instance(&self, update: &InstanceUpdate) -> StoreResult<InstanceRecord> {
        self.inner.upsert_instance(update).await
    }
    async fn finalize_instance(
        &self,
        uuid: &InstanceId,
        at: DateTime<Utc>,
    ) -> StoreResult<InstanceRecord> {
        self.inner.finalize_instance(uuid, at).await
    }
    async fn get_instance(&self, uuid: &InstanceId) -> StoreResult<Option<InstanceRecord>> {
        self.inner.get_instance(uuid).await
    }
    async fn list_instances(&self, meeting: &MeetingId) -> StoreResult<Vec<InstanceRecord>> {
        self.inner.list_instances(meeting).await
    }
    async fn insert_participant_events(&self, events: &[StoredEvent]) -> StoreResult<u64> {
        self.check(Write::ParticipantEvents(events))?;
        self.inner.insert_participant_events(events).await
    }
    async fn list_participant_events(
        &self,
        instance: &InstanceId,
    ) -> StoreResult<Vec<StoredEvent>> {
        self.inner.list_participant_events(instance).await
    }
    async fn replace_report_rows(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
        rows: &[ReportRow],
    ) -> StoreResult<()> {
        self.inner
            .replace_report_rows(meeting, instance, rows)
            .await
    }
    async fn list_report_rows(&self, instance: &InstanceId) -> StoreResult<Vec<ReportRow>> {
        self.inner.list_report_rows(instance).await
    }
    async fn evidence_revision(
        &self,
        instance: &InstanceId,
    ) -> StoreResult<Option<EvidenceRevision>> {
        self.inner.evidence_revision(instance).await
    }
    async fn participant_events_since(
        &self,
        instance: &InstanceId,
        since: &EvidenceRevision,
        now: &EvidenceRevision,
    ) -> StoreResult<Option<Vec<StoredEvent>>> {
        self.inner
            .participant_events_since(instance, since, now)
            .await
    }
    async fn upsert_manual_link(&self, link: &ManualLink) -> StoreResult<()> {
        self.inner.upsert_manual_link(link).await
    }
    async fn list_manual_links(&self, meeting: &MeetingId) -> StoreResult<Vec<ManualLink>> {
        self.inner.list_manual_links(meeting).await
    }
    async fn record_join_click(&self, click: &JoinClick) -> StoreResult<()> {
        self.inner.record_join_click(click).await
    }
    async fn list_join_clicks(&self, meeting: &MeetingId) -> StoreResult<Vec<JoinClick>> {
        self.inner.list_join_clicks(meeting).await
    }
}

#[async_trait]
impl JobQueue for FaultyStore {
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<Enqueued> {
        self.inner.enqueue_job(job, now).await
    }
    async fn get_job(&self, id: JobId) -> StoreResult<Option<Job>> {
        self.inner.get_job(id).await
    }
    async fn claim_jobs(
        &self,
        worker: &str,
        limit: usize,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Job>> {
        let jobs = self.inner.claim_jobs(worker, limit, lease, now).await?;
        if !jobs.is_empty() {
            self.working_claims.fetch_add(1, Ordering::SeqCst);
        }
        Ok(jobs)
    }
    async fn complete_job(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.inner.complete_job(id, worker, now).await
    }
    async fn complete_jobs(
        &self,
        ids: &[JobId],
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<JobId>> {
        self.inner.complete_jobs(ids, worker, now).await
    }
    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<JobState> {
        self.inner.fail_job(id, worker, error, retry_at, now).await
    }
    async fn defer_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.inner.defer_job(id, worker, run_at, now).await
    }
    async fn release_jobs(
        &self,
        worker: &str,
        keep: &[JobId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.inner.release_jobs(worker, keep, now).await
    }
    async fn job_counts(&self, kind: Option<&str>) -> StoreResult<JobCounts> {
        self.inner.job_counts(kind).await
    }
    async fn purge_finished_jobs(&self, older_than: DateTime<Utc>) -> StoreResult<u64> {
        self.inner.purge_finished_jobs(older_than).await
    }
}

#[async_trait]
impl Privacy for FaultyStore {
    async fn erase_user(&self, user: &UserId, emails: &[String]) -> StoreResult<ErasureSummary> {
        self.inner.erase_user(user, emails).await
    }
}

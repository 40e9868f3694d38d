//! The storage traits for `Arc<T>`, forwarding to `T`: so an `Arc<dyn Store>` (or an
//! `Arc<MyStore>`) is itself a [`Store`](super::Store) and can be passed wherever a store is
//! expected by value (`impl Store`, a conformance factory, ...).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::model::{
    AccountKey, GroupKey, InstanceId, MeetingId, RegistrantId, UserId, ZoomMeetingId,
};

#[async_trait]
impl<T: MeetingStore + ?Sized> MeetingStore for Arc<T> {
    async fn insert_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
        (**self).insert_meeting(meeting).await
    }
    async fn get_meeting(&self, id: &MeetingId) -> StoreResult<Option<MeetingRecord>> {
        (**self).get_meeting(id).await
    }
    async fn find_meeting(
        &self,
        account: &AccountKey,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Option<MeetingRecord>> {
        (**self).find_meeting(account, zoom_id).await
    }
    async fn find_meetings_by_zoom_id(
        &self,
        zoom_id: ZoomMeetingId,
    ) -> StoreResult<Vec<MeetingRecord>> {
        (**self).find_meetings_by_zoom_id(zoom_id).await
    }
    async fn list_meetings(&self, group: Option<&GroupKey>) -> StoreResult<Vec<MeetingRecord>> {
        (**self).list_meetings(group).await
    }
    async fn update_meeting(&self, meeting: &MeetingRecord) -> StoreResult<()> {
        (**self).update_meeting(meeting).await
    }
}

#[async_trait]
impl<T: RegistrationStore + ?Sized> RegistrationStore for Arc<T> {
    async fn ensure_pending_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationRecord> {
        (**self)
            .ensure_pending_registration(meeting, user, now)
            .await
    }
    async fn update_registration(&self, record: &RegistrationRecord) -> StoreResult<()> {
        (**self).update_registration(record).await
    }
    async fn get_registration(
        &self,
        meeting: &MeetingId,
        user: &UserId,
    ) -> StoreResult<Option<RegistrationRecord>> {
        (**self).get_registration(meeting, user).await
    }
    async fn list_registrations(
        &self,
        meeting: &MeetingId,
    ) -> StoreResult<Vec<RegistrationRecord>> {
        (**self).list_registrations(meeting).await
    }
    async fn count_registrations(&self, meeting: &MeetingId) -> StoreResult<RegistrationCounts> {
        (**self).count_registrations(meeting).await
    }
    async fn find_registration_by_registrant_id(
        &self,
        meeting: &MeetingId,
        registrant_id: &RegistrantId,
    ) -> StoreResult<Option<RegistrationRecord>> {
        (**self)
            .find_registration_by_registrant_id(meeting, registrant_id)
            .await
    }
    async fn find_registrations_by_email(
        &self,
        meeting: &MeetingId,
        email: &str,
    ) -> StoreResult<Vec<RegistrationRecord>> {
        (**self).find_registrations_by_email(meeting, email).await
    }
    async fn list_user_registrations(&self, user: &UserId) -> StoreResult<Vec<RegistrationRecord>> {
        (**self).list_user_registrations(user).await
    }
}

#[async_trait]
impl<T: WebhookInbox + ?Sized> WebhookInbox for Arc<T> {
    async fn insert_webhook(&self, webhook: &NewWebhook) -> StoreResult<WebhookInsert> {
        (**self).insert_webhook(webhook).await
    }
    async fn insert_webhook_with_job(
        &self,
        webhook: &NewWebhook,
        job: &WebhookJob,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookInsert> {
        (**self).insert_webhook_with_job(webhook, job, now).await
    }
    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Option<RawWebhook>> {
        (**self).get_webhook(id).await
    }
    async fn mark_webhook_processed(&self, id: WebhookId, now: DateTime<Utc>) -> StoreResult<()> {
        (**self).mark_webhook_processed(id, now).await
    }
    async fn get_webhooks(&self, ids: &[WebhookId]) -> StoreResult<Vec<RawWebhook>> {
        (**self).get_webhooks(ids).await
    }
    async fn mark_webhooks_processed(
        &self,
        ids: &[WebhookId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        (**self).mark_webhooks_processed(ids, now).await
    }
    async fn mark_webhook_failed(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        (**self).mark_webhook_failed(id, reason, now).await
    }
    async fn mark_webhook_unparseable(
        &self,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        (**self).mark_webhook_unparseable(id, reason, now).await
    }
    async fn list_unprocessed_webhooks(
        &self,
        received_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<RawWebhook>> {
        (**self)
            .list_unprocessed_webhooks(received_before, limit)
            .await
    }
    async fn purge_webhook_bodies(&self, older_than: DateTime<Utc>) -> StoreResult<u64> {
        (**self).purge_webhook_bodies(older_than).await
    }

    fn webhook_batch_size(&self) -> usize {
        (**self).webhook_batch_size()
    }
}

#[async_trait]
impl<T: AttendanceStore + ?Sized> AttendanceStore for Arc<T> {
    async fn upsert_instance(&self, update: &InstanceUpdate) -> StoreResult<InstanceRecord> {
        (**self).upsert_instance(update).await
    }
    async fn finalize_instance(
        &self,
        uuid: &InstanceId,
        at: DateTime<Utc>,
    ) -> StoreResult<InstanceRecord> {
        (**self).finalize_instance(uuid, at).await
    }
    async fn get_instance(&self, uuid: &InstanceId) -> StoreResult<Option<InstanceRecord>> {
        (**self).get_instance(uuid).await
    }
    async fn list_instances(&self, meeting: &MeetingId) -> StoreResult<Vec<InstanceRecord>> {
        (**self).list_instances(meeting).await
    }
    async fn insert_participant_events(&self, events: &[StoredEvent]) -> StoreResult<u64> {
        (**self).insert_participant_events(events).await
    }
    async fn list_participant_events(
        &self,
        instance: &InstanceId,
    ) -> StoreResult<Vec<StoredEvent>> {
        (**self).list_participant_events(instance).await
    }
    async fn replace_report_rows(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
        rows: &[ReportRow],
    ) -> StoreResult<()> {
        (**self).replace_report_rows(meeting, instance, rows).await
    }
    async fn list_report_rows(&self, instance: &InstanceId) -> StoreResult<Vec<ReportRow>> {
        (**self).list_report_rows(instance).await
    }
    async fn evidence_revision(
        &self,
        instance: &InstanceId,
    ) -> StoreResult<Option<EvidenceRevision>> {
        (**self).evidence_revision(instance).await
    }
    async fn participant_events_since(
        &self,
        instance: &InstanceId,
        since: &EvidenceRevision,
        now: &EvidenceRevision,
    ) -> StoreResult<Option<Vec<StoredEvent>>> {
        (**self)
            .participant_events_since(instance, since, now)
            .await
    }
    async fn upsert_manual_link(&self, link: &ManualLink) -> StoreResult<()> {
        (**self).upsert_manual_link(link).await
    }
    async fn list_manual_links(&self, meeting: &MeetingId) -> StoreResult<Vec<ManualLink>> {
        (**self).list_manual_links(meeting).await
    }
    async fn record_join_click(&self, click: &JoinClick) -> StoreResult<()> {
        (**self).record_join_click(click).await
    }
    async fn list_join_clicks(&self, meeting: &MeetingId) -> StoreResult<Vec<JoinClick>> {
        (**self).list_join_clicks(meeting).await
    }
}

#[async_trait]
impl<T: JobQueue + ?Sized> JobQueue for Arc<T> {
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<Enqueued> {
        (**self).enqueue_job(job, now).await
    }
    async fn get_job(&self, id: JobId) -> StoreResult<Option<Job>> {
        (**self).get_job(id).await
    }
    async fn claim_jobs(
        &self,
        worker: &str,
        limit: usize,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Job>> {
        (**self).claim_jobs(worker, limit, lease, now).await
    }
    async fn complete_job(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> StoreResult<()> {
        (**self).complete_job(id, worker, now).await
    }
    async fn complete_jobs(
        &self,
        ids: &[JobId],
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<JobId>> {
        (**self).complete_jobs(ids, worker, now).await
    }
    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<JobState> {
        (**self).fail_job(id, worker, error, retry_at, now).await
    }
    async fn defer_job(
        &self,
        id: JobId,
        worker: &str,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        (**self).defer_job(id, worker, run_at, now).await
    }
    async fn release_jobs(
        &self,
        worker: &str,
        keep: &[JobId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        (**self).release_jobs(worker, keep, now).await
    }
    async fn job_counts(&self, kind: Option<&str>) -> StoreResult<JobCounts> {
        (**self).job_counts(kind).await
    }
    async fn unfinished_job_count(&self, kind: Option<&str>) -> StoreResult<u64> {
        (**self).unfinished_job_count(kind).await
    }
    async fn purge_finished_jobs(&self, older_than: DateTime<Utc>) -> StoreResult<u64> {
        (**self).purge_finished_jobs(older_than).await
    }
}

#[async_trait]
impl<T: Privacy + ?Sized> Privacy for Arc<T> {
    async fn erase_user(&self, user: &UserId, emails: &[String]) -> StoreResult<ErasureSummary> {
        (**self).erase_user(user, emails).await
    }
}

#[async_trait]
impl<T: UserDirectory + ?Sized> UserDirectory for Arc<T> {
    async fn get_user(&self, id: &UserId) -> Result<Option<HostUser>, DirectoryError> {
        (**self).get_user(id).await
    }
    async fn get_users(&self, ids: &[UserId]) -> Result<Vec<HostUser>, DirectoryError> {
        (**self).get_users(ids).await
    }
    async fn find_users_by_email(&self, email: &str) -> Result<Vec<HostUser>, DirectoryError> {
        (**self).find_users_by_email(email).await
    }
    async fn list_group_users(&self, group: &GroupKey) -> Result<Vec<HostUser>, DirectoryError> {
        (**self).list_group_users(group).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_store<S: Store>() {}
    fn assert_directory<D: UserDirectory>() {}

    #[test]
    fn arcs_of_stores_are_stores() {
        assert_store::<Arc<dyn Store>>();
        assert_directory::<Arc<dyn UserDirectory>>();
    }
}

//! Webhook ingest (the 3-second path) and processing (after the ack).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use tracing::{Instrument, debug, info_span, warn};

use crate::model::{AccountKey, InstanceId, ParticipantEvent, ZoomMeetingId};
use crate::store::{
    InstanceUpdate, MeetingRecord, NewWebhook, RawWebhook, StoredEvent, WebhookId, WebhookStatus,
};
use crate::zoom::{
    EventType, LifecyclePhase, RegistrationChange, WebhookEvent, WebhookHeaders, WebhookIntake,
    ZoomEvent, parse_event,
};

use super::jobs::Job;
use super::{Attend, ServiceError, WebhookAck};

/// Counts a delivery waiting for its commit in [`Inner::ingesting`](super::Inner) while it
/// lives (also when the request is dropped mid-wait).
struct Ingesting<'a>(&'a AtomicUsize);

impl<'a> Ingesting<'a> {
    fn count(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for Ingesting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What [`Attend::process_pending`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProcessReport {
    /// Deliveries processed (including those about meetings attend does not know).
    pub processed: u64,
    /// Correctly signed deliveries that could not be understood (kept and flagged).
    pub unparseable: u64,
    /// Deliveries whose processing failed this time (left for a retry).
    pub failed: u64,
}

/// How one stored delivery ended.
pub(crate) enum Processed {
    Done,
    Unparseable,
}

impl Attend {
    /// Receives one Zoom webhook delivery: the whole work of `POST /webhooks/zoom`.
    ///
    /// Checks the size, verifies the signature over the exact `body` bytes (constant time,
    /// all configured accounts and rotating secrets, replay window on
    /// `x-zm-request-timestamp` only), answers `endpoint.url_validation`, and otherwise
    /// stores the raw body durably under its dedupe key and queues its processing, both in
    /// one transaction. It never calls Zoom and does no heavy work, so it answers well within
    /// Zoom's 3 seconds.
    ///
    /// A correctly signed body that cannot be parsed is stored, flagged `unparseable`, and
    /// acknowledged (a 4xx would make Zoom drop it for good). A redelivery is acknowledged
    /// as a duplicate without storing it twice.
    ///
    /// # Errors
    /// * [`ServiceError::PayloadTooLarge`] (413) over [`Attend::webhook_body_limit`];
    /// * [`ServiceError::Signature`] (401): missing, malformed, wrong or stale signature;
    /// * [`ServiceError::StorageUnavailable`] (503): nothing was stored; Zoom will retry.
    ///
    /// `Ok` means the event (and its processing job, if it got one) is committed: only then
    /// may the adapter answer 200.
    pub async fn ingest_webhook(
        &self,
        headers: WebhookHeaders<'_>,
        body: &[u8],
    ) -> Result<WebhookAck, ServiceError> {
        let span = info_span!("attend.webhook.ingest", bytes = body.len());
        async move {
            if body.len() > self.inner.webhook_body_limit {
                metrics::counter!("attend_webhooks_total", "outcome" => "too_large").increment(1);
                return Err(ServiceError::PayloadTooLarge {
                    limit: self.inner.webhook_body_limit,
                });
            }
            let now = self.now();
            let intake = match self.inner.verifier.intake(headers, body, now) {
                Ok(intake) => intake,
                Err(err) => {
                    metrics::counter!("attend_webhooks_total", "outcome" => "bad_signature")
                        .increment(1);
                    debug!(code = err.code(), "webhook refused");
                    return Err(err.into());
                }
            };
            match intake {
                WebhookIntake::UrlValidation { response, .. } => {
                    metrics::counter!("attend_webhooks_total", "outcome" => "url_validation")
                        .increment(1);
                    Ok(WebhookAck::UrlValidation(response))
                }
                WebhookIntake::Event {
                    verified,
                    dedupe_key,
                    event_name,
                } => {
                    let (event_type, unparseable) = match event_name {
                        Ok(name) => (name, false),
                        Err(_) => ("unknown".to_owned(), true),
                    };
                    // The delivery and its processing job are stored in one transaction
                    // (a duplicate or an unparseable delivery gets no job), so a crash after
                    // the commit cannot leave the delivery without a job.
                    let job = Job::process_webhook_template(now, self.inner.worker.max_attempts);
                    let _waiting = Ingesting::count(&self.inner.ingesting);
                    let insert = self
                        .inner
                        .store
                        .insert_webhook_with_job(
                            &NewWebhook {
                                account: verified.account.clone(),
                                dedupe_key: dedupe_key.as_str().to_owned(),
                                event_type,
                                received_at: now,
                                body: body.to_vec(),
                                unparseable,
                            },
                            &job,
                            now,
                        )
                        .await
                        .inspect_err(|_| {
                            metrics::counter!("attend_webhooks_total", "outcome" => "store_failed")
                                .increment(1);
                        })?;
                    let duplicate = !insert.is_new();
                    let outcome = if duplicate {
                        "duplicate"
                    } else if unparseable {
                        "unparseable"
                    } else {
                        "stored"
                    };
                    metrics::counter!("attend_webhooks_total", "outcome" => outcome).increment(1);
                    Ok(WebhookAck::Stored {
                        webhook_id: insert.id(),
                        duplicate,
                        unparseable,
                    })
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Processes every stored delivery still waiting (status `received`), oldest first, in
    /// this task: normalizes participant events, records instance starts and ends, handles
    /// registration events, and schedules reconciliation after an end.
    ///
    /// Idempotent: processing a delivery twice, or deliveries in any order, gives the same
    /// state. The worker does the same work through jobs; call this in tests and demos, or
    /// from a host's own scheduler.
    ///
    /// # Errors
    /// Only if storage fails while listing deliveries; failures of single deliveries are
    /// counted in the report and left for a retry.
    pub async fn process_pending(&self) -> Result<ProcessReport, ServiceError> {
        let mut report = ProcessReport::default();
        let mut seen: HashSet<WebhookId> = HashSet::new();
        loop {
            let before = self.now() + TimeDelta::seconds(1);
            let batch = self
                .inner
                .store
                .list_unprocessed_webhooks(before, 500)
                .await?;
            let fresh: Vec<RawWebhook> = batch.into_iter().filter(|w| seen.insert(w.id)).collect();
            if fresh.is_empty() {
                return Ok(report);
            }
            for webhook in fresh {
                match self.process_stored(&webhook).await {
                    Ok(Processed::Done) => report.processed += 1,
                    Ok(Processed::Unparseable) => report.unparseable += 1,
                    Err(err) => {
                        warn!(webhook = %webhook.id, error = %err, "webhook processing failed");
                        report.failed += 1;
                    }
                }
            }
        }
    }

    /// Processes one stored delivery by id (the `process_webhook` job).
    pub(crate) async fn process_webhook(&self, id: WebhookId) -> Result<(), ServiceError> {
        let Some(webhook) = self.inner.store.get_webhook(id).await? else {
            return Ok(());
        };
        self.process_stored(&webhook).await.map(|_| ())
    }

    async fn process_stored(&self, webhook: &RawWebhook) -> Result<Processed, ServiceError> {
        if webhook.status != WebhookStatus::Received {
            return Ok(Processed::Done);
        }
        let now = self.now();
        let store = &self.inner.store;
        let Some(body) = &webhook.body else {
            store
                .mark_webhook_failed(webhook.id, "body purged before processing", now)
                .await?;
            return Ok(Processed::Done);
        };
        let event = match parse_event(body) {
            Ok(event) => event,
            Err(err) => {
                store
                    .mark_webhook_unparseable(webhook.id, &err.to_string(), now)
                    .await?;
                return Ok(Processed::Unparseable);
            }
        };
        let span = info_span!("attend.webhook.process", webhook = %webhook.id, event = %event.name);
        let result = self
            .apply_event(&webhook.account, webhook.id, &event, now)
            .instrument(span)
            .await;
        match result {
            Ok(()) => {
                store.mark_webhook_processed(webhook.id, now).await?;
                let lag = (now - webhook.received_at).num_milliseconds().max(0) as f64 / 1000.0;
                metrics::histogram!("attend_webhook_processing_lag_seconds").record(lag);
                Ok(Processed::Done)
            }
            Err(ApplyError::Unusable(reason)) => {
                store
                    .mark_webhook_unparseable(webhook.id, &reason, now)
                    .await?;
                Ok(Processed::Unparseable)
            }
            Err(ApplyError::Service(err)) => Err(err),
        }
    }

    /// Processes the deliveries of one `process_webhooks` job (a group commit's deliveries):
    /// in batches of the store's [`webhook_batch_size`](crate::store::WebhookInbox::webhook_batch_size)
    /// ([`process_webhook_batch`](Self::process_webhook_batch)), then what a batch leaves
    /// aside one by one; a batch that fails is processed one by one as a whole. A delivery
    /// that fails does not stop the others.
    ///
    /// # Errors
    /// The first failure, once every other delivery was tried: the job is retried, and a
    /// retry skips what is already processed.
    pub(crate) async fn process_webhook_group(
        &self,
        ids: &[WebhookId],
    ) -> Result<(), ServiceError> {
        let mut first_error = None;
        let batch = super::worker::webhook_batch(&*self.inner.store);
        for chunk in ids.chunks(batch) {
            let one_by_one = match self.process_webhook_batch(chunk).await {
                Ok(outcome) => outcome.one_by_one,
                Err(err) => {
                    debug!(error = %err, "batch processing failed; processing one by one");
                    chunk.to_vec()
                }
            };
            for id in one_by_one {
                if let Err(err) = self.process_webhook(id).await {
                    warn!(webhook = %id, error = %err, "webhook processing failed");
                    first_error.get_or_insert(err);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Processes the deliveries `ids` (of one claimed batch of jobs) together: one read of
    /// the deliveries, each meeting and instance looked up once, one insert of all their
    /// participant events, one "processed" mark. Only plain participant events are taken this
    /// way; every other delivery (lifecycle and registration events, bodies that do not parse
    /// or normalize) is returned in [`BatchOutcome::one_by_one`] for
    /// [`process_webhook`](Self::process_webhook), which also records why.
    ///
    /// The writes are ordered as in `process_webhook`: events first, then the mark, so a
    /// delivery is never marked processed without its event (a failure in between leaves it
    /// `received`, and the retry's insert of the same event is a no-op).
    ///
    /// # Errors
    /// A storage failure: nothing is finished then (some events may be stored, harmlessly);
    /// the caller runs each delivery's job on its own.
    pub(crate) async fn process_webhook_batch(
        &self,
        ids: &[WebhookId],
    ) -> Result<BatchOutcome, ServiceError> {
        let store = &self.inner.store;
        let now = self.now();
        let mut stored: HashMap<WebhookId, RawWebhook> = store
            .get_webhooks(ids)
            .await?
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
        let mut meetings: HashMap<(AccountKey, ZoomMeetingId), Option<MeetingRecord>> =
            HashMap::new();
        let mut instances: HashSet<InstanceId> = HashSet::new();
        let mut events = Vec::new();
        let mut to_mark = Vec::new();
        let mut outcome = BatchOutcome::default();
        for &id in ids {
            let Some(webhook) = stored.remove(&id) else {
                // Gone (or listed twice): as `process_webhook`, nothing to do.
                outcome.finished.push(id);
                continue;
            };
            if webhook.status != WebhookStatus::Received {
                outcome.finished.push(id);
                continue;
            }
            let Some((zoom_id, participant)) = plain_participant(&webhook) else {
                outcome.one_by_one.push(id);
                continue;
            };
            let meeting = match zoom_id {
                None => None,
                Some(zoom_id) => {
                    let key = (webhook.account.clone(), zoom_id);
                    if let Some(known) = meetings.get(&key) {
                        known.clone()
                    } else {
                        let found = store.find_meeting(&webhook.account, zoom_id).await?;
                        meetings.insert(key, found.clone());
                        found
                    }
                }
            };
            // A meeting attend does not manage: processed, nothing to keep.
            if let Some(meeting) = meeting {
                if instances.insert(participant.instance.clone()) {
                    self.ensure_instance(&meeting, &participant.instance, now)
                        .await?;
                }
                events.push(StoredEvent {
                    meeting: meeting.id,
                    event: participant,
                    source: Some(id),
                });
            }
            to_mark.push((id, webhook.received_at));
        }
        if !events.is_empty() {
            store.insert_participant_events(&events).await?;
        }
        if !to_mark.is_empty() {
            let marked: Vec<WebhookId> = to_mark.iter().map(|(id, _)| *id).collect();
            store.mark_webhooks_processed(&marked, now).await?;
            for (id, received_at) in to_mark {
                let lag = (now - received_at).num_milliseconds().max(0) as f64 / 1000.0;
                metrics::histogram!("attend_webhook_processing_lag_seconds").record(lag);
                outcome.finished.push(id);
            }
        }
        Ok(outcome)
    }

    /// Makes an instance visible even when `meeting.started` never arrives: creates its row
    /// (no start, no end) unless it exists, with its live check.
    async fn ensure_instance(
        &self,
        meeting: &MeetingRecord,
        instance: &InstanceId,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let store = &self.inner.store;
        if store.get_instance(instance).await?.is_none() {
            self.watch_live_instance(&meeting.id, instance, now).await?;
            store
                .upsert_instance(&InstanceUpdate {
                    meeting: meeting.id.clone(),
                    uuid: instance.clone(),
                    started_at: None,
                    ended_at: None,
                    at: now,
                })
                .await?;
        }
        Ok(())
    }

    async fn meeting_for(
        &self,
        account: &AccountKey,
        zoom_id: Option<ZoomMeetingId>,
    ) -> Result<Option<MeetingRecord>, ServiceError> {
        match zoom_id {
            Some(id) => Ok(self.inner.store.find_meeting(account, id).await?),
            None => Ok(None),
        }
    }

    async fn apply_event(
        &self,
        account: &AccountKey,
        id: WebhookId,
        event: &WebhookEvent,
        now: DateTime<Utc>,
    ) -> Result<(), ApplyError> {
        let store = &self.inner.store;
        match &event.event {
            ZoomEvent::Started { .. } | ZoomEvent::Ended { .. } => {
                let Some(life) = event
                    .lifecycle()
                    .map_err(|e| ApplyError::Unusable(e.to_string()))?
                else {
                    return Ok(());
                };
                let Some(mut meeting) = self.meeting_for(account, life.meeting_id).await? else {
                    return Ok(());
                };
                let (started_at, ended_at) = match life.phase {
                    LifecyclePhase::Started => (life.started_at, None),
                    LifecyclePhase::Ended => (life.started_at, life.ended_at.or(Some(now))),
                };
                if life.phase == LifecyclePhase::Started {
                    // Before the instance is stored: see `watch_live_instance`.
                    self.watch_live_instance(&meeting.id, &life.instance, now)
                        .await?;
                }
                store
                    .upsert_instance(&InstanceUpdate {
                        meeting: meeting.id.clone(),
                        uuid: life.instance.clone(),
                        started_at,
                        ended_at,
                        at: now,
                    })
                    .await
                    .map_err(ServiceError::from)?;
                if let Some(host) = life.host_id.as_deref()
                    && meeting.host_id.as_deref() != Some(host)
                    && meeting.host_id.is_none()
                {
                    meeting.host_id = Some(host.to_owned());
                    store
                        .update_meeting(&meeting)
                        .await
                        .map_err(ServiceError::from)?;
                }
                if life.phase == LifecyclePhase::Ended {
                    let ended = ended_at.unwrap_or(now);
                    self.schedule_reconcile(&meeting, &life.instance, ended, now)
                        .await?;
                }
                Ok(())
            }
            ZoomEvent::Participant { .. } => {
                let participant = event
                    .participant_event()
                    .map_err(|e| ApplyError::Unusable(e.to_string()))?;
                let Some(participant) = participant else {
                    return Ok(());
                };
                let Some(meeting) = self.meeting_for(account, event.meeting_id()).await? else {
                    return Ok(());
                };
                self.ensure_instance(&meeting, &participant.instance, now)
                    .await?;
                store
                    .insert_participant_events(&[StoredEvent {
                        meeting: meeting.id.clone(),
                        event: participant,
                        source: Some(id),
                    }])
                    .await
                    .map_err(ServiceError::from)?;
                Ok(())
            }
            ZoomEvent::Registration {
                event_type,
                payload,
            } => {
                let Some(meeting) = self.meeting_for(account, event.meeting_id()).await? else {
                    return Ok(());
                };
                self.on_registration_event(&meeting, *event_type, payload, now)
                    .await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Schedules the report pull of an ended instance (`reconcile:{uuid}` job).
    pub(crate) async fn schedule_reconcile(
        &self,
        meeting: &MeetingRecord,
        instance: &InstanceId,
        ended_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let delay = TimeDelta::from_std(self.inner.reconcile.delay).unwrap_or(TimeDelta::zero());
        let run_at = (ended_at + delay).max(now);
        self.enqueue_at(
            Job::Reconcile {
                meeting: meeting.id.clone(),
                instance: instance.clone(),
                ended_at,
                on_demand: false,
            },
            run_at,
            now,
        )
        .await
    }

    /// Registration events (meetings and webinars alike): auto-deny self-registrations of
    /// restricted meetings, and mirror cancellations/denials of attend's own registrants. An
    /// event whose kind differs from the linked record's (a webinar event for a meeting id, or
    /// the reverse) is ignored.
    async fn on_registration_event(
        &self,
        meeting: &MeetingRecord,
        event_type: EventType,
        payload: &crate::zoom::events::RegistrationPayload,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        if event_type.meeting_kind() != Some(meeting.kind) {
            return Ok(());
        }
        let Some(change) = event_type.registration_change() else {
            return Ok(());
        };
        let registrant = &payload.object.registrant;
        let ours = self
            .own_registration(
                meeting,
                registrant.id.as_deref(),
                registrant.email.as_deref(),
            )
            .await?;
        match change {
            RegistrationChange::Created => {
                let restricted = meeting.restrict_to_registered
                    && self.inner.registration.auto_deny_self_registrations;
                if ours.is_none()
                    && restricted
                    && let Some(registrant_id) = registrant.id.clone()
                {
                    self.enqueue(
                        Job::DenyRegistrant {
                            meeting: meeting.id.clone(),
                            registrant_id,
                            email: registrant.email.clone(),
                        },
                        now,
                    )
                    .await?;
                }
            }
            RegistrationChange::Cancelled | RegistrationChange::Denied => {
                if let Some(mut record) = ours
                    && record.registrant_id.as_ref().map(|r| r.as_str()) == registrant.id.as_deref()
                    && record.status != crate::model::RegistrationStatus::Cancelled
                {
                    record.status = crate::model::RegistrationStatus::Cancelled;
                    record.updated_at = now;
                    self.inner.store.update_registration(&record).await?;
                }
            }
            RegistrationChange::Approved => {}
        }
        Ok(())
    }

    /// attend's own registration behind a registrant: by registrant id, else by the email
    /// attend registers (or will register) the user with.
    async fn own_registration(
        &self,
        meeting: &MeetingRecord,
        registrant_id: Option<&str>,
        email: Option<&str>,
    ) -> Result<Option<crate::store::RegistrationRecord>, ServiceError> {
        let store = &self.inner.store;
        if let Some(id) = registrant_id.filter(|s| !s.is_empty()) {
            let found = store
                .find_registration_by_registrant_id(
                    &meeting.id,
                    &crate::model::RegistrantId::new(id),
                )
                .await?;
            if found.is_some() {
                return Ok(found);
            }
        }
        if let Some(email) = email.filter(|s| !s.is_empty()) {
            let mut found = store
                .find_registrations_by_email(&meeting.id, email)
                .await?;
            if found.len() == 1 {
                return Ok(found.pop());
            }
        }
        Ok(None)
    }
}

/// What [`Attend::process_webhook_batch`] did with each delivery of a batch.
#[derive(Debug, Default)]
pub(crate) struct BatchOutcome {
    /// Finished: processed now, already processed (or failed, unparseable) before, or no
    /// longer stored. Their jobs are done.
    pub(crate) finished: Vec<WebhookId>,
    /// Left for [`Attend::process_webhook`], one by one.
    pub(crate) one_by_one: Vec<WebhookId>,
}

/// The participant event of a delivery that the batch path can store as is: a parsed
/// participant event that normalizes, with the Zoom meeting it names (`None`: it names none,
/// and is processed without storing anything). `None` for anything else.
fn plain_participant(webhook: &RawWebhook) -> Option<(Option<ZoomMeetingId>, ParticipantEvent)> {
    let event = crate::zoom::read_event(webhook.body.as_deref()?).ok()?;
    let participant = event.participant_event().ok()??;
    Some((event.meeting_id(), participant))
}

/// Why applying a delivery stopped: it is signed but unusable (stored and flagged), or a
/// service failure (left for a retry).
enum ApplyError {
    Unusable(String),
    Service(ServiceError),
}

impl From<ServiceError> for ApplyError {
    fn from(err: ServiceError) -> Self {
        ApplyError::Service(err)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::Ingesting;

    #[tokio::test]
    async fn a_delivery_is_counted_while_it_waits_and_not_after() {
        let counter = AtomicUsize::new(0);
        let first = Ingesting::count(&counter);
        {
            let _second = Ingesting::count(&counter);
            assert_eq!(counter.load(Ordering::Relaxed), 2);
        }
        assert_eq!(counter.load(Ordering::Relaxed), 1);
        // A request dropped while it waits for its commit gives its count back too.
        let waiting = async {
            let _third = Ingesting::count(&counter);
            std::future::pending::<()>().await;
        };
        let gave_up = tokio::time::timeout(Duration::from_millis(5), waiting).await;
        assert!(gave_up.is_err());
        assert_eq!(counter.load(Ordering::Relaxed), 1);
        drop(first);
        assert_eq!(counter.load(Ordering::Relaxed), 0);
    }
}

//! Reconciliation: pulling Zoom's participant report after an instance ended.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::model::{InstanceId, InstanceState, MeetingId};
use crate::store::{MeetingRecord, ReportRow};

use super::jobs::{Job, ReconcileOutcome};
use super::worker::JobOutcome;
use super::zoom_glue::ZoomFailure;
use super::{Attend, Missing, ReconcileQueued, ServiceError};

impl Attend {
    /// Queues an immediate report pull (`POST /meetings/{id}/reconcile`, answered 202) for
    /// one instance, or for every instance of the meeting that has ended. The pull runs in
    /// the worker; see [`reconcile_now`](Self::reconcile_now) to pull in this task.
    ///
    /// Without `instance`, live instances are skipped. An instance named by `instance` is
    /// queued even while it is live: its `meeting.ended` may never have arrived (Zoom gave up
    /// its retries during an outage), and only Zoom's report can tell. Zoom's participant
    /// report covers past meetings only, so if Zoom has one for it, the meeting has ended: the
    /// report is merged and the instance becomes `final` (its end is the last leave). If not,
    /// nothing changes and nothing is retried: a meeting that is really live is never made
    /// final by this. attend makes the same check by itself for instances still live hours
    /// after it first saw them
    /// ([`live_check_after`](super::ReconcileOptions::live_check_after)).
    ///
    /// # Errors
    /// `NotFound(Meeting)`, `NotFound(Instance)`; `StorageUnavailable`.
    pub async fn request_reconcile(
        &self,
        meeting: &MeetingId,
        instance: Option<&InstanceId>,
    ) -> Result<ReconcileQueued, ServiceError> {
        let record = self.meeting_record(meeting).await?;
        let store = &self.inner.store;
        let candidates = match instance {
            Some(uuid) => vec![
                store
                    .get_instance(uuid)
                    .await?
                    .filter(|i| i.meeting == record.id)
                    .ok_or(ServiceError::NotFound(Missing::Instance))?,
            ],
            None => store.list_instances(meeting).await?,
        };
        let now = self.now();
        let mut queued = Vec::new();
        let named = instance.is_some();
        for i in candidates {
            let ended_at = match i.ended_at {
                Some(ended_at) => ended_at,
                // Live: a single pull, asked for by name (see above).
                None if named && i.is_open() => now,
                None => continue,
            };
            self.enqueue(
                Job::Reconcile {
                    meeting: record.id.clone(),
                    instance: i.uuid.clone(),
                    ended_at,
                    on_demand: true,
                },
                now,
            )
            .await?;
            queued.push(i.uuid);
        }
        Ok(ReconcileQueued {
            meeting_id: record.id,
            instances: queued,
        })
    }

    /// Pulls the participant report of one instance now, in this task, and merges it:
    /// report rows are stored (replacing any earlier pull; waiting-room rows left out) and
    /// the instance becomes `final`. A report that is not ready yet schedules another pull;
    /// an account without report access makes the instance final after the grace period.
    /// A live instance (no `meeting.ended` seen) is pulled once: with a report it becomes
    /// `final`, without one it stays live and the answer is `NotEnded`.
    ///
    /// # Errors
    /// `NotFound(Meeting)`, `NotFound(Instance)`; `RateLimited` / `ZoomUnavailable`
    /// (retry later); `StorageUnavailable`.
    pub async fn reconcile_now(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
    ) -> Result<ReconcileOutcome, ServiceError> {
        let record = self.meeting_record(meeting).await?;
        let found = self
            .inner
            .store
            .get_instance(instance)
            .await?
            .filter(|i| i.meeting == record.id)
            .ok_or(ServiceError::NotFound(Missing::Instance))?;
        let live = found.is_open();
        let ended_at = found.ended_at.unwrap_or_else(|| self.now());
        let outcome = self.pull_report(&record, instance, ended_at, live).await?;
        if let ReconcileOutcome::NotReady { retry_at } = &outcome {
            self.enqueue_at(
                Job::Reconcile {
                    meeting: record.id.clone(),
                    instance: instance.clone(),
                    ended_at,
                    on_demand: false,
                },
                *retry_at,
                self.now(),
            )
            .await?;
        }
        Ok(outcome)
    }

    /// The `reconcile` job.
    pub(crate) async fn reconcile_job(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
        ended_at: DateTime<Utc>,
    ) -> Result<ReconcileOutcome, ServiceError> {
        let Some(record) = self.inner.store.get_meeting(meeting).await? else {
            return Ok(ReconcileOutcome::GaveUp);
        };
        // A pull asked for while the instance was live (see `request_reconcile`); its
        // `meeting.ended` may have arrived since, and then this is an ordinary pull.
        let live = self.instance_is_open(instance).await?;
        self.pull_report(&record, instance, ended_at, live).await
    }

    /// Whether `instance` is stored and still open ([`InstanceRecord::is_open`]: live, no
    /// end seen); `false` for an unknown instance.
    ///
    /// [`InstanceRecord::is_open`]: crate::store::InstanceRecord::is_open
    async fn instance_is_open(&self, instance: &InstanceId) -> Result<bool, ServiceError> {
        Ok(self
            .inner
            .store
            .get_instance(instance)
            .await?
            .is_some_and(|i| i.is_open()))
    }

    /// Queues the [live check](super::ReconcileOptions::live_check_after) of an instance
    /// attend sees for the first time (`now`); a no-op if one is queued, or if checks are off.
    /// Callers queue it *before* they store the instance: a crash in between leaves a check
    /// that finds no instance (and does nothing), never an instance without its check.
    pub(crate) async fn watch_live_instance(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let Some(after) = self.inner.reconcile.live_check_after else {
            return Ok(());
        };
        self.enqueue_at(
            Job::LiveCheck {
                meeting: meeting.clone(),
                instance: instance.clone(),
                seen: now,
            },
            later(now, after),
            now,
        )
        .await
    }

    /// The `live_check` job: an instance with no end seen yet is pulled once as a reconcile
    /// naming it would be ([`request_reconcile`](Self::request_reconcile)): a report makes it
    /// `final`. Without one, an instance Zoom lists among the meeting's ended ones becomes
    /// `final` from webhooks alone (ending at the last event seen); any other stays live and
    /// the check comes back after as long again as attend has known it (`seen`: at least
    /// `live_check_after`), a last time `live_check_for` after `seen`, when it too becomes
    /// `final` from webhooks alone. An instance that ended (or is gone) needs nothing.
    pub(crate) async fn live_check_job(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
        seen: DateTime<Utc>,
    ) -> Result<JobOutcome, ServiceError> {
        let opts = &self.inner.reconcile;
        // Checks turned off since this one was queued: none, as documented.
        let Some(after) = opts.live_check_after else {
            return Ok(JobOutcome::Done);
        };
        if !self.instance_is_open(instance).await? {
            return Ok(JobOutcome::Done);
        }
        let Some(record) = self.inner.store.get_meeting(meeting).await? else {
            return Ok(JobOutcome::Done);
        };
        let now = self.now();
        let outcome = self.pull_report(&record, instance, now, true).await?;
        if outcome != ReconcileOutcome::NotEnded {
            metrics::counter!("attend_live_checks_total", "outcome" => "ended").increment(1);
            info!(%meeting, %instance, "an instance with no end seen had ended: Zoom has its report");
            return Ok(JobOutcome::Done);
        }
        if self.zoom_lists_as_ended(&record, instance).await {
            // Ended, says Zoom, but without a report: a meeting with fewer than two
            // participants has none, and some accounts cannot read reports.
            return self
                .finalize_from_webhooks(
                    meeting,
                    instance,
                    now,
                    "ended_without_report",
                    "Zoom lists the instance as ended but has no report for it",
                )
                .await;
        }
        let stop_at = later(seen, opts.live_check_for);
        if now >= stop_at {
            // No end and no report for `live_check_for`. Measured up to "now", the roster
            // would shrink every day.
            return self
                .finalize_from_webhooks(
                    meeting,
                    instance,
                    now,
                    "final_without_report",
                    "no end and no report since attend first saw the instance",
                )
                .await;
        }
        // As long again as attend has known the instance: 2×, 4×, … `after` since `seen`.
        let known = (now - seen).to_std().unwrap_or_default();
        let wait = known.max(after).max(Duration::from_secs(60));
        let next = later(now, wait).min(stop_at);
        metrics::counter!("attend_live_checks_total", "outcome" => "still_live").increment(1);
        Ok(JobOutcome::Defer(next))
    }

    /// Ends a live check by making `instance` `final` from its webhooks alone, ending at the
    /// last event seen (they are all there is without a report), counted under `outcome`
    /// and logged with `why`.
    async fn finalize_from_webhooks(
        &self,
        meeting: &MeetingId,
        instance: &InstanceId,
        now: DateTime<Utc>,
        outcome: &'static str,
        why: &'static str,
    ) -> Result<JobOutcome, ServiceError> {
        self.inner.store.finalize_instance(instance, now).await?;
        metrics::counter!("attend_live_checks_total", "outcome" => outcome).increment(1);
        warn!(%meeting, %instance, "{why}; final from webhooks alone");
        Ok(JobOutcome::Done)
    }

    /// Whether Zoom lists `instance` among the meeting's ended instances
    /// (`GET /past_meetings/{id}/instances`). A failed call counts as "cannot tell": `false`.
    async fn zoom_lists_as_ended(&self, meeting: &MeetingRecord, instance: &InstanceId) -> bool {
        let Ok(api) = self.account(&meeting.account) else {
            return false;
        };
        match api
            .ended_instances(meeting.kind, meeting.zoom_meeting_id)
            .await
        {
            Ok(uuids) => uuids.iter().any(|u| u == instance.as_str()),
            Err(err) => {
                debug!(meeting = %meeting.id, %instance, error = ?err, "cannot list the ended instances");
                false
            }
        }
    }

    /// The `finalize` job: webhooks alone are the result.
    pub(crate) async fn finalize_job(
        &self,
        instance: &InstanceId,
    ) -> Result<JobOutcome, ServiceError> {
        match self.inner.store.get_instance(instance).await? {
            Some(i) if i.state != InstanceState::Final => {
                self.inner
                    .store
                    .finalize_instance(instance, self.now())
                    .await?;
                Ok(JobOutcome::Done)
            }
            _ => Ok(JobOutcome::Done),
        }
    }

    /// Pulls and merges the report; `live`: the instance has no end yet, so anything but a
    /// report leaves it as it is (`NotEnded`), with no retry and no finalizing.
    async fn pull_report(
        &self,
        meeting: &MeetingRecord,
        instance: &InstanceId,
        ended_at: DateTime<Utc>,
        live: bool,
    ) -> Result<ReconcileOutcome, ServiceError> {
        let span = info_span!("attend.reconcile", meeting = %meeting.id, instance = %instance);
        async move {
            let now = self.now();
            let store = &self.inner.store;
            let opts = &self.inner.reconcile;
            let api = self.account(&meeting.account)?;
            let give_up_at = ended_at + TimeDelta::from_std(opts.retry_for).unwrap_or_default();
            let not_ready = || {
                if now >= give_up_at {
                    None
                } else {
                    // Roughly doubling: wait half the time elapsed since the end, within
                    // the backoff's bounds.
                    let elapsed = now - ended_at;
                    let wait = (elapsed / 2).max(opts.backoff.base).min(opts.backoff.max);
                    Some((now + wait).min(give_up_at))
                }
            };
            match api
                .report_participants(meeting.kind, instance.as_str())
                .await
            {
                Ok(rows) if !rows.is_empty() => {
                    let rows: Vec<ReportRow> = rows
                        .into_iter()
                        .filter(|r| !r.in_waiting_room && r.leave >= r.join)
                        .map(|r| ReportRow {
                            hints: r.hints,
                            join: r.join,
                            leave: r.leave,
                        })
                        .collect();
                    store
                        .replace_report_rows(&meeting.id, instance, &rows)
                        .await?;
                    store.finalize_instance(instance, now).await?;
                    info!(rows = rows.len(), live, "report merged; instance final");
                    Ok(ReconcileOutcome::Final {
                        report_rows: rows.len(),
                    })
                }
                // No report for an instance without an end: it may well be live. Leave it.
                Ok(_) | Err(ZoomFailure::NotFound { .. } | ZoomFailure::NoAccess { .. })
                    if live =>
                {
                    info!("no report for a live instance; it stays live");
                    Ok(ReconcileOutcome::NotEnded)
                }
                // An empty report a while after the end means nobody (but the host) came:
                // Zoom builds reports only for meetings with two or more participants.
                Ok(_)
                    if now
                        >= ended_at
                            + TimeDelta::from_std(opts.grace_without_report)
                                .unwrap_or_default() =>
                {
                    store
                        .replace_report_rows(&meeting.id, instance, &[])
                        .await?;
                    store.finalize_instance(instance, now).await?;
                    Ok(ReconcileOutcome::Final { report_rows: 0 })
                }
                Ok(_) | Err(ZoomFailure::NotFound { .. }) => match not_ready() {
                    Some(retry_at) => Ok(ReconcileOutcome::NotReady { retry_at }),
                    None => {
                        store.finalize_instance(instance, now).await?;
                        info!("no report within the retry window; final from webhooks");
                        Ok(ReconcileOutcome::GaveUp)
                    }
                },
                Err(ZoomFailure::NoAccess { .. }) => {
                    let final_at = ended_at
                        + TimeDelta::from_std(opts.grace_without_report).unwrap_or_default();
                    if final_at <= now {
                        store.finalize_instance(instance, now).await?;
                    } else {
                        self.enqueue_at(
                            Job::Finalize {
                                instance: instance.clone(),
                            },
                            final_at,
                            now,
                        )
                        .await?;
                    }
                    Ok(ReconcileOutcome::WithoutReport { final_at })
                }
                Err(other) => Err(other.into_service(now)),
            }
        }
        .instrument(span)
        .await
    }
}

/// `t + by`, or the latest time there is if that is beyond it (a `Duration` of years).
fn later(t: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(by)
        .ok()
        .and_then(|by| t.checked_add_signed(by))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

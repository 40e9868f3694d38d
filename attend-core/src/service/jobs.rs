//! The background jobs of the service: what they carry and how they are queued.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{AccountKey, InstanceId, MeetingId, MeetingKind, ZoomMeetingId};
use crate::store::{NewJob, WebhookId, WebhookJob};

use super::{Attend, ServiceError};

/// The kind of [`Job::ProcessWebhook`] (also written by its template before the delivery has an
/// id).
pub(crate) const PROCESS_WEBHOOK: &str = "process_webhook";

/// The kind of [`Job::ProcessWebhooks`].
pub(crate) const PROCESS_WEBHOOKS: &str = "process_webhooks";

/// One unit of background work. Stored as the job's `kind` + JSON `payload`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub(crate) enum Job {
    /// Normalize one stored webhook delivery.
    ProcessWebhook { webhook: WebhookId },
    /// Normalize the stored deliveries one group commit stored together (a store may queue
    /// this one job for all of them instead of a `ProcessWebhook` each; see
    /// [`WebhookJob::for_webhooks`]). No dedupe key: no other job names the same group.
    ProcessWebhooks { webhooks: Vec<WebhookId> },
    /// Register the due pending registrations of a meeting.
    Register { meeting: MeetingId },
    /// Pull the participant report of an ended instance, then finalize it.
    Reconcile {
        meeting: MeetingId,
        instance: InstanceId,
        ended_at: DateTime<Utc>,
        /// Asked for by a user (`POST reconcile`): not merged with a scheduled pull that
        /// waits for a later time.
        #[serde(default)]
        on_demand: bool,
    },
    /// Finalize an instance with webhooks alone (no report access).
    Finalize { instance: InstanceId },
    /// Check an instance that may be live against Zoom's report (see
    /// [`ReconcileOptions::live_check_after`](super::ReconcileOptions::live_check_after)):
    /// queued when attend first sees the instance, to run that long after `seen`, and put
    /// back at doubling intervals while the instance stays live.
    LiveCheck {
        meeting: MeetingId,
        instance: InstanceId,
        /// When attend first saw the instance (processed its first event).
        seen: DateTime<Utc>,
    },
    /// Deny a self-registration of a restricted meeting at Zoom.
    DenyRegistrant {
        meeting: MeetingId,
        registrant_id: String,
        email: Option<String>,
    },
    /// Delete registrants at Zoom (an erased user's).
    DeleteRegistrants {
        account: AccountKey,
        kind: MeetingKind,
        zoom_meeting_id: ZoomMeetingId,
        registrant_ids: Vec<String>,
    },
}

impl Job {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Job::ProcessWebhook { .. } => PROCESS_WEBHOOK,
            Job::ProcessWebhooks { .. } => PROCESS_WEBHOOKS,
            Job::Register { .. } => "register",
            Job::Reconcile { .. } => "reconcile",
            Job::Finalize { .. } => "finalize",
            Job::LiveCheck { .. } => "live_check",
            Job::DenyRegistrant { .. } => "deny_registrant",
            Job::DeleteRegistrants { .. } => "delete_registrants",
        }
    }

    /// While such a job is queued or running, enqueueing an equal key is a no-op.
    fn dedupe_key(&self) -> Option<String> {
        match self {
            Job::ProcessWebhook { webhook } => Some(format!("webhook:{webhook}")),
            Job::Register { meeting } => Some(format!("register:{meeting}")),
            Job::Reconcile {
                instance,
                on_demand: false,
                ..
            } => Some(format!("reconcile:{instance}")),
            Job::Reconcile {
                instance,
                on_demand: true,
                ..
            } => Some(format!("reconcile-now:{instance}")),
            Job::Finalize { instance } => Some(format!("finalize:{instance}")),
            Job::LiveCheck { instance, .. } => Some(format!("live-check:{instance}")),
            Job::DenyRegistrant {
                meeting,
                registrant_id,
                ..
            } => Some(format!("deny:{meeting}:{registrant_id}")),
            Job::ProcessWebhooks { .. } | Job::DeleteRegistrants { .. } => None,
        }
    }

    pub(crate) fn to_new_job(&self, run_at: DateTime<Utc>, max_attempts: u32) -> NewJob {
        let payload = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        let mut job = NewJob::new(self.kind(), payload, run_at).with_max_attempts(max_attempts);
        if let Some(key) = self.dedupe_key() {
            job = job.with_dedupe_key(key);
        }
        job
    }

    /// The `process_webhook` job of a delivery still to be stored, runnable at `run_at`: the
    /// store fills in the delivery's id in the transaction that stores it
    /// ([`WebhookInbox::insert_webhook_with_job`](crate::store::WebhookInbox::insert_webhook_with_job)).
    /// Its group form is one `process_webhooks` job for the deliveries a store commits
    /// together: under load, one job row per group commit instead of one per delivery.
    pub(crate) fn process_webhook_template(run_at: DateTime<Utc>, max_attempts: u32) -> WebhookJob {
        fn bind(template: NewJob, webhook: WebhookId) -> NewJob {
            Job::ProcessWebhook { webhook }.to_new_job(template.run_at, template.max_attempts)
        }
        fn group(template: NewJob, webhooks: &[WebhookId]) -> NewJob {
            Job::ProcessWebhooks {
                webhooks: webhooks.to_vec(),
            }
            .to_new_job(template.run_at, template.max_attempts)
        }
        let template = NewJob::new(PROCESS_WEBHOOK, serde_json::Value::Null, run_at)
            .with_max_attempts(max_attempts);
        WebhookJob::new(template, bind).with_group(group)
    }

    pub(crate) fn from_payload(payload: &serde_json::Value) -> Result<Self, serde_json::Error> {
        Job::deserialize(payload.clone())
    }
}

/// What a report pull ([`Attend::reconcile_now`]) ended with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReconcileOutcome {
    /// The report was merged; the instance is `final`.
    Final {
        /// Report rows stored (waiting-room rows and the host left out).
        report_rows: usize,
    },
    /// Zoom has no report yet (404/3001 or empty); another pull is scheduled.
    NotReady {
        /// When the next pull runs.
        retry_at: DateTime<Utc>,
    },
    /// The account cannot read reports (plan or scopes): the instance becomes `final` from
    /// webhooks alone at `final_at`.
    WithoutReport {
        /// When it becomes final.
        final_at: DateTime<Utc>,
    },
    /// The retry window passed without a report: finalized from webhooks alone.
    GaveUp,
    /// The instance has not ended as far as attend knows (no `meeting.ended`) and Zoom has no
    /// report for it: it stays live, and no pull is scheduled.
    NotEnded,
}

impl Attend {
    /// Queues a job to run now.
    pub(crate) async fn enqueue(&self, job: Job, now: DateTime<Utc>) -> Result<(), ServiceError> {
        self.enqueue_at(job, now, now).await
    }

    /// Queues a job to run at `run_at`. A job with the same dedupe key already waiting or
    /// running makes this a no-op.
    pub(crate) async fn enqueue_at(
        &self,
        job: Job,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let new = job.to_new_job(run_at, self.inner.worker.max_attempts);
        self.inner.store.enqueue_job(&new, now).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_through_their_payload() {
        let jobs = [
            Job::ProcessWebhook {
                webhook: WebhookId(7),
            },
            Job::ProcessWebhooks {
                webhooks: vec![WebhookId(7), WebhookId(9)],
            },
            Job::Register {
                meeting: "m1".into(),
            },
            Job::Reconcile {
                meeting: "m1".into(),
                instance: "uu==".into(),
                ended_at: "2025-01-01T10:00:00Z".parse().unwrap(),
                on_demand: false,
            },
            Job::LiveCheck {
                meeting: "m1".into(),
                instance: "uu==".into(),
                seen: "2025-01-01T09:00:00Z".parse().unwrap(),
            },
            Job::DeleteRegistrants {
                account: "main".into(),
                kind: MeetingKind::Webinar,
                zoom_meeting_id: ZoomMeetingId(1),
                registrant_ids: vec!["r".into()],
            },
        ];
        for job in jobs {
            let new = job.to_new_job(Utc::now(), 3);
            assert_eq!(new.kind, job.kind());
            assert_eq!(Job::from_payload(&new.payload).unwrap(), job);
        }
    }

    #[test]
    fn the_webhook_template_makes_the_same_job_as_enqueue() {
        let run_at: DateTime<Utc> = "2025-01-01T10:00:00Z".parse().unwrap();
        let template = Job::process_webhook_template(run_at, 4);
        let id = WebhookId(42);
        let direct = Job::ProcessWebhook { webhook: id }.to_new_job(run_at, 4);
        assert_eq!(template.for_webhook(id), direct);
        assert_eq!(direct.dedupe_key.as_deref(), Some("webhook:42"));
        assert_eq!(
            Job::from_payload(&template.for_webhook(WebhookId(9)).payload).unwrap(),
            Job::ProcessWebhook {
                webhook: WebhookId(9)
            }
        );
    }

    #[test]
    fn the_webhook_template_groups_deliveries_into_one_job() {
        let run_at: DateTime<Utc> = "2025-01-01T10:00:00Z".parse().unwrap();
        let template = Job::process_webhook_template(run_at, 4);
        let ids = [WebhookId(5), WebhookId(3), WebhookId(8)];
        let jobs = template.for_webhooks(&ids);
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        let job = &jobs[0];
        assert_eq!(job.kind, PROCESS_WEBHOOKS);
        assert_eq!(job.dedupe_key, None);
        assert_eq!((job.run_at, job.max_attempts), (run_at, 4));
        assert_eq!(
            Job::from_payload(&job.payload).unwrap(),
            Job::ProcessWebhooks {
                webhooks: ids.to_vec()
            }
        );
        // A lone delivery keeps its own job (and its dedupe key).
        assert_eq!(
            template.for_webhooks(&ids[1..2]),
            vec![template.for_webhook(WebhookId(3))]
        );
        assert!(template.for_webhooks(&[]).is_empty());
        assert!(template.groups_with(&Job::process_webhook_template(
            run_at + chrono::TimeDelta::seconds(1),
            4
        )));
        assert!(!template.groups_with(&Job::process_webhook_template(run_at, 5)));
    }
}

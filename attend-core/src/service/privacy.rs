//! Erasure and retention.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use tracing::info;

use crate::model::{AccountKey, MeetingKind, UserId, ZoomMeetingId};

use super::jobs::Job;
use super::{Attend, Erasure, ServiceError};

impl Attend {
    /// Erases everything attend stores about host user `user`: registrations, join-link
    /// clicks, manual links to them, and the participant events and report rows tied to
    /// them (by their registrant ids and emails, their own email from the directory, or a
    /// customer key equal to their id). Their registrants at Zoom are deleted in the
    /// background (a `delete_registrants` job holding only registrant ids).
    ///
    /// Idempotent: erasing again (or an unknown user) succeeds with all zeros. The user's
    /// history afterwards is empty (or 404 once the host removed the user too).
    ///
    /// # Errors
    /// `StorageUnavailable` (nothing or everything was erased: the store call is atomic).
    pub async fn erase_user(&self, user: &UserId) -> Result<Erasure, ServiceError> {
        let now = self.now();
        let store = &self.inner.store;
        let registrations = store.list_user_registrations(user).await?;
        let mut zoom_side: BTreeMap<
            (AccountKey, &'static str, ZoomMeetingId),
            (MeetingKind, Vec<String>),
        > = BTreeMap::new();
        for r in &registrations {
            let Some(registrant) = &r.registrant_id else {
                continue;
            };
            if let Some(meeting) = store.get_meeting(&r.meeting).await? {
                zoom_side
                    .entry((
                        meeting.account,
                        meeting.kind.as_str(),
                        meeting.zoom_meeting_id,
                    ))
                    .or_insert_with(|| (meeting.kind, Vec::new()))
                    .1
                    .push(registrant.as_str().to_owned());
            }
        }
        let mut emails: Vec<String> = registrations
            .iter()
            .filter_map(|r| r.registrant_email.clone())
            .collect();
        if let Some(host_user) = self.inner.directory.get_user(user).await?
            && let Some(email) = host_user.email
        {
            emails.push(email);
        }
        // Queue the Zoom-side deletions first: once the local rows are gone, the registrant
        // ids are gone too.
        for ((account, _, zoom_meeting_id), (kind, registrant_ids)) in zoom_side {
            self.enqueue(
                Job::DeleteRegistrants {
                    account,
                    kind,
                    zoom_meeting_id,
                    registrant_ids,
                },
                now,
            )
            .await?;
        }
        let summary = store.erase_user(user, &emails).await?;
        // The revisions would show the change at the next read anyway; this drops the
        // erased data from memory now.
        self.inner.roster_cache.clear();
        info!(rows = summary.total(), "user erased");
        Ok(summary)
    }

    /// Retention: drops raw webhook bodies and finished jobs older than configured
    /// ([`RetentionOptions`](super::RetentionOptions)); returns how many bodies were
    /// dropped. The worker runs it on every sweep.
    ///
    /// # Errors
    /// `StorageUnavailable`.
    pub async fn purge_expired(&self) -> Result<u64, ServiceError> {
        let now = self.now();
        let r = &self.inner.retention;
        let bodies = self
            .inner
            .store
            .purge_webhook_bodies(now - TimeDelta::from_std(r.raw_webhooks).unwrap_or_default())
            .await?;
        self.inner
            .store
            .purge_finished_jobs(now - TimeDelta::from_std(r.finished_jobs).unwrap_or_default())
            .await?;
        Ok(bodies)
    }
}

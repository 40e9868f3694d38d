//! Linking, creating and updating meetings.

use tracing::{Instrument, info, info_span};

use crate::model::{AccountKey, GroupKey, MeetingId, MeetingKind, Policy};
use crate::store::MeetingRecord;

use super::zoom_glue::{AccountRuntime, ZoomFailure, ZoomMeetingInfo};
use super::{Attend, LinkMeeting, Meeting, MeetingPatch, Missing, ServiceError};

/// Whether a Zoom meeting/webinar type can take registrations: not instant (1), not a
/// recurring meeting without fixed time (3), not a PMI (4); for webinars not a recurring
/// webinar without fixed time (6).
fn takes_registrations(kind: MeetingKind, meeting_type: Option<i64>) -> Result<(), String> {
    match (kind, meeting_type) {
        (MeetingKind::Meeting, Some(1)) => {
            Err("an instant meeting cannot take registrations".into())
        }
        (MeetingKind::Meeting, Some(3)) => {
            Err("a recurring meeting without a fixed time cannot take registrations".into())
        }
        (MeetingKind::Meeting, Some(4)) => {
            Err("a personal meeting room (PMI) cannot take registrations".into())
        }
        (MeetingKind::Webinar, Some(6)) => {
            Err("a recurring webinar without a fixed time cannot take registrations".into())
        }
        _ => Ok(()),
    }
}

impl Attend {
    pub(crate) fn account(&self, key: &AccountKey) -> Result<&AccountRuntime, ServiceError> {
        self.inner
            .accounts
            .get(key)
            .ok_or(ServiceError::NotFound(Missing::Account))
    }

    fn policy_from(
        &self,
        base: &Policy,
        patch: Option<&super::PolicyPatch>,
    ) -> Result<Policy, ServiceError> {
        let policy = patch.map_or_else(|| base.clone(), |p| p.apply(base));
        policy
            .validate()
            .map_err(|reason| ServiceError::invalid("policy", reason))?;
        Ok(policy)
    }

    /// Links an existing Zoom meeting/webinar to a host group, or creates one at Zoom, and
    /// switches registration on (`approval_type` 0, or 1 with `restrict_to_registered`, in
    /// which case attend's registrants are auto-approved and others can be denied).
    ///
    /// # Errors
    /// * `Invalid` — neither or both of `zoom_meeting_id`/`create`; an empty group; a bad
    ///   policy; a meeting type that cannot take registrations; an unknown `account`;
    /// * `Conflict` — this Zoom meeting is already linked (for this account);
    /// * `NotFound(ZoomMeeting)` — Zoom does not know the meeting;
    /// * `RateLimited`, `ZoomUnavailable`, `ZoomRejected`, `StorageUnavailable`.
    ///
    /// Not idempotent across a crash between Zoom and storage when *creating* (a retry
    /// creates a second Zoom meeting); linking an existing meeting is safe to retry.
    pub async fn link_meeting(&self, request: LinkMeeting) -> Result<Meeting, ServiceError> {
        let span = info_span!("attend.meeting.link", group = %request.group);
        async move {
            if request.group.as_str().trim().is_empty() {
                return Err(ServiceError::invalid("group", "must not be empty"));
            }
            let account_key = request
                .account
                .clone()
                .unwrap_or_else(|| self.inner.default_account.clone());
            let api = self
                .account(&account_key)
                .map_err(|_| {
                    ServiceError::invalid("account", "no such Zoom account is configured")
                })?
                .clone();
            let policy = self.policy_from(&self.inner.default_policy, request.policy.as_ref())?;
            let restrict = request
                .restrict_to_registered
                .unwrap_or(self.inner.registration.restrict_to_registered_default);
            let now = self.now();
            let info: ZoomMeetingInfo = match (&request.zoom_meeting_id, &request.create) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(ServiceError::invalid(
                        "zoom_meeting_id",
                        "give exactly one of zoom_meeting_id and create",
                    ));
                }
                (Some(id), None) => {
                    if self
                        .inner
                        .store
                        .find_meeting(&account_key, *id)
                        .await?
                        .is_some()
                    {
                        return Err(ServiceError::Conflict {
                            reason: format!(
                                "Zoom {} {id} is already linked",
                                request.kind.as_str()
                            ),
                        });
                    }
                    let mut info =
                        api.get_meeting(request.kind, *id)
                            .await
                            .map_err(|e| match e {
                                ZoomFailure::NotFound { .. } => {
                                    ServiceError::NotFound(Missing::ZoomMeeting)
                                }
                                other => other.into_service(now),
                            })?;
                    takes_registrations(request.kind, info.meeting_type)
                        .map_err(|reason| ServiceError::invalid("zoom_meeting_id", reason))?;
                    api.enable_registration(request.kind, *id, restrict)
                        .await
                        .map_err(|e| e.into_service(now))?;
                    info.id = Some(*id);
                    info
                }
                (None, Some(create)) => {
                    if create.topic.trim().is_empty() || create.topic.chars().count() > 200 {
                        return Err(ServiceError::invalid(
                            "create.topic",
                            "must be 1 to 200 characters",
                        ));
                    }
                    if !(1..=1440).contains(&create.duration_minutes) {
                        return Err(ServiceError::invalid(
                            "create.duration_minutes",
                            "must be between 1 and 1440",
                        ));
                    }
                    if create.host.trim().is_empty() {
                        return Err(ServiceError::invalid("create.host", "must not be empty"));
                    }
                    api.create_meeting(request.kind, create, restrict)
                        .await
                        .map_err(|e| match e {
                            ZoomFailure::NotFound { .. } => ServiceError::invalid(
                                "create.host",
                                "Zoom does not know this host user",
                            ),
                            other => other.into_service(now),
                        })?
                }
            };
            let zoom_meeting_id = info
                .id
                .ok_or_else(|| ServiceError::internal("Zoom returned a meeting without an id"))?;
            let record = MeetingRecord {
                id: MeetingId::new(uuid::Uuid::new_v4().to_string()),
                account: account_key,
                zoom_meeting_id,
                kind: request.kind,
                group: request.group.clone(),
                topic: info.topic,
                start_time: info.start_time,
                duration_minutes: info.duration_minutes,
                timezone: info.timezone,
                host_id: info.host_id,
                restrict_to_registered: restrict,
                policy,
                created_at: now,
            };
            self.inner.store.insert_meeting(&record).await?;
            info!(meeting = %record.id, zoom = %zoom_meeting_id, "meeting linked");
            Ok(Meeting::from(record))
        }
        .instrument(span)
        .await
    }

    /// The meeting.
    ///
    /// # Errors
    /// `NotFound(Meeting)`; `StorageUnavailable`.
    pub async fn get_meeting(&self, meeting: &MeetingId) -> Result<Meeting, ServiceError> {
        Ok(Meeting::from(self.meeting_record(meeting).await?))
    }

    /// All linked meetings, or those of `group`, oldest first.
    ///
    /// # Errors
    /// `StorageUnavailable`.
    pub async fn list_meetings(
        &self,
        group: Option<&GroupKey>,
    ) -> Result<Vec<Meeting>, ServiceError> {
        Ok(self
            .inner
            .store
            .list_meetings(group)
            .await?
            .into_iter()
            .map(Meeting::from)
            .collect())
    }

    /// Changes a meeting's policy (the given fields) and/or `restrict_to_registered` (which
    /// switches Zoom's approval type first). Rosters use the new policy at once.
    ///
    /// # Errors
    /// `NotFound(Meeting)`; `Invalid` (policy out of range); Zoom errors when switching the
    /// restriction (nothing is changed locally then); `StorageUnavailable`.
    pub async fn update_meeting(
        &self,
        meeting: &MeetingId,
        patch: MeetingPatch,
    ) -> Result<Meeting, ServiceError> {
        let mut record = self.meeting_record(meeting).await?;
        record.policy = self.policy_from(&record.policy, patch.policy.as_ref())?;
        if let Some(restrict) = patch.restrict_to_registered
            && restrict != record.restrict_to_registered
        {
            let now = self.now();
            self.account(&record.account)?
                .enable_registration(record.kind, record.zoom_meeting_id, restrict)
                .await
                .map_err(|e| e.into_service(now))?;
            record.restrict_to_registered = restrict;
        }
        self.inner.store.update_meeting(&record).await?;
        Ok(Meeting::from(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_capable_types() {
        assert!(takes_registrations(MeetingKind::Meeting, Some(2)).is_ok());
        assert!(takes_registrations(MeetingKind::Meeting, Some(8)).is_ok());
        assert!(takes_registrations(MeetingKind::Meeting, None).is_ok());
        assert!(takes_registrations(MeetingKind::Meeting, Some(1)).is_err());
        assert!(takes_registrations(MeetingKind::Meeting, Some(4)).is_err());
        assert!(takes_registrations(MeetingKind::Webinar, Some(5)).is_ok());
        assert!(takes_registrations(MeetingKind::Webinar, Some(6)).is_err());
    }
}

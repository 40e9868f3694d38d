//! The narrow view of Zoom's REST API the service needs, per configured account, and the
//! classification of Zoom failures into what the service does about them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{AccountKey, IdentityHints, MeetingKind, ZoomMeetingId};
use crate::store::BoxError;

use super::config::BuildError;
use super::error::{ServiceError, ZOOM_RETRY_AFTER};
use super::types::CreateMeeting;

/// How one account's API is reached.
#[derive(Clone)]
pub(crate) enum AccountApi {}

impl AccountApi {
    pub(crate) fn into_api(self, _key: &AccountKey) -> Result<AccountRuntime, BuildError> {
        match self {}
    }
}

/// A Zoom meeting or webinar as the service needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ZoomMeetingInfo {
    pub(crate) id: Option<ZoomMeetingId>,
    pub(crate) topic: String,
    pub(crate) start_time: Option<DateTime<Utc>>,
    pub(crate) duration_minutes: Option<u32>,
    pub(crate) timezone: Option<String>,
    pub(crate) host_id: Option<String>,
    pub(crate) meeting_type: Option<i64>,
}

/// A registrant to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RegistrantInput {
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: Option<String>,
}

/// A registrant Zoom created or listed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ZoomRegistrant {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) join_url: Option<String>,
}

/// One participant-report row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReportParticipant {
    pub(crate) hints: IdentityHints,
    pub(crate) join: DateTime<Utc>,
    pub(crate) leave: DateTime<Utc>,
    pub(crate) in_waiting_room: bool,
}

/// What went wrong with a Zoom call, as far as the service cares.
#[derive(Debug)]
#[allow(dead_code)]
pub(crate) enum ZoomFailure {
    /// Per-second (or concurrency) limit: wait `retry_after` and repeat.
    Busy { retry_after: Duration },
    /// A daily limit: nothing until `until`. `per_registrant`: only this registrant is
    /// blocked (Zoom's 3 registrations per day for one registrant); otherwise the whole
    /// account's quota for this kind of call is used up.
    Daily {
        until: DateTime<Utc>,
        per_registrant: bool,
    },
    /// The meeting/registrant/report does not exist (for reports: not ready yet).
    NotFound { code: Option<i64>, message: String },
    /// The account may not do this (plan, scopes, "only available for paid users").
    NoAccess { message: String },
    /// Zoom refused the request itself.
    Rejected { code: Option<i64>, message: String },
    /// Zoom is down, timing out, or the token endpoint fails.
    Unavailable { source: BoxError },
}

impl ZoomFailure {
    pub(crate) fn into_service(self, now: DateTime<Utc>) -> ServiceError {
        match self {
            ZoomFailure::Busy { retry_after } => ServiceError::RateLimited {
                retry_after,
                until: None,
            },
            ZoomFailure::Daily { until, .. } => ServiceError::RateLimited {
                retry_after: (until - now).to_std().unwrap_or(Duration::from_secs(1)),
                until: Some(until),
            },
            ZoomFailure::NotFound { code, message } => ServiceError::ZoomRejected {
                zoom_code: code,
                source: message.clone().into(),
                message,
            },
            ZoomFailure::NoAccess { message } => ServiceError::ZoomRejected {
                zoom_code: None,
                source: message.clone().into(),
                message,
            },
            ZoomFailure::Rejected { code, message } => ServiceError::ZoomRejected {
                zoom_code: code,
                source: message.clone().into(),
                message,
            },
            ZoomFailure::Unavailable { source } => ServiceError::ZoomUnavailable {
                retry_after: ZOOM_RETRY_AFTER,
                source,
            },
        }
    }
}

pub(crate) type ZoomResult<T> = Result<T, ZoomFailure>;

/// A configured account at run time.
#[derive(Clone)]
pub(crate) struct AccountRuntime {
    #[allow(dead_code)]
    pub(crate) api: Arc<()>,
}

fn not_connected<T>() -> ZoomResult<T> {
    Err(ZoomFailure::Unavailable {
        source: "no Zoom client configured".into(),
    })
}

#[allow(clippy::unused_async)]
impl AccountRuntime {
    pub(crate) async fn get_meeting(
        &self,
        _kind: MeetingKind,
        _id: ZoomMeetingId,
    ) -> ZoomResult<ZoomMeetingInfo> {
        not_connected()
    }

    pub(crate) async fn create_meeting(
        &self,
        _kind: MeetingKind,
        _create: &CreateMeeting,
        _approval_type: i64,
    ) -> ZoomResult<ZoomMeetingInfo> {
        not_connected()
    }

    pub(crate) async fn set_approval_type(
        &self,
        _kind: MeetingKind,
        _id: ZoomMeetingId,
        _approval_type: i64,
    ) -> ZoomResult<()> {
        not_connected()
    }

    pub(crate) async fn add_registrant(
        &self,
        _kind: MeetingKind,
        _id: ZoomMeetingId,
        _input: &RegistrantInput,
        _auto_approve: bool,
    ) -> ZoomResult<ZoomRegistrant> {
        not_connected()
    }

    pub(crate) async fn batch_add_registrants(
        &self,
        _kind: MeetingKind,
        _id: ZoomMeetingId,
        _inputs: &[RegistrantInput],
        _auto_approve: bool,
        _confirmation_email: bool,
    ) -> ZoomResult<Vec<ZoomRegistrant>> {
        not_connected()
    }

    pub(crate) async fn list_registrants(
        &self,
        _kind: MeetingKind,
        _id: ZoomMeetingId,
    ) -> ZoomResult<Vec<ZoomRegistrant>> {
        not_connected()
    }

    pub(crate) async fn set_registrant_status(
        &self,
        _kind: MeetingKind,
        _id: ZoomMeetingId,
        _action: &str,
        _registrants: &[(String, Option<String>)],
    ) -> ZoomResult<()> {
        not_connected()
    }

    pub(crate) async fn delete_registrant(
        &self,
        _kind: MeetingKind,
        _id: ZoomMeetingId,
        _registrant_id: &str,
    ) -> ZoomResult<()> {
        not_connected()
    }

    pub(crate) async fn report_participants(
        &self,
        _kind: MeetingKind,
        _instance: &str,
    ) -> ZoomResult<Vec<ReportParticipant>> {
        not_connected()
    }
}

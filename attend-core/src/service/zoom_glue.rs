//! The narrow view of Zoom's REST API the service needs, per configured account, and the
//! classification of Zoom failures into what the service does about them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{AccountKey, IdentityHints, InstanceId, MeetingKind, ZoomMeetingId};
use crate::store::BoxError;
use crate::zoom::api::{
    AddRegistrantRequest, BatchRegistrantInput, BatchRegistrantsRequest, CreateMeetingRequest,
    ListRegistrantsQuery, RegistrantAction, RegistrantRef, RegistrantStatusUpdate,
    RegistrationSettings, ZoomMeeting,
};
use crate::zoom::{
    PastMeeting, S2SCredentials, ZoomApi, ZoomApiError, ZoomClient, ZoomClientConfig,
};

use super::config::BuildError;
use super::error::{ServiceError, ZOOM_RETRY_AFTER};
use super::types::CreateMeeting;

/// How one account's API is reached.
#[derive(Clone)]
pub(crate) enum AccountApi {
    /// A ready implementation (the REST client, or a stand-in in tests).
    Api(Arc<dyn ZoomApi>),
    /// Server-to-Server OAuth credentials: the REST client is built by `build()`.
    Credentials(Box<(S2SCredentials, ZoomClientConfig)>),
}

impl AccountApi {
    pub(crate) fn into_api(self, key: &AccountKey) -> Result<AccountRuntime, BuildError> {
        match self {
            AccountApi::Api(api) => Ok(AccountRuntime { api }),
            AccountApi::Credentials(both) => {
                let (credentials, config) = *both;
                let client =
                    ZoomClient::new(config, credentials).map_err(|e| BuildError::ZoomClient {
                        account: key.clone(),
                        source: Box::new(e),
                    })?;
                Ok(AccountRuntime {
                    api: Arc::new(client),
                })
            }
        }
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
    /// Zoom refused the request itself (`label`: the client's stable code).
    Rejected {
        code: Option<i64>,
        label: &'static str,
        message: String,
    },
    /// The batch endpoint does not take this meeting: add one by one.
    BatchNotSupported,
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
            ZoomFailure::BatchNotSupported => ServiceError::ZoomRejected {
                zoom_code: Some(303),
                message: "batch registration is not supported for this meeting".into(),
                source: "batch registration is not supported".into(),
            },
            ZoomFailure::Rejected { code, message, .. } => ServiceError::ZoomRejected {
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
    pub(crate) api: Arc<dyn ZoomApi>,
}

fn failure(err: ZoomApiError) -> ZoomFailure {
    let now = Utc::now();
    match err {
        ZoomApiError::RateLimited { retry_at, .. } => ZoomFailure::Busy {
            retry_after: retry_at
                .and_then(|t| (t - now).to_std().ok())
                .unwrap_or(Duration::from_secs(1)),
        },
        ZoomApiError::DailyLimit {
            retry_at,
            per_resource,
            ..
        } => ZoomFailure::Daily {
            until: retry_at,
            per_registrant: per_resource,
        },
        ZoomApiError::MeetingNotFound { code, message }
        | ZoomApiError::HostNotFound { code, message }
        | ZoomApiError::NotFound { code, message }
        | ZoomApiError::ReportNotReady { code, message } => ZoomFailure::NotFound { code, message },
        ZoomApiError::ReportsUnavailable { message, .. }
        | ZoomApiError::ReportExpired { message } => ZoomFailure::NoAccess { message },
        ZoomApiError::BatchNotSupported { .. } => ZoomFailure::BatchNotSupported,
        // A 401 that survived one token refresh: the token was revoked again between the
        // refresh and the retry (credentials that are really wrong fail at the token endpoint
        // as `OAuth`). Treated like an outage, so a registration run leaves its users pending
        // and is retried with backoff instead of failing them for good.
        e @ (ZoomApiError::Server { .. }
        | ZoomApiError::Timeout(_)
        | ZoomApiError::Transport(_)
        | ZoomApiError::InvalidToken { .. }
        | ZoomApiError::Decode { .. }
        | ZoomApiError::InvalidResponse(_)) => ZoomFailure::Unavailable {
            source: Box::new(e),
        },
        other => ZoomFailure::Rejected {
            code: other.zoom_code(),
            label: other.code(),
            message: other.to_string(),
        },
    }
}

fn info(m: ZoomMeeting) -> ZoomMeetingInfo {
    ZoomMeetingInfo {
        id: Some(m.id),
        topic: m.topic.unwrap_or_default(),
        start_time: m.start_time,
        duration_minutes: m.duration.and_then(|d| u32::try_from(d).ok()),
        timezone: m.timezone,
        host_id: m.host_id,
        meeting_type: m.meeting_type,
    }
}

impl AccountRuntime {
    fn metric(op: &'static str, ok: bool) {
        metrics::counter!(
            "attend_zoom_calls_total",
            "op" => op,
            "outcome" => if ok { "ok" } else { "error" }
        )
        .increment(1);
    }

    fn track<T>(op: &'static str, result: Result<T, ZoomApiError>) -> ZoomResult<T> {
        Self::metric(op, result.is_ok());
        if let Err(ZoomApiError::RateLimited { .. } | ZoomApiError::DailyLimit { .. }) = &result {
            metrics::counter!("attend_zoom_429_total", "op" => op).increment(1);
        }
        result.map_err(failure)
    }

    pub(crate) async fn get_meeting(
        &self,
        kind: MeetingKind,
        id: ZoomMeetingId,
    ) -> ZoomResult<ZoomMeetingInfo> {
        Self::track("get_meeting", self.api.get_meeting(kind, id).await).map(info)
    }

    pub(crate) async fn create_meeting(
        &self,
        kind: MeetingKind,
        create: &CreateMeeting,
        restrict: bool,
    ) -> ZoomResult<ZoomMeetingInfo> {
        let request = CreateMeetingRequest {
            topic: create.topic.trim().to_owned(),
            meeting_type: None,
            start_time: Some(create.start_time),
            duration_minutes: Some(create.duration_minutes),
            timezone: create.timezone.clone(),
            agenda: None,
            registration: RegistrationSettings::enabled(restrict),
        };
        Self::track(
            "create_meeting",
            self.api
                .create_meeting(kind, create.host.trim(), &request)
                .await,
        )
        .map(info)
    }

    pub(crate) async fn enable_registration(
        &self,
        kind: MeetingKind,
        id: ZoomMeetingId,
        restrict: bool,
    ) -> ZoomResult<()> {
        Self::track(
            "update_registration_settings",
            self.api
                .update_registration_settings(kind, id, &RegistrationSettings::enabled(restrict))
                .await,
        )
    }

    pub(crate) async fn add_registrant(
        &self,
        kind: MeetingKind,
        id: ZoomMeetingId,
        input: &RegistrantInput,
        restrict: bool,
    ) -> ZoomResult<ZoomRegistrant> {
        let mut request = AddRegistrantRequest::new(input.email.clone(), input.first_name.clone());
        request.last_name = input.last_name.clone();
        request.auto_approve = restrict.then_some(true);
        Self::track(
            "add_registrant",
            self.api.add_registrant(kind, id, &request).await,
        )
        .map(|r| ZoomRegistrant {
            id: r.registrant_id,
            email: input.email.clone(),
            join_url: r.join_url,
        })
    }

    pub(crate) async fn batch_add_registrants(
        &self,
        kind: MeetingKind,
        id: ZoomMeetingId,
        inputs: &[RegistrantInput],
        restrict: bool,
        confirmation_email: bool,
    ) -> ZoomResult<Vec<ZoomRegistrant>> {
        let request = BatchRegistrantsRequest {
            auto_approve: restrict.then_some(true),
            registrants_confirmation_email: Some(confirmation_email),
            registrants: inputs
                .iter()
                .map(|i| BatchRegistrantInput {
                    email: i.email.clone(),
                    first_name: i.first_name.clone(),
                    last_name: i.last_name.clone(),
                })
                .collect(),
        };
        Self::track(
            "batch_add_registrants",
            self.api.batch_add_registrants(kind, id, &request).await,
        )
        .map(|list| {
            list.into_iter()
                .filter_map(|r| {
                    Some(ZoomRegistrant {
                        id: r.registrant_id,
                        email: r.email?,
                        join_url: r.join_url,
                    })
                })
                .collect()
        })
    }

    pub(crate) async fn list_registrants(
        &self,
        kind: MeetingKind,
        id: ZoomMeetingId,
    ) -> ZoomResult<Vec<ZoomRegistrant>> {
        Self::track(
            "list_registrants",
            self.api
                .list_registrants(kind, id, &ListRegistrantsQuery::default())
                .await,
        )
        .map(|list| {
            list.into_iter()
                .filter_map(|r| {
                    Some(ZoomRegistrant {
                        id: r.id,
                        email: r.email?,
                        join_url: r.join_url,
                    })
                })
                .collect()
        })
    }

    pub(crate) async fn set_registrant_status(
        &self,
        kind: MeetingKind,
        id: ZoomMeetingId,
        action: RegistrantAction,
        registrants: &[(String, Option<String>)],
    ) -> ZoomResult<()> {
        let update = RegistrantStatusUpdate {
            action,
            registrants: registrants
                .iter()
                .map(|(id, email)| RegistrantRef {
                    id: id.clone(),
                    email: email.clone(),
                })
                .collect(),
            occurrence_id: None,
        };
        Self::track(
            "update_registrant_status",
            self.api.update_registrant_status(kind, id, &update).await,
        )
    }

    pub(crate) async fn delete_registrant(
        &self,
        kind: MeetingKind,
        id: ZoomMeetingId,
        registrant_id: &str,
    ) -> ZoomResult<()> {
        Self::track(
            "delete_registrant",
            self.api
                .delete_registrant(kind, id, registrant_id, None)
                .await,
        )
    }

    /// The uuids of the meeting's instances that Zoom lists as ended.
    pub(crate) async fn ended_instances(
        &self,
        kind: MeetingKind,
        id: ZoomMeetingId,
    ) -> ZoomResult<Vec<String>> {
        Self::track("past_instances", self.api.past_instances(kind, id).await)
            .map(|list| list.into_iter().map(|p| p.uuid).collect())
    }

    /// The participant report of one instance; falls back to past-meeting participants
    /// when the report endpoint is not available to the account.
    pub(crate) async fn report_participants(
        &self,
        kind: MeetingKind,
        instance: &str,
    ) -> ZoomResult<Vec<ReportParticipant>> {
        let which = PastMeeting::Instance(InstanceId::new(instance));
        let rows = match self.api.report_participants(kind, &which).await {
            Err(ZoomApiError::ReportsUnavailable { .. }) => {
                Self::metric("report_participants", false);
                Self::track(
                    "past_participants",
                    self.api.past_participants(kind, &which).await,
                )?
            }
            other => Self::track("report_participants", other)?,
        };
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(ReportParticipant {
                    hints: r.identity_hints(),
                    in_waiting_room: r.in_waiting_room(),
                    join: r.join_time?,
                    leave: r.leave_time?,
                })
            })
            .collect())
    }
}

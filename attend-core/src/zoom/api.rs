//! The Zoom REST operations attend needs, behind the [`ZoomApi`] trait, with plain request and
//! response types.
//!
//! The service is written against `Arc<dyn ZoomApi>` (one per Zoom account), so tests and the
//! simulator can substitute their own implementation; [`super::ZoomClient`] is the real one.
//! The trait uses `#[async_trait]` rather than native `async fn` in traits: native async trait
//! methods are not dyn-compatible, and the boxed futures `async-trait` generates are `Send`,
//! which the multi-threaded runtimes of the host frameworks require.
//!
//! Responses are tolerant: ids arrive as strings or numbers, empty strings are `None`, and
//! optional fields may be missing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};

use super::de;
use super::error::ZoomApiError;
use crate::model::{IdentityHints, InstanceId, MeetingKind, ZoomMeetingId};

/// The most registrants Zoom accepts in one batch call, and in one status update.
pub const MAX_BATCH: usize = 30;

/// The most registrants a Zoom meeting can have.
pub const MAX_REGISTRANTS: usize = 4999;

/// `settings.approval_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i64", try_from = "i64")]
pub enum ApprovalType {
    /// 0: registrants are approved automatically.
    Automatic,
    /// 1: registrants need approval (attend approves its own with `auto_approve`).
    Manual,
    /// 2: no registration.
    NoRegistration,
}

impl From<ApprovalType> for i64 {
    fn from(value: ApprovalType) -> Self {
        match value {
            ApprovalType::Automatic => 0,
            ApprovalType::Manual => 1,
            ApprovalType::NoRegistration => 2,
        }
    }
}

impl TryFrom<i64> for ApprovalType {
    type Error = String;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        match value {
            0 => Ok(ApprovalType::Automatic),
            1 => Ok(ApprovalType::Manual),
            2 => Ok(ApprovalType::NoRegistration),
            other => Err(format!("unknown approval_type {other}")),
        }
    }
}

/// Registration settings sent when creating a meeting or switching registration on
/// (`settings` object). `None` fields are not sent (Zoom keeps its current value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistrationSettings {
    /// 0 automatic approval, 1 manual approval (only registrants attend creates with
    /// `auto_approve` get in).
    pub approval_type: ApprovalType,
    /// For recurring meetings with a fixed time (type 8): 1 register once for all
    /// occurrences, 2 per occurrence, 3 choose occurrences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_type: Option<i64>,
    /// Whether Zoom emails registrants a confirmation (needs `registrants_email_notification`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrants_confirmation_email: Option<bool>,
    /// Whether Zoom sends registrants emails at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrants_email_notification: Option<bool>,
    /// Whether one registrant link may join from several devices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_multiple_devices: Option<bool>,
    /// Whether registration closes after the meeting date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_registration: Option<bool>,
}

impl RegistrationSettings {
    /// Registration on: manual approval (`1`) when only attend-issued registrants may get in
    /// (`restrict_to_registered`), automatic (`0`) otherwise. Other settings untouched.
    pub fn enabled(restrict_to_registered: bool) -> Self {
        Self {
            approval_type: if restrict_to_registered {
                ApprovalType::Manual
            } else {
                ApprovalType::Automatic
            },
            registration_type: None,
            registrants_confirmation_email: None,
            registrants_email_notification: None,
            allow_multiple_devices: None,
            close_registration: None,
        }
    }
}

fn zoom_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        None => s.serialize_none(),
    }
}

/// Body of `POST /users/{host}/meetings` (or `/webinars`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateMeetingRequest {
    /// Topic.
    pub topic: String,
    /// Zoom's type; `None` sends 2 (scheduled meeting) or 5 (webinar). Batch registration
    /// works only for type 2.
    #[serde(rename = "type")]
    pub meeting_type: Option<i64>,
    /// Start (sent as UTC `yyyy-MM-ddTHH:mm:ssZ`).
    #[serde(serialize_with = "zoom_time", skip_serializing_if = "Option::is_none")]
    pub start_time: Option<DateTime<Utc>>,
    /// Scheduled duration in minutes.
    #[serde(rename = "duration", skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    /// Time zone name for display at Zoom (e.g. `Europe/Berlin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agenda: Option<String>,
    /// Registration settings (sent as `settings`).
    #[serde(rename = "settings")]
    pub registration: RegistrationSettings,
}

/// An occurrence of a recurring meeting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Occurrence {
    /// Occurrence id (a millisecond timestamp as text).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub occurrence_id: Option<String>,
    /// Start.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    /// Duration in minutes.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub duration: Option<i64>,
    /// `available` or `deleted`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub status: Option<String>,
}

/// The meeting settings attend reads back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct MeetingSettings {
    /// 0 automatic, 1 manual, 2 no registration.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub approval_type: Option<i64>,
    /// See [`RegistrationSettings::registration_type`].
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub registration_type: Option<i64>,
    /// See [`RegistrationSettings::allow_multiple_devices`].
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub allow_multiple_devices: Option<bool>,
}

/// A meeting or webinar as `GET /meetings/{id}` (or create) returns it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ZoomMeeting {
    /// The meeting number.
    #[serde(deserialize_with = "de::meeting_id")]
    pub id: ZoomMeetingId,
    /// The uuid of the latest (or upcoming) instance.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub uuid: Option<String>,
    /// The host's Zoom user id.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub host_id: Option<String>,
    /// Topic.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub topic: Option<String>,
    /// Zoom's type (2 scheduled, 8 recurring fixed time, 5 webinar…).
    #[serde(default, rename = "type", deserialize_with = "de::opt_i64")]
    pub meeting_type: Option<i64>,
    /// Scheduled start.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    /// Scheduled duration in minutes.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub duration: Option<i64>,
    /// Time zone name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub timezone: Option<String>,
    /// The generic join url (not a registrant's).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub join_url: Option<String>,
    /// Zoom's own registration page, when registration is on.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub registration_url: Option<String>,
    /// Settings attend reads back.
    #[serde(default)]
    pub settings: MeetingSettings,
    /// Occurrences of a recurring meeting.
    #[serde(default, deserialize_with = "de::vec_or_empty")]
    pub occurrences: Vec<Occurrence>,
}

impl ZoomMeeting {
    /// Whether registration is on (`approval_type` 0 or 1).
    pub fn registration_enabled(&self) -> bool {
        matches!(self.settings.approval_type, Some(0 | 1))
    }

    /// Whether Zoom's batch registration endpoint accepts this meeting (scheduled meetings,
    /// type 2, only). Webinars: scheduled webinars (type 5).
    pub fn supports_batch_registration(&self, kind: MeetingKind) -> bool {
        match kind {
            MeetingKind::Meeting => self.meeting_type == Some(2),
            MeetingKind::Webinar => self.meeting_type == Some(5),
        }
    }
}

/// A custom registration question's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomQuestion {
    /// The question.
    pub title: String,
    /// The answer (≤ 128 characters).
    pub value: String,
}

/// Body of `POST /meetings/{id}/registrants`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AddRegistrantRequest {
    /// Email (≤ 128; may be a synthetic per-user address under the host's domain).
    pub email: String,
    /// First name (≤ 64).
    pub first_name: String,
    /// Last name (≤ 64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Approve at once on a manual-approval meeting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_approve: Option<bool>,
    /// Language of Zoom's emails (e.g. `en-US`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Answers to custom questions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_questions: Vec<CustomQuestion>,
    /// Occurrences to register for (sent as the `occurrence_ids` query parameter); empty =
    /// Zoom's default.
    #[serde(skip)]
    pub occurrence_ids: Vec<String>,
}

impl AddRegistrantRequest {
    /// A registrant with just an email and a first name.
    pub fn new(email: impl Into<String>, first_name: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            first_name: first_name.into(),
            last_name: None,
            auto_approve: None,
            language: None,
            custom_questions: Vec::new(),
            occurrence_ids: Vec::new(),
        }
    }
}

/// Answer of `POST /meetings/{id}/registrants` (201).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RegistrantCreated {
    /// The registrant id.
    #[serde(deserialize_with = "de::string_required")]
    pub registrant_id: String,
    /// The personal join url; `None` while the registrant awaits manual approval.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub join_url: Option<String>,
    /// The meeting number (`id`).
    #[serde(default, rename = "id", deserialize_with = "de::opt_meeting_id")]
    pub meeting_id: Option<ZoomMeetingId>,
    /// Topic.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub topic: Option<String>,
    /// Start.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    /// Occurrences registered for.
    #[serde(default, deserialize_with = "de::vec_or_empty")]
    pub occurrences: Vec<Occurrence>,
    /// Dial-in PIN.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub participant_pin_code: Option<i64>,
}

/// One registrant of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchRegistrantInput {
    /// Email.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

/// Body of `POST /meetings/{id}/batch_registrants` (≤ [`MAX_BATCH`] registrants).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchRegistrantsRequest {
    /// Approve at once on a manual-approval meeting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_approve: Option<bool>,
    /// Whether Zoom emails the registrants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrants_confirmation_email: Option<bool>,
    /// The registrants (1 to 30).
    pub registrants: Vec<BatchRegistrantInput>,
}

/// One registrant created by a batch call.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct BatchRegistrant {
    /// The email it was created for (how a caller matches results to inputs).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub email: Option<String>,
    /// The registrant id.
    #[serde(deserialize_with = "de::string_required")]
    pub registrant_id: String,
    /// The personal join url (absent while pending approval).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub join_url: Option<String>,
    /// Dial-in PIN.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub participant_pin_code: Option<i64>,
}

/// A registrant's status, for listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegistrantStatus {
    /// Awaiting approval.
    Pending,
    /// Approved (Zoom's default filter).
    Approved,
    /// Denied.
    Denied,
}

impl RegistrantStatus {
    /// Zoom's query value.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrantStatus::Pending => "pending",
            RegistrantStatus::Approved => "approved",
            RegistrantStatus::Denied => "denied",
        }
    }
}

/// Filters of `GET /meetings/{id}/registrants`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRegistrantsQuery {
    /// Which status to list; `None` = Zoom's default (approved).
    pub status: Option<RegistrantStatus>,
    /// One occurrence of a recurring meeting.
    pub occurrence_id: Option<String>,
}

/// A registrant as listed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Registrant {
    /// The registrant id.
    #[serde(deserialize_with = "de::string_required")]
    pub id: String,
    /// Email.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub email: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub last_name: Option<String>,
    /// `approved`, `pending`, `denied`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub status: Option<String>,
    /// When the registrant was created.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub create_time: Option<DateTime<Utc>>,
    /// The personal join url.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub join_url: Option<String>,
    /// Dial-in PIN.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub participant_pin_code: Option<i64>,
}

/// `approve`, `deny` or `cancel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrantAction {
    /// Approve pending registrants.
    Approve,
    /// Deny registrants.
    Deny,
    /// Cancel approved registrants.
    Cancel,
}

/// A registrant addressed by a status update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistrantRef {
    /// The registrant id.
    pub id: String,
    /// Its email (optional for Zoom).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Body of `PUT /meetings/{id}/registrants/status` (≤ [`MAX_BATCH`] registrants).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistrantStatusUpdate {
    /// What to do.
    pub action: RegistrantAction,
    /// To whom (1 to 30).
    pub registrants: Vec<RegistrantRef>,
    /// One occurrence (query parameter).
    #[serde(skip)]
    pub occurrence_id: Option<String>,
}

/// One ended instance of a meeting (`GET /past_meetings/{id}/instances`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PastInstance {
    /// The instance uuid.
    #[serde(deserialize_with = "de::string_required")]
    pub uuid: String,
    /// When it started.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    /// The occurrence of a recurring meeting, when Zoom says (from 2026-09).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub occurrence_id: Option<String>,
}

/// Which past meeting the report/participant endpoints should read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PastMeeting {
    /// The latest instance of a meeting number.
    Latest(ZoomMeetingId),
    /// One instance by uuid (encoded for the path as Zoom requires: twice when it starts with
    /// `/` or contains `//`, else once).
    Instance(InstanceId),
}

/// One row of the participant report or of past-meeting participants: one join session of
/// one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ReportParticipant {
    /// The signed-in Zoom user's id; `None` for guests.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// Per-meeting participant id (the same `user_id` webhooks carry).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub user_id: Option<String>,
    /// `participant_user_id`, when present.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub participant_user_id: Option<String>,
    /// Display name (never identity).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Email as Zoom shows it.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub user_email: Option<String>,
    /// The registrant id (report: only with `include_fields=registrant_id`, which the client
    /// always sends).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub registrant_id: Option<String>,
    /// Meeting SDK `customerKey`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub customer_key: Option<String>,
    /// `participant_uuid`, if Zoom includes it.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub participant_uuid: Option<String>,
    /// Join time of this session.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub join_time: Option<DateTime<Utc>>,
    /// Leave time of this session.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub leave_time: Option<DateTime<Utc>>,
    /// Seconds in this session.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub duration: Option<i64>,
    /// Whether the participant failed over during the session.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub failover: Option<bool>,
    /// `in_meeting` or `in_waiting_room`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub status: Option<String>,
    /// The breakout meeting id of a breakout-room session.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub bo_mtg_id: Option<String>,
    /// Whether the participant belongs to the host's account.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub internal_user: Option<bool>,
}

impl ReportParticipant {
    /// The identity hints of this row (`participant_user_id`, else `id`, as the signed-in
    /// user id; `user_id` as [`IdentityHints::zoom_user_id`]).
    pub fn identity_hints(&self) -> IdentityHints {
        IdentityHints {
            registrant_id: self.registrant_id.clone(),
            customer_key: self.customer_key.clone(),
            email: self.user_email.clone(),
            participant_user_id: self.participant_user_id.clone().or_else(|| self.id.clone()),
            participant_uuid: self.participant_uuid.clone(),
            zoom_user_id: self.user_id.clone(),
            user_name: self.name.clone(),
        }
    }

    /// Whether the row is waiting-room time (never attended time).
    pub fn in_waiting_room(&self) -> bool {
        self.status.as_deref() == Some("in_waiting_room")
    }
}

/// Decides whether an *empty* report is final or "not ready yet": Zoom may answer an empty
/// list for a while after `meeting.ended`. An empty report of an instance that ended less
/// than `settle` ago becomes [`ZoomApiError::ReportNotReady`]; otherwise the rows are
/// returned as they are (a non-empty report is always ready, an empty one after `settle` means
/// nobody attended).
pub fn empty_report_not_ready(
    rows: Vec<ReportParticipant>,
    ended_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    settle: std::time::Duration,
) -> Result<Vec<ReportParticipant>, ZoomApiError> {
    if !rows.is_empty() {
        return Ok(rows);
    }
    let settle = chrono::Duration::from_std(settle).unwrap_or(chrono::Duration::MAX);
    match ended_at {
        Some(end) if now < end + settle => Err(ZoomApiError::ReportNotReady {
            code: None,
            message: "the report is still empty shortly after the meeting ended".into(),
        }),
        _ => Ok(rows),
    }
}

/// The Zoom REST operations attend needs, for **one Zoom account** (build one
/// implementation per account).
///
/// Every method retries transient failures internally (per the implementation's retry
/// policy) and returns an error only once retrying is over or pointless; see
/// [`ZoomApiError::disposition`] for what the caller should do next. `kind` selects the
/// `/meetings/…` or `/webinars/…` endpoints. Paginated endpoints return every page.
#[async_trait]
pub trait ZoomApi: Send + Sync {
    /// `POST /users/{host}/meetings` (or `/webinars`): creates a meeting with registration
    /// settings. `host` is a Zoom user id or email (`me` for the app's user). Not retried
    /// after a timeout or 5xx, since Zoom may have created it: the caller should look before
    /// creating again.
    async fn create_meeting(
        &self,
        kind: MeetingKind,
        host: &str,
        request: &CreateMeetingRequest,
    ) -> Result<ZoomMeeting, ZoomApiError>;

    /// `GET /meetings/{id}`: the meeting, with its type and registration settings.
    async fn get_meeting(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
    ) -> Result<ZoomMeeting, ZoomApiError>;

    /// `PATCH /meetings/{id}` with `{"settings": …}`: e.g. switches registration on.
    /// Idempotent.
    async fn update_registration_settings(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        settings: &RegistrationSettings,
    ) -> Result<(), ZoomApiError>;

    /// `POST /meetings/{id}/registrants[?occurrence_ids=…]`: adds one registrant. Zoom answers
    /// the same registrant for the same email again (counting towards the 3-per-day limit per
    /// registrant, which surfaces as [`ZoomApiError::DailyLimit`] with `per_resource`).
    async fn add_registrant(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        request: &AddRegistrantRequest,
    ) -> Result<RegistrantCreated, ZoomApiError>;

    /// `POST /meetings/{id}/batch_registrants`: adds 1 to 30 registrants in one call
    /// (scheduled meetings only). More than 30 → [`ZoomApiError::InvalidRequest`] without a
    /// call; an empty list → `Ok(vec![])` without a call; a meeting that does not support
    /// batches → [`ZoomApiError::BatchNotSupported`] (fall back to
    /// [`ZoomApi::add_registrant`]).
    async fn batch_add_registrants(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        request: &BatchRegistrantsRequest,
    ) -> Result<Vec<BatchRegistrant>, ZoomApiError>;

    /// `GET /meetings/{id}/registrants`: every registrant of the status asked for, across all
    /// pages (300 per page).
    async fn list_registrants(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        query: &ListRegistrantsQuery,
    ) -> Result<Vec<Registrant>, ZoomApiError>;

    /// `PUT /meetings/{id}/registrants/status`: approve, deny or cancel 1 to 30 registrants
    /// (same limits as the batch call).
    async fn update_registrant_status(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        update: &RegistrantStatusUpdate,
    ) -> Result<(), ZoomApiError>;

    /// `DELETE /meetings/{id}/registrants/{registrant_id}[?occurrence_id=…]`. A registrant
    /// that is already gone gives [`ZoomApiError::NotFound`] (treat as done).
    async fn delete_registrant(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
        registrant_id: &str,
        occurrence_id: Option<&str>,
    ) -> Result<(), ZoomApiError>;

    /// `GET /past_meetings/{id}/instances` (or `/past_webinars/…`): the ended instances.
    async fn past_instances(
        &self,
        kind: MeetingKind,
        meeting_id: ZoomMeetingId,
    ) -> Result<Vec<PastInstance>, ZoomApiError>;

    /// `GET /report/meetings/{id}/participants?include_fields=registrant_id` (or
    /// `/report/webinars/…`), all pages. Needs Pro+ and a report scope
    /// ([`ZoomApiError::ReportsUnavailable`] otherwise); right after the end it may be
    /// [`ZoomApiError::ReportNotReady`] (see also [`empty_report_not_ready`]).
    async fn report_participants(
        &self,
        kind: MeetingKind,
        meeting: &PastMeeting,
    ) -> Result<Vec<ReportParticipant>, ZoomApiError>;

    /// `GET /past_meetings/{id}/participants` (or `/past_webinars/…`), all pages: the
    /// fallback when the report endpoint is unavailable. Same errors as the report.
    async fn past_participants(
        &self,
        kind: MeetingKind,
        meeting: &PastMeeting,
    ) -> Result<Vec<ReportParticipant>, ZoomApiError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_request_serializes_as_zoom_expects() {
        let request = CreateMeetingRequest {
            topic: "Algebra".into(),
            meeting_type: Some(2),
            start_time: Some(
                chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 5, 9, 0, 0).unwrap(),
            ),
            duration_minutes: Some(60),
            timezone: Some("Europe/Berlin".into()),
            agenda: None,
            registration: RegistrationSettings::enabled(true),
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({
                "topic": "Algebra", "type": 2, "start_time": "2026-01-05T09:00:00Z",
                "duration": 60, "timezone": "Europe/Berlin",
                "settings": {"approval_type": 1}
            })
        );
        assert_eq!(
            serde_json::to_value(RegistrationSettings::enabled(false)).unwrap(),
            json!({"approval_type": 0})
        );
    }

    #[test]
    fn responses_are_tolerant() {
        let meeting: ZoomMeeting = serde_json::from_value(json!({
            "id": "85746065", "type": 2, "settings": {"approval_type": "0"}, "occurrences": null
        }))
        .unwrap();
        assert_eq!(meeting.id, ZoomMeetingId(85746065));
        assert!(meeting.registration_enabled());
        assert!(meeting.supports_batch_registration(MeetingKind::Meeting));

        let created: RegistrantCreated = serde_json::from_value(json!({
            "id": 85746065, "join_url": "https://zoom.us/w/1?tk=x", "registrant_id": "fdgsfh2ey82fuh",
            "start_time": "2021-07-13T21:44:51Z", "topic": "My Meeting",
            "occurrences": [{"duration": 60, "occurrence_id": "1648194360000", "start_time": "2022-03-25T07:46:00Z", "status": "available"}]
        }))
        .unwrap();
        assert_eq!(created.meeting_id, Some(ZoomMeetingId(85746065)));
        assert_eq!(
            created.occurrences[0].occurrence_id.as_deref(),
            Some("1648194360000")
        );

        let row: ReportParticipant = serde_json::from_value(json!({
            "id": "", "user_id": 16778240, "name": "Ada", "user_email": "", "registrant_id": "r1",
            "join_time": "2024-07-11T14:05:00Z", "leave_time": "2024-07-11T14:50:00Z", "duration": 2700,
            "failover": false, "status": "in_meeting"
        }))
        .unwrap();
        let hints = row.identity_hints();
        assert_eq!(hints.zoom_user_id.as_deref(), Some("16778240"));
        assert_eq!(hints.email, None);
        assert_eq!(hints.participant_user_id, None);
        assert!(!row.in_waiting_room());
    }

    #[test]
    fn empty_reports_right_after_the_end_are_not_ready() {
        let end = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 5, 10, 0, 0).unwrap();
        let settle = std::time::Duration::from_secs(1800);
        assert!(matches!(
            empty_report_not_ready(
                vec![],
                Some(end),
                end + chrono::Duration::minutes(5),
                settle
            ),
            Err(ZoomApiError::ReportNotReady { .. })
        ));
        assert_eq!(
            empty_report_not_ready(
                vec![],
                Some(end),
                end + chrono::Duration::minutes(31),
                settle
            )
            .unwrap(),
            vec![]
        );
        let rows = vec![ReportParticipant::default()];
        assert_eq!(
            empty_report_not_ready(rows.clone(), Some(end), end, settle).unwrap(),
            rows
        );
    }

    fn _assert_dyn_compatible(_: &dyn ZoomApi) {}
}

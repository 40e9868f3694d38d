//! What the service takes and returns. Every returned type serializes (serde, snake_case)
//! to the JSON shape API.md gives it, so an HTTP adapter can pass it through or convert it
//! field by field.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::attendance::{Roster, UnmatchedRecord};
use crate::identity::SharedLinkSuspect;
use crate::model::{
    AccountKey, GroupKey, InstanceId, InstanceState, MatchedBy, MeetingId, MeetingKind, Policy,
    RegistrantId, RegistrationStatus, Status, UserId, ZoomMeetingId,
};
use crate::store::{
    ErasureSummary, FailureReason, InstanceRecord, MeetingRecord, RegistrationCounts, WebhookId,
};
use crate::zoom::UrlValidationResponse;

/// A linked meeting (API.md `Meeting`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Meeting {
    /// attend's own id.
    pub id: MeetingId,
    /// The Zoom meeting number.
    pub zoom_meeting_id: ZoomMeetingId,
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// The host group.
    pub group: GroupKey,
    /// The topic as Zoom has it.
    pub topic: String,
    /// Scheduled start, if any.
    pub start_time: Option<DateTime<Utc>>,
    /// Scheduled length in minutes, if known.
    pub duration_minutes: Option<u32>,
    /// Zoom's time zone name, if known.
    pub timezone: Option<String>,
    /// Whether only attend-issued registrants may join.
    pub restrict_to_registered: bool,
    /// The attendance policy.
    pub policy: Policy,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// The configured Zoom account the meeting belongs to (not part of the API object).
    #[serde(skip)]
    pub account: AccountKey,
}

impl From<MeetingRecord> for Meeting {
    fn from(m: MeetingRecord) -> Self {
        Self {
            id: m.id,
            zoom_meeting_id: m.zoom_meeting_id,
            kind: m.kind,
            group: m.group,
            topic: m.topic,
            start_time: m.start_time,
            duration_minutes: m.duration_minutes,
            timezone: m.timezone,
            restrict_to_registered: m.restrict_to_registered,
            policy: m.policy,
            created_at: m.created_at,
            account: m.account,
        }
    }
}

/// A partial [`Policy`]: the fields given replace the current ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyPatch {
    /// See [`Policy::required_ratio`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_ratio: Option<f64>,
    /// See [`Policy::late_after_seconds`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_after_seconds: Option<u32>,
    /// See [`Policy::left_early_before_end_seconds`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_early_before_end_seconds: Option<u32>,
    /// See [`Policy::count_breakout_rooms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_breakout_rooms: Option<bool>,
}

impl PolicyPatch {
    /// `base` with the given fields replaced.
    pub fn apply(&self, base: &Policy) -> Policy {
        Policy {
            required_ratio: self.required_ratio.unwrap_or(base.required_ratio),
            late_after_seconds: self.late_after_seconds.unwrap_or(base.late_after_seconds),
            left_early_before_end_seconds: self
                .left_early_before_end_seconds
                .unwrap_or(base.left_early_before_end_seconds),
            count_breakout_rooms: self
                .count_breakout_rooms
                .unwrap_or(base.count_breakout_rooms),
        }
    }
}

impl From<Policy> for PolicyPatch {
    fn from(p: Policy) -> Self {
        Self {
            required_ratio: Some(p.required_ratio),
            late_after_seconds: Some(p.late_after_seconds),
            left_early_before_end_seconds: Some(p.left_early_before_end_seconds),
            count_breakout_rooms: Some(p.count_breakout_rooms),
        }
    }
}

/// A new Zoom meeting or webinar for attend to create (API.md `create`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateMeeting {
    /// The topic.
    pub topic: String,
    /// The scheduled start.
    pub start_time: DateTime<Utc>,
    /// The scheduled length in minutes (1..=1440).
    pub duration_minutes: u32,
    /// An IANA time zone name for Zoom to show; `None` = the host's default.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The Zoom user (id or email) who will host it.
    pub host: String,
}

/// `POST /meetings`: link an existing Zoom meeting/webinar, or create one. Exactly one of
/// `zoom_meeting_id` and `create` must be given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkMeeting {
    /// The host group (any string the host uses).
    pub group: GroupKey,
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// An existing Zoom meeting/webinar to link.
    #[serde(default)]
    pub zoom_meeting_id: Option<ZoomMeetingId>,
    /// A meeting/webinar to create at Zoom.
    #[serde(default)]
    pub create: Option<CreateMeeting>,
    /// `None` = the service default (itself `false` unless configured).
    #[serde(default)]
    pub restrict_to_registered: Option<bool>,
    /// Overrides of the service's default policy.
    #[serde(default)]
    pub policy: Option<PolicyPatch>,
    /// Which configured Zoom account; `None` = the default account (the first configured).
    #[serde(default)]
    pub account: Option<AccountKey>,
}

/// `PATCH /meetings/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MeetingPatch {
    /// Policy fields to change.
    #[serde(default)]
    pub policy: Option<PolicyPatch>,
    /// Switch restriction on or off (changes Zoom's approval type).
    #[serde(default)]
    pub restrict_to_registered: Option<bool>,
}

/// A stable code and a readable message (API.md `error` object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Stable snake_case code.
    pub code: String,
    /// Readable message.
    pub message: String,
}

impl From<FailureReason> for ErrorInfo {
    fn from(f: FailureReason) -> Self {
        Self {
            code: f.code,
            message: f.message,
        }
    }
}

/// One user's registration for one meeting (API.md `Registration`).
#[derive(Clone, PartialEq, Serialize)]
pub struct Registration {
    /// The host user.
    pub user_id: UserId,
    /// Where it stands.
    pub status: RegistrationStatus,
    /// Zoom's registrant id, once created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrant_id: Option<RegistrantId>,
    /// The personal join link on the host's domain (never Zoom's raw URL). Present for
    /// registered and pending users (opening it registers lazily).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_link: Option<String>,
    /// When Zoom confirmed the registrant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<DateTime<Utc>>,
    /// The last failure (for `failed`, and for `pending` rows deferred by a rate limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// For `pending` rows: when the next attempt is due (e.g. after a daily limit resets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("user_id", &self.user_id)
            .field("status", &self.status)
            .field("registrant_id", &self.registrant_id)
            .field("join_link", &self.join_link.as_ref().map(|_| "<redacted>"))
            .field("registered_at", &self.registered_at)
            .field("error", &self.error)
            .field("next_attempt_at", &self.next_attempt_at)
            .finish()
    }
}

/// Registration counts per status (API.md `counts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Registered users.
    pub registered: u64,
    /// Pending (queued, in progress, or deferred).
    pub pending: u64,
    /// Failed for good (see each error).
    pub failed: u64,
    /// Cancelled.
    pub cancelled: u64,
}

impl From<RegistrationCounts> for Counts {
    fn from(c: RegistrationCounts) -> Self {
        Self {
            registered: c.registered,
            pending: c.pending,
            failed: c.failed,
            cancelled: c.cancelled,
        }
    }
}

impl Counts {
    /// All rows.
    pub fn total(&self) -> u64 {
        self.registered + self.pending + self.failed + self.cancelled
    }
}

/// The answer of [`Attend::register_users`](super::Attend::register_users).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegisterOutcome {
    /// One entry per requested user (in request order, duplicates once).
    pub registrations: Vec<Registration>,
    /// `true` when no requested user is still `pending` (HTTP 200); `false` when some are
    /// finished in the background (HTTP 202).
    #[serde(skip)]
    pub complete: bool,
}

/// `GET /meetings/{id}/registrations`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegistrationList {
    /// Every registration of the meeting, by user id.
    pub registrations: Vec<Registration>,
    /// Counts per status.
    pub counts: Counts,
}

/// Registration progress of one meeting, as published on
/// [`Attend::watch_registrations`](super::Attend::watch_registrations).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RegistrationProgress {
    /// Counts per status after the latest step.
    pub counts: Counts,
    /// Registrations created at Zoom (or adopted) by the current run so far.
    pub done_in_run: u64,
    /// Whether a run is working on this meeting in this process right now.
    pub running: bool,
    /// The earliest time a deferred (rate-limited) registration will be retried.
    pub deferred_until: Option<DateTime<Utc>>,
}

/// A personal join link (API.md `{"url","expires_at"}`).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct JoinLink {
    /// `{public_url}{mount prefix}/join/{token}`.
    pub url: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for JoinLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinLink")
            .field("url", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where a personal join link leads: the user's own Zoom `join_url`.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinRedirect {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// The host user.
    pub user_id: UserId,
    /// Zoom's personal `join_url` (a credential: redirect to it, never log it).
    pub zoom_join_url: String,
}

impl fmt::Debug for JoinRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinRedirect")
            .field("meeting_id", &self.meeting_id)
            .field("user_id", &self.user_id)
            .field("zoom_join_url", &"<redacted>")
            .finish()
    }
}

/// One instance of a meeting (API.md `{"uuid","started_at","ended_at","state"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// Zoom's instance uuid.
    pub uuid: InstanceId,
    /// `object.start_time` of `meeting.started`, if seen.
    pub started_at: Option<DateTime<Utc>>,
    /// `object.end_time` of `meeting.ended`, if seen.
    pub ended_at: Option<DateTime<Utc>>,
    /// `live`, `provisional` or `final`.
    pub state: InstanceState,
}

impl From<InstanceRecord> for Instance {
    fn from(i: InstanceRecord) -> Self {
        Self {
            uuid: i.uuid,
            started_at: i.started_at,
            ended_at: i.ended_at,
            state: i.state,
        }
    }
}

/// `GET /meetings/{id}/instances`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstanceList {
    /// By start, oldest first.
    pub instances: Vec<Instance>,
}

/// The attendance of one instance, or of a meeting aggregated over its instances
/// (API.md `Attendance`): the engine's [`Roster`] plus the meeting id.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attendance {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// `instance`, `window`, `state`, `roster`, `unmatched`, `summary`.
    #[serde(flatten)]
    pub roster: Roster,
    /// Registrant links that look used by two people at the same time (an addition to
    /// API.md's object; empty when none).
    pub possible_shared_links: Vec<SharedLinkSuspect>,
}

/// One person in a meeting right now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveParticipant {
    /// The host user, when matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// How they were matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<MatchedBy>,
    /// The person key, when unmatched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_key: Option<String>,
    /// A display name, when unmatched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Start of their current stretch of presence.
    pub since: DateTime<Utc>,
    /// Attended time so far in this instance, whole seconds.
    pub attended_seconds: u64,
}

/// `GET /meetings/{id}/live`: who is in the meeting now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveView {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// The running instance; `None` when the meeting is not running.
    pub instance: Option<InstanceId>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// Present participants (matched users by id, then unmatched by key).
    pub participants: Vec<LiveParticipant>,
}

/// `GET /meetings/{id}/unmatched`: unmatched people over all instances.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnmatchedList {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// By participant key.
    pub unmatched: Vec<UnmatchedRecord>,
}

/// One instance in a user's history (API.md `records[]`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserAttendanceRecord {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// The host group of the meeting (not serialized: API.md's record has no `group`; it
    /// lets an adapter filter records by group without looking each meeting up).
    #[serde(skip)]
    pub group: GroupKey,
    /// The instance.
    pub instance: InstanceId,
    /// The status in that instance.
    pub status: Status,
    /// Whole seconds attended.
    pub attended_seconds: u64,
    /// Attended over window.
    pub attendance_ratio: f64,
    /// First counted presence.
    pub first_join: Option<DateTime<Utc>>,
    /// Last counted presence.
    pub last_leave: Option<DateTime<Utc>>,
}

/// `GET /users/{user_id}/attendance`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserHistory {
    /// The user.
    pub user_id: UserId,
    /// By instance start, oldest first.
    pub records: Vec<UserAttendanceRecord>,
}

/// `POST /meetings/{id}/reconcile` (202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReconcileQueued {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// The instances whose report pull was queued.
    pub instances: Vec<InstanceId>,
}

/// What [`Attend::ingest_webhook`](super::Attend::ingest_webhook) did; answer 200 in both
/// cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookAck {
    /// `endpoint.url_validation`: answer with this JSON body.
    UrlValidation(UrlValidationResponse),
    /// The event is committed (or was already: `duplicate`); answer 200 with any body.
    Stored {
        /// The stored delivery.
        webhook_id: WebhookId,
        /// A redelivery of an event already stored.
        duplicate: bool,
        /// Correctly signed but not parseable as a Zoom event: stored and flagged for
        /// operators (never processed), still answered 200 so Zoom does not retry it.
        unparseable: bool,
    },
}

/// What [`Attend::erase_user`](super::Attend::erase_user) removed.
pub type Erasure = ErasureSummary;

/// What one pass of [`Attend::run_pending_jobs`](super::Attend::run_pending_jobs) did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct JobRunReport {
    /// Jobs claimed.
    pub claimed: u64,
    /// Jobs completed.
    pub completed: u64,
    /// Jobs that failed (to be retried, or dead).
    pub failed: u64,
    /// Jobs put back for later (rate limits, report not ready).
    pub deferred: u64,
}

impl JobRunReport {
    pub(crate) fn add(&mut self, other: JobRunReport) {
        self.claimed += other.claimed;
        self.completed += other.completed;
        self.failed += other.failed;
        self.deferred += other.deferred;
    }
}

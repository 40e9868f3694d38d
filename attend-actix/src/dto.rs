//! The JSON objects of the attend HTTP API v1, exactly as `API.md` names them.
//!
//! These types mirror attend-core's on purpose: the HTTP contract is versioned and stable,
//! while the core's types may change shape between releases. Each response type converts
//! `From` its core counterpart; each request type is validated into core values by the
//! handlers. Field names are `snake_case`, times RFC 3339 UTC. Optional fields of
//! [`Registration`] are omitted when absent; the nullable fields of [`Attendance`]
//! (`instance`, `first_join`, ...) are present as `null`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use attend_core::{model, service};

use crate::error::ErrorDetail;

// ---------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------

/// Whether a linked Zoom object is a meeting or a webinar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    /// A Zoom meeting.
    Meeting,
    /// A Zoom webinar.
    Webinar,
}

impl From<model::MeetingKind> for MeetingKind {
    fn from(kind: model::MeetingKind) -> Self {
        match kind {
            model::MeetingKind::Meeting => MeetingKind::Meeting,
            model::MeetingKind::Webinar => MeetingKind::Webinar,
        }
    }
}

impl From<MeetingKind> for model::MeetingKind {
    fn from(kind: MeetingKind) -> Self {
        match kind {
            MeetingKind::Meeting => model::MeetingKind::Meeting,
            MeetingKind::Webinar => model::MeetingKind::Webinar,
        }
    }
}

/// Registration status of one user for one meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Registered at Zoom; the personal link works.
    Registered,
    /// Queued or in progress (finished in the background).
    Pending,
    /// Zoom refused for a reason that retrying will not fix; see `error`.
    Failed,
    /// Cancelled at Zoom.
    Cancelled,
}

impl From<model::RegistrationStatus> for RegistrationStatus {
    fn from(status: model::RegistrationStatus) -> Self {
        match status {
            model::RegistrationStatus::Registered => RegistrationStatus::Registered,
            model::RegistrationStatus::Pending => RegistrationStatus::Pending,
            model::RegistrationStatus::Failed => RegistrationStatus::Failed,
            model::RegistrationStatus::Cancelled => RegistrationStatus::Cancelled,
        }
    }
}

/// Attendance status, first matching rule wins: `absent` → `partial` → `late` →
/// `left_early` → `present`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    /// Attended, on time, to the end.
    Present,
    /// First join later than window start + `late_after_seconds`.
    Late,
    /// Last leave earlier than window end − `left_early_before_end_seconds`.
    LeftEarly,
    /// Attended ratio below `required_ratio`.
    Partial,
    /// Never attended.
    Absent,
}

impl From<model::Status> for AttendanceStatus {
    fn from(status: model::Status) -> Self {
        match status {
            model::Status::Present => AttendanceStatus::Present,
            model::Status::Late => AttendanceStatus::Late,
            model::Status::LeftEarly => AttendanceStatus::LeftEarly,
            model::Status::Partial => AttendanceStatus::Partial,
            model::Status::Absent => AttendanceStatus::Absent,
        }
    }
}

/// Whether a roster (or an instance) can still change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    /// Running; "now" stands in for the end.
    Live,
    /// Ended; Zoom's report not merged yet.
    Provisional,
    /// Reconciled (or the grace period for accounts without reports has passed).
    Final,
}

impl From<model::InstanceState> for InstanceState {
    fn from(state: model::InstanceState) -> Self {
        match state {
            model::InstanceState::Live => InstanceState::Live,
            model::InstanceState::Provisional => InstanceState::Provisional,
            model::InstanceState::Final => InstanceState::Final,
        }
    }
}

/// How a participant was tied to a host user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// By the Zoom registrant attend created for the user.
    RegistrantId,
    /// By the Meeting SDK `customer_key`.
    CustomerKey,
    /// By email (registrant or host user email, case-insensitive).
    Email,
    /// Linked by hand.
    Manual,
}

impl From<model::MatchedBy> for MatchedBy {
    fn from(by: model::MatchedBy) -> Self {
        match by {
            model::MatchedBy::RegistrantId => MatchedBy::RegistrantId,
            model::MatchedBy::CustomerKey => MatchedBy::CustomerKey,
            model::MatchedBy::Email => MatchedBy::Email,
            model::MatchedBy::Manual => MatchedBy::Manual,
        }
    }
}

/// Where an interval of presence is known from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntervalSource {
    /// Participant webhooks.
    Webhook,
    /// Zoom's participant report.
    Report,
    /// Entered by hand.
    Manual,
}

impl From<model::IntervalSource> for IntervalSource {
    fn from(source: model::IntervalSource) -> Self {
        match source {
            model::IntervalSource::Webhook => IntervalSource::Webhook,
            model::IntervalSource::Report => IntervalSource::Report,
            model::IntervalSource::Manual => IntervalSource::Manual,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Meetings
// ---------------------------------------------------------------------------------------------

/// The attendance rules of a meeting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"required_ratio": 0.5, "late_after_seconds": 300,
    "left_early_before_end_seconds": 300, "count_breakout_rooms": true}))]
pub struct Policy {
    /// A user whose attended ratio is below this is `partial` (0..=1).
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub required_ratio: f64,
    /// A first join later than window start + this many seconds is `late`.
    pub late_after_seconds: u32,
    /// A last leave earlier than window end − this many seconds is `left_early`.
    pub left_early_before_end_seconds: u32,
    /// Whether time in breakout rooms counts as attended time.
    pub count_breakout_rooms: bool,
}

impl From<model::Policy> for Policy {
    fn from(policy: model::Policy) -> Self {
        Self {
            required_ratio: policy.required_ratio,
            late_after_seconds: policy.late_after_seconds,
            left_early_before_end_seconds: policy.left_early_before_end_seconds,
            count_breakout_rooms: policy.count_breakout_rooms,
        }
    }
}

impl From<Policy> for model::Policy {
    fn from(policy: Policy) -> Self {
        Self {
            required_ratio: policy.required_ratio,
            late_after_seconds: policy.late_after_seconds,
            left_early_before_end_seconds: policy.left_early_before_end_seconds,
            count_breakout_rooms: policy.count_breakout_rooms,
        }
    }
}

/// A change to a [`Policy`]: the fields given replace the current ones, the others stay.
/// A complete `Policy` object is a valid `PolicyPatch`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"required_ratio": 0.75}))]
pub struct PolicyPatch {
    /// New `required_ratio` (0..=1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub required_ratio: Option<f64>,
    /// New `late_after_seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_after_seconds: Option<u32>,
    /// New `left_early_before_end_seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_early_before_end_seconds: Option<u32>,
    /// New `count_breakout_rooms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_breakout_rooms: Option<bool>,
}

impl From<PolicyPatch> for service::PolicyPatch {
    fn from(p: PolicyPatch) -> Self {
        Self {
            required_ratio: p.required_ratio,
            late_after_seconds: p.late_after_seconds,
            left_early_before_end_seconds: p.left_early_before_end_seconds,
            count_breakout_rooms: p.count_breakout_rooms,
        }
    }
}

/// A linked Zoom meeting or webinar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "mtg_5f2c1e", "zoom_meeting_id": 85393847045_i64, "kind": "meeting",
    "group": "course-101", "topic": "Algebra I, week 3",
    "start_time": "2026-03-02T09:00:00Z", "duration_minutes": 60, "timezone": "Europe/Berlin",
    "restrict_to_registered": true,
    "policy": {"required_ratio": 0.5, "late_after_seconds": 300,
               "left_early_before_end_seconds": 300, "count_breakout_rooms": true},
    "created_at": "2026-02-20T14:03:11Z"}))]
pub struct Meeting {
    /// attend's own id of the meeting.
    pub id: String,
    /// Zoom's meeting (or webinar) number.
    pub zoom_meeting_id: i64,
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// The host group (course, section) the meeting belongs to.
    pub group: String,
    /// The topic, as Zoom has it.
    pub topic: String,
    /// The scheduled start; `null` for meetings without a fixed time.
    #[schema(required = true)]
    pub start_time: Option<DateTime<Utc>>,
    /// The scheduled duration; `null` when Zoom has none.
    #[schema(required = true)]
    pub duration_minutes: Option<u32>,
    /// The meeting's time zone; `null` when Zoom has none.
    #[schema(required = true)]
    pub timezone: Option<String>,
    /// Whether only attend-issued personal links get in (manual approval at Zoom).
    pub restrict_to_registered: bool,
    /// The attendance rules.
    pub policy: Policy,
    /// When the meeting was linked.
    pub created_at: DateTime<Utc>,
}

impl From<service::Meeting> for Meeting {
    fn from(m: service::Meeting) -> Self {
        Self {
            id: m.id.0,
            zoom_meeting_id: m.zoom_meeting_id.0,
            kind: m.kind.into(),
            group: m.group.0,
            topic: m.topic,
            start_time: m.start_time,
            duration_minutes: m.duration_minutes,
            timezone: m.timezone,
            restrict_to_registered: m.restrict_to_registered,
            policy: m.policy.into(),
            created_at: m.created_at,
        }
    }
}

/// `{"meetings": [Meeting]}`, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MeetingList {
    /// The meetings the caller may see.
    pub meetings: Vec<Meeting>,
}

/// What Zoom should create when a meeting is created rather than linked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"topic": "Algebra I, week 3", "start_time": "2026-03-02T09:00:00Z",
    "duration_minutes": 60, "timezone": "Europe/Berlin", "host": "teacher@school.example"}))]
pub struct CreateZoomMeeting {
    /// The topic.
    pub topic: String,
    /// The scheduled start (RFC 3339). Registration needs a scheduled meeting.
    pub start_time: DateTime<Utc>,
    /// The scheduled duration in minutes (1..=1440).
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: u32,
    /// An IANA time zone name, e.g. `Europe/Berlin`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The Zoom user (id or email) who hosts the meeting.
    pub host: String,
}

/// `POST /meetings`: link an existing Zoom meeting/webinar (`zoom_meeting_id`) **or** create
/// one (`create`). Exactly one of the two must be given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"group": "course-101", "kind": "meeting",
    "zoom_meeting_id": 85393847045_i64, "restrict_to_registered": true}))]
pub struct LinkMeetingRequest {
    /// The host group the meeting belongs to; instructors must manage it. Not empty.
    #[schema(min_length = 1)]
    pub group: String,
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// The Zoom meeting (or webinar) number to link.
    #[serde(default)]
    pub zoom_meeting_id: Option<i64>,
    /// What to create at Zoom instead of linking.
    #[serde(default)]
    pub create: Option<CreateZoomMeeting>,
    /// Only attend-issued links get in (default `false`).
    #[serde(default)]
    pub restrict_to_registered: Option<bool>,
    /// Attendance rules; omitted fields take the defaults.
    #[serde(default)]
    pub policy: Option<PolicyPatch>,
    /// Which configured Zoom account the meeting belongs to (installations with several
    /// accounts); omitted = the default account.
    #[serde(default)]
    pub account: Option<String>,
}

impl From<CreateZoomMeeting> for service::CreateMeeting {
    fn from(c: CreateZoomMeeting) -> Self {
        Self {
            topic: c.topic,
            start_time: c.start_time,
            duration_minutes: c.duration_minutes,
            timezone: c.timezone,
            host: c.host,
        }
    }
}

impl From<LinkMeetingRequest> for service::LinkMeeting {
    fn from(r: LinkMeetingRequest) -> Self {
        Self {
            group: r.group.into(),
            kind: r.kind.into(),
            zoom_meeting_id: r.zoom_meeting_id.map(model::ZoomMeetingId),
            create: r.create.map(Into::into),
            restrict_to_registered: r.restrict_to_registered,
            policy: r.policy.map(Into::into),
            account: r.account.map(Into::into),
        }
    }
}

/// `PATCH /meetings/{id}`: the fields given are changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"policy": {"required_ratio": 0.75}, "restrict_to_registered": false}))]
pub struct MeetingPatch {
    /// Policy fields to change.
    #[serde(default)]
    pub policy: Option<PolicyPatch>,
    /// New `restrict_to_registered`.
    #[serde(default)]
    pub restrict_to_registered: Option<bool>,
}

impl From<MeetingPatch> for service::MeetingPatch {
    fn from(p: MeetingPatch) -> Self {
        Self {
            policy: p.policy.map(Into::into),
            restrict_to_registered: p.restrict_to_registered,
        }
    }
}

/// Query of `GET /meetings`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeetingListQuery {
    /// Only meetings of this group (not empty). Instructors without it see the meetings of
    /// all their groups.
    #[param(min_length = 1)]
    pub group: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Registrations and join links
// ---------------------------------------------------------------------------------------------

/// Body of `POST /meetings/{id}/registrations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_ids": ["u1", "u2", "u3"]}))]
pub struct RegisterUsersRequest {
    /// Host user ids to register (1..=4999; duplicates are ignored).
    pub user_ids: Vec<String>,
}

/// One user's registration for one meeting. Absent fields are omitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"user_id": "u1", "status": "registered", "registrant_id": "85hAbC",
    "join_link": "https://lms.example/attend/join/eyJ0eXAi...",
    "registered_at": "2026-02-20T14:05:00Z"}))]
pub struct Registration {
    /// The host user.
    pub user_id: String,
    /// Where the registration stands.
    pub status: RegistrationStatus,
    /// Zoom's registrant id, once registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registrant_id: Option<String>,
    /// The user's personal join link on the host's domain (not Zoom's raw URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_link: Option<String>,
    /// When Zoom accepted the registrant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<DateTime<Utc>>,
    /// Why the registration failed (status `failed`), or why a `pending` one was deferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    /// For `pending` registrations: when the next attempt is due (e.g. after Zoom's daily
    /// limit resets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<service::Registration> for Registration {
    fn from(r: service::Registration) -> Self {
        Self {
            user_id: r.user_id.0,
            status: r.status.into(),
            registrant_id: r.registrant_id.map(|id| id.0),
            join_link: r.join_link,
            registered_at: r.registered_at,
            error: r.error.map(|e| ErrorDetail {
                code: e.code,
                message: e.message,
            }),
            next_attempt_at: r.next_attempt_at,
        }
    }
}

/// `{"registrations": [Registration]}`: the answer of `POST .../registrations`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegistrationsResponse {
    /// One entry per requested user, in request order.
    pub registrations: Vec<Registration>,
}

/// Counts of registrations by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistrationCounts {
    /// `registered`.
    pub registered: u64,
    /// `pending`.
    pub pending: u64,
    /// `failed`.
    pub failed: u64,
    /// `cancelled`.
    pub cancelled: u64,
}

impl From<service::Counts> for RegistrationCounts {
    fn from(c: service::Counts) -> Self {
        Self {
            registered: c.registered,
            pending: c.pending,
            failed: c.failed,
            cancelled: c.cancelled,
        }
    }
}

/// `GET .../registrations`: every registration of the meeting and the counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegistrationList {
    /// Every registration, by user id.
    pub registrations: Vec<Registration>,
    /// Counts by status.
    pub counts: RegistrationCounts,
}

/// Query of `GET .../join-link`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JoinLinkQuery {
    /// Whose link (default: the caller's own). Students may only ask for their own.
    pub user_id: Option<String>,
}

/// A personal join link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"url": "https://lms.example/attend/join/eyJ0eXAi...",
    "expires_at": "2026-03-09T09:00:00Z"}))]
pub struct JoinLink {
    /// `{public_url}{mount prefix}/join/{token}`.
    pub url: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

impl From<service::JoinLink> for JoinLink {
    fn from(l: service::JoinLink) -> Self {
        Self {
            url: l.url,
            expires_at: l.expires_at,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Instances and attendance
// ---------------------------------------------------------------------------------------------

/// One instance (one start) of a meeting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"uuid": "4444AAAiAAAAAiAiAiiAii==", "started_at": "2026-03-02T09:01:12Z",
    "ended_at": "2026-03-02T10:02:40Z", "state": "final"}))]
pub struct Instance {
    /// Zoom's instance uuid.
    pub uuid: String,
    /// When it started (`null` if only its end is known so far).
    #[schema(required = true)]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (`null` while live).
    #[schema(required = true)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Whether its roster can still change.
    pub state: InstanceState,
}

impl From<service::Instance> for Instance {
    fn from(i: service::Instance) -> Self {
        Self {
            uuid: i.uuid.0,
            started_at: i.started_at,
            ended_at: i.ended_at,
            state: i.state.into(),
        }
    }
}

/// `{"instances": [Instance]}`, earliest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InstanceList {
    /// The instances.
    pub instances: Vec<Instance>,
}

/// Query of the attendance routes and of `POST .../reconcile`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstanceQuery {
    /// One instance's uuid; absent = aggregated over all instances (reconcile: all ended
    /// instances).
    pub instance: Option<String>,
}

/// The window an attendance was measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttendanceWindow {
    /// Start.
    pub start: DateTime<Utc>,
    /// End ("now" while live).
    pub end: DateTime<Utc>,
}

/// One segment of counted presence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Interval {
    /// Start.
    pub join: DateTime<Utc>,
    /// End.
    pub leave: DateTime<Utc>,
    /// Where it is known from.
    pub source: IntervalSource,
}

/// One host user's attendance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RosterEntry {
    /// The host user.
    pub user_id: String,
    /// The status.
    pub status: AttendanceStatus,
    /// Whole seconds of the union of the user's intervals inside the window.
    pub attended_seconds: u64,
    /// `attended_seconds` over the window length (4 decimals).
    pub attendance_ratio: f64,
    /// Earliest counted presence, clipped to the window; `null` when absent.
    #[schema(required = true)]
    pub first_join: Option<DateTime<Utc>>,
    /// Latest counted presence, clipped to the window; `null` when absent.
    #[schema(required = true)]
    pub last_leave: Option<DateTime<Utc>>,
    /// Seconds between window start and first join; `null` when absent.
    #[schema(required = true)]
    pub late_seconds: Option<u64>,
    /// Distinct connections that entered the main meeting.
    pub joins: u32,
    /// How the user was matched; `null` when never seen.
    #[schema(required = true)]
    pub matched_by: Option<MatchedBy>,
    /// Whether the user is registered for the meeting.
    pub registered: bool,
    /// The counted presence, in time order.
    pub intervals: Vec<Interval>,
}

/// A participant no host user was found for, grouped per person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UnmatchedParticipant {
    /// The key to link this person by hand with.
    pub participant_key: String,
    /// The display name Zoom gave (never used as identity).
    #[schema(required = true)]
    pub display_name: Option<String>,
    /// The email Zoom gave, if any.
    #[schema(required = true)]
    pub email: Option<String>,
    /// Whole seconds of counted presence inside the window.
    pub attended_seconds: u64,
    /// Distinct connections that entered the main meeting.
    pub joins: u32,
    /// Earliest counted presence.
    #[schema(required = true)]
    pub first_join: Option<DateTime<Utc>>,
    /// Latest counted presence.
    #[schema(required = true)]
    pub last_leave: Option<DateTime<Utc>>,
    /// The counted presence, in time order.
    pub intervals: Vec<Interval>,
}

/// Counts over a roster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttendanceSummary {
    /// Registered users in the roster.
    pub registered: u32,
    /// Rows with status `present`.
    pub present: u32,
    /// Rows with status `late`.
    pub late: u32,
    /// Rows with status `left_early`.
    pub left_early: u32,
    /// Rows with status `partial`.
    pub partial: u32,
    /// Rows with status `absent`.
    pub absent: u32,
    /// Unmatched people.
    pub unmatched: u32,
}

/// The attendance of one instance, or aggregated over all instances (`instance: null`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "meeting_id": "mtg_5f2c1e", "instance": "4444AAAiAAAAAiAiAiiAii==",
    "window": {"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"},
    "state": "final",
    "roster": [{"user_id": "u1", "status": "late", "attended_seconds": 3300,
        "attendance_ratio": 0.9167, "first_join": "2026-03-02T09:05:00Z",
        "last_leave": "2026-03-02T10:00:00Z", "late_seconds": 300, "joins": 2,
        "matched_by": "registrant_id", "registered": true,
        "intervals": [{"join": "2026-03-02T09:05:00Z", "leave": "2026-03-02T10:00:00Z",
                       "source": "webhook"}]}],
    "unmatched": [],
    "summary": {"registered": 1, "present": 0, "late": 1, "left_early": 0, "partial": 0,
                "absent": 0, "unmatched": 0}}))]
pub struct Attendance {
    /// attend's meeting id.
    pub meeting_id: String,
    /// The instance uuid, or `null` for the aggregate over all instances.
    #[schema(required = true)]
    pub instance: Option<String>,
    /// The window measured against.
    pub window: AttendanceWindow,
    /// Whether the roster can still change.
    pub state: InstanceState,
    /// Every registered user, plus host users matched without a registration.
    pub roster: Vec<RosterEntry>,
    /// Participants no host user was found for.
    pub unmatched: Vec<UnmatchedParticipant>,
    /// Counts.
    pub summary: AttendanceSummary,
    /// Personal links that look used by two people at the same time (empty when none).
    pub possible_shared_links: Vec<SharedLink>,
}

/// A personal registrant link seen on overlapping connections of visibly different people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SharedLink {
    /// The registrant id whose link was shared.
    pub registrant_id: String,
    /// The connections involved.
    pub connections: Vec<String>,
}

/// One person in a meeting right now: a matched host user (`user_id`) or an unmatched
/// participant (`participant_key`, `display_name`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LiveParticipant {
    /// The host user, when matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// How they were matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<MatchedBy>,
    /// The person key, when unmatched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_key: Option<String>,
    /// The display name, when unmatched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Start of their current stretch of presence.
    pub since: DateTime<Utc>,
    /// Attended time so far in this instance, whole seconds.
    pub attended_seconds: u64,
}

impl From<service::LiveParticipant> for LiveParticipant {
    fn from(p: service::LiveParticipant) -> Self {
        Self {
            user_id: p.user_id.map(|u| u.0),
            matched_by: p.matched_by.map(Into::into),
            participant_key: p.participant_key,
            display_name: p.display_name,
            since: p.since,
            attended_seconds: p.attended_seconds,
        }
    }
}

/// `GET /meetings/{id}/live`: who is in the meeting right now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"meeting_id": "mtg_5f2c1e", "instance": "4444AAAiAAAAAiAiAiiAii==",
    "started_at": "2026-03-02T09:01:12Z",
    "participants": [{"user_id": "u1", "matched_by": "registrant_id",
        "since": "2026-03-02T09:03:00Z", "attended_seconds": 840},
        {"participant_key": "name:Guest 7", "display_name": "Guest 7",
        "since": "2026-03-02T09:10:00Z", "attended_seconds": 420}]}))]
pub struct LiveView {
    /// attend's meeting id.
    pub meeting_id: String,
    /// The running instance; `null` when the meeting is not running.
    #[schema(required = true)]
    pub instance: Option<String>,
    /// When the running instance started; `null` when not running.
    #[schema(required = true)]
    pub started_at: Option<DateTime<Utc>>,
    /// Who is present now: matched users by id, then unmatched people by key.
    pub participants: Vec<LiveParticipant>,
}

impl From<service::LiveView> for LiveView {
    fn from(v: service::LiveView) -> Self {
        Self {
            meeting_id: v.meeting_id.0,
            instance: v.instance.map(|i| i.0),
            started_at: v.started_at,
            participants: v.participants.into_iter().map(Into::into).collect(),
        }
    }
}

/// `{"meeting_id", "unmatched": [UnmatchedParticipant]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UnmatchedList {
    /// attend's meeting id.
    pub meeting_id: String,
    /// Participants no host user was found for, over all instances.
    pub unmatched: Vec<UnmatchedParticipant>,
}

/// Body of `POST .../unmatched/{participant_key}/link`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_id": "u7"}))]
pub struct LinkParticipantRequest {
    /// The host user the participant is.
    pub user_id: String,
}

/// `202` answer of `POST .../reconcile`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReconcileQueued {
    /// attend's meeting id.
    pub meeting_id: String,
    /// The instances whose report pull was queued.
    pub instances: Vec<String>,
}

impl From<service::ReconcileQueued> for ReconcileQueued {
    fn from(q: service::ReconcileQueued) -> Self {
        Self {
            meeting_id: q.meeting_id.0,
            instances: q.instances.into_iter().map(|i| i.0).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

/// One meeting instance in a user's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserAttendanceRecord {
    /// attend's meeting id.
    pub meeting_id: String,
    /// The instance uuid.
    pub instance: String,
    /// The status in that instance.
    pub status: AttendanceStatus,
    /// Whole seconds attended.
    pub attended_seconds: u64,
    /// Over the instance's window.
    pub attendance_ratio: f64,
    /// Earliest counted presence; `null` when absent.
    #[schema(required = true)]
    pub first_join: Option<DateTime<Utc>>,
    /// Latest counted presence; `null` when absent.
    #[schema(required = true)]
    pub last_leave: Option<DateTime<Utc>>,
}

/// `GET /users/{user_id}/attendance`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserAttendance {
    /// The host user.
    pub user_id: String,
    /// One record per meeting instance the user is on the roster of, oldest first.
    pub records: Vec<UserAttendanceRecord>,
}

impl From<service::UserAttendanceRecord> for UserAttendanceRecord {
    fn from(r: service::UserAttendanceRecord) -> Self {
        Self {
            meeting_id: r.meeting_id.0,
            instance: r.instance.0,
            status: r.status.into(),
            attended_seconds: r.attended_seconds,
            attendance_ratio: r.attendance_ratio,
            first_join: r.first_join,
            last_leave: r.last_leave,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------

/// The answer to Zoom's `endpoint.url_validation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UrlValidationResponse {
    /// The `plainToken` Zoom sent.
    #[serde(rename = "plainToken")]
    pub plain_token: String,
    /// Hex HMAC-SHA256 of `plainToken` with the webhook secret.
    #[serde(rename = "encryptedToken")]
    pub encrypted_token: String,
}

/// The answer to any other correctly signed event, once it is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookAck {
    /// `stored` (committed now), `stored_unparseable` (committed now, but not parseable as a
    /// Zoom event: kept and flagged for operators, never processed) or `duplicate`
    /// (committed before).
    pub status: String,
}

/// What `POST /webhooks/zoom` answers with 200.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum WebhookResponse {
    /// For `endpoint.url_validation`.
    UrlValidation(UrlValidationResponse),
    /// For every other event.
    Ack(WebhookAck),
}

//! The domain vocabulary shared by every part of attend: identifiers, meetings, policies,
//! registrations, and the normalized participant events that Zoom webhooks and reports are
//! turned into.
//!
//! Everything here is plain data (serde-friendly, no I/O). Identifiers are newtypes over
//! strings so that a host user id can never be passed where a Zoom participant id is
//! expected.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps a string as this identifier.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }
    };
}

string_id! {
    /// The host application's own user id (a primary key of the host's users table, as text).
    UserId
}
string_id! {
    /// A host group key: a course, a section, anything the host uses to group users.
    GroupKey
}
string_id! {
    /// attend's own id of a linked meeting or webinar.
    MeetingId
}
string_id! {
    /// One instance (one start) of a Zoom meeting: Zoom's meeting `uuid`.
    InstanceId
}
string_id! {
    /// The key of one participant *connection* inside one instance (one device, one join).
    ///
    /// Built from Zoom's `participant_uuid` when present, else from the per-meeting
    /// participant `user_id`. A rejoin after a disconnect is a new connection.
    ConnectionKey
}
string_id! {
    /// The name under which a Zoom account (credentials + webhook secrets) is configured.
    AccountKey
}
string_id! {
    /// Zoom's registrant id for one registrant of one meeting.
    RegistrantId
}

/// A Zoom meeting number (10–11 digits). Zoom sends it as a string in some webhooks and as a
/// number elsewhere; attend always holds it as an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ZoomMeetingId(pub i64);

impl fmt::Display for ZoomMeetingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Whether a linked Zoom object is a meeting or a webinar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    /// A Zoom meeting (`/meetings/...`).
    Meeting,
    /// A Zoom webinar (`/webinars/...`).
    Webinar,
}

impl MeetingKind {
    /// `"meeting"` or `"webinar"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingKind::Meeting => "meeting",
            MeetingKind::Webinar => "webinar",
        }
    }
}

/// The attendance rules of one meeting. See DESIGN "Attendance semantics".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// A user whose attended time over the window is below this ratio is `partial`.
    /// Must be within `0.0..=1.0`.
    pub required_ratio: f64,
    /// A first join later than window start + this many seconds is `late`.
    pub late_after_seconds: u32,
    /// A last leave earlier than window end − this many seconds is `left_early`.
    pub left_early_before_end_seconds: u32,
    /// Whether time spent in breakout rooms counts as attended time.
    pub count_breakout_rooms: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            required_ratio: 0.5,
            late_after_seconds: 300,
            left_early_before_end_seconds: 300,
            count_breakout_rooms: true,
        }
    }
}

impl Policy {
    /// Checks the value ranges; returns a human readable reason for the first bad field.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.required_ratio) || self.required_ratio.is_nan() {
            return Err(format!(
                "required_ratio must be between 0 and 1, got {}",
                self.required_ratio
            ));
        }
        Ok(())
    }
}

/// What a participant connection did, after Zoom's events were normalized.
///
/// Zoom reports a move into a breakout room as a `participant_left` (with a breakout
/// `leave_reason`) plus breakout events; normalization maps those to the breakout actions,
/// so that only [`ParticipantAction::Left`] means the connection really left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantAction {
    /// Entered the waiting room (time there is never attended time).
    WaitingRoomJoined,
    /// Left the waiting room (admitted, or gone).
    WaitingRoomLeft,
    /// Entered the main meeting.
    Joined,
    /// Moved from the main meeting into a breakout room.
    BreakoutJoined,
    /// Left a breakout room back to the main meeting.
    BreakoutLeft,
    /// Left the meeting (from the main meeting or from a breakout room).
    Left,
}

/// Everything Zoom told us about who a participant might be. Display names are kept for
/// showing, never used as identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityHints {
    /// Zoom registrant id (empty strings from Zoom are normalized to `None`).
    pub registrant_id: Option<String>,
    /// Meeting SDK `customerKey`, if the join went through the SDK.
    pub customer_key: Option<String>,
    /// The participant's email as Zoom reports it (may be a synthetic registrant email).
    pub email: Option<String>,
    /// The signed-in Zoom user's id (`participant_user_id` / `id`), empty for guests.
    pub participant_user_id: Option<String>,
    /// Zoom's `participant_uuid`, stable across breakout moves within one connection.
    pub participant_uuid: Option<String>,
    /// Zoom's per-meeting participant `user_id` (changes on rejoin).
    pub zoom_user_id: Option<String>,
    /// The display name, for showing only.
    pub user_name: Option<String>,
}

/// One normalized participant event of one connection in one instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantEvent {
    /// The instance (Zoom meeting uuid) the event belongs to.
    pub instance: InstanceId,
    /// The connection it belongs to.
    pub connection: ConnectionKey,
    /// What happened.
    pub action: ParticipantAction,
    /// When it happened (Zoom's own timestamp: `join_time`, `leave_time`, `date_time`).
    pub at: DateTime<Utc>,
    /// Identity hints carried by the event.
    pub hints: IdentityHints,
}

/// Where an interval of presence came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalSource {
    /// Paired from participant webhooks.
    Webhook,
    /// From Zoom's participant report (reconciliation).
    Report,
    /// Entered by hand.
    Manual,
}

/// How a participant was tied to a host user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The participant's `registrant_id` is one attend created for the user.
    RegistrantId,
    /// The Meeting SDK `customer_key` equals the host user id.
    CustomerKey,
    /// The participant's email equals the registrant's or the host user's email.
    Email,
    /// An instructor linked the participant by hand.
    Manual,
}

/// The attendance status of one user, first matching rule wins (see DESIGN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Fully present.
    Present,
    /// Joined later than the late threshold.
    Late,
    /// Left earlier than the left-early threshold.
    LeftEarly,
    /// Attended less than the required ratio.
    Partial,
    /// Never attended.
    Absent,
}

impl Status {
    /// The snake_case name used in the API and in CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Present => "present",
            Status::Late => "late",
            Status::LeftEarly => "left_early",
            Status::Partial => "partial",
            Status::Absent => "absent",
        }
    }
}

/// Whether a roster can still change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    /// The instance is running; "now" stands in for the end.
    Live,
    /// The instance ended; the report has not been merged yet.
    Provisional,
    /// Reconciled with Zoom's report (or the grace period for accounts without reports passed).
    Final,
}

impl InstanceState {
    /// The snake_case name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Live => "live",
            InstanceState::Provisional => "provisional",
            InstanceState::Final => "final",
        }
    }
}

/// Registration status of one host user for one meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// A registrant exists at Zoom and its join url is stored.
    Registered,
    /// Queued or in progress (possibly deferred until a rate limit resets).
    Pending,
    /// Zoom refused for a reason that retrying will not fix; see the error.
    Failed,
    /// Cancelled at Zoom (or by the host).
    Cancelled,
}

impl RegistrationStatus {
    /// The snake_case name used in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Registered => "registered",
            RegistrationStatus::Pending => "pending",
            RegistrationStatus::Failed => "failed",
            RegistrationStatus::Cancelled => "cancelled",
        }
    }
}

//! Typed parsing of Zoom webhook bodies, their normalization into the engine's
//! [`ParticipantEvent`], instance lifecycle, and the dedupe key.
//!
//! Parsing is deliberately tolerant: unknown events become [`ZoomEvent::Other`], unknown
//! fields are ignored (the full body stays available in [`WebhookEvent::raw`]), ids arrive as
//! strings or numbers, and the empty strings Zoom sends for absent values (e.g.
//! `"registrant_id": ""`) become `None`. Only a body that is not JSON, not an event envelope,
//! or a known event whose payload has the wrong *shape* is an [`EventParseError`] — and the
//! receiver still stores and flags such a body rather than rejecting it.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::de;
use crate::model::{
    ConnectionKey, IdentityHints, InstanceId, MeetingKind, ParticipantAction, ParticipantEvent,
    ZoomMeetingId,
};

/// The webhook events attend understands, by Zoom event name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// `endpoint.url_validation`
    UrlValidation,
    /// `meeting.started`
    MeetingStarted,
    /// `meeting.ended`
    MeetingEnded,
    /// `meeting.participant_joined`
    ParticipantJoined,
    /// `meeting.participant_left`
    ParticipantLeft,
    /// `meeting.participant_joined_waiting_room`
    ParticipantJoinedWaitingRoom,
    /// `meeting.participant_left_waiting_room`
    ParticipantLeftWaitingRoom,
    /// `meeting.participant_joined_breakout_room`
    ParticipantJoinedBreakoutRoom,
    /// `meeting.participant_left_breakout_room`
    ParticipantLeftBreakoutRoom,
    /// `meeting.registration_created`
    RegistrationCreated,
    /// `meeting.registration_approved`
    RegistrationApproved,
    /// `meeting.registration_cancelled`
    RegistrationCancelled,
    /// `meeting.registration_denied`
    RegistrationDenied,
    /// `webinar.started`
    WebinarStarted,
    /// `webinar.ended`
    WebinarEnded,
    /// `webinar.participant_joined`
    WebinarParticipantJoined,
    /// `webinar.participant_left`
    WebinarParticipantLeft,
    /// `webinar.registration_created`
    WebinarRegistrationCreated,
    /// `webinar.registration_approved`
    WebinarRegistrationApproved,
    /// `webinar.registration_cancelled`
    WebinarRegistrationCancelled,
    /// `webinar.registration_denied`
    WebinarRegistrationDenied,
}

impl EventType {
    const ALL: [EventType; 21] = [
        EventType::UrlValidation,
        EventType::MeetingStarted,
        EventType::MeetingEnded,
        EventType::ParticipantJoined,
        EventType::ParticipantLeft,
        EventType::ParticipantJoinedWaitingRoom,
        EventType::ParticipantLeftWaitingRoom,
        EventType::ParticipantJoinedBreakoutRoom,
        EventType::ParticipantLeftBreakoutRoom,
        EventType::RegistrationCreated,
        EventType::RegistrationApproved,
        EventType::RegistrationCancelled,
        EventType::RegistrationDenied,
        EventType::WebinarStarted,
        EventType::WebinarEnded,
        EventType::WebinarParticipantJoined,
        EventType::WebinarParticipantLeft,
        EventType::WebinarRegistrationCreated,
        EventType::WebinarRegistrationApproved,
        EventType::WebinarRegistrationCancelled,
        EventType::WebinarRegistrationDenied,
    ];

    /// Zoom's event name, e.g. `"meeting.participant_joined"`.
    pub fn name(self) -> &'static str {
        match self {
            EventType::UrlValidation => "endpoint.url_validation",
            EventType::MeetingStarted => "meeting.started",
            EventType::MeetingEnded => "meeting.ended",
            EventType::ParticipantJoined => "meeting.participant_joined",
            EventType::ParticipantLeft => "meeting.participant_left",
            EventType::ParticipantJoinedWaitingRoom => "meeting.participant_joined_waiting_room",
            EventType::ParticipantLeftWaitingRoom => "meeting.participant_left_waiting_room",
            EventType::ParticipantJoinedBreakoutRoom => "meeting.participant_joined_breakout_room",
            EventType::ParticipantLeftBreakoutRoom => "meeting.participant_left_breakout_room",
            EventType::RegistrationCreated => "meeting.registration_created",
            EventType::RegistrationApproved => "meeting.registration_approved",
            EventType::RegistrationCancelled => "meeting.registration_cancelled",
            EventType::RegistrationDenied => "meeting.registration_denied",
            EventType::WebinarStarted => "webinar.started",
            EventType::WebinarEnded => "webinar.ended",
            EventType::WebinarParticipantJoined => "webinar.participant_joined",
            EventType::WebinarParticipantLeft => "webinar.participant_left",
            EventType::WebinarRegistrationCreated => "webinar.registration_created",
            EventType::WebinarRegistrationApproved => "webinar.registration_approved",
            EventType::WebinarRegistrationCancelled => "webinar.registration_cancelled",
            EventType::WebinarRegistrationDenied => "webinar.registration_denied",
        }
    }

    /// The event type for a Zoom event name; `None` for events attend does not type.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The registration change a `meeting.registration_*` or `webinar.registration_*` event
    /// reports, the same for both kinds; `None` for every other event.
    pub fn registration_change(self) -> Option<RegistrationChange> {
        use EventType as E;
        match self {
            E::RegistrationCreated | E::WebinarRegistrationCreated => {
                Some(RegistrationChange::Created)
            }
            E::RegistrationApproved | E::WebinarRegistrationApproved => {
                Some(RegistrationChange::Approved)
            }
            E::RegistrationCancelled | E::WebinarRegistrationCancelled => {
                Some(RegistrationChange::Cancelled)
            }
            E::RegistrationDenied | E::WebinarRegistrationDenied => {
                Some(RegistrationChange::Denied)
            }
            _ => None,
        }
    }

    /// Whether the event concerns a meeting or a webinar (`None` for `endpoint.*`).
    pub fn meeting_kind(self) -> Option<MeetingKind> {
        let name = self.name();
        if name.starts_with("meeting.") {
            Some(MeetingKind::Meeting)
        } else if name.starts_with("webinar.") {
            Some(MeetingKind::Webinar)
        } else {
            None
        }
    }
}

/// What a registration event (`meeting.registration_*` / `webinar.registration_*`) reports,
/// whatever the kind; see [`EventType::registration_change`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegistrationChange {
    /// `*.registration_created`: someone registered (attend or the registrant themself).
    Created,
    /// `*.registration_approved`: a pending registrant was approved.
    Approved,
    /// `*.registration_cancelled`: a registrant was cancelled.
    Cancelled,
    /// `*.registration_denied`: a registrant was denied.
    Denied,
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a (correctly signed) body could not be parsed. The receiver stores the raw body and
/// flags it; it never answers Zoom with a 4xx for this (Zoom would drop the event for good).
#[derive(Debug, thiserror::Error)]
pub enum EventParseError {
    /// The body is not JSON at all.
    #[error("webhook body is not JSON")]
    NotJson(#[source] serde_json::Error),
    /// The body is JSON but not an object with a string `event` field.
    #[error("webhook body is JSON but not a Zoom event envelope (no string `event` field)")]
    NotAnEvent,
    /// A known event whose `payload` does not have the documented shape (e.g. `participant`
    /// is not an object, or `endpoint.url_validation` has no `plainToken`).
    #[error("payload of {event} does not have the expected shape")]
    InvalidPayload {
        /// The event name.
        event: &'static str,
        /// The deserialization error.
        #[source]
        source: serde_json::Error,
    },
}

/// The meeting (or webinar) object of lifecycle and participant events (`payload.object`).
/// Every field is optional: Zoom omits some of them in some events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct MeetingObject {
    /// The meeting number (string in most webhooks, number in `registration_*`; both are
    /// accepted). `None` if absent or not numeric.
    #[serde(default, deserialize_with = "de::opt_meeting_id")]
    pub id: Option<ZoomMeetingId>,
    /// The instance uuid.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub uuid: Option<String>,
    /// The host's Zoom user id.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub host_id: Option<String>,
    /// The topic.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub topic: Option<String>,
    /// Zoom's meeting type (1 instant, 2 scheduled, 3/8 recurring, 4 PMI, 5/6/9 webinars…).
    #[serde(default, rename = "type", deserialize_with = "de::opt_i64")]
    pub meeting_type: Option<i64>,
    /// When the instance started (`meeting.started`, `.ended`) or is scheduled to start.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    /// When the instance ended (`meeting.ended` only).
    #[serde(default, deserialize_with = "de::opt_time")]
    pub end_time: Option<DateTime<Utc>>,
    /// The meeting's time zone name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub timezone: Option<String>,
    /// The scheduled duration in minutes.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub duration: Option<i64>,
}

/// The participant object of participant events (`payload.object.participant`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Participant {
    /// Per-meeting participant id (changes on rejoin and, in breakout rooms, per room).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub user_id: Option<String>,
    /// The main-meeting `user_id` of a participant inside a breakout room (breakout events).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub parent_user_id: Option<String>,
    /// Display name (for showing only, never identity).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub user_name: Option<String>,
    /// The signed-in Zoom user's id (older field, being replaced by `participant_user_id`).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// The signed-in Zoom user's id; `None` for guests.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub participant_user_id: Option<String>,
    /// Assigned on join; unchanged across breakout-room moves of the same connection.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub participant_uuid: Option<String>,
    /// The email Zoom shows (registrant email, possibly synthetic).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub email: Option<String>,
    /// The registrant id (the key attend maps back to a host user).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub registrant_id: Option<String>,
    /// The Meeting SDK `customerKey`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub customer_key: Option<String>,
    /// Phone number of a dial-in participant.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub phone_number: Option<String>,
    /// Join time (`*_joined` events).
    #[serde(default, deserialize_with = "de::opt_time")]
    pub join_time: Option<DateTime<Utc>>,
    /// Leave time (`*_left` events).
    #[serde(default, deserialize_with = "de::opt_time")]
    pub leave_time: Option<DateTime<Utc>>,
    /// Event time of waiting-room events.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub date_time: Option<DateTime<Utc>>,
    /// Free-text leave reason (`*_left` events), see [`LeaveReason::classify`].
    #[serde(default, deserialize_with = "de::opt_string")]
    pub leave_reason: Option<String>,
}

impl Participant {
    /// The identity hints this participant carries (`participant_user_id`, else `id`, as the
    /// signed-in user id; `user_id` as [`IdentityHints::zoom_user_id`]).
    pub fn identity_hints(&self) -> IdentityHints {
        IdentityHints {
            registrant_id: self.registrant_id.clone(),
            customer_key: self.customer_key.clone(),
            email: self.email.clone(),
            participant_user_id: self.participant_user_id.clone().or_else(|| self.id.clone()),
            participant_uuid: self.participant_uuid.clone(),
            zoom_user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
        }
    }
}

/// `payload.object` of participant events: the meeting fields plus the participant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ParticipantObject {
    /// The meeting/instance fields.
    #[serde(flatten)]
    pub meeting: MeetingObject,
    /// The breakout room's uuid (breakout-room events only).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub breakout_room_uuid: Option<String>,
    /// The participant.
    #[serde(default)]
    pub participant: Participant,
}

/// A registrant as carried by `meeting.registration_*` / `webinar.registration_*` events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct WebhookRegistrant {
    /// The registrant id.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub last_name: Option<String>,
    /// Email.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub email: Option<String>,
    /// Registration status (`approved`, `pending`, `denied`, …).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub status: Option<String>,
    /// The registrant's personal join url (absent while pending).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub join_url: Option<String>,
    /// Dial-in PIN, when Zoom assigns one.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub participant_pin_code: Option<i64>,
}

/// `payload.object` of `meeting.registration_*` / `webinar.registration_*` events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RegistrationObject {
    /// The meeting fields (`id` is a number here).
    #[serde(flatten)]
    pub meeting: MeetingObject,
    /// The registrant.
    #[serde(default)]
    pub registrant: WebhookRegistrant,
}

/// `payload` of `meeting.registration_*` / `webinar.registration_*` events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RegistrationPayload {
    /// Who performed the change (approve/deny/cancel), if Zoom says.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub operator: Option<String>,
    /// The operator's Zoom user id.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub operator_id: Option<String>,
    /// The meeting and registrant.
    #[serde(default)]
    pub object: RegistrationObject,
}

#[derive(Deserialize)]
struct ObjectPayload<T> {
    object: T,
}

#[derive(Deserialize)]
struct UrlValidationPayload {
    #[serde(rename = "plainToken")]
    plain_token: String,
}

/// The typed content of a webhook event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZoomEvent {
    /// `endpoint.url_validation`: answer with [`super::UrlValidationResponse`].
    UrlValidation {
        /// The token to HMAC and echo back.
        plain_token: String,
    },
    /// `meeting.started` / `webinar.started` (`kind` tells which).
    Started {
        /// Meeting or webinar.
        kind: MeetingKind,
        /// The instance.
        object: MeetingObject,
    },
    /// `meeting.ended` / `webinar.ended`.
    Ended {
        /// Meeting or webinar.
        kind: MeetingKind,
        /// The instance (with `end_time`).
        object: MeetingObject,
    },
    /// Any of the participant events (`event_type` tells which).
    Participant {
        /// Which participant event.
        event_type: EventType,
        /// The instance and participant.
        object: Box<ParticipantObject>,
    },
    /// `meeting.registration_*` / `webinar.registration_*` (`created` / `approved` /
    /// `cancelled` / `denied`); [`EventType::meeting_kind`] of `event_type` tells meeting or
    /// webinar, [`EventType::registration_change`] which change.
    Registration {
        /// Which registration event.
        event_type: EventType,
        /// The payload.
        payload: Box<RegistrationPayload>,
    },
    /// Any other event: the payload is kept as raw JSON (also in [`WebhookEvent::raw`]).
    Other {
        /// `payload`, or `null` if absent.
        payload: Value,
    },
}

/// One parsed webhook delivery.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookEvent {
    /// The event name as sent (`"meeting.participant_joined"`, or anything unknown).
    pub name: String,
    /// The known event type, `None` for events attend does not type.
    pub event_type: Option<EventType>,
    /// `event_ts`: when the event occurred, Unix **milliseconds** (informational only; never
    /// used for freshness checks).
    pub event_ts: Option<i64>,
    /// `payload.account_id`: the Zoom account the event belongs to.
    pub account_id: Option<String>,
    /// The typed content.
    pub event: ZoomEvent,
    /// The whole body as parsed JSON (nothing Zoom sent is lost, including unknown fields).
    pub raw: Value,
}

/// Parses a webhook body (the raw bytes; see the module docs for what counts as an error).
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, EventParseError> {
    let raw: Value = serde_json::from_slice(body).map_err(EventParseError::NotJson)?;
    parse_value(raw)
}

/// Parses an already-decoded webhook body (e.g. a stored raw event being reprocessed).
pub fn parse_value(raw: Value) -> Result<WebhookEvent, EventParseError> {
    let name = raw
        .get("event")
        .and_then(Value::as_str)
        .ok_or(EventParseError::NotAnEvent)?
        .to_owned();
    let event_ts = raw.get("event_ts").and_then(de::value_to_i64);
    let payload = raw.get("payload").unwrap_or(&Value::Null);
    let account_id = de::value_text(payload.get("account_id")).map(Cow::into_owned);
    let event_type = EventType::from_name(&name);
    let event = match event_type {
        None => ZoomEvent::Other {
            payload: payload.clone(),
        },
        Some(t) => typed(t, payload)?,
    };
    Ok(WebhookEvent {
        name,
        event_type,
        event_ts,
        account_id,
        event,
        raw,
    })
}

/// Where a typed payload is read from: the body's parsed tree ([`parse_event`]), or the
/// payload's own text ([`super::skim`], which builds no tree). Both give the same value for a
/// payload that deserializes; the text refuses a few that the tree takes (a repeated key),
/// and the fast path then falls back to the tree.
pub(super) trait PayloadSource: Copy {
    /// Deserializes `T` from the payload.
    fn read<T: DeserializeOwned>(self) -> Result<T, serde_json::Error>;
}

impl PayloadSource for &Value {
    /// Straight from the borrowed tree (no copy of it).
    fn read<T: DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        T::deserialize(self)
    }
}

impl PayloadSource for &serde_json::value::RawValue {
    fn read<T: DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.get())
    }
}

fn from_payload<T: DeserializeOwned>(
    t: EventType,
    payload: impl PayloadSource,
) -> Result<T, EventParseError> {
    payload
        .read()
        .map_err(|source| EventParseError::InvalidPayload {
            event: t.name(),
            source,
        })
}

/// The typed content of a known event `t` from its payload.
pub(super) fn typed(
    t: EventType,
    payload: impl PayloadSource,
) -> Result<ZoomEvent, EventParseError> {
    use EventType as E;
    let kind = t.meeting_kind().unwrap_or(MeetingKind::Meeting);
    Ok(match t {
        E::UrlValidation => ZoomEvent::UrlValidation {
            plain_token: from_payload::<UrlValidationPayload>(t, payload)?.plain_token,
        },
        E::MeetingStarted | E::WebinarStarted => ZoomEvent::Started {
            kind,
            object: from_payload::<ObjectPayload<MeetingObject>>(t, payload)?.object,
        },
        E::MeetingEnded | E::WebinarEnded => ZoomEvent::Ended {
            kind,
            object: from_payload::<ObjectPayload<MeetingObject>>(t, payload)?.object,
        },
        E::ParticipantJoined
        | E::ParticipantLeft
        | E::ParticipantJoinedWaitingRoom
        | E::ParticipantLeftWaitingRoom
        | E::ParticipantJoinedBreakoutRoom
        | E::ParticipantLeftBreakoutRoom
        | E::WebinarParticipantJoined
        | E::WebinarParticipantLeft => ZoomEvent::Participant {
            event_type: t,
            object: Box::new(from_payload::<ObjectPayload<ParticipantObject>>(t, payload)?.object),
        },
        E::RegistrationCreated
        | E::RegistrationApproved
        | E::RegistrationCancelled
        | E::RegistrationDenied
        | E::WebinarRegistrationCreated
        | E::WebinarRegistrationApproved
        | E::WebinarRegistrationCancelled
        | E::WebinarRegistrationDenied => ZoomEvent::Registration {
            event_type: t,
            payload: Box::new(from_payload::<RegistrationPayload>(t, payload)?),
        },
    })
}

/// What a free-text `leave_reason` says about where the connection went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaveReason {
    /// Left the main meeting (or a room) to join a breakout room, e.g.
    /// `"… Reason : left the meeting to join breakout room"`.
    ToBreakoutRoom,
    /// Left a breakout room to go back to the main meeting, e.g.
    /// `"… Reason : left the meeting leave breakout room to join main meeting"`.
    BackToMainMeeting,
    /// Anything else: a real leave (left, disconnected, host ended the meeting, …).
    Other,
}

impl LeaveReason {
    /// Classifies Zoom's free-text reason (case-insensitive). A mention of the main meeting
    /// (`main meeting` / `main session` / `main room`) wins over a mention of a breakout room,
    /// because the return text mentions both; a breakout mention then needs a "join"/"to"
    /// to count as a move into a room. `None` (no reason) is [`LeaveReason::Other`].
    pub fn classify(reason: Option<&str>) -> Self {
        let Some(reason) = reason else {
            return LeaveReason::Other;
        };
        let text = reason.to_lowercase();
        let mentions_main = ["main meeting", "main session", "main room"]
            .iter()
            .any(|m| text.contains(m));
        if mentions_main {
            return LeaveReason::BackToMainMeeting;
        }
        let mentions_breakout = text.contains("breakout") || text.contains("break-out");
        if mentions_breakout && (text.contains("join") || text.contains(" to ")) {
            return LeaveReason::ToBreakoutRoom;
        }
        LeaveReason::Other
    }
}

/// Why a participant or lifecycle event could not be normalized. The raw event is still
/// stored; such an event simply contributes nothing to attendance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// `payload.object.uuid` is missing: no instance to attach the event to.
    #[error("{event}: payload.object.uuid is missing")]
    MissingInstance {
        /// The event name.
        event: &'static str,
    },
    /// Neither `participant_uuid` nor `user_id` is present: no connection key.
    #[error("{event}: the participant has neither participant_uuid nor user_id")]
    MissingConnection {
        /// The event name.
        event: &'static str,
    },
    /// The event's time field is missing or unreadable.
    #[error("{event}: the participant's {field} is missing or not a timestamp")]
    MissingTime {
        /// The event name.
        event: &'static str,
        /// The expected field (`join_time`, `leave_time`, `date_time`).
        field: &'static str,
    },
}

/// Whether an instance started or ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LifecyclePhase {
    /// `meeting.started` / `webinar.started`.
    Started,
    /// `meeting.ended` / `webinar.ended`.
    Ended,
}

/// A start or end of an instance, with the times from the payload (`object.start_time` and
/// `object.end_time`), never from `event_ts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceLifecycle {
    /// Started or ended.
    pub phase: LifecyclePhase,
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// The instance (`object.uuid`).
    pub instance: InstanceId,
    /// The meeting number (`object.id`), `None` if Zoom sent none or a non-numeric one.
    pub meeting_id: Option<ZoomMeetingId>,
    /// The host's Zoom user id (`object.host_id`).
    pub host_id: Option<String>,
    /// The topic.
    pub topic: Option<String>,
    /// `object.start_time` (present in both phases; `None` if Zoom omitted it).
    pub started_at: Option<DateTime<Utc>>,
    /// `object.end_time` (`meeting.ended` only).
    pub ended_at: Option<DateTime<Utc>>,
}

impl WebhookEvent {
    /// Meeting or webinar, for meeting/webinar events; `None` for other events.
    pub fn meeting_kind(&self) -> Option<MeetingKind> {
        self.event_type.and_then(EventType::meeting_kind)
    }

    fn meeting_object(&self) -> Option<&MeetingObject> {
        self.event.meeting_object()
    }

    /// The meeting number (`payload.object.id`) of a typed meeting/webinar event.
    pub fn meeting_id(&self) -> Option<ZoomMeetingId> {
        self.event.meeting_id()
    }

    /// The instance (`payload.object.uuid`) of a typed meeting/webinar event.
    pub fn instance(&self) -> Option<InstanceId> {
        self.meeting_object()
            .and_then(|o| o.uuid.as_deref())
            .map(InstanceId::from)
    }

    /// The meeting host's Zoom user id (`payload.object.host_id`); lets the engine leave the
    /// host out of rosters.
    pub fn host_id(&self) -> Option<&str> {
        self.meeting_object().and_then(|o| o.host_id.as_deref())
    }

    /// The stable dedupe key of this delivery; equal to [`dedupe_key`] of the body it was
    /// parsed from.
    pub fn dedupe_key(&self) -> DedupeKey {
        dedupe_key_of_value(&self.raw)
    }

    /// The instance start/end carried by `meeting.started`/`ended` and
    /// `webinar.started`/`ended`.
    ///
    /// `Ok(None)` for any other event; an error if the event has no instance uuid.
    pub fn lifecycle(&self) -> Result<Option<InstanceLifecycle>, NormalizeError> {
        let (phase, kind, object) = match &self.event {
            ZoomEvent::Started { kind, object } => (LifecyclePhase::Started, *kind, object),
            ZoomEvent::Ended { kind, object } => (LifecyclePhase::Ended, *kind, object),
            _ => return Ok(None),
        };
        let event = self.event_type.map_or("", EventType::name);
        let instance = object
            .uuid
            .as_deref()
            .map(InstanceId::from)
            .ok_or(NormalizeError::MissingInstance { event })?;
        Ok(Some(InstanceLifecycle {
            phase,
            kind,
            instance,
            meeting_id: object.id,
            host_id: object.host_id.clone(),
            topic: object.topic.clone(),
            started_at: object.start_time,
            ended_at: object.end_time,
        }))
    }

    /// Normalizes a participant event into the engine's [`ParticipantEvent`]; `Ok(None)` for
    /// any other event.
    ///
    /// * instance = `payload.object.uuid` (the main meeting's instance, also for breakout
    ///   events).
    /// * connection = `participant_uuid` if present (Zoom keeps it across breakout moves, so
    ///   a move in and out stays one connection); else, for breakout-room events, the
    ///   `parent_user_id` (the main-meeting `user_id`, since the `user_id` inside a room is a
    ///   different one); else `user_id`. A rejoin gets a new `participant_uuid`/`user_id` from
    ///   Zoom and is therefore a new connection, as the engine expects.
    /// * action: `*_joined` → `Joined`; `*_left` → `Left`, except that a `leave_reason`
    ///   saying the participant went into a breakout room gives `BreakoutJoined` and one
    ///   saying it went back to the main meeting gives `BreakoutLeft`;
    ///   `participant_joined_breakout_room` → `BreakoutJoined`;
    ///   `participant_left_breakout_room` → `BreakoutLeft` if the reason says it went back to
    ///   the main meeting, `BreakoutJoined` if it moved into another room, else `Left`;
    ///   waiting-room events → `WaitingRoomJoined` / `WaitingRoomLeft`.
    /// * time: `join_time` for joins, `leave_time` for leaves, `date_time` for waiting-room
    ///   events (each falling back to `date_time`, resp. `join_time`/`leave_time`, when Zoom
    ///   sends the other field).
    /// * hints: every identity field of the participant, see
    ///   [`Participant::identity_hints`].
    pub fn participant_event(&self) -> Result<Option<ParticipantEvent>, NormalizeError> {
        self.event.participant_event()
    }
}

impl ZoomEvent {
    /// The meeting or webinar object of a typed meeting/webinar event.
    fn meeting_object(&self) -> Option<&MeetingObject> {
        match self {
            ZoomEvent::Started { object, .. } | ZoomEvent::Ended { object, .. } => Some(object),
            ZoomEvent::Participant { object, .. } => Some(&object.meeting),
            ZoomEvent::Registration { payload, .. } => Some(&payload.object.meeting),
            ZoomEvent::UrlValidation { .. } | ZoomEvent::Other { .. } => None,
        }
    }

    /// [`WebhookEvent::meeting_id`] of the event's typed content.
    pub(crate) fn meeting_id(&self) -> Option<ZoomMeetingId> {
        self.meeting_object().and_then(|o| o.id)
    }

    /// [`WebhookEvent::participant_event`] of the event's typed content.
    pub(crate) fn participant_event(&self) -> Result<Option<ParticipantEvent>, NormalizeError> {
        let ZoomEvent::Participant { event_type, object } = self else {
            return Ok(None);
        };
        normalize_participant(*event_type, object).map(Some)
    }
}

/// The connection key of a participant: its `participant_uuid` when non-blank, else its
/// (main-meeting) `user_id` when non-blank, else `None`. Webhook events and report rows both
/// key connections with this rule, so the person key of a guest with neither email nor name
/// (`connection:{key}`) is the same whichever source saw them.
pub(crate) fn connection_key(
    participant_uuid: Option<&str>,
    user_id: Option<&str>,
) -> Option<ConnectionKey> {
    let non_blank = |v: &&str| !v.trim().is_empty();
    participant_uuid
        .filter(non_blank)
        .or(user_id.filter(non_blank))
        .map(ConnectionKey::from)
}

fn normalize_participant(
    t: EventType,
    object: &ParticipantObject,
) -> Result<ParticipantEvent, NormalizeError> {
    use EventType as E;
    let event = t.name();
    let p = &object.participant;
    let instance = object
        .meeting
        .uuid
        .as_deref()
        .map(InstanceId::from)
        .ok_or(NormalizeError::MissingInstance { event })?;
    let is_breakout_event = matches!(
        t,
        E::ParticipantJoinedBreakoutRoom | E::ParticipantLeftBreakoutRoom
    );
    let main_user_id = if is_breakout_event {
        p.parent_user_id.as_deref().or(p.user_id.as_deref())
    } else {
        p.user_id.as_deref()
    };
    let connection = connection_key(p.participant_uuid.as_deref(), main_user_id)
        .ok_or(NormalizeError::MissingConnection { event })?;
    let reason = LeaveReason::classify(p.leave_reason.as_deref());
    let (action, time, field) = match t {
        E::ParticipantJoined | E::WebinarParticipantJoined => (
            ParticipantAction::Joined,
            p.join_time.or(p.date_time),
            "join_time",
        ),
        E::ParticipantLeft | E::WebinarParticipantLeft => {
            let action = match reason {
                LeaveReason::ToBreakoutRoom => ParticipantAction::BreakoutJoined,
                LeaveReason::BackToMainMeeting => ParticipantAction::BreakoutLeft,
                LeaveReason::Other => ParticipantAction::Left,
            };
            (action, p.leave_time.or(p.date_time), "leave_time")
        }
        E::ParticipantJoinedBreakoutRoom => (
            ParticipantAction::BreakoutJoined,
            p.join_time.or(p.date_time),
            "join_time",
        ),
        E::ParticipantLeftBreakoutRoom => {
            let action = match reason {
                LeaveReason::BackToMainMeeting => ParticipantAction::BreakoutLeft,
                LeaveReason::ToBreakoutRoom => ParticipantAction::BreakoutJoined,
                LeaveReason::Other => ParticipantAction::Left,
            };
            (action, p.leave_time.or(p.date_time), "leave_time")
        }
        E::ParticipantJoinedWaitingRoom => (
            ParticipantAction::WaitingRoomJoined,
            p.date_time.or(p.join_time),
            "date_time",
        ),
        E::ParticipantLeftWaitingRoom => (
            ParticipantAction::WaitingRoomLeft,
            p.date_time.or(p.leave_time),
            "date_time",
        ),
        // Only participant event types reach this function (see `typed`).
        _ => (ParticipantAction::Joined, None, "join_time"),
    };
    let at = time.ok_or(NormalizeError::MissingTime { event, field })?;
    Ok(ParticipantEvent {
        instance,
        connection,
        action,
        at,
        hints: p.identity_hints(),
    })
}

/// A stable key identifying one Zoom event across redeliveries: lowercase hex digits, 80 of
/// them for an event stamped with a whole number (`event_ts`, as every Zoom event is), 64
/// otherwise.
///
/// The 80-digit form is the stamp as 16 hex digits followed by the 64-digit digest described
/// below, so keys sort by the time Zoom stamped the event: as events arrive in roughly that
/// order, a store's unique index on the key grows at its end rather than on a random page
/// for each delivery, which keeps the pages each write touches (and, on SQLite, the log it
/// writes) few however large the inbox gets. An event with no stamp, a stamp that is not a
/// whole number, or a body that is not JSON gets the digest alone.
///
/// Zoom sends no delivery id, so the key is derived from the content: SHA-256 over a
/// versioned, length-prefixed list of the fields that identify an event —
/// `event`, `event_ts`, `payload.account_id`, `payload.object.{uuid, id, breakout_room_uuid}`,
/// the participant's `{participant_uuid, user_id, parent_user_id, id, participant_user_id,
/// registrant_id, join_time, leave_time, date_time}`, the registrant's `{id, status}` and
/// `payload.plainToken` — with ids normalized (`"123"` and `123` give the same key). For
/// events attend does not type, the canonical form of the whole `payload` (keys sorted) is
/// added, so two different unknown events never collide. A body that is not JSON is keyed by
/// its raw bytes.
///
/// Consequences: a redelivery of the same event (same content, any whitespace or key order)
/// gets the same key and is stored once; two distinct events always differ in at least
/// `event_ts` or a participant time. Should Zoom ever re-stamp `event_ts` on a retry, the
/// duplicate is stored twice — harmless, since the attendance engine ignores duplicates. The
/// same holds for a redelivery that arrives across an upgrade from a version of attend that
/// made 64-digit keys for every event.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct DedupeKey(String);

impl DedupeKey {
    /// The key as lowercase hex digits (80 or 64 of them; see [`DedupeKey`]).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DedupeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<DedupeKey> for String {
    fn from(key: DedupeKey) -> Self {
        key.0
    }
}

/// The dedupe key of a raw webhook body (JSON or not); see [`DedupeKey`].
pub fn dedupe_key(body: &[u8]) -> DedupeKey {
    match super::skim::Skim::read(body).and_then(|skim| skim.dedupe_key()) {
        Some(key) => key,
        None => tree_dedupe_key(body),
    }
}

/// [`dedupe_key`] without trying the fast path first (for a caller that already did).
pub(super) fn tree_dedupe_key(body: &[u8]) -> DedupeKey {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => dedupe_key_of_value(&value),
        Err(_) => {
            let mut hasher = Sha256::new();
            hasher.update(b"attend.zoom.dedupe.raw.v1\0");
            hasher.update(body);
            DedupeKey(hex::encode(hasher.finalize()))
        }
    }
}

/// The fields the dedupe key is made of, as JSON pointers (the fast path in [`super::skim`]
/// reads the same fields in the same order).
pub(super) const KEY_FIELDS: [&str; 18] = [
    "/event",
    "/event_ts",
    "/payload/account_id",
    "/payload/plainToken",
    "/payload/object/uuid",
    "/payload/object/id",
    "/payload/object/breakout_room_uuid",
    "/payload/object/participant/participant_uuid",
    "/payload/object/participant/user_id",
    "/payload/object/participant/parent_user_id",
    "/payload/object/participant/id",
    "/payload/object/participant/participant_user_id",
    "/payload/object/participant/registrant_id",
    "/payload/object/participant/join_time",
    "/payload/object/participant/leave_time",
    "/payload/object/participant/date_time",
    "/payload/object/registrant/id",
    "/payload/object/registrant/status",
];

pub(super) fn dedupe_key_of_value(value: &Value) -> DedupeKey {
    let known = value
        .get("event")
        .and_then(Value::as_str)
        .and_then(EventType::from_name)
        .is_some();
    let canonical = (!known).then(|| {
        let mut canonical = String::new();
        write_canonical(value.get("payload").unwrap_or(&Value::Null), &mut canonical);
        canonical
    });
    let texts = KEY_FIELDS.map(|pointer| de::value_text(field_at(value, pointer)));
    hash_key_fields(texts, canonical.as_deref())
}

/// The dedupe key from the texts of [`KEY_FIELDS`] (in that order; `None` for a field that is
/// absent, blank or not a scalar) and, for an event attend does not type, the canonical
/// payload. The one definition of the key's bytes: the tree path ([`dedupe_key_of_value`])
/// and the fast path ([`super::skim`]) both end here.
pub(super) fn hash_key_fields(
    texts: [Option<Cow<'_, str>>; KEY_FIELDS.len()],
    canonical_payload: Option<&str>,
) -> DedupeKey {
    let mut hasher = Sha256::new();
    hasher.update(b"attend.zoom.dedupe.v1\0");
    let mut field = |name: &str, text: Option<&str>| {
        hasher.update(name.as_bytes());
        match text {
            Some(text) => {
                hasher.update(b"=");
                hasher.update((text.len() as u64).to_be_bytes());
                hasher.update(text.as_bytes());
            }
            None => hasher.update(b"-"),
        }
        hasher.update(b"\0");
    };
    for (pointer, text) in KEY_FIELDS.iter().zip(&texts) {
        field(pointer, text.as_deref());
    }
    if let Some(canonical) = canonical_payload {
        field("/payload", Some(canonical));
    }
    let digest = hasher.finalize();
    // Keys of events stamped with a whole number sort by that stamp: each new key lands
    // beside the previous ones in the store's unique index instead of on a random page.
    match texts[EVENT_TS_FIELD]
        .as_deref()
        .and_then(|text| text.parse::<u64>().ok())
    {
        Some(stamp) => DedupeKey(format!("{stamp:016x}{}", hex::encode(digest))),
        None => DedupeKey(hex::encode(digest)),
    }
}

/// The position of `/event_ts` in [`KEY_FIELDS`].
const EVENT_TS_FIELD: usize = 1;

/// The value at a JSON pointer of [`KEY_FIELDS`], found by walking object keys.
///
/// Equal to `Value::pointer` for these pointers (no `~` escapes, no array indexes), without
/// the two strings it builds per step to unescape each key: with 18 fields that was most of
/// the key's cost (BENCHMARKS.md, "Receiver CPU per delivery").
fn field_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    pointer
        .split('/')
        .skip(1)
        .try_fold(value, |inner, key| inner.as_object()?.get(key))
}

/// Compact JSON with object keys sorted, independent of serde_json's `preserve_order`.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_in_front_of_a_key_is_event_ts() {
        assert_eq!(KEY_FIELDS[EVENT_TS_FIELD], "/event_ts");
    }

    #[test]
    fn key_fields_are_found_as_json_pointers_find_them() {
        let bodies = [
            serde_json::json!({"event": "meeting.participant_joined", "event_ts": 1,
                "payload": {"account_id": "a", "object": {"id": 5, "uuid": "u",
                    "participant": {"user_id": 7, "registrant_id": "", "join_time": null}}}}),
            // Arrays and scalars where objects are expected: nothing is found below them.
            serde_json::json!({"event": "x", "payload": [{"account_id": "a"}]}),
            serde_json::json!({"event": "x", "payload": {"object": {"participant": "p"}}}),
            serde_json::json!({"payload": {"object": {"registrant": {"0": 1, "id": [1]}}}}),
            serde_json::json!([1, 2]),
            serde_json::json!("text"),
        ];
        for body in &bodies {
            for pointer in KEY_FIELDS {
                assert_eq!(
                    field_at(body, pointer),
                    body.pointer(pointer),
                    "{pointer} in {body}"
                );
            }
        }
    }

    #[test]
    fn every_event_type_round_trips_its_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::from_name(t.name()), Some(t));
        }
        assert_eq!(EventType::from_name("recording.completed"), None);
    }

    #[test]
    fn leave_reasons() {
        use LeaveReason as R;
        let cases = [
            ("left the meeting. Reason : left the meeting", R::Other),
            (
                "left the meeting. Reason : left the meeting to join breakout room",
                R::ToBreakoutRoom,
            ),
            (
                "left the meeting. Reason : left the meeting leave breakout room to join main meeting",
                R::BackToMainMeeting,
            ),
            (
                "got disconnected from the meeting. Reason : Client Close.",
                R::Other,
            ),
            (
                "Jill Chill left the meeting.<br>Reason: Host ended the meeting.",
                R::Other,
            ),
            ("LEFT THE MEETING TO JOIN BREAKOUT ROOM", R::ToBreakoutRoom),
        ];
        for (text, expected) in cases {
            assert_eq!(LeaveReason::classify(Some(text)), expected, "{text}");
        }
        assert_eq!(LeaveReason::classify(None), R::Other);
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"d":[1,2],"c":"x"}}"#).unwrap();
        let mut out = String::new();
        write_canonical(&a, &mut out);
        assert_eq!(out, r#"{"a":{"c":"x","d":[1,2]},"b":1}"#);
    }
}

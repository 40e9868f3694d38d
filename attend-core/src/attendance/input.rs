//! The engine's input: one instance's window, policy, registered users and the evidence of
//! presence (webhook connections, report rows, manual intervals), with identities already
//! decided by the caller.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    ConnectionKey, IdentityHints, InstanceId, InstanceState, MatchedBy, ParticipantAction,
    ParticipantEvent, Policy, UserId,
};

/// The measuring window of one instance.
///
/// `start` is `object.start_time` of `meeting.started`; `end` is `object.end_time` of
/// `meeting.ended`, or `None` while the instance is live, in which case
/// [`InstanceInput::now`] stands in for the end. A window whose (effective) end precedes its
/// start is treated as empty: nobody attends it and every ratio is 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// When the instance started.
    pub start: DateTime<Utc>,
    /// When it ended; `None` while it is live.
    pub end: Option<DateTime<Utc>>,
}

impl Window {
    /// The window of an instance that has ended.
    pub fn ended(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            start,
            end: Some(end),
        }
    }

    /// The window of an instance that is still running.
    pub fn live(start: DateTime<Utc>) -> Self {
        Self { start, end: None }
    }
}

/// Who a connection (or a report row) is, as decided by the caller's identity resolution.
///
/// The engine groups evidence by subject: all intervals of one [`Subject::User`] (compared by
/// `id` only) form one roster record, all intervals of one [`Subject::Unmatched`] (compared by
/// `person_key` only) form one unmatched record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// A host user.
    User {
        /// The host user's id.
        id: UserId,
        /// How the connection was tied to the user. When a user's connections were matched
        /// in different ways, the roster shows the strongest (the first in
        /// [`MatchedBy`]'s declaration order).
        matched_by: MatchedBy,
    },
    /// A participant no host user could be found for.
    Unmatched {
        /// Groups one person's connections: see [`Subject::person_key`]. It is shown as
        /// `participant_key` and used in the manual-link route, so it must be stable.
        person_key: String,
        /// A display name to show (never used as identity).
        display_name: Option<String>,
        /// The email Zoom gave, if any.
        email: Option<String>,
    },
}

impl Subject {
    /// A host user matched by `matched_by`.
    pub fn user(id: impl Into<UserId>, matched_by: MatchedBy) -> Self {
        Subject::User {
            id: id.into(),
            matched_by,
        }
    }

    /// The person key for an unmatched participant, following API.md ("grouped per person:
    /// by email when Zoom gives one, else by display name"):
    ///
    /// - `email:` + the email, trimmed and lower-cased, when the hints carry a non-blank email;
    /// - else `name:` + the trimmed display name, when non-blank;
    /// - else `connection:` + the connection key (a nameless guest stays one person per
    ///   connection rather than being merged with every other nameless guest).
    pub fn person_key(hints: &IdentityHints, connection: &ConnectionKey) -> String {
        if let Some(email) = non_blank(&hints.email) {
            format!("email:{}", email.to_lowercase())
        } else if let Some(name) = non_blank(&hints.user_name) {
            format!("name:{name}")
        } else {
            format!("connection:{connection}")
        }
    }

    /// An unmatched subject built from the hints: [`Subject::person_key`], with the display
    /// name and email kept for showing (blank values become `None`).
    pub fn unmatched_from_hints(hints: &IdentityHints, connection: &ConnectionKey) -> Self {
        let keep = |value: &Option<String>| non_blank(value).map(str::to_owned);
        Subject::Unmatched {
            person_key: Self::person_key(hints, connection),
            display_name: keep(&hints.user_name),
            email: keep(&hints.email),
        }
    }
}

/// The trimmed value, if there is one and it is not blank.
fn non_blank(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// One event of one connection, as the engine needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConnectionEvent {
    /// Zoom's own timestamp of the event (not the delivery time).
    pub at: DateTime<Utc>,
    /// What happened.
    pub action: ParticipantAction,
}

impl ConnectionEvent {
    /// An event.
    pub fn new(action: ParticipantAction, at: DateTime<Utc>) -> Self {
        Self { at, action }
    }
}

/// One participant connection (one device, one join) seen through webhooks.
///
/// `events` may come in any order and contain duplicates: the engine orders them by `at`
/// (ties resolved deterministically, see the module docs) and drops exact duplicates. Keys are
/// expected to be unique within an instance; two [`Connection`]s with the same key are
/// treated as two connections (use [`connections_from_events`] to group stored events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The connection key (see [`ConnectionKey`]).
    pub key: ConnectionKey,
    /// Who the connection is.
    pub subject: Subject,
    /// Zoom's per-meeting participant `user_id` of the connection
    /// ([`IdentityHints::zoom_user_id`]); used to recognise this connection in report rows.
    pub zoom_user_id: Option<String>,
    /// The connection's events.
    pub events: Vec<ConnectionEvent>,
}

/// One row of Zoom's participant report (one connection's stay in the main meeting), with its
/// identity decided by the caller.
///
/// Rows whose report `status` is `in_waiting_room` must not be passed (waiting-room time never
/// counts). A row whose `leave` precedes its `join` is ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportInterval {
    /// Who the row is.
    pub subject: Subject,
    /// The report's per-meeting participant `user_id`.
    pub zoom_user_id: Option<String>,
    /// `join_time`.
    pub join: DateTime<Utc>,
    /// `leave_time`.
    pub leave: DateTime<Utc>,
}

/// An interval of presence entered by hand for a host user (source `manual`).
///
/// It adds to the user's union like any other interval but is not a connection, so it adds no
/// join. An interval whose `leave` precedes its `join` is ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualInterval {
    /// The host user.
    pub user: UserId,
    /// Start of the presence.
    pub join: DateTime<Utc>,
    /// End of the presence.
    pub leave: DateTime<Utc>,
}

/// Everything the engine needs to compute the roster of one instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceInput {
    /// The instance (Zoom meeting uuid).
    pub instance: InstanceId,
    /// Its window.
    pub window: Window,
    /// The current time; used as the end while `window.end` is `None`, ignored otherwise.
    pub now: DateTime<Utc>,
    /// The state to report. When `window.end` is `None` the roster is always
    /// [`InstanceState::Live`], whatever this says.
    pub state: InstanceState,
    /// The meeting's attendance rules.
    pub policy: Policy,
    /// Every user registered for the meeting: each gets a roster record (absent if never
    /// seen) with `registered: true`. Duplicates are ignored.
    pub registered: Vec<UserId>,
    /// Webhook connections of this instance (the meeting's host left out by the caller).
    pub connections: Vec<Connection>,
    /// Participant-report rows of this instance (empty before reconciliation or without a
    /// Pro+ account).
    pub report_rows: Vec<ReportInterval>,
    /// Intervals entered by hand.
    pub manual: Vec<ManualInterval>,
}

impl InstanceInput {
    /// An input with the default [`Policy`], no evidence and nobody registered; the state is
    /// `Live` when `window.end` is `None`, else `Provisional`.
    pub fn new(instance: InstanceId, window: Window, now: DateTime<Utc>) -> Self {
        Self {
            instance,
            window,
            now,
            state: if window.end.is_none() {
                InstanceState::Live
            } else {
                InstanceState::Provisional
            },
            policy: Policy::default(),
            registered: Vec::new(),
            connections: Vec::new(),
            report_rows: Vec::new(),
            manual: Vec::new(),
        }
    }
}

/// Groups normalized events by connection and asks `resolve` who each connection is.
///
/// - `resolve` is called once per connection, with the connection key and the connection's
///   merged hints: for each hint field, the value carried by the earliest event (by `at`, then
///   action, then the value itself) that has one. It returns `None` to leave the connection
///   out (the meeting's host).
/// - `zoom_user_id` of each connection is taken from the merged hints.
/// - Events of every instance are grouped together: pass one instance's events.
/// - Duplicates are kept (the engine drops them); the result is ordered by connection key and
///   does not depend on the order of `events`.
pub fn connections_from_events<'a, I, F>(events: I, resolve: F) -> Vec<Connection>
where
    I: IntoIterator<Item = &'a ParticipantEvent>,
    F: FnMut(&ConnectionKey, &IdentityHints) -> Option<Subject>,
{
    connections_from_groups(&group_by_connection(events), resolve)
}

/// One connection's events, as [`group_by_connection`] gathers them.
#[derive(Debug)]
pub(crate) struct ConnectionGroup<'a> {
    /// The connection key.
    pub(crate) key: &'a ConnectionKey,
    /// Its events, in the order given.
    pub(crate) events: Vec<&'a ParticipantEvent>,
    /// Its merged hints (see [`connections_from_events`]).
    pub(crate) hints: IdentityHints,
}

/// Events grouped by connection key, with each group's merged hints: one group per key,
/// ordered by key, each group's events in the order given. Grouping once lets a roster read
/// build its connections and its shared-link check from the same groups.
pub(crate) fn group_by_connection<'a>(
    events: impl IntoIterator<Item = &'a ParticipantEvent>,
) -> Vec<ConnectionGroup<'a>> {
    let mut slot_of: HashMap<&'a ConnectionKey, usize> = HashMap::new();
    let mut groups: Vec<(&'a ConnectionKey, Vec<&'a ParticipantEvent>)> = Vec::new();
    for event in events {
        let slot = *slot_of.entry(&event.connection).or_insert_with(|| {
            groups.push((&event.connection, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(event);
    }
    groups.sort_unstable_by(|a, b| a.0.cmp(b.0));
    groups
        .into_iter()
        .map(|(key, events)| ConnectionGroup {
            key,
            hints: merge_hints(&events),
            events,
        })
        .collect()
}

/// [`connections_from_events`] over events already grouped by [`group_by_connection`].
pub(crate) fn connections_from_groups<F>(
    groups: &[ConnectionGroup<'_>],
    mut resolve: F,
) -> Vec<Connection>
where
    F: FnMut(&ConnectionKey, &IdentityHints) -> Option<Subject>,
{
    let mut connections = Vec::with_capacity(groups.len());
    for group in groups {
        if let Some(subject) = resolve(group.key, &group.hints) {
            connections.push(Connection {
                key: group.key.clone(),
                subject,
                zoom_user_id: group.hints.zoom_user_id.clone(),
                events: group
                    .events
                    .iter()
                    .map(|event| ConnectionEvent::new(event.action, event.at))
                    .collect(),
            });
        }
    }
    connections
}

/// For each field, the value of the earliest event having a non-empty one.
fn merge_hints(events: &[&ParticipantEvent]) -> IdentityHints {
    fn pick<'e>(
        events: &[&'e ParticipantEvent],
        field: impl Fn(&'e IdentityHints) -> &'e Option<String>,
    ) -> Option<String> {
        events
            .iter()
            .filter_map(|event| {
                field(&event.hints)
                    .as_deref()
                    .filter(|value| !value.is_empty())
                    .map(|value| (event.at, event.action, value))
            })
            .min()
            .map(|(_, _, value)| value.to_owned())
    }
    IdentityHints {
        registrant_id: pick(events, |h| &h.registrant_id),
        customer_key: pick(events, |h| &h.customer_key),
        email: pick(events, |h| &h.email),
        participant_user_id: pick(events, |h| &h.participant_user_id),
        participant_uuid: pick(events, |h| &h.participant_uuid),
        zoom_user_id: pick(events, |h| &h.zoom_user_id),
        user_name: pick(events, |h| &h.user_name),
    }
}

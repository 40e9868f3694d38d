//! Turning a [`Scenario`] into the exact webhook bodies Zoom would send and the participant
//! report Zoom would serve afterwards. Pure: no I/O, no clock; same input, same bytes.
//!
//! Sequences generated per connection (all events carry the instance's meeting object with
//! `id` as a **string**, `uuid`, `host_id`, `topic`, `type`, `start_time`, `timezone`,
//! `duration`; `event_ts` is the event's scenario time in milliseconds plus < 1 s of jitter):
//!
//! - join: `meeting.participant_joined` (`join_time`).
//! - waiting room: `meeting.participant_joined_waiting_room` (`date_time`), then on admission
//!   `meeting.participant_left_waiting_room` + `meeting.participant_joined` at the same second;
//!   never admitted: only `…_left_waiting_room` when they give up (or the meeting ends).
//! - breakout move: `meeting.participant_left` ([`LEAVE_TO_BREAKOUT`]) +
//!   `meeting.participant_joined_breakout_room` (object has `breakout_room_uuid`; the
//!   participant has a room-specific `user_id` and `parent_user_id` = the main `user_id`);
//!   return: `meeting.participant_left_breakout_room` ([`LEAVE_BREAKOUT_TO_MAIN`]) +
//!   `meeting.participant_joined` with the **same** main `user_id` and `participant_uuid`.
//!   Leaving the meeting from a room sends only `…_left_breakout_room` with the real reason.
//! - leave: `meeting.participant_left` with `leave_time` and `leave_reason`
//!   ([`LEAVE_LEFT`], [`LEAVE_DISCONNECTED`], or [`LEAVE_HOST_ENDED`] for those still
//!   inside at the end).
//! - a rejoin or a second device is a new connection: new `user_id` and `participant_uuid`.
//! - `meeting.started` first and `meeting.ended` (with `end_time`) last within their second.
//!
//! For webinars the prefix is `webinar.` instead of `meeting.`.
//!
//! Participant fields: `user_id`, `user_name`, `id` (Zoom user id: the host's id, a
//! signed-in guest's id, else `""`), `participant_uuid`, the time field, `email` (registrant
//! email; `""` for a name-only guest), `registrant_id` (`""` when not a registrant),
//! `participant_user_id` (= `id`), `customer_key` when the scenario sets one.
//!
//! The report has one row per connection that entered the main meeting (`status`
//! `in_meeting`; a breakout move does not split the row, reports have no breakout rows) and one
//! row per waiting-room-only connection (`status` `in_waiting_room`).
//!
//! [`LEAVE_TO_BREAKOUT`]: crate::LEAVE_TO_BREAKOUT
//! [`LEAVE_BREAKOUT_TO_MAIN`]: crate::LEAVE_BREAKOUT_TO_MAIN
//! [`LEAVE_LEFT`]: crate::LEAVE_LEFT
//! [`LEAVE_DISCONNECTED`]: crate::LEAVE_DISCONNECTED
//! [`LEAVE_HOST_ENDED`]: crate::LEAVE_HOST_ENDED

use crate::clock::zoom_time;
use crate::rng::SplitMix64;
use crate::scenario::{
    Identity, LEAVE_BREAKOUT_TO_MAIN, LEAVE_DISCONNECTED, LEAVE_HOST_ENDED, LEAVE_LEFT,
    LEAVE_TO_BREAKOUT, LeaveKind, Scenario, ScenarioError,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Meeting or webinar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MeetingKind {
    /// `/meetings/…`, `meeting.*` events.
    Meeting,
    /// `/webinars/…`, `webinar.*` events.
    Webinar,
}

impl MeetingKind {
    /// `meeting` or `webinar` (event prefix).
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingKind::Meeting => "meeting",
            MeetingKind::Webinar => "webinar",
        }
    }
}

/// A registrant as the player needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrantInfo {
    /// `registrant_id`.
    pub id: String,
    /// Registered email.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
}

/// Everything about the meeting that appears in events, independent of the scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingContext {
    /// `payload.account_id`.
    pub account_id: String,
    /// Meeting or webinar id.
    pub meeting_id: u64,
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// Zoom `type` (2 scheduled meeting, 8 recurring, 5 webinar…).
    pub meeting_type: u8,
    /// Topic.
    pub topic: String,
    /// Host's Zoom user id.
    pub host_id: String,
    /// Host's email.
    pub host_email: String,
    /// Host's display name.
    pub host_name: String,
    /// IANA time zone name.
    pub timezone: String,
    /// Scheduled duration in minutes.
    pub duration: u32,
    /// The meeting's registrants (any status).
    pub registrants: Vec<RegistrantInfo>,
}

/// One webhook body, ready to sign and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// Scenario time of the event.
    pub at: DateTime<Utc>,
    /// Event name, e.g. `meeting.participant_joined`.
    pub event: String,
    /// Index of the instance.
    pub instance: usize,
    /// Index into [`Scenario::people`] for participant events.
    pub person: Option<usize>,
    /// The exact body bytes (JSON, Zoom's field order, emoji escaped as `\uD83D…` pairs).
    pub body: String,
}

impl WebhookEvent {
    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One participant-report row (one join session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// Index into [`Scenario::people`].
    pub person: usize,
    /// Zoom user id if signed in, else `""`.
    pub id: String,
    /// Per-meeting participant id (same as in the webhooks of that connection).
    pub user_id: String,
    /// `participant_uuid` of the connection (not a report field; for cross-checks).
    pub participant_uuid: String,
    /// Display name.
    pub name: String,
    /// Email (`""` when unknown).
    pub user_email: String,
    /// Join (admission) time.
    pub join_time: DateTime<Utc>,
    /// Leave time.
    pub leave_time: DateTime<Utc>,
    /// Seconds between join and leave.
    pub duration: i64,
    /// `registrant_id` (`""` when not a registrant).
    pub registrant_id: String,
    /// `customer_key`, if any.
    pub customer_key: Option<String>,
    /// `in_meeting` or `in_waiting_room`.
    pub status: &'static str,
}

/// A played instance: what the REST side serves after it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayedInstance {
    /// Instance UUID.
    pub uuid: String,
    /// `start_time`.
    pub start_time: DateTime<Utc>,
    /// `end_time`.
    pub end_time: DateTime<Utc>,
    /// Participant report rows ordered by join time.
    pub report: Vec<ReportRow>,
}

/// The complete output of a scenario: events in Zoom's order and the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// Meeting id.
    pub meeting_id: u64,
    /// Meeting or webinar.
    pub kind: MeetingKind,
    /// Instances, in scenario order.
    pub instances: Vec<PlayedInstance>,
    /// Events in the order Zoom would emit them.
    pub events: Vec<WebhookEvent>,
}

/// Why a scenario cannot be turned into a timeline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimelineError {
    /// The scenario itself is inconsistent.
    #[error("invalid scenario: {0}")]
    Scenario(#[from] ScenarioError),
    /// A person is a registrant the meeting does not have.
    #[error("{0} is not a registrant of this meeting")]
    NotRegistered(String),
}

#[derive(Serialize)]
struct Envelope<'a> {
    event: &'a str,
    payload: Payload<'a>,
    event_ts: i64,
}

#[derive(Serialize)]
struct Payload<'a> {
    account_id: &'a str,
    object: Object<'a>,
}

#[derive(Serialize)]
struct Object<'a> {
    id: String,
    uuid: &'a str,
    host_id: &'a str,
    topic: &'a str,
    #[serde(rename = "type")]
    kind: u8,
    start_time: String,
    timezone: &'a str,
    duration: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    breakout_room_uuid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    participant: Option<Participant<'a>>,
}

#[derive(Serialize, Clone)]
struct Participant<'a> {
    user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_user_id: Option<String>,
    user_name: &'a str,
    id: &'a str,
    participant_uuid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    join_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    leave_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    leave_reason: Option<&'a str>,
    email: &'a str,
    registrant_id: &'a str,
    participant_user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_key: Option<&'a str>,
}

/// Escapes characters outside the Basic Multilingual Plane as JSON surrogate pairs, the way
/// Zoom sends emoji (`\uD83D\uDE92`), while leaving other non-ASCII characters raw. Only
/// valid on serialized JSON (such characters can only occur inside strings).
pub(crate) fn zoom_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        if (ch as u32) > 0xFFFF {
            let mut buf = [0u16; 2];
            for unit in ch.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04X}"));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// A Zoom-looking instance UUID (24 characters of base64).
pub(crate) fn gen_uuid(rng: &mut SplitMix64) -> String {
    base64::engine::general_purpose::STANDARD.encode(rng.bytes::<16>())
}

/// A Zoom-looking user / registrant id (22 characters of URL-safe base64).
pub(crate) fn gen_id(rng: &mut SplitMix64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rng.bytes::<16>())
}

fn gen_participant_uuid(rng: &mut SplitMix64) -> String {
    let b = rng.bytes::<16>();
    let h = hex::encode_upper(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

struct Who {
    name: String,
    email: String,
    zoom_id: String,
    registrant_id: String,
}

struct Emitter<'s> {
    raw: Vec<(i64, u8, usize, WebhookEvent)>,
    seq: usize,
    scenario: &'s Scenario,
    account_id: &'s str,
}

impl Emitter<'_> {
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        rng: &mut SplitMix64,
        off: i64,
        prio: u8,
        event: String,
        instance: usize,
        person: Option<usize>,
        object: Object<'_>,
    ) {
        let env = Envelope {
            event: &event,
            payload: Payload {
                account_id: self.account_id,
                object,
            },
            event_ts: self.scenario.at(off).timestamp_millis() + rng.range(20, 900),
        };
        let body = zoom_escape(&serde_json::to_string(&env).unwrap_or_default());
        self.raw.push((
            off,
            prio,
            self.seq,
            WebhookEvent {
                at: self.scenario.at(off),
                event,
                instance,
                person,
                body,
            },
        ));
        self.seq += 1;
    }
}

struct MeetingObj<'a> {
    ctx: &'a MeetingContext,
    uuid: &'a str,
    start_time: &'a str,
}

impl<'a> MeetingObj<'a> {
    fn object<'b>(&self, participant: Option<Participant<'b>>, bo: Option<&'b str>) -> Object<'b>
    where
        'a: 'b,
    {
        Object {
            id: self.ctx.meeting_id.to_string(),
            uuid: self.uuid,
            host_id: &self.ctx.host_id,
            topic: &self.ctx.topic,
            kind: self.ctx.meeting_type,
            start_time: self.start_time.to_owned(),
            timezone: &self.ctx.timezone,
            duration: self.ctx.duration,
            end_time: None,
            breakout_room_uuid: bo,
            participant,
        }
    }
}

/// Builds the timeline of `scenario` for the meeting described by `ctx`.
pub fn build_timeline(
    scenario: &Scenario,
    ctx: &MeetingContext,
) -> Result<Timeline, TimelineError> {
    scenario.validate()?;
    let mut rng = SplitMix64::derive(scenario.seed, ctx.meeting_id ^ 0xA11CE);
    let prefix = ctx.kind.as_str();

    // Resolve people.
    let mut whos = Vec::with_capacity(scenario.people.len());
    for p in &scenario.people {
        let who = match &p.identity {
            Identity::Registrant { email } => {
                let r = ctx
                    .registrants
                    .iter()
                    .find(|r| r.email.eq_ignore_ascii_case(email))
                    .ok_or_else(|| TimelineError::NotRegistered(email.clone()))?;
                Who {
                    name: format!("{} {}", r.first_name, r.last_name)
                        .trim()
                        .to_owned(),
                    email: r.email.clone(),
                    zoom_id: String::new(),
                    registrant_id: r.id.clone(),
                }
            }
            Identity::Host => Who {
                name: ctx.host_name.clone(),
                email: ctx.host_email.clone(),
                zoom_id: ctx.host_id.clone(),
                registrant_id: String::new(),
            },
            Identity::Guest { name, email } => Who {
                name: name.clone(),
                email: email.clone().unwrap_or_default(),
                zoom_id: if email.is_some() {
                    gen_id(&mut rng)
                } else {
                    String::new()
                },
                registrant_id: String::new(),
            },
        };
        let name = p.display_name.clone().unwrap_or(who.name);
        whos.push(Who { name, ..who });
    }

    let uuids: Vec<String> = scenario
        .instances
        .iter()
        .map(|i| i.uuid.clone().unwrap_or_else(|| gen_uuid(&mut rng)))
        .collect();

    let mut em = Emitter {
        raw: Vec::new(),
        seq: 0,
        scenario,
        account_id: &ctx.account_id,
    };
    let mut instances = Vec::new();

    for (ii, inst) in scenario.instances.iter().enumerate() {
        let uuid = uuids[ii].as_str();
        let start_time = zoom_time(scenario.at(inst.start));
        let mk = MeetingObj {
            ctx,
            uuid,
            start_time: &start_time,
        };
        em.emit(
            &mut rng,
            inst.start,
            0,
            format!("{prefix}.started"),
            ii,
            None,
            mk.object(None, None),
        );
        let mut ended = mk.object(None, None);
        ended.end_time = Some(zoom_time(scenario.at(inst.end)));
        em.emit(
            &mut rng,
            inst.end,
            2,
            format!("{prefix}.ended"),
            ii,
            None,
            ended,
        );

        let mut next_user_id: u64 = 16_778_240;
        let mut rooms: HashMap<String, String> = HashMap::new();
        let mut report = Vec::new();
        for (pi, person) in scenario.people.iter().enumerate() {
            let who = &whos[pi];
            for c in person.connections.iter().filter(|c| c.instance == ii) {
                next_user_id += 1024 * (1 + rng.below(12));
                let user_id = next_user_id.to_string();
                let puuid = gen_participant_uuid(&mut rng);
                let leave = scenario.effective_leave(c);
                let base = Participant {
                    user_id: user_id.clone(),
                    parent_user_id: None,
                    user_name: &who.name,
                    id: &who.zoom_id,
                    participant_uuid: &puuid,
                    date_time: None,
                    join_time: None,
                    leave_time: None,
                    leave_reason: None,
                    email: &who.email,
                    registrant_id: &who.registrant_id,
                    participant_user_id: &who.zoom_id,
                    customer_key: person.customer_key.as_deref(),
                };
                let final_reason = match (c.leave, c.leave_kind) {
                    (None, _) => LEAVE_HOST_ENDED,
                    (Some(_), LeaveKind::Left) => LEAVE_LEFT,
                    (Some(_), LeaveKind::Disconnected) => LEAVE_DISCONNECTED,
                };
                let at = |off: i64| Some(zoom_time(scenario.at(off)));
                let pev = |name: &str| format!("{prefix}.{name}");
                if let Some(w) = c.waiting_room_at {
                    em.emit(
                        &mut rng,
                        w,
                        1,
                        pev("participant_joined_waiting_room"),
                        ii,
                        Some(pi),
                        mk.object(
                            Some(Participant {
                                date_time: at(w),
                                ..base.clone()
                            }),
                            None,
                        ),
                    );
                    let out = c.join.unwrap_or(leave);
                    em.emit(
                        &mut rng,
                        out,
                        1,
                        pev("participant_left_waiting_room"),
                        ii,
                        Some(pi),
                        mk.object(
                            Some(Participant {
                                date_time: at(out),
                                ..base.clone()
                            }),
                            None,
                        ),
                    );
                    if c.join.is_none() {
                        report.push(ReportRow {
                            person: pi,
                            id: who.zoom_id.clone(),
                            user_id: user_id.clone(),
                            participant_uuid: puuid.clone(),
                            name: who.name.clone(),
                            user_email: who.email.clone(),
                            join_time: scenario.at(w),
                            leave_time: scenario.at(leave),
                            duration: leave - w,
                            registrant_id: who.registrant_id.clone(),
                            customer_key: person.customer_key.clone(),
                            status: "in_waiting_room",
                        });
                    }
                }
                let Some(join) = c.join else { continue };
                em.emit(
                    &mut rng,
                    join,
                    1,
                    pev("participant_joined"),
                    ii,
                    Some(pi),
                    mk.object(
                        Some(Participant {
                            join_time: at(join),
                            ..base.clone()
                        }),
                        None,
                    ),
                );
                let mut in_main = true;
                for b in &c.breakouts {
                    let room_uuid = rooms
                        .entry(b.room.clone())
                        .or_insert_with(|| gen_uuid(&mut rng))
                        .clone();
                    next_user_id += 1024 * (1 + rng.below(12));
                    let bo_user = Participant {
                        user_id: next_user_id.to_string(),
                        parent_user_id: Some(user_id.clone()),
                        ..base.clone()
                    };
                    em.emit(
                        &mut rng,
                        b.enter,
                        1,
                        pev("participant_left"),
                        ii,
                        Some(pi),
                        mk.object(
                            Some(Participant {
                                leave_time: at(b.enter),
                                leave_reason: Some(LEAVE_TO_BREAKOUT),
                                ..base.clone()
                            }),
                            None,
                        ),
                    );
                    em.emit(
                        &mut rng,
                        b.enter,
                        1,
                        pev("participant_joined_breakout_room"),
                        ii,
                        Some(pi),
                        mk.object(
                            Some(Participant {
                                join_time: at(b.enter),
                                ..bo_user.clone()
                            }),
                            Some(&room_uuid),
                        ),
                    );
                    let (back, reason) = match b.leave {
                        Some(back) => (back, LEAVE_BREAKOUT_TO_MAIN),
                        None => (leave, final_reason),
                    };
                    em.emit(
                        &mut rng,
                        back,
                        1,
                        pev("participant_left_breakout_room"),
                        ii,
                        Some(pi),
                        mk.object(
                            Some(Participant {
                                leave_time: at(back),
                                leave_reason: Some(reason),
                                ..bo_user.clone()
                            }),
                            Some(&room_uuid),
                        ),
                    );
                    if b.leave.is_some() {
                        em.emit(
                            &mut rng,
                            back,
                            1,
                            pev("participant_joined"),
                            ii,
                            Some(pi),
                            mk.object(
                                Some(Participant {
                                    join_time: at(back),
                                    ..base.clone()
                                }),
                                None,
                            ),
                        );
                    } else {
                        in_main = false;
                    }
                }
                if in_main {
                    em.emit(
                        &mut rng,
                        leave,
                        1,
                        pev("participant_left"),
                        ii,
                        Some(pi),
                        mk.object(
                            Some(Participant {
                                leave_time: at(leave),
                                leave_reason: Some(final_reason),
                                ..base.clone()
                            }),
                            None,
                        ),
                    );
                }
                report.push(ReportRow {
                    person: pi,
                    id: who.zoom_id.clone(),
                    user_id: user_id.clone(),
                    participant_uuid: puuid.clone(),
                    name: who.name.clone(),
                    user_email: who.email.clone(),
                    join_time: scenario.at(join),
                    leave_time: scenario.at(leave),
                    duration: leave - join,
                    registrant_id: who.registrant_id.clone(),
                    customer_key: person.customer_key.clone(),
                    status: "in_meeting",
                });
            }
        }
        report.sort_by(|a, b| {
            a.join_time
                .cmp(&b.join_time)
                .then(a.user_id.cmp(&b.user_id))
        });
        instances.push(PlayedInstance {
            uuid: uuid.to_owned(),
            start_time: scenario.at(inst.start),
            end_time: scenario.at(inst.end),
            report,
        });
    }

    let mut raw = em.raw;
    raw.sort_by_key(|(off, prio, seq, _)| (*off, *prio, *seq));
    Ok(Timeline {
        meeting_id: ctx.meeting_id,
        kind: ctx.kind,
        instances,
        events: raw.into_iter().map(|(_, _, _, e)| e).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_matches_zoom_style() {
        assert_eq!(zoom_escape("\"a 🚒 ’\""), "\"a \\uD83D\\uDE92 ’\"");
        let back: String = serde_json::from_str(&zoom_escape("\"x 📱\"")).unwrap();
        assert_eq!(back, "x 📱");
    }

    #[test]
    fn participant_uuid_shape() {
        let mut r = SplitMix64::new(1);
        let u = gen_participant_uuid(&mut r);
        assert_eq!(u.len(), 36);
        assert_eq!(u.matches('-').count(), 4);
    }
}

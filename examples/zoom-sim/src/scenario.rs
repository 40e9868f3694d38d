//! Scenarios: who is in a meeting when, described in meeting time.
//!
//! A [`Scenario`] is pure data: a meeting id, a time zero (`start`), one or more instances
//! (a restart is a second instance with a new UUID), and people with their connections. Every
//! time in a scenario is an offset in **seconds from `start`**. The simulator turns a scenario
//! into Zoom webhook bodies and a participant report (see [`crate::Timeline`]); the
//! scenario itself can tell what a correct attendance engine should conclude
//! ([`Scenario::expectations`]) and describe itself in plain words ([`Scenario::describe`]).

use crate::rng::SplitMix64;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use std::fmt::Write as _;

/// A played meeting, described in meeting time. Build it by hand or with
/// [`Scenario::typical_class`].
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The Zoom meeting (or webinar) id this scenario plays; it must exist in the simulator
    /// when played through [`crate::Simulator::play`].
    pub meeting_id: u64,
    /// Time zero: all offsets are seconds after this instant.
    pub start: DateTime<Utc>,
    /// Instances in chronological order, not overlapping.
    pub instances: Vec<InstanceSpec>,
    /// Everyone taking part (registrants, the host, guests). Registrants who never come are
    /// listed too, with no connections, so expectations cover them.
    pub people: Vec<Person>,
    /// Seed for generated identifiers (participant ids, instance UUIDs, `event_ts` jitter).
    pub seed: u64,
    /// A one-line title for [`Scenario::describe`].
    pub title: String,
}

/// One instance (one Zoom UUID): from `start` to `end` seconds after the scenario's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSpec {
    /// Offset of `meeting.started` (`object.start_time`).
    pub start: i64,
    /// Offset of `meeting.ended` (`object.end_time`).
    pub end: i64,
    /// The instance UUID; `None` generates one from the seed.
    pub uuid: Option<String>,
}

/// Who a person is, as far as Zoom knows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// A registrant of the meeting, found by email (case-insensitive) among the registrants
    /// the simulator holds; their `registrant_id`, email and name appear in events.
    Registrant {
        /// The registrant's email.
        email: String,
    },
    /// The meeting's host (participant `id` = `host_id`).
    Host,
    /// Someone who never registered: no `registrant_id`. With an email they are treated as a
    /// signed-in Zoom user (non-empty participant `id`); without, they are known by name only.
    Guest {
        /// Display name.
        name: String,
        /// Email, if Zoom knows one.
        email: Option<String>,
    },
}

/// How a connection ends when it ends before the instance does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveKind {
    /// Leaves normally: [`LEAVE_LEFT`].
    Left,
    /// Drops out: [`LEAVE_DISCONNECTED`].
    Disconnected,
}

/// `leave_reason` of a normal leave.
pub const LEAVE_LEFT: &str = "left the meeting. Reason : left the meeting";
/// `leave_reason` of a dropped connection.
pub const LEAVE_DISCONNECTED: &str = "got disconnected from the meeting. Reason : Client Close.";
/// `leave_reason` of everyone still inside when the meeting ends.
pub const LEAVE_HOST_ENDED: &str = "left the meeting. Reason : Host ended the meeting.";
/// `leave_reason` of the main-meeting `participant_left` sent when moving to a breakout room.
pub const LEAVE_TO_BREAKOUT: &str =
    "left the meeting. Reason : left the meeting to join breakout room";
/// `leave_reason` of the `participant_left_breakout_room` sent when returning to the main room.
pub const LEAVE_BREAKOUT_TO_MAIN: &str =
    "left the meeting. Reason : left the meeting leave breakout room to join main meeting";

/// A stay in a breakout room within one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakoutVisit {
    /// Room name (one `breakout_room_uuid` per name and instance).
    pub room: String,
    /// Offset of the move into the room.
    pub enter: i64,
    /// Offset of the return to the main room; `None`: the connection leaves the meeting from
    /// inside the room (at the connection's leave, or when the instance ends).
    pub leave: Option<i64>,
}

/// One connection (one device, one join session): a new participant `user_id` and
/// `participant_uuid`. A rejoin after a disconnect is a new connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Index into [`Scenario::instances`].
    pub instance: usize,
    /// Offset at which the connection entered the waiting room, if it went through one.
    pub waiting_room_at: Option<i64>,
    /// Offset at which it entered the main meeting (admitted, or joined directly); `None`: it
    /// never got past the waiting room.
    pub join: Option<i64>,
    /// Offset at which it left; `None`: it stays until the instance ends.
    pub leave: Option<i64>,
    /// How it leaves when `leave` is set.
    pub leave_kind: LeaveKind,
    /// Breakout room stays, in order.
    pub breakouts: Vec<BreakoutVisit>,
}

impl Connection {
    /// Joins the main meeting of `instance` at `join` and leaves at `leave` (`None`: stays to
    /// the end).
    pub fn main(instance: usize, join: i64, leave: Option<i64>) -> Self {
        Self {
            instance,
            waiting_room_at: None,
            join: Some(join),
            leave,
            leave_kind: LeaveKind::Left,
            breakouts: Vec::new(),
        }
    }

    /// Sits in the waiting room of `instance` from `enter` and is never admitted; gives up at
    /// `leave` (`None`: until the instance ends).
    pub fn waiting_only(instance: usize, enter: i64, leave: Option<i64>) -> Self {
        Self {
            instance,
            waiting_room_at: Some(enter),
            join: None,
            leave,
            leave_kind: LeaveKind::Left,
            breakouts: Vec::new(),
        }
    }

    /// Goes through the waiting room first, entering it at `at` (admitted at `join`).
    pub fn via_waiting_room(mut self, at: i64) -> Self {
        self.waiting_room_at = Some(at);
        self
    }

    /// Ends by a disconnect rather than a normal leave.
    pub fn disconnected(mut self) -> Self {
        self.leave_kind = LeaveKind::Disconnected;
        self
    }

    /// Adds a breakout room stay from `enter` to `leave` (`None`: leaves the meeting from the
    /// room).
    pub fn breakout(mut self, room: &str, enter: i64, leave: Option<i64>) -> Self {
        self.breakouts.push(BreakoutVisit {
            room: room.to_owned(),
            enter,
            leave,
        });
        self
    }
}

/// One person and their connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Who they are to Zoom.
    pub identity: Identity,
    /// Display name override (`user_name`); `None`: the registrant's "first last", the host's
    /// name, or the guest's name. Display names are never identity.
    pub display_name: Option<String>,
    /// `customer_key` to send in events and reports, if any.
    pub customer_key: Option<String>,
    /// What this person does, in plain words (e.g. "late joiner").
    pub label: String,
    /// Their connections, in any order.
    pub connections: Vec<Connection>,
}

impl Person {
    /// A registrant, found by email.
    pub fn registrant(email: &str) -> Self {
        Self::with(Identity::Registrant {
            email: email.to_owned(),
        })
    }

    /// The host.
    pub fn host() -> Self {
        Self::with(Identity::Host).label("host")
    }

    /// An unregistered guest.
    pub fn guest(name: &str, email: Option<&str>) -> Self {
        Self::with(Identity::Guest {
            name: name.to_owned(),
            email: email.map(str::to_owned),
        })
    }

    fn with(identity: Identity) -> Self {
        Self {
            identity,
            display_name: None,
            customer_key: None,
            label: String::new(),
            connections: Vec::new(),
        }
    }

    /// Sets the plain-words label.
    pub fn label(mut self, label: &str) -> Self {
        self.label = label.to_owned();
        self
    }

    /// Sets a display name that differs from the registered name.
    pub fn named(mut self, name: &str) -> Self {
        self.display_name = Some(name.to_owned());
        self
    }

    /// Adds a connection.
    pub fn connection(mut self, c: Connection) -> Self {
        self.connections.push(c);
        self
    }

    /// Short text naming the person.
    pub fn who(&self) -> String {
        match &self.identity {
            Identity::Registrant { email } => email.clone(),
            Identity::Host => "host".to_owned(),
            Identity::Guest { name, email: None } => format!("guest \"{name}\" (name only)"),
            Identity::Guest {
                name,
                email: Some(e),
            } => format!("guest \"{name}\" <{e}>"),
        }
    }
}

/// Why a scenario is not playable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// No instances.
    #[error("a scenario needs at least one instance")]
    NoInstance,
    /// An instance ends before it starts or overlaps the previous one.
    #[error("instance {0} must start after the previous one ends and end after it starts")]
    BadInstance(usize),
    /// A connection names an instance that does not exist.
    #[error("person {person}: connection names instance {instance}, which does not exist")]
    UnknownInstance {
        /// Index of the person.
        person: usize,
        /// The instance index given.
        instance: usize,
    },
    /// A connection's times are out of order or outside its instance.
    #[error("person {person}, connection {connection}: {reason}")]
    BadConnection {
        /// Index of the person.
        person: usize,
        /// Index of the connection.
        connection: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// More than one host.
    #[error("a scenario has at most one host")]
    TwoHosts,
}

/// What a correct attendance engine should conclude for one person in one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Index into [`Scenario::people`].
    pub person: usize,
    /// Who it is.
    pub identity: Identity,
    /// The person's label.
    pub label: String,
    /// Index of the instance.
    pub instance: usize,
    /// The instance window (`start_time`, `end_time`).
    pub window: (DateTime<Utc>, DateTime<Utc>),
    /// Union of main-meeting presence (breakout time included), merged and sorted.
    pub intervals: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Length of `intervals` in seconds (breakout rooms counted).
    pub attended_seconds: i64,
    /// Same, with breakout-room time not counted.
    pub attended_seconds_excluding_breakouts: i64,
    /// Connections that entered the main meeting (devices, rejoins); breakout moves and
    /// waiting-room-only connections do not count.
    pub joins: usize,
    /// Earliest main-meeting presence; `None` if never present.
    pub first_join: Option<DateTime<Utc>>,
    /// Latest main-meeting presence end; `None` if never present.
    pub last_leave: Option<DateTime<Utc>>,
}

impl Expected {
    /// `attended_seconds` over the window length (0 for an empty window).
    pub fn ratio(&self) -> f64 {
        let len = (self.window.1 - self.window.0).num_seconds();
        if len <= 0 {
            0.0
        } else {
            self.attended_seconds as f64 / len as f64
        }
    }
}

fn union_len(mut iv: Vec<(i64, i64)>) -> (Vec<(i64, i64)>, i64) {
    iv.retain(|(a, b)| b > a);
    iv.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (a, b) in iv {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let len = merged.iter().map(|(a, b)| b - a).sum();
    (merged, len)
}

impl Scenario {
    /// An empty scenario for `meeting_id` starting at `start`, with one instance of
    /// `duration_secs`.
    pub fn new(meeting_id: u64, start: DateTime<Utc>, duration_secs: i64) -> Self {
        Self {
            meeting_id,
            start,
            instances: vec![InstanceSpec {
                start: 0,
                end: duration_secs,
                uuid: None,
            }],
            people: Vec::new(),
            seed: meeting_id,
            title: format!("meeting {meeting_id}"),
        }
    }

    /// Adds a person.
    pub fn person(mut self, p: Person) -> Self {
        self.people.push(p);
        self
    }

    /// The absolute time of an offset.
    pub fn at(&self, offset: i64) -> DateTime<Utc> {
        self.start + Duration::seconds(offset)
    }

    /// The end of a connection (its leave, or its instance's end).
    pub fn effective_leave(&self, c: &Connection) -> i64 {
        c.leave
            .unwrap_or_else(|| self.instances.get(c.instance).map_or(0, |i| i.end))
    }

    /// Checks that every time is ordered and inside its instance.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.instances.is_empty() {
            return Err(ScenarioError::NoInstance);
        }
        let mut prev_end = i64::MIN;
        for (i, inst) in self.instances.iter().enumerate() {
            if inst.end <= inst.start || inst.start < prev_end {
                return Err(ScenarioError::BadInstance(i));
            }
            prev_end = inst.end;
        }
        if self
            .people
            .iter()
            .filter(|p| p.identity == Identity::Host)
            .count()
            > 1
        {
            return Err(ScenarioError::TwoHosts);
        }
        for (pi, p) in self.people.iter().enumerate() {
            for (ci, c) in p.connections.iter().enumerate() {
                let inst =
                    self.instances
                        .get(c.instance)
                        .ok_or(ScenarioError::UnknownInstance {
                            person: pi,
                            instance: c.instance,
                        })?;
                let bad = |reason| ScenarioError::BadConnection {
                    person: pi,
                    connection: ci,
                    reason,
                };
                let inside = |t: i64| t >= inst.start && t <= inst.end;
                let leave = self.effective_leave(c);
                if !inside(leave) {
                    return Err(bad("leave is outside the instance"));
                }
                if let Some(w) = c.waiting_room_at {
                    if !inside(w) {
                        return Err(bad("waiting room entry is outside the instance"));
                    }
                    if c.join.is_some_and(|j| j < w) {
                        return Err(bad("admitted before entering the waiting room"));
                    }
                    if leave < w {
                        return Err(bad("leaves before entering the waiting room"));
                    }
                }
                match c.join {
                    None => {
                        if c.waiting_room_at.is_none() {
                            return Err(bad("neither joins nor waits"));
                        }
                        if !c.breakouts.is_empty() {
                            return Err(bad("breakout rooms without joining"));
                        }
                    }
                    Some(j) => {
                        if !inside(j) {
                            return Err(bad("join is outside the instance"));
                        }
                        if leave < j {
                            return Err(bad("leaves before joining"));
                        }
                        let mut cursor = j;
                        for (bi, b) in c.breakouts.iter().enumerate() {
                            if b.enter < cursor {
                                return Err(bad("breakout rooms overlap or start before join"));
                            }
                            match b.leave {
                                Some(l) if l >= b.enter && l <= leave => cursor = l,
                                Some(_) => return Err(bad("breakout return out of order")),
                                None if bi + 1 == c.breakouts.len() => cursor = leave,
                                None => return Err(bad("only the last breakout may end the stay")),
                            }
                            if b.enter > leave {
                                return Err(bad("breakout after leaving"));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The window of an instance (`start_time`, `end_time`), if it exists.
    pub fn window(&self, instance: usize) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.instances
            .get(instance)
            .map(|i| (self.at(i.start), self.at(i.end)))
    }

    /// What a correct engine should conclude: one entry per person per instance (zeros
    /// included), in person order then instance order. The host is included (an engine
    /// should leave the host out of the roster; filter on [`Identity::Host`]).
    pub fn expectations(&self) -> Vec<Expected> {
        let mut out = Vec::new();
        for (pi, p) in self.people.iter().enumerate() {
            for (ii, inst) in self.instances.iter().enumerate() {
                let mut with_bo = Vec::new();
                let mut without_bo = Vec::new();
                let mut joins = 0;
                for c in p.connections.iter().filter(|c| c.instance == ii) {
                    let Some(j) = c.join else { continue };
                    joins += 1;
                    let l = self.effective_leave(c);
                    with_bo.push((j, l));
                    let mut cursor = j;
                    for b in &c.breakouts {
                        without_bo.push((cursor, b.enter));
                        cursor = b.leave.unwrap_or(l);
                    }
                    without_bo.push((cursor, l));
                }
                let (merged, len) = union_len(with_bo);
                let (_, len_no_bo) = union_len(without_bo);
                out.push(Expected {
                    person: pi,
                    identity: p.identity.clone(),
                    label: p.label.clone(),
                    instance: ii,
                    window: (self.at(inst.start), self.at(inst.end)),
                    first_join: merged.first().map(|(a, _)| self.at(*a)),
                    last_leave: merged.last().map(|(_, b)| self.at(*b)),
                    intervals: merged
                        .iter()
                        .map(|(a, b)| (self.at(*a), self.at(*b)))
                        .collect(),
                    attended_seconds: len,
                    attended_seconds_excluding_breakouts: len_no_bo,
                    joins,
                });
            }
        }
        out
    }

    /// The scenario in plain words, one line per instance and per connection.
    pub fn describe(&self) -> String {
        let hm = |off: i64| self.at(off).format("%H:%M:%S").to_string();
        let rel = |off: i64| {
            let s = off.abs();
            format!(
                "{}{:02}:{:02}",
                if off < 0 { "-" } else { "" },
                s / 60,
                s % 60
            )
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} — Zoom meeting {}, time zero {} UTC, {} people",
            self.title,
            self.meeting_id,
            self.start.format("%Y-%m-%d %H:%M:%S"),
            self.people.len()
        );
        for (i, inst) in self.instances.iter().enumerate() {
            let _ = writeln!(
                s,
                "  instance {}: starts {} (+{}), ends {} (+{}){}",
                i + 1,
                hm(inst.start),
                rel(inst.start),
                hm(inst.end),
                rel(inst.end),
                if i > 0 {
                    " — a restart: a new meeting UUID"
                } else {
                    ""
                }
            );
        }
        for p in &self.people {
            let name = p
                .display_name
                .as_ref()
                .map(|n| format!(" shown as \"{n}\""))
                .unwrap_or_default();
            let label = if p.label.is_empty() {
                String::new()
            } else {
                format!(" [{}]", p.label)
            };
            if p.connections.is_empty() {
                let _ = writeln!(s, "  {}{}{}: never joins", p.who(), name, label);
                continue;
            }
            let _ = writeln!(s, "  {}{}{}:", p.who(), name, label);
            for c in &p.connections {
                let mut line = format!("    instance {}:", c.instance + 1);
                let leave = self.effective_leave(c);
                if let Some(w) = c.waiting_room_at {
                    let _ = write!(line, " waiting room at +{}", rel(w));
                    match c.join {
                        Some(j) => {
                            let _ = write!(line, ", admitted at +{}", rel(j));
                        }
                        None => {
                            let _ = write!(line, ", never admitted, gives up at +{}", rel(leave));
                        }
                    }
                } else if let Some(j) = c.join {
                    let _ = write!(line, " joins at +{}", rel(j));
                }
                for b in &c.breakouts {
                    match b.leave {
                        Some(l) => {
                            let _ = write!(
                                line,
                                ", breakout \"{}\" +{}..+{}",
                                b.room,
                                rel(b.enter),
                                rel(l)
                            );
                        }
                        None => {
                            let _ = write!(
                                line,
                                ", breakout \"{}\" from +{} and leaves from there",
                                b.room,
                                rel(b.enter)
                            );
                        }
                    }
                }
                if c.join.is_some() {
                    match (c.leave, c.leave_kind) {
                        (None, _) => line.push_str(", stays to the end"),
                        (Some(l), LeaveKind::Left) => {
                            let _ = write!(line, ", leaves at +{}", rel(l));
                        }
                        (Some(l), LeaveKind::Disconnected) => {
                            let _ = write!(line, ", disconnected at +{}", rel(l));
                        }
                    }
                }
                let _ = writeln!(s, "{line}");
            }
        }
        s
    }

    /// A realistic 60-minute class for the given registrant emails (about 30 works best),
    /// deterministic for a given `seed`. In plain words:
    ///
    /// - The host starts the meeting at time zero. At +30:00 the host ends it by mistake and
    ///   starts it again at +32:00: **two instances**, `[0, 30:00]` and `[32:00, 60:00]`. The
    ///   second instance's UUID begins with `/` and contains `//`, so report calls must
    ///   double-encode it.
    /// - Registrants are shuffled by the seed and the first ones get special roles, in this
    ///   order (with fewer registrants, the later roles are dropped): a **late joiner**
    ///   (+12:00), an **early leaver** (leaves for good at +54:00), a student on **two
    ///   devices** (laptop all along, phone +05:00..+20:00), a **disconnect and rejoin**
    ///   (drops at +14:00, back at +16:30 on a new connection), **waiting room then
    ///   admitted** (both instances), **waiting room, never admitted** (+08:00..+12:00),
    ///   **absent**, **partial** (only from +50:30), **leaves from a breakout room** (+46:00),
    ///   a **renamed** student (display name "iPad (9)"), **not back after the restart**, and
    ///   a second **absent** student.
    /// - Everyone else is regular: joins within 2.5 minutes of each start and stays to each
    ///   end. Everyone present in instance 2 at +40:00 except the host moves to one of four
    ///   **breakout rooms** and returns at +50:00 (up to 15 s later).
    /// - Two **guests** never registered: a name-only guest ("Marie’s iPhone 📱", both
    ///   instances, leaves at +55:00) and a signed-in guest with an email (+06:00..+25:00).
    pub fn typical_class(
        meeting_id: u64,
        registrants: &[String],
        start: DateTime<Utc>,
        seed: u64,
    ) -> Self {
        const I1_END: i64 = 30 * 60;
        const I2_START: i64 = 32 * 60;
        const END: i64 = 60 * 60;
        const BO_START: i64 = 40 * 60;
        const BO_END: i64 = 50 * 60;
        let mut rng = SplitMix64::derive(seed, meeting_id);

        let mut uuid2 = base64::engine::general_purpose::STANDARD.encode(rng.bytes::<16>());
        uuid2.replace_range(0..1, "/");
        uuid2.replace_range(9..11, "//");

        let mut sc = Scenario {
            meeting_id,
            start,
            instances: vec![
                InstanceSpec {
                    start: 0,
                    end: I1_END,
                    uuid: None,
                },
                InstanceSpec {
                    start: I2_START,
                    end: END,
                    uuid: Some(uuid2),
                },
            ],
            people: Vec::new(),
            seed,
            title: format!("Typical class (seed {seed})"),
        };
        sc.people.push(
            Person::host()
                .connection(Connection::main(0, 0, None))
                .connection(Connection::main(1, I2_START, None)),
        );

        let mut order: Vec<&String> = registrants.iter().collect();
        rng.shuffle(&mut order);
        let regular_join = |rng: &mut SplitMix64, inst: usize| {
            if inst == 0 {
                rng.range(0, 150)
            } else {
                rng.range(I2_START + 5, I2_START + 150)
            }
        };
        for (k, email) in order.iter().enumerate() {
            let p = Person::registrant(email);
            let r1 = regular_join(&mut rng, 0);
            let r2 = regular_join(&mut rng, 1);
            let p = match k {
                0 => p
                    .label("late joiner")
                    .connection(Connection::main(0, 12 * 60, None))
                    .connection(Connection::main(1, r2, None)),
                1 => p
                    .label("early leaver")
                    .connection(Connection::main(0, r1, None))
                    .connection(Connection::main(1, r2, Some(54 * 60))),
                2 => p
                    .label("two devices")
                    .connection(Connection::main(0, 45, None))
                    .connection(Connection::main(0, 5 * 60, Some(20 * 60)))
                    .connection(Connection::main(1, r2, None)),
                3 => p
                    .label("disconnect and rejoin")
                    .connection(Connection::main(0, 60, Some(14 * 60)).disconnected())
                    .connection(Connection::main(0, 16 * 60 + 30, None))
                    .connection(Connection::main(1, r2, None)),
                4 => p
                    .label("waiting room then admitted")
                    .connection(Connection::main(0, 3 * 60, None).via_waiting_room(30))
                    .connection(
                        Connection::main(1, I2_START + 80, None).via_waiting_room(I2_START + 10),
                    ),
                5 => p
                    .label("waiting room, never admitted")
                    .connection(Connection::waiting_only(0, 8 * 60, Some(12 * 60))),
                6 | 11 => p.label("absent"),
                7 => p
                    .label("partial")
                    .connection(Connection::main(1, 50 * 60 + 30, None)),
                8 => p
                    .label("leaves from a breakout room")
                    .connection(Connection::main(0, r1, None))
                    .connection(Connection::main(1, r2, Some(46 * 60))),
                9 => p
                    .label("renamed")
                    .named("iPad (9)")
                    .connection(Connection::main(0, r1, None))
                    .connection(Connection::main(1, r2, None)),
                10 => p
                    .label("not back after the restart")
                    .connection(Connection::main(0, r1, None)),
                _ => p
                    .label("regular")
                    .connection(Connection::main(0, r1, None))
                    .connection(Connection::main(1, r2, None)),
            };
            sc.people.push(p);
        }
        sc.people.push(
            Person::guest("Marie’s iPhone 📱", None)
                .label("guest, name only")
                .connection(Connection::main(0, 4 * 60, None))
                .connection(Connection::main(1, I2_START + 60, Some(55 * 60))),
        );
        sc.people.push(
            Person::guest("Visiting Parent", Some("visitor@guest.example"))
                .label("guest with email")
                .connection(Connection::main(0, 6 * 60, Some(25 * 60))),
        );

        // Breakout rooms in instance 2: everyone in the main room at BO_START except the host.
        let mut room = 0;
        for p in sc.people.iter_mut() {
            if p.identity == Identity::Host {
                continue;
            }
            for c in p.connections.iter_mut() {
                let leave = c.leave.unwrap_or(END);
                let inside =
                    c.instance == 1 && c.join.is_some_and(|j| j <= BO_START) && leave > BO_START;
                if !inside {
                    continue;
                }
                let name = format!("Room {}", room % 4 + 1);
                room += 1;
                if leave < BO_END {
                    // Leaves the meeting from inside the room.
                    c.breakouts.push(BreakoutVisit {
                        room: name,
                        enter: BO_START,
                        leave: None,
                    });
                } else {
                    let back = (BO_END + rng.range(0, 15)).min(leave);
                    c.breakouts.push(BreakoutVisit {
                        room: name,
                        enter: BO_START,
                        leave: Some(back),
                    });
                }
            }
        }
        sc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 4, 7, 14, 0, 0).unwrap()
    }

    fn emails(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("student{i:02}@lms.example"))
            .collect()
    }

    #[test]
    fn typical_class_is_valid_and_deterministic() {
        let a = Scenario::typical_class(85_000_000_001, &emails(30), t0(), 42);
        let b = Scenario::typical_class(85_000_000_001, &emails(30), t0(), 42);
        let c = Scenario::typical_class(85_000_000_001, &emails(30), t0(), 43);
        assert_eq!(a, b);
        assert_ne!(a, c);
        a.validate().unwrap();
        c.validate().unwrap();
        // host + 30 + 2 guests
        assert_eq!(a.people.len(), 33);
        let uuid2 = a.instances[1].uuid.clone().unwrap();
        assert!(uuid2.starts_with('/') && uuid2.contains("//"));
    }

    #[test]
    fn small_rosters_still_valid() {
        for n in 0..14 {
            Scenario::typical_class(1, &emails(n), t0(), 1)
                .validate()
                .unwrap();
        }
    }

    #[test]
    fn expectations_union_and_breakouts() {
        let sc = Scenario::new(1, t0(), 3600).person(
            Person::registrant("a@x")
                .connection(Connection::main(0, 0, Some(1200)))
                .connection(Connection::main(0, 600, Some(1800)).breakout("R", 900, Some(1000)))
                .connection(Connection::waiting_only(0, 2000, Some(2100))),
        );
        sc.validate().unwrap();
        let e = &sc.expectations()[0];
        assert_eq!(e.attended_seconds, 1800);
        assert_eq!(e.joins, 2);
        // breakout 900..1000 is covered by the first connection anyway
        assert_eq!(e.attended_seconds_excluding_breakouts, 1800);
        assert_eq!(e.first_join, Some(t0()));
        assert_eq!(e.last_leave, Some(t0() + Duration::seconds(1800)));
    }

    #[test]
    fn validation_catches_bad_times() {
        let sc = Scenario::new(1, t0(), 100)
            .person(Person::registrant("a@x").connection(Connection::main(0, 50, Some(40))));
        assert!(matches!(
            sc.validate(),
            Err(ScenarioError::BadConnection { .. })
        ));
        let sc = Scenario::new(1, t0(), 100)
            .person(Person::registrant("a@x").connection(Connection::main(3, 5, None)));
        assert!(matches!(
            sc.validate(),
            Err(ScenarioError::UnknownInstance { .. })
        ));
        let sc = Scenario::new(1, t0(), 100).person(
            Person::registrant("a@x").connection(Connection::main(0, 0, Some(50)).breakout(
                "R",
                60,
                Some(70),
            )),
        );
        assert!(sc.validate().is_err());
    }

    #[test]
    fn describe_mentions_roles() {
        let sc = Scenario::typical_class(7, &emails(30), t0(), 5);
        let d = sc.describe();
        for needle in [
            "late joiner",
            "two devices",
            "waiting room, never admitted",
            "breakout \"Room",
            "a restart",
            "name only",
        ] {
            assert!(d.contains(needle), "missing {needle} in\n{d}");
        }
    }
}

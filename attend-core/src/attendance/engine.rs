//! `compute_instance`: one instance's evidence in, its roster out.
//!
//! The work is done in two phases, so that it stays linear as inputs outgrow the caches:
//!
//! 1. One pass over the input, in input order: each connection's events are sorted and
//!    replayed into segments, each subject key is hashed once, and every item becomes a
//!    compact [`Fact`] appended to one of up to 256 partitions chosen by that hash (so that
//!    every fact about one person lands in the same partition).
//! 2. Each partition is then computed on its own ([`super::partition`]): interning, report
//!    row matching, unions and records all touch only that partition's facts, which fit in
//!    the caches whatever the size of the whole input.
//!
//! The result does not depend on the partitioning (the records are sorted at the end and
//! every rule is per person), which a test checks.

use crate::model::{InstanceState, MatchedBy, ParticipantAction};

use super::connection::{Segment, replay};
use super::input::{InstanceInput, Subject};
use super::intern::{Hashed, Keys};
use super::output::{Roster, RosterWindow, Summary};
use super::partition::{Output, Setting, Workspace};
use super::time::{micros, time};

/// Interner namespace of host users.
const USERS: u8 = 0;
/// Interner namespace of unmatched people.
const PERSONS: u8 = 1;

/// About this many facts per partition.
const FACTS_PER_PARTITION: usize = 8192;
/// At most `2^MAX_PARTITION_BITS` partitions (few enough that appending to all of them stays
/// cache and TLB friendly).
const MAX_PARTITION_BITS: u32 = 10;

/// The strongest of two ways of matching (`None` is weakest).
pub(crate) fn stronger(a: Option<MatchedBy>, b: Option<MatchedBy>) -> Option<MatchedBy> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Who a fact is about, with what phase 2 needs without reading the input again (the
/// user's id is the fact's key).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Who<'a> {
    /// A host user.
    User {
        /// How this fact was matched (`None` for a registration).
        matched_by: Option<MatchedBy>,
        /// Whether this fact is the user's registration.
        registered: bool,
    },
    /// An unmatched person (only read for the display name and email).
    Person(&'a Subject),
}

/// What a fact says. Fields phase 2 rarely needs are left in the input, by index.
#[derive(Clone, Copy, Debug)]
pub(crate) enum What {
    /// The user is registered.
    Registered,
    /// A webhook connection, replayed.
    Connection {
        /// Its first event, for choosing display names.
        seen_at: i64,
        /// Its index in [`InstanceInput::connections`].
        index: u32,
        /// Its segments in the partition's segment list: start and count.
        segments: (u32, u32),
        /// Whether it was in the meeting at some instant inside the window.
        joined: bool,
    },
    /// A report row (times in microseconds, `join <= leave`).
    Row {
        /// Its index in [`InstanceInput::report_rows`].
        index: u32,
        /// Join.
        join: i64,
        /// Leave.
        leave: i64,
    },
    /// A manual interval (times in microseconds, `join <= leave`).
    Manual {
        /// Join.
        join: i64,
        /// Leave.
        leave: i64,
    },
}

impl What {
    /// When the evidence starts, for choosing display names.
    pub(crate) fn seen_at(&self) -> i64 {
        match *self {
            What::Connection { seen_at, .. } => seen_at,
            What::Row { join, .. } | What::Manual { join, .. } => join,
            What::Registered => i64::MAX,
        }
    }
}

/// One item of the input, prepared for its partition.
#[derive(Clone, Debug)]
pub(crate) struct Fact<'a> {
    /// The subject's key.
    pub(crate) key: Hashed<'a>,
    /// The subject.
    pub(crate) who: Who<'a>,
    /// The evidence.
    pub(crate) what: What,
}

/// The facts of one partition, in input order (registrations, connections, rows, manual).
#[derive(Default)]
pub(crate) struct Partition<'a> {
    /// The facts.
    pub(crate) facts: Vec<Fact<'a>>,
    /// Segments of its connections.
    pub(crate) segments: Vec<Segment>,
    /// Whether any fact is a report row.
    pub(crate) has_rows: bool,
}

/// Computes the roster of one instance. See the module docs of [`crate::attendance`] for
/// every rule.
pub fn compute_instance(input: &InstanceInput) -> Roster {
    let items = input.registered.len()
        + input.connections.len()
        + input.report_rows.len()
        + input.manual.len();
    let wanted = items / FACTS_PER_PARTITION;
    let bits = if wanted <= 1 {
        0
    } else {
        (usize::BITS - (wanted - 1).leading_zeros()).min(MAX_PARTITION_BITS)
    };
    compute(input, bits)
}

/// [`compute_instance`] with `2^bits` partitions.
pub(crate) fn compute(input: &InstanceInput, bits: u32) -> Roster {
    let start = micros(input.window.start);
    let end = micros(input.window.end.unwrap_or(input.now)).max(start);
    let window = (start, end);
    let state = if input.window.end.is_none() {
        InstanceState::Live
    } else {
        input.state
    };

    let keys = Keys::new();
    let bits = bits.min(MAX_PARTITION_BITS);
    let count = 1_usize << bits;
    // Room for the expected share of each partition plus six standard deviations, so that
    // the partitions almost never grow (growing copies and touches fresh memory).
    let items = input.registered.len()
        + input.connections.len()
        + input.report_rows.len()
        + input.manual.len();
    let facts = items / count;
    let segments = input.connections.len() * 2 / count;
    let mut partitions: Vec<Partition<'_>> = (0..count)
        .map(|_| Partition {
            facts: Vec::with_capacity(facts + 6 * facts.isqrt() + 16),
            segments: Vec::with_capacity(segments + 6 * segments.isqrt() + 16),
            has_rows: false,
        })
        .collect();
    let slot = |hash: u64| {
        if bits == 0 {
            0
        } else {
            usize::try_from(hash >> (u64::BITS - bits)).unwrap_or(0)
        }
    };

    for id in &input.registered {
        let key = keys.key(USERS, id.as_str());
        partitions[slot(key.hash)].facts.push(Fact {
            key,
            who: Who::User {
                matched_by: None,
                registered: true,
            },
            what: What::Registered,
        });
    }

    let mut events: Vec<(i64, ParticipantAction)> = Vec::new();
    for (index, connection) in input.connections.iter().enumerate() {
        events.clear();
        events.extend(
            connection
                .events
                .iter()
                .map(|event| (micros(event.at), event.action)),
        );
        events.sort_unstable();
        events.dedup();
        let (key, who) = subject_key(&keys, &connection.subject);
        let partition = &mut partitions[slot(key.hash)];
        let from = partition.segments.len();
        let joined = replay(&events, window, &mut partition.segments);
        partition.facts.push(Fact {
            key,
            who,
            what: What::Connection {
                seen_at: events.first().map_or(i64::MAX, |event| event.0),
                index: narrow(index),
                segments: (narrow(from), narrow(partition.segments.len() - from)),
                joined,
            },
        });
    }

    for (index, row) in input.report_rows.iter().enumerate() {
        let (join, leave) = (micros(row.join), micros(row.leave));
        if leave < join {
            continue;
        }
        let (key, who) = subject_key(&keys, &row.subject);
        let partition = &mut partitions[slot(key.hash)];
        partition.has_rows = true;
        partition.facts.push(Fact {
            key,
            who,
            what: What::Row {
                index: narrow(index),
                join,
                leave,
            },
        });
    }

    for manual in &input.manual {
        let (join, leave) = (micros(manual.join), micros(manual.leave));
        if leave < join {
            continue;
        }
        let key = keys.key(USERS, manual.user.as_str());
        partitions[slot(key.hash)].facts.push(Fact {
            key,
            who: Who::User {
                matched_by: Some(MatchedBy::Manual),
                registered: false,
            },
            what: What::Manual { join, leave },
        });
    }

    let setting = Setting {
        input,
        window,
        count_breakout_rooms: input.policy.count_breakout_rooms,
        policy: &input.policy,
    };
    let mut output = Output::with_capacity(input.registered.len());
    let mut workspace = Workspace::default();
    for partition in &partitions {
        workspace.compute(partition, &setting, &mut output);
    }
    let (roster, unmatched) = output.into_sorted();
    let summary = Summary::of(&roster, &unmatched);
    Roster {
        instance: Some(input.instance.clone()),
        window: RosterWindow {
            start: time(start),
            end: time(end),
        },
        state,
        roster,
        unmatched,
        summary,
    }
}

/// An index or count as stored in a [`Fact`]. Inputs have far fewer than 2^32 items (an
/// instance has at most some hundred thousand participants); a larger one saturates rather
/// than panics.
fn narrow(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The key and fact subject of a connection's or row's subject.
fn subject_key<'a>(keys: &Keys, subject: &'a Subject) -> (Hashed<'a>, Who<'a>) {
    match subject {
        Subject::User { id, matched_by } => (
            keys.key(USERS, id.as_str()),
            Who::User {
                matched_by: Some(*matched_by),
                registered: false,
            },
        ),
        Subject::Unmatched { person_key, .. } => {
            (keys.key(PERSONS, person_key), Who::Person(subject))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::attendance::input::{
        Connection, ConnectionEvent, ManualInterval, ReportInterval, Window,
    };
    use crate::model::{ConnectionKey, InstanceId, UserId};

    const ACTIONS: [ParticipantAction; 6] = [
        ParticipantAction::WaitingRoomJoined,
        ParticipantAction::WaitingRoomLeft,
        ParticipantAction::Joined,
        ParticipantAction::BreakoutJoined,
        ParticipantAction::BreakoutLeft,
        ParticipantAction::Left,
    ];

    fn random_input(rng: &mut StdRng) -> InstanceInput {
        let base = Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap();
        let at = |seconds: i64| base + Duration::seconds(seconds);
        let mut input = InstanceInput::new(
            InstanceId::from("i"),
            Window::ended(base, at(3600)),
            at(4000),
        );
        input.policy.count_breakout_rooms = rng.random_bool(0.5);
        let subject = |rng: &mut StdRng| {
            let who = rng.random_range(0..30);
            if who < 20 {
                Subject::user(format!("user-{who}"), MatchedBy::Email)
            } else {
                Subject::Unmatched {
                    person_key: format!("name:{who}"),
                    display_name: Some(format!("{who}")),
                    email: None,
                }
            }
        };
        input.registered = (0..rng.random_range(0..25))
            .map(|u| UserId::new(format!("user-{u}")))
            .collect();
        for c in 0..rng.random_range(0..60) {
            input.connections.push(Connection {
                key: ConnectionKey::new(format!("c{c}")),
                subject: subject(rng),
                zoom_user_id: Some(format!("z{}", rng.random_range(0..10))),
                events: (0..rng.random_range(0..6))
                    .map(|_| {
                        ConnectionEvent::new(
                            ACTIONS[rng.random_range(0..6)],
                            at(rng.random_range(-300..4000)),
                        )
                    })
                    .collect(),
            });
        }
        for _ in 0..rng.random_range(0..30) {
            let join = rng.random_range(-300..4000);
            input.report_rows.push(ReportInterval {
                subject: subject(rng),
                zoom_user_id: Some(format!("z{}", rng.random_range(0..10))),
                join: at(join),
                leave: at(join + rng.random_range(-10..2000)),
            });
        }
        for _ in 0..rng.random_range(0..5) {
            let join = rng.random_range(-300..4000);
            input.manual.push(ManualInterval {
                user: UserId::new(format!("user-{}", rng.random_range(0..25))),
                join: at(join),
                leave: at(join + rng.random_range(-10..2000)),
            });
        }
        input
    }

    #[test]
    fn partitioning_changes_nothing() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..300 {
            let input = random_input(&mut rng);
            let whole = compute(&input, 0);
            for bits in [1, 3, 8] {
                assert_eq!(compute(&input, bits), whole);
            }
        }
    }
}

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

use crate::model::{ConnectionKey, InstanceState, MatchedBy, ParticipantAction};

use super::connection::{Segment, replay};
use super::input::{InstanceInput, Subject};
use super::intern::{Hashed, Keys};
use super::output::{Roster, RosterWindow, Summary};
use super::partition::{Output, Setting, Workspace, ZoomId};
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

/// What a fact says.
#[derive(Clone, Copy, Debug)]
pub(crate) enum What {
    /// The user is registered.
    Registered,
    /// A webhook connection, replayed.
    Connection {
        /// Its first event, for choosing display names.
        seen_at: i64,
        /// Its entry in the partition's `matchable` list (only built when the input has
        /// report rows), `u32::MAX` if none.
        matchable: u32,
        /// Its segments in the partition's segment list: start and count.
        segments: (u32, u32),
        /// Whether it was in the meeting at some instant inside the window.
        joined: bool,
    },
    /// A report row (times in microseconds, `join <= leave`); its Zoom user id is at the
    /// same position in the partition's `row_ids`.
    Row {
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

/// What report rows need of a webhook connection, taken in input order so that matching
/// reads no scattered input.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionIds<'a> {
    /// Its Zoom user id.
    pub(crate) zoom_user_id: Option<ZoomId<'a>>,
    /// Its key (for tie-breaks between connections).
    pub(crate) key: &'a ConnectionKey,
}

/// The facts of one partition (or of one thread's share of it), in input order.
pub(crate) struct Partition<'a> {
    /// Registrations, connections and manual intervals.
    pub(crate) facts: Vec<Fact<'a>>,
    /// Report rows (computed after every connection of the partition).
    pub(crate) rows: Vec<Fact<'a>>,
    /// The Zoom user id of each report row, by position in `rows`.
    pub(crate) row_ids: Vec<Option<ZoomId<'a>>>,
    /// Of each connection, when the input has report rows.
    pub(crate) matchable: Vec<ConnectionIds<'a>>,
    /// Segments of its connections.
    pub(crate) segments: Vec<Segment>,
}

/// Inputs with fewer items than this are computed on the calling thread only.
const ITEMS_PER_THREAD: usize = 25_000;
/// At most this many threads.
const MAX_THREADS: usize = 8;

/// Computes the roster of one instance. See the module docs of [`crate::attendance`] for
/// every rule.
///
/// Large inputs (from 50,000 items: registrations, connections, rows and manual intervals
/// together) are computed on up to `available_parallelism` scoped threads (at most 8, about
/// 25,000 items each), all joined before this returns; smaller ones on the calling thread.
/// The result is the same either way.
pub fn compute_instance(input: &InstanceInput) -> Roster {
    let items = item_count(input);
    let wanted = items / FACTS_PER_PARTITION;
    let bits = if wanted <= 1 {
        0
    } else {
        (usize::BITS - (wanted - 1).leading_zeros()).min(MAX_PARTITION_BITS)
    };
    let available = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = available
        .min(items / ITEMS_PER_THREAD)
        .clamp(1, MAX_THREADS);
    compute(input, bits, threads)
}

fn item_count(input: &InstanceInput) -> usize {
    input.registered.len() + input.connections.len() + input.report_rows.len() + input.manual.len()
}

/// Runs `work(0..n)`, on `n` threads when `n > 1` (falling back to the calling thread for any
/// thread that cannot be started), and returns the results in order.
fn in_parallel<T: Send>(n: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    if n <= 1 {
        return vec![work(0)];
    }
    let work = &work;
    std::thread::scope(|scope| {
        let started: Vec<_> = (1..n)
            .map(|at| {
                std::thread::Builder::new()
                    .name("attend-engine".into())
                    .spawn_scoped(scope, move || work(at))
                    .map_err(|_| at)
            })
            .collect();
        let mut results = Vec::with_capacity(n);
        results.push(work(0));
        for thread in started {
            match thread {
                Ok(handle) => match handle.join() {
                    Ok(result) => results.push(result),
                    // The engine does not panic; if it ever did, the panic goes on.
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(at) => results.push(work(at)),
            }
        }
        results
    })
}

/// [`compute_instance`] with `2^bits` partitions and `threads` threads.
pub(crate) fn compute(input: &InstanceInput, bits: u32, threads: usize) -> Roster {
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
    let threads = threads.clamp(1, MAX_THREADS);

    // Phase 1: each thread distributes its share of every list.
    let shares = in_parallel(threads, |share| {
        let part = |len: usize| (len * share / threads)..(len * (share + 1) / threads);
        distribute(input, &keys, window, bits, threads, &part)
    });

    // Phase 2: each thread computes every `threads`-th partition, from all shares.
    let setting = Setting {
        window,
        count_breakout_rooms: input.policy.count_breakout_rooms,
        policy: &input.policy,
    };
    let count = 1_usize << bits;
    let outputs = in_parallel(threads, |thread| {
        let mut output = Output::with_capacity(input.registered.len() / threads + 16);
        let mut workspace = Workspace::default();
        let mut parts = Vec::with_capacity(shares.len());
        for partition in (thread..count).step_by(threads) {
            parts.clear();
            parts.extend(shares.iter().filter_map(|share| share.get(partition)));
            workspace.compute(&parts, &setting, &mut output);
        }
        output.sort();
        output
    });
    let (roster, unmatched) = Output::into_sorted(outputs);
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

/// Phase 1 for the items in `part(len)` of each input list: replays the connections and
/// appends every item's fact to the partition chosen by its key's hash.
fn distribute<'a>(
    input: &'a InstanceInput,
    keys: &Keys,
    window: (i64, i64),
    bits: u32,
    threads: usize,
    part: &dyn Fn(usize) -> std::ops::Range<usize>,
) -> Vec<Partition<'a>> {
    let count = 1_usize << bits;
    // Room for the expected share of each partition plus six standard deviations, so that
    // the partitions almost never grow (growing copies and touches fresh memory).
    let share = |len: usize| {
        let expected = len / count / threads;
        expected + 6 * expected.isqrt() + 16
    };
    let facts = share(input.registered.len() + input.connections.len() + input.manual.len());
    let mut partitions: Vec<Partition<'a>> = (0..count)
        .map(|_| Partition {
            facts: Vec::with_capacity(facts),
            rows: Vec::with_capacity(share(input.report_rows.len())),
            row_ids: Vec::with_capacity(share(input.report_rows.len())),
            matchable: Vec::new(),
            segments: Vec::with_capacity(share(input.connections.len() * 2)),
        })
        .collect();
    let slot = |hash: u64| {
        if bits == 0 {
            0
        } else {
            usize::try_from(hash >> (u64::BITS - bits)).unwrap_or(0)
        }
    };

    for id in input
        .registered
        .get(part(input.registered.len()))
        .unwrap_or(&[])
    {
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

    let with_rows = !input.report_rows.is_empty();
    let mut events: Vec<(i64, ParticipantAction)> = Vec::new();
    let mut packed: Vec<i64> = Vec::new();
    for index in part(input.connections.len()) {
        let Some(connection) = input.connections.get(index) else {
            continue;
        };
        order_events(&connection.events, &mut packed, &mut events);
        let (key, who) = subject_key(keys, &connection.subject);
        let partition = &mut partitions[slot(key.hash)];
        let from = partition.segments.len();
        let joined = replay(&events, window, &mut partition.segments);
        let matchable = if with_rows {
            partition.matchable.push(ConnectionIds {
                zoom_user_id: connection.zoom_user_id.as_deref().map(ZoomId::new),
                key: &connection.key,
            });
            narrow(partition.matchable.len() - 1)
        } else {
            u32::MAX
        };
        partition.facts.push(Fact {
            key,
            who,
            what: What::Connection {
                seen_at: events.first().map_or(i64::MAX, |event| event.0),
                matchable,
                segments: (narrow(from), narrow(partition.segments.len() - from)),
                joined,
            },
        });
    }

    for row in input
        .report_rows
        .get(part(input.report_rows.len()))
        .unwrap_or(&[])
    {
        let (join, leave) = (micros(row.join), micros(row.leave));
        if leave < join {
            continue;
        }
        let (key, who) = subject_key(keys, &row.subject);
        let partition = &mut partitions[slot(key.hash)];
        partition.rows.push(Fact {
            key,
            who,
            what: What::Row { join, leave },
        });
        partition
            .row_ids
            .push(row.zoom_user_id.as_deref().map(ZoomId::new));
    }

    for manual in input.manual.get(part(input.manual.len())).unwrap_or(&[]) {
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
    partitions
}

/// Times that [`order_events`] can pack with an action into one `i64` (about ±36,000 years
/// around 1970).
const PACKABLE: std::ops::RangeInclusive<i64> = -(1 << 60)..=(1 << 60) - 1;

/// All actions, in their order (the rank packed below the time).
const ACTIONS: [ParticipantAction; 6] = [
    ParticipantAction::WaitingRoomJoined,
    ParticipantAction::WaitingRoomLeft,
    ParticipantAction::Joined,
    ParticipantAction::BreakoutJoined,
    ParticipantAction::BreakoutLeft,
    ParticipantAction::Left,
];

/// One connection's events as `(microseconds, action)`, ordered by time then action, exact
/// duplicates removed.
///
/// Events are sorted as single `i64`s (time shifted left, action rank in the low bits) when
/// their times allow, which is every real time: sorting 16-byte tuples right after writing
/// them field by field stalled the CPU on store-to-load forwarding. Other times take the plain
/// tuple sort; both give the same order.
fn order_events(
    source: &[super::input::ConnectionEvent],
    packed: &mut Vec<i64>,
    events: &mut Vec<(i64, ParticipantAction)>,
) {
    events.clear();
    packed.clear();
    let mut packable = true;
    for event in source {
        let at = micros(event.at);
        packable &= PACKABLE.contains(&at);
        let rank = ACTIONS
            .iter()
            .position(|action| *action == event.action)
            .unwrap_or(0);
        packed.push(at.wrapping_shl(3) | rank as i64);
    }
    if packable {
        packed.sort_unstable();
        packed.dedup();
        events.extend(packed.iter().map(|&key| {
            let rank = usize::try_from(key & 7).unwrap_or(0);
            (
                key >> 3,
                ACTIONS
                    .get(rank)
                    .copied()
                    .unwrap_or(ParticipantAction::Left),
            )
        }));
    } else {
        events.extend(source.iter().map(|event| (micros(event.at), event.action)));
        events.sort_unstable();
        events.dedup();
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
    fn packed_and_plain_event_orders_agree() {
        use crate::attendance::input::ConnectionEvent;
        use chrono::DateTime;
        let base = Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap();
        let far = DateTime::<Utc>::MAX_UTC;
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..500 {
            let source: Vec<ConnectionEvent> = (0..rng.random_range(0..9))
                .map(|_| {
                    let at = base + Duration::seconds(rng.random_range(-3..3));
                    ConnectionEvent::new(ACTIONS[rng.random_range(0..6)], at)
                })
                .collect();
            let (mut packed, mut events) = (Vec::new(), Vec::new());
            order_events(&source, &mut packed, &mut events);
            let mut plain: Vec<(i64, ParticipantAction)> = source
                .iter()
                .map(|event| (micros(event.at), event.action))
                .collect();
            plain.sort_unstable();
            plain.dedup();
            assert_eq!(events, plain);
            // A time outside the packable range takes the plain path, same result.
            let mut with_far = source.clone();
            with_far.push(ConnectionEvent::new(ParticipantAction::Left, far));
            order_events(&with_far, &mut packed, &mut events);
            plain.push((micros(far), ParticipantAction::Left));
            assert_eq!(events, plain);
        }
    }

    #[test]
    fn partitioning_and_threads_change_nothing() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..300 {
            let input = random_input(&mut rng);
            let whole = compute(&input, 0, 1);
            for (bits, threads) in [(0, 2), (1, 1), (3, 1), (3, 3), (8, 2), (5, 8)] {
                assert_eq!(compute(&input, bits, threads), whole);
            }
        }
    }
}

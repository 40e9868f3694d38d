//! `compute_instance`: one instance's evidence in, its roster out.

use std::collections::HashMap;

use crate::model::{
    ConnectionKey, InstanceState, IntervalSource, MatchedBy, ParticipantAction, UserId,
};

use super::connection::{Segment, replay};
use super::input::{InstanceInput, Subject};
use super::output::{
    PresenceInterval, Roster, RosterRecord, RosterWindow, Summary, UnmatchedRecord,
};
use super::rules::{Presence, ratio, round4, status};
use super::time::{micros, time, whole_seconds};
use super::timeline::{Piece, union};

/// The strongest of two ways of matching (`None` is weakest).
pub(crate) fn stronger(a: Option<MatchedBy>, b: Option<MatchedBy>) -> Option<MatchedBy> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A value together with when it was first seen; the earliest (then smallest) wins.
type Earliest<'a> = Option<(i64, &'a str)>;

fn earliest<'a>(current: Earliest<'a>, at: i64, value: Option<&'a str>) -> Earliest<'a> {
    match (current, value) {
        (Some(current), Some(value)) => Some(current.min((at, value))),
        (None, Some(value)) => Some((at, value)),
        (current, None) => current,
    }
}

/// Who a group of evidence belongs to.
enum Who<'a> {
    User {
        id: &'a UserId,
        registered: bool,
        matched_by: Option<MatchedBy>,
    },
    Person {
        key: &'a str,
        display_name: Earliest<'a>,
        email: Earliest<'a>,
    },
}

struct Owner<'a> {
    who: Who<'a>,
    joins: u32,
}

/// Interns subjects into dense indices, borrowing every string from the input.
#[derive(Default)]
struct Owners<'a> {
    users: HashMap<&'a str, u32>,
    persons: HashMap<&'a str, u32>,
    list: Vec<Owner<'a>>,
}

impl<'a> Owners<'a> {
    fn with_capacity(users: usize) -> Self {
        Self {
            users: HashMap::with_capacity(users),
            persons: HashMap::new(),
            list: Vec::with_capacity(users),
        }
    }

    fn next_index(&self) -> u32 {
        u32::try_from(self.list.len()).unwrap_or(u32::MAX)
    }

    fn user(&mut self, id: &'a UserId, registered: bool, matched_by: Option<MatchedBy>) -> u32 {
        let next = self.next_index();
        let index = *self.users.entry(id.as_str()).or_insert(next);
        if index == next {
            self.list.push(Owner {
                who: Who::User {
                    id,
                    registered,
                    matched_by,
                },
                joins: 0,
            });
        } else if let Some(Owner {
            who:
                Who::User {
                    registered: was_registered,
                    matched_by: was_matched,
                    ..
                },
            ..
        }) = self.list.get_mut(index as usize)
        {
            *was_registered |= registered;
            *was_matched = stronger(*was_matched, matched_by);
        }
        index
    }

    fn subject(&mut self, subject: &'a Subject, seen_at: i64) -> u32 {
        match subject {
            Subject::User { id, matched_by } => self.user(id, false, Some(*matched_by)),
            Subject::Unmatched {
                person_key,
                display_name,
                email,
            } => {
                let next = self.next_index();
                let index = *self.persons.entry(person_key.as_str()).or_insert(next);
                if index == next {
                    self.list.push(Owner {
                        who: Who::Person {
                            key: person_key,
                            display_name: None,
                            email: None,
                        },
                        joins: 0,
                    });
                }
                if let Some(Owner {
                    who:
                        Who::Person {
                            display_name: shown_name,
                            email: shown_email,
                            ..
                        },
                    ..
                }) = self.list.get_mut(index as usize)
                {
                    *shown_name = earliest(*shown_name, seen_at, display_name.as_deref());
                    *shown_email = earliest(*shown_email, seen_at, email.as_deref());
                }
                index
            }
        }
    }

    fn add_join(&mut self, owner: u32) {
        if let Some(owner) = self.list.get_mut(owner as usize) {
            owner.joins = owner.joins.saturating_add(1);
        }
    }
}

/// A webhook connection that report rows may turn out to be.
struct Matchable<'a> {
    owner: u32,
    zoom_user_id: &'a str,
    key: &'a ConnectionKey,
    /// First entry into and last exit from the meeting (unclipped).
    span: (i64, i64),
    /// Its breakout segments, as a range of `Engine::breakouts` (only when breakout time
    /// does not count).
    breakouts: std::ops::Range<usize>,
    /// Whether it is a join (in the meeting within the window, by webhook or by a row).
    joined: bool,
}

/// A report row that is no webhook connection, for counting joins.
struct LoneRow<'a> {
    owner: u32,
    zoom_user_id: Option<&'a str>,
    join: i64,
    leave: i64,
}

/// Overlap of two closed intervals: `Some(length)` if they share time, where two intervals
/// that only touch share time only if one of them is a single instant.
fn overlap(a: (i64, i64), b: (i64, i64)) -> Option<i64> {
    let length = a.1.min(b.1) - a.0.max(b.0);
    let degenerate = a.0 == a.1 || b.0 == b.1;
    (length > 0 || (length == 0 && degenerate)).then_some(length)
}

/// Computes the roster of one instance. See the module docs for every rule.
pub fn compute_instance(input: &InstanceInput) -> Roster {
    let start = micros(input.window.start);
    let end = micros(input.window.end.unwrap_or(input.now)).max(start);
    let window = (start, end);
    let state = if input.window.end.is_none() {
        InstanceState::Live
    } else {
        input.state
    };
    let count_breakout = input.policy.count_breakout_rooms;
    let clip = |from: i64, to: i64| (from.max(start), to.min(end));

    let mut owners = Owners::with_capacity(input.registered.len().max(input.connections.len() / 4));
    for user in &input.registered {
        owners.user(user, true, None);
    }

    // Counted pieces of presence of every owner, clipped, in input order.
    let mut pieces: Vec<(u32, Piece)> = Vec::with_capacity(input.connections.len() * 2);
    let mut push = |owner: u32, (from, to): (i64, i64), source: IntervalSource| {
        if to > from {
            pieces.push((
                owner,
                Piece {
                    start: from,
                    end: to,
                    source,
                },
            ));
        }
    };

    let with_rows = !input.report_rows.is_empty();
    let mut matchable: Vec<Matchable<'_>> = Vec::new();
    let mut breakouts: Vec<(i64, i64)> = Vec::new();
    let mut events: Vec<(i64, ParticipantAction)> = Vec::new();
    let mut segments: Vec<Segment> = Vec::new();
    for connection in &input.connections {
        events.clear();
        events.extend(
            connection
                .events
                .iter()
                .map(|event| (micros(event.at), event.action)),
        );
        events.sort_unstable();
        events.dedup();
        let seen_at = events.first().map_or(i64::MAX, |event| event.0);
        let owner = owners.subject(&connection.subject, seen_at);
        segments.clear();
        let joined = replay(&events, window, &mut segments);
        for segment in &segments {
            if count_breakout || !segment.breakout {
                push(
                    owner,
                    clip(segment.start, segment.end),
                    IntervalSource::Webhook,
                );
            }
        }
        match (&connection.zoom_user_id, segments.first(), segments.last()) {
            (Some(zoom_user_id), Some(first), Some(last)) if with_rows => {
                let from = breakouts.len();
                if !count_breakout {
                    breakouts.extend(
                        segments
                            .iter()
                            .filter(|segment| segment.breakout)
                            .map(|segment| (segment.start, segment.end)),
                    );
                }
                matchable.push(Matchable {
                    owner,
                    zoom_user_id,
                    key: &connection.key,
                    span: (first.start, last.end),
                    breakouts: from..breakouts.len(),
                    joined,
                });
            }
            _ if joined => owners.add_join(owner),
            _ => {}
        }
    }

    if with_rows {
        // (owner, zoom user id) → candidate connections, by binary search.
        let mut index: Vec<(u32, &str, usize)> = matchable
            .iter()
            .enumerate()
            .map(|(at, connection)| (connection.owner, connection.zoom_user_id, at))
            .collect();
        index.sort_unstable();
        let mut lone: Vec<LoneRow<'_>> = Vec::new();
        for row in &input.report_rows {
            let (join, leave) = (micros(row.join), micros(row.leave));
            if leave < join {
                continue;
            }
            let owner = owners.subject(&row.subject, join);
            let zoom_user_id = row.zoom_user_id.as_deref();
            let matched = zoom_user_id.and_then(|zoom_user_id| {
                let from =
                    index.partition_point(|entry| (entry.0, entry.1) < (owner, zoom_user_id));
                index[from..]
                    .iter()
                    .take_while(|entry| (entry.0, entry.1) == (owner, zoom_user_id))
                    .filter_map(|entry| {
                        let connection = &matchable[entry.2];
                        overlap((join, leave), connection.span).map(|length| {
                            (
                                length,
                                std::cmp::Reverse((connection.span.0, connection.key)),
                                entry.2,
                            )
                        })
                    })
                    .max()
                    .map(|best| best.2)
            });
            match matched {
                Some(at) => {
                    let connection = &mut matchable[at];
                    connection.joined |= join <= end && leave >= start;
                    // Report rows have no breakout rows: without breakout counting, the
                    // time this connection spent in breakout rooms (by webhook) is cut out.
                    let mut cursor = join;
                    for &(from, to) in &breakouts[connection.breakouts.clone()] {
                        if to <= cursor {
                            continue;
                        }
                        if from >= leave {
                            break;
                        }
                        push(owner, clip(cursor, from.min(leave)), IntervalSource::Report);
                        cursor = to;
                    }
                    push(owner, clip(cursor, leave), IntervalSource::Report);
                }
                None => {
                    push(owner, clip(join, leave), IntervalSource::Report);
                    lone.push(LoneRow {
                        owner,
                        zoom_user_id,
                        join,
                        leave,
                    });
                }
            }
        }
        for connection in &matchable {
            if connection.joined {
                owners.add_join(connection.owner);
            }
        }
        count_lone_joins(&mut lone, window, &mut owners);
    }

    for manual in &input.manual {
        let (join, leave) = (micros(manual.join), micros(manual.leave));
        if leave >= join {
            let owner = owners.user(&manual.user, false, Some(MatchedBy::Manual));
            push(owner, clip(join, leave), IntervalSource::Manual);
        }
    }

    // Bucket the pieces by owner (counting sort: linear).
    let owner_count = owners.list.len();
    let mut bounds = vec![0_usize; owner_count + 1];
    for (owner, _) in &pieces {
        bounds[*owner as usize + 1] += 1;
    }
    for at in 1..bounds.len() {
        bounds[at] += bounds[at - 1];
    }
    let mut fill = bounds.clone();
    let mut bucketed = vec![
        Piece {
            start: 0,
            end: 0,
            source: IntervalSource::Webhook,
        };
        pieces.len()
    ];
    for (owner, piece) in pieces {
        let slot = &mut fill[owner as usize];
        bucketed[*slot] = piece;
        *slot += 1;
    }

    let window_length = (end - start) as f64;
    let mut scratch = Vec::new();
    let mut merged: Vec<Piece> = Vec::new();
    let mut roster = Vec::with_capacity(owners.users.len());
    let mut unmatched = Vec::with_capacity(owners.persons.len());
    for (at, owner) in owners.list.iter().enumerate() {
        merged.clear();
        let attended = union(
            &mut bucketed[bounds[at]..bounds[at + 1]],
            &mut scratch,
            &mut merged,
        );
        let span = merged
            .first()
            .zip(merged.last())
            .map(|(first, last)| (first.start, last.end));
        let intervals: Vec<PresenceInterval> = merged
            .iter()
            .map(|piece| PresenceInterval {
                join: time(piece.start),
                leave: time(piece.end),
                source: piece.source,
            })
            .collect();
        match &owner.who {
            Who::User {
                id,
                registered,
                matched_by,
            } => {
                let ratio = ratio(attended as f64, window_length);
                let presence = Presence { span, ratio };
                roster.push(RosterRecord {
                    user_id: (*id).clone(),
                    registered: *registered,
                    status: status(presence, window, &input.policy),
                    attended_seconds: whole_seconds(attended),
                    attendance_ratio: round4(ratio),
                    first_join: span.map(|span| time(span.0)),
                    last_leave: span.map(|span| time(span.1)),
                    late_seconds: span.map(|span| whole_seconds(span.0 - start)),
                    joins: owner.joins,
                    matched_by: *matched_by,
                    intervals,
                });
            }
            Who::Person {
                key,
                display_name,
                email,
            } => unmatched.push(UnmatchedRecord {
                participant_key: (*key).to_owned(),
                display_name: display_name.map(|(_, name)| name.to_owned()),
                email: email.map(|(_, email)| email.to_owned()),
                attended_seconds: whole_seconds(attended),
                joins: owner.joins,
                first_join: span.map(|span| time(span.0)),
                last_leave: span.map(|span| time(span.1)),
                intervals,
            }),
        }
    }
    roster.sort_unstable_by(|a, b| a.user_id.cmp(&b.user_id));
    unmatched.sort_unstable_by(|a, b| a.participant_key.cmp(&b.participant_key));
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

/// Report rows that are no webhook connection are connections of their own; rows of one
/// owner with the same Zoom user id whose times overlap are one connection (a re-fetched or
/// split row), and exact duplicates are one connection even without a Zoom user id. Each
/// such connection with a row inside the window is a join.
fn count_lone_joins(rows: &mut [LoneRow<'_>], window: (i64, i64), owners: &mut Owners<'_>) {
    rows.sort_unstable_by(|a, b| {
        (a.owner, a.zoom_user_id, a.join, a.leave).cmp(&(b.owner, b.zoom_user_id, b.join, b.leave))
    });
    let mut previous: Option<&LoneRow<'_>> = None;
    let mut chain_end = i64::MIN;
    let mut chain_joined = false;
    let mut chain_owner = 0;
    for row in rows.iter() {
        let same_chain = previous.is_some_and(|previous| {
            previous.owner == row.owner
                && previous.zoom_user_id == row.zoom_user_id
                && ((previous.join, previous.leave) == (row.join, row.leave)
                    || (row.zoom_user_id.is_some() && row.join < chain_end))
        });
        if !same_chain {
            if chain_joined {
                owners.add_join(chain_owner);
            }
            chain_end = i64::MIN;
            chain_joined = false;
            chain_owner = row.owner;
        }
        chain_end = chain_end.max(row.leave);
        chain_joined |= row.join <= window.1 && row.leave >= window.0;
        previous = Some(row);
    }
    if chain_joined {
        owners.add_join(chain_owner);
    }
}

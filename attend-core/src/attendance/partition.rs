//! Phase 2 of `compute_instance`: the records of one partition's people.

use crate::model::{ConnectionKey, IntervalSource, MatchedBy, Policy, Status, UserId};

use super::connection::Segment;
use super::engine::{Fact, Partition, What, Who, stronger};
use super::input::Subject;
use super::intern::{Interner, Key, SortKey};
use super::output::{PresenceInterval, RosterRecord, UnmatchedRecord};
use super::rules::{Presence, ratio, round4, status};
use super::time::{time, whole_seconds};
use super::timeline::{Piece, union};

/// What every partition is computed against.
pub(crate) struct Setting<'p> {
    /// The window, in microseconds (`start <= end`).
    pub(crate) window: (i64, i64),
    /// Whether breakout time counts.
    pub(crate) count_breakout_rooms: bool,
    /// The rules.
    pub(crate) policy: &'p Policy,
}

/// Where a record is in an [`Output`]: its partition's chunk, and its index there.
type Place = (u32, u32);

/// Records of every partition, unsorted, each with its key's place in string order. Records
/// are kept in one chunk per partition (small allocations the allocator reuses, rather than
/// one large block per thread that is mapped afresh on every call).
pub(crate) struct Output<'a> {
    /// Host users, per partition.
    roster: Vec<Vec<RosterRecord>>,
    /// `(order of user_id, place in roster)`.
    roster_order: Vec<(SortKey<'a>, Place)>,
    /// Unmatched people, per partition.
    unmatched: Vec<Vec<UnmatchedRecord>>,
    /// `(order of participant_key, place in unmatched)`.
    unmatched_order: Vec<(SortKey<'a>, Place)>,
}

impl<'a> Output<'a> {
    /// Room for about `users` records.
    pub(crate) fn with_capacity(users: usize) -> Self {
        Self {
            roster: Vec::new(),
            roster_order: Vec::with_capacity(users),
            unmatched: Vec::new(),
            unmatched_order: Vec::new(),
        }
    }

    /// Sorts the order keys (each thread sorts its own).
    pub(crate) fn sort(&mut self) {
        self.roster_order.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.unmatched_order.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }

    /// The records of every thread's (sorted) output as one roster sorted by user id and one
    /// unmatched list sorted by participant key: the sorted runs of keys are merged and each
    /// record is moved once, into place.
    pub(crate) fn into_sorted(
        outputs: Vec<Output<'a>>,
    ) -> (Vec<RosterRecord>, Vec<UnmatchedRecord>) {
        let mut roster = Vec::with_capacity(outputs.len());
        let mut unmatched = Vec::with_capacity(outputs.len());
        for output in outputs {
            roster.push((output.roster, output.roster_order));
            unmatched.push((output.unmatched, output.unmatched_order));
        }
        (
            merged(roster, empty_record),
            merged(unmatched, empty_unmatched),
        )
    }
}

/// One thread's records, with `(key, place of the record)` sorted by key.
type Run<'a, T> = (Vec<Vec<T>>, Vec<(SortKey<'a>, Place)>);

/// Merges sorted runs of `(key, index into records)` and moves the records into that order
/// (leaving `empty()` behind).
fn merged<T>(mut runs: Vec<Run<'_, T>>, empty: fn() -> T) -> Vec<T> {
    let total = runs.iter().map(|run| run.1.len()).sum();
    let mut heads = vec![0_usize; runs.len()];
    let mut out = Vec::with_capacity(total);
    loop {
        // The run whose next key is smallest (there are only a few runs).
        let mut best: Option<(usize, &SortKey<'_>)> = None;
        for (run, (_, order)) in runs.iter().enumerate() {
            if let Some((key, _)) = order.get(heads[run])
                && best.is_none_or(|(_, best)| key < best)
            {
                best = Some((run, key));
            }
        }
        let Some((run, _)) = best else {
            break;
        };
        let (chunk, at) = runs[run].1[heads[run]].1;
        heads[run] += 1;
        if let Some(record) = runs[run]
            .0
            .get_mut(chunk as usize)
            .and_then(|chunk| chunk.get_mut(at as usize))
        {
            out.push(std::mem::replace(record, empty()));
        }
    }
    out
}

/// A placeholder left behind by a moved record (allocates nothing).
fn empty_record() -> RosterRecord {
    RosterRecord {
        user_id: UserId(String::new()),
        registered: false,
        status: Status::Absent,
        attended_seconds: 0,
        attendance_ratio: 0.0,
        first_join: None,
        last_leave: None,
        late_seconds: None,
        joins: 0,
        matched_by: None,
        intervals: Vec::new(),
    }
}

/// A placeholder left behind by a moved record (allocates nothing).
fn empty_unmatched() -> UnmatchedRecord {
    UnmatchedRecord {
        participant_key: String::new(),
        display_name: None,
        email: None,
        attended_seconds: 0,
        joins: 0,
        first_join: None,
        last_leave: None,
        intervals: Vec::new(),
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

/// One person of the partition.
struct Owner<'a> {
    key: Key<'a>,
    /// Whether this is a host user (else an unmatched person).
    user: bool,
    registered: bool,
    matched_by: Option<MatchedBy>,
    display_name: Earliest<'a>,
    email: Earliest<'a>,
    joins: u32,
}

impl<'a> Owner<'a> {
    fn new(fact: &Fact<'a>) -> Self {
        Self {
            key: fact.key.key,
            user: matches!(fact.who, Who::User { .. }),
            registered: false,
            matched_by: None,
            display_name: None,
            email: None,
            joins: 0,
        }
    }

    fn add(&mut self, fact: &Fact<'a>) {
        match fact.who {
            Who::User {
                matched_by,
                registered,
                ..
            } => {
                self.registered |= registered;
                self.matched_by = stronger(self.matched_by, matched_by);
            }
            Who::Person(Subject::Unmatched {
                display_name,
                email,
                ..
            }) => {
                let seen_at = fact.what.seen_at();
                self.display_name = earliest(self.display_name, seen_at, display_name.as_deref());
                self.email = earliest(self.email, seen_at, email.as_deref());
            }
            // Never built: a person's fact always carries an unmatched subject.
            Who::Person(Subject::User { .. }) => {}
        }
    }
}

/// Counts one more join for `owner`.
fn add_join(owners: &mut [Owner<'_>], owner: u32) {
    if let Some(owner) = owners.get_mut(owner as usize) {
        owner.joins = owner.joins.saturating_add(1);
    }
}

/// A webhook connection that report rows may turn out to be.
struct Matchable<'a> {
    owner: u32,
    zoom_user_id: ZoomId<'a>,
    key: &'a ConnectionKey,
    /// First entry into and last exit from the meeting (unclipped).
    span: (i64, i64),
    /// Its breakout segments in `Workspace::breakouts` (only when breakout time does not
    /// count).
    breakouts: std::ops::Range<usize>,
    /// Whether it is a join (in the meeting within the window, by webhook or by a row).
    joined: bool,
}

/// A Zoom user id as compared when matching report rows: inline when short (Zoom's ids are
/// about 8–10 digits), so that comparing reads no scattered string; else a cheap hash (FNV-1a)
/// that only rules out mismatches, confirmed by comparing the strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ZoomIdKey {
    Short(u8, [u8; 23]),
    Long(u64),
}

impl ZoomIdKey {
    fn new(value: &str) -> Self {
        match u8::try_from(value.len()) {
            Ok(length) if value.len() <= 23 => {
                let mut bytes = [0; 23];
                bytes[..value.len()].copy_from_slice(value.as_bytes());
                ZoomIdKey::Short(length, bytes)
            }
            _ => ZoomIdKey::Long(value.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            })),
        }
    }

    /// Whether `self` (of a candidate) is `other` (of the id `wanted`); `stored` gives the
    /// candidate's id and is only called to confirm a long id.
    fn matches<'s>(self, other: Self, stored: impl FnOnce() -> &'s str, wanted: &str) -> bool {
        match (self, other) {
            (ZoomIdKey::Short(..), ZoomIdKey::Short(..)) => self == other,
            (ZoomIdKey::Long(a), ZoomIdKey::Long(b)) => a == b && stored() == wanted,
            _ => false,
        }
    }
}

/// A Zoom user id with its comparison key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ZoomId<'a> {
    key: ZoomIdKey,
    text: &'a str,
}

impl<'a> ZoomId<'a> {
    /// `text` with its key.
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            key: ZoomIdKey::new(text),
            text,
        }
    }

    /// Whether both are the same id (reads a string only for long ids).
    fn is(&self, other: &ZoomId<'_>) -> bool {
        self.key.matches(other.key, || self.text, other.text)
    }
}

/// What a report row needs to find its connection, stored per owner contiguously.
#[derive(Clone, Copy)]
struct Candidate<'a> {
    zoom_user_id: ZoomId<'a>,
    span: (i64, i64),
    at: usize,
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
    let length = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let degenerate = a.0 == a.1 || b.0 == b.1;
    (length > 0 || (length == 0 && degenerate)).then_some(length)
}

/// Working memory, reused from one partition to the next.
#[derive(Default)]
pub(crate) struct Workspace<'a> {
    interner: Interner<'a>,
    owners: Vec<Owner<'a>>,
    /// Counted pieces, tagged with their owner.
    pieces: Vec<(u32, Piece)>,
    matchable: Vec<Matchable<'a>>,
    breakouts: Vec<(i64, i64)>,
    by_owner: Vec<usize>,
    candidates: Vec<Candidate<'a>>,
    lone: Vec<LoneRow<'a>>,
    bounds: Vec<usize>,
    bucketed: Vec<Piece>,
    boundaries: Vec<(i64, usize, i32)>,
    merged: Vec<Piece>,
}

impl<'a> Workspace<'a> {
    /// Computes the records of one partition's people into `output`, from the shares of the
    /// partition built by each thread (`parts`).
    pub(crate) fn compute(
        &mut self,
        parts: &[&Partition<'a>],
        setting: &Setting<'a>,
        output: &mut Output<'a>,
    ) {
        self.interner.clear();
        self.owners.clear();
        self.pieces.clear();
        self.matchable.clear();
        self.breakouts.clear();
        self.lone.clear();

        // Connections are only kept for matching when the partition has report rows.
        let has_rows = parts.iter().any(|part| !part.rows.is_empty());
        for part in parts {
            for fact in &part.facts {
                self.fact(fact, part, None, has_rows, setting);
            }
        }
        if has_rows {
            self.prepare_candidates();
            for part in parts {
                for (row, fact) in part.rows.iter().enumerate() {
                    self.fact(fact, part, Some(row), has_rows, setting);
                }
            }
        }
        for connection in &self.matchable {
            if connection.joined {
                add_join(&mut self.owners, connection.owner);
            }
        }
        count_lone_joins(&mut self.lone, setting.window, &mut self.owners);
        self.records(setting, output);
    }

    /// Adds one fact of the partition (`segments` are those of the fact's share).
    fn fact(
        &mut self,
        fact: &Fact<'a>,
        part: &Partition<'a>,
        row: Option<usize>,
        has_rows: bool,
        setting: &Setting<'a>,
    ) {
        let (owner, new) = self.interner.intern(fact.key);
        if new {
            self.owners.push(Owner::new(fact));
        }
        let Some(state) = self.owners.get_mut(owner as usize) else {
            return;
        };
        state.add(fact);
        match fact.what {
            What::Registered => {}
            What::Connection {
                matchable,
                segments: (from, count),
                joined,
                ..
            } => {
                let (from, count) = (from as usize, count as usize);
                let segments = part.segments.get(from..from + count).unwrap_or(&[]);
                // Only when report rows may match it; such a connection counts its join at
                // the end.
                let ids = part.matchable.get(matchable as usize).filter(|_| has_rows);
                let matchable = match ids {
                    Some(ids) => {
                        self.connection(owner, joined, segments, ids.zoom_user_id, ids.key, setting)
                    }
                    None => {
                        self.count(owner, segments, setting);
                        false
                    }
                };
                if joined && !matchable {
                    add_join(&mut self.owners, owner);
                }
            }
            What::Row { join, leave } => {
                let zoom_user_id = row.and_then(|row| part.row_ids.get(row).copied().flatten());
                self.row(owner, zoom_user_id, (join, leave), setting);
            }
            What::Manual { join, leave } => {
                self.push(owner, (join, leave), IntervalSource::Manual, setting);
            }
        }
    }

    /// Pushes `(from, to)` clipped to the window, if anything is left.
    fn push(
        &mut self,
        owner: u32,
        (from, to): (i64, i64),
        source: IntervalSource,
        setting: &Setting<'_>,
    ) {
        let (start, end) = setting.window;
        let (from, to) = (from.max(start), to.min(end));
        if to > from {
            self.pieces.push((
                owner,
                Piece {
                    start: from,
                    end: to,
                    source,
                },
            ));
        }
    }

    /// Pushes a connection's counted segments.
    fn count(&mut self, owner: u32, segments: &[Segment], setting: &Setting<'_>) {
        for segment in segments {
            if setting.count_breakout_rooms || !segment.breakout {
                self.push(
                    owner,
                    (segment.start, segment.end),
                    IntervalSource::Webhook,
                    setting,
                );
            }
        }
    }

    /// Pushes a connection's counted segments; keeps it for report rows to match if it has
    /// a Zoom user id and was in the meeting (returns whether it did).
    fn connection(
        &mut self,
        owner: u32,
        joined: bool,
        segments: &[Segment],
        zoom_user_id: Option<ZoomId<'a>>,
        key: &'a ConnectionKey,
        setting: &Setting<'_>,
    ) -> bool {
        self.count(owner, segments, setting);
        if let (Some(zoom_user_id), Some(first), Some(last)) =
            (zoom_user_id, segments.first(), segments.last())
        {
            let from = self.breakouts.len();
            if !setting.count_breakout_rooms {
                self.breakouts.extend(
                    segments
                        .iter()
                        .filter(|segment| segment.breakout)
                        .map(|segment| (segment.start, segment.end)),
                );
            }
            self.matchable.push(Matchable {
                owner,
                zoom_user_id,
                key,
                span: (first.start, last.end),
                breakouts: from..self.breakouts.len(),
                joined,
            });
            true
        } else {
            false
        }
    }

    /// Groups the matchable connections by owner (counting sort), so that a row only looks
    /// at the few connections of its own subject, stored contiguously.
    fn prepare_candidates(&mut self) {
        self.by_owner.clear();
        self.by_owner.resize(self.owners.len() + 1, 0);
        for connection in &self.matchable {
            self.by_owner[connection.owner as usize + 1] += 1;
        }
        for at in 1..self.by_owner.len() {
            self.by_owner[at] += self.by_owner[at - 1];
        }
        let mut fill = self.by_owner.clone();
        self.candidates.clear();
        self.candidates.resize(
            self.matchable.len(),
            Candidate {
                zoom_user_id: ZoomId::new(""),
                span: (0, 0),
                at: 0,
            },
        );
        for (at, connection) in self.matchable.iter().enumerate() {
            let slot = &mut fill[connection.owner as usize];
            self.candidates[*slot] = Candidate {
                zoom_user_id: connection.zoom_user_id,
                span: connection.span,
                at,
            };
            *slot += 1;
        }
    }

    fn row(
        &mut self,
        owner: u32,
        zoom_user_id: Option<ZoomId<'a>>,
        (join, leave): (i64, i64),
        setting: &Setting<'_>,
    ) {
        let (start, end) = setting.window;
        // Owners first seen after the candidates were prepared have none.
        let mine = self
            .by_owner
            .get(owner as usize)
            .zip(self.by_owner.get(owner as usize + 1))
            .map_or(&self.candidates[..0], |(&from, &to)| {
                &self.candidates[from..to]
            });
        let matchable = &self.matchable;
        let matched = zoom_user_id.and_then(|wanted| {
            // The largest overlap wins, then the earliest start, then the smallest key.
            let mut best: Option<(i64, i64, usize)> = None;
            for candidate in mine {
                if !candidate.zoom_user_id.is(&wanted) {
                    continue;
                }
                let Some(length) = overlap((join, leave), candidate.span) else {
                    continue;
                };
                let better = best.is_none_or(|(best_length, best_start, best_at)| {
                    (length, std::cmp::Reverse(candidate.span.0))
                        .cmp(&(best_length, std::cmp::Reverse(best_start)))
                        .then_with(|| matchable[best_at].key.cmp(matchable[candidate.at].key))
                        .is_gt()
                });
                if better {
                    best = Some((length, candidate.span.0, candidate.at));
                }
            }
            best.map(|best| best.2)
        });
        let Some(at) = matched else {
            self.push(owner, (join, leave), IntervalSource::Report, setting);
            self.lone.push(LoneRow {
                owner,
                zoom_user_id: zoom_user_id.map(|id| id.text),
                join,
                leave,
            });
            return;
        };
        let breakouts = self.matchable[at].breakouts.clone();
        self.matchable[at].joined |= join <= end && leave >= start;
        // Report rows have no breakout rows: without breakout counting, the time this
        // connection spent in breakout rooms (by webhook) is cut out of the row.
        let mut cursor = join;
        for index in breakouts {
            let (from, to) = self.breakouts[index];
            if to <= cursor {
                continue;
            }
            if from >= leave {
                break;
            }
            self.push(
                owner,
                (cursor, from.min(leave)),
                IntervalSource::Report,
                setting,
            );
            cursor = to;
        }
        self.push(owner, (cursor, leave), IntervalSource::Report, setting);
    }

    /// Buckets the pieces by owner (counting sort) and turns each owner into a record.
    fn records(&mut self, setting: &Setting<'_>, output: &mut Output<'a>) {
        self.bounds.clear();
        self.bounds.resize(self.owners.len() + 1, 0);
        for (owner, _) in &self.pieces {
            self.bounds[*owner as usize + 1] += 1;
        }
        for at in 1..self.bounds.len() {
            self.bounds[at] += self.bounds[at - 1];
        }
        let mut fill = self.bounds.clone();
        self.bucketed.clear();
        self.bucketed.resize(
            self.pieces.len(),
            Piece {
                start: 0,
                end: 0,
                source: IntervalSource::Webhook,
            },
        );
        for &(owner, piece) in &self.pieces {
            let slot = &mut fill[owner as usize];
            self.bucketed[*slot] = piece;
            *slot += 1;
        }

        let (start, end) = setting.window;
        let window_length = end.saturating_sub(start) as f64;
        let (roster_chunk, unmatched_chunk) = (
            u32::try_from(output.roster.len()).unwrap_or(u32::MAX),
            u32::try_from(output.unmatched.len()).unwrap_or(u32::MAX),
        );
        let mut roster = Vec::with_capacity(self.owners.len());
        let mut unmatched = Vec::new();
        for (at, owner) in self.owners.iter().enumerate() {
            self.merged.clear();
            let attended = union(
                &mut self.bucketed[self.bounds[at]..self.bounds[at + 1]],
                &mut self.boundaries,
                &mut self.merged,
            );
            let span = self
                .merged
                .first()
                .zip(self.merged.last())
                .map(|(first, last)| (first.start, last.end));
            let intervals: Vec<PresenceInterval> = self
                .merged
                .iter()
                .map(|piece| PresenceInterval {
                    join: time(piece.start),
                    leave: time(piece.end),
                    source: piece.source,
                })
                .collect();
            // The inline copy of the key is the id: no need to read the input again.
            let text = owner.key.text().into_owned();
            if owner.user {
                {
                    let place = u32::try_from(roster.len()).unwrap_or(u32::MAX);
                    output
                        .roster_order
                        .push((owner.key.sort_key(), (roster_chunk, place)));
                    let ratio = ratio(attended as f64, window_length);
                    let presence = Presence { span, ratio };
                    roster.push(RosterRecord {
                        user_id: UserId(text),
                        registered: owner.registered,
                        status: status(presence, setting.window, setting.policy),
                        attended_seconds: whole_seconds(attended),
                        attendance_ratio: round4(ratio),
                        first_join: span.map(|span| time(span.0)),
                        last_leave: span.map(|span| time(span.1)),
                        late_seconds: span.map(|span| whole_seconds(span.0.saturating_sub(start))),
                        joins: owner.joins,
                        matched_by: owner.matched_by,
                        intervals,
                    });
                }
            } else {
                {
                    let place = u32::try_from(unmatched.len()).unwrap_or(u32::MAX);
                    output
                        .unmatched_order
                        .push((owner.key.sort_key(), (unmatched_chunk, place)));
                    unmatched.push(UnmatchedRecord {
                        participant_key: text,
                        display_name: owner.display_name.map(|(_, name)| name.to_owned()),
                        email: owner.email.map(|(_, email)| email.to_owned()),
                        attended_seconds: whole_seconds(attended),
                        joins: owner.joins,
                        first_join: span.map(|span| time(span.0)),
                        last_leave: span.map(|span| time(span.1)),
                        intervals,
                    });
                }
            }
        }
        // Chunks are always pushed, so that the places recorded above stay right.
        output.roster.push(roster);
        output.unmatched.push(unmatched);
    }
}

/// Report rows that are no webhook connection are connections of their own; rows of one
/// owner with the same Zoom user id whose times overlap are one connection (a re-fetched or
/// split row), and exact duplicates are one connection even without a Zoom user id. Each
/// such connection with a row inside the window is a join.
fn count_lone_joins(rows: &mut [LoneRow<'_>], window: (i64, i64), owners: &mut [Owner<'_>]) {
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
                add_join(owners, chain_owner);
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
        add_join(owners, chain_owner);
    }
}

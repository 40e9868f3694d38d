//! The roster cache: the evidence of recently read instances, and the roster last computed
//! from it, kept in memory while the store reports the same [`EvidenceRevision`].
//!
//! A roster read loads every participant event and report row of an instance (20,000 rows
//! for a class of 1,000 that reconnected ten times) and runs the identity cascade and the
//! engine over them. Instances that ended change rarely, and are the ones read most (by
//! instructors, CSV exports, students' histories), so:
//!
//! * **evidence** (events and report rows) is reused while
//!   [`AttendanceStore::evidence_revision`](crate::store::AttendanceStore::evidence_revision)
//!   answers the revision it was loaded at. The revision comes from the store, so an event
//!   stored by another process sharing the database shows at the next read. When the
//!   revision moved on because events were only *added* (a live class: every join and leave
//!   is one), the kept evidence is brought up to date with just those events
//!   ([`AttendanceStore::participant_events_since`](crate::store::AttendanceStore::participant_events_since))
//!   instead of being loaded again; any other change (a report stored, a user erased) loads
//!   it all;
//! * **the computed roster** is reused only when everything else it was computed from is
//!   equal too: the instance row, the meeting's policy and the identity tables (rebuilt at
//!   every read from the current registrations, manual links and host users). Rosters of an
//!   instance without an end (they depend on the current time) are not kept.
//!
//! The cache is bounded by rows held ([`AttendBuilder::roster_cache_rows`]), least recently
//! used first out; an instance larger than the whole budget is never kept. Erasing a user
//! empties it.
//!
//! [`AttendBuilder::roster_cache_rows`]: super::AttendBuilder::roster_cache_rows

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::attendance::Roster;
use crate::identity::{IdentityTables, SharedLinkSuspect};
use crate::model::{InstanceId, Policy, UserId};
use crate::store::{EvidenceRevision, InstanceRecord, ReportRow, StoredEvent};

/// The default budget: rows (participant events + report rows) held in memory.
pub const DEFAULT_ROSTER_CACHE_ROWS: usize = 100_000;

/// The stored evidence of one instance, as loaded.
#[derive(Clone, Debug, Default)]
pub(crate) struct EvidenceData {
    pub(crate) events: Vec<StoredEvent>,
    pub(crate) report: Vec<ReportRow>,
}

impl EvidenceData {
    fn rows(&self) -> usize {
        self.events.len() + self.report.len()
    }

    /// This evidence with `added` (stored after it was loaded, by `at` ascending) put in by
    /// `at`, after the older events of the same `at`: as the store lists them now. During a
    /// live class the new events come last, and nothing is moved.
    pub(crate) fn with_events_added(mut self, added: Vec<StoredEvent>) -> Self {
        let in_order = match (self.events.last(), added.first()) {
            (Some(last), Some(first)) => first.event.at >= last.event.at,
            _ => true,
        };
        self.events.extend(added);
        if !in_order {
            // Stable, and quick on the two sorted runs it is given.
            self.events.sort_by_key(|e| e.event.at);
        }
        self
    }
}

/// What a roster was computed from, besides the evidence.
#[derive(Debug)]
pub(crate) struct RosterInputs<'a> {
    pub(crate) record: &'a InstanceRecord,
    pub(crate) policy: &'a Policy,
    pub(crate) tables: &'a IdentityTables,
    pub(crate) registered: &'a [UserId],
}

/// A roster computed from one revision of an instance's evidence, with its inputs.
#[derive(Debug)]
struct Computed {
    record: InstanceRecord,
    policy: Policy,
    tables: IdentityTables,
    registered: Vec<UserId>,
    roster: Roster,
    shared: Vec<SharedLinkSuspect>,
}

impl Computed {
    fn matches(&self, inputs: &RosterInputs<'_>) -> bool {
        self.record == *inputs.record
            && self.policy == *inputs.policy
            && self.registered == inputs.registered
            && self.tables == *inputs.tables
    }
}

#[derive(Debug)]
struct Entry {
    revision: EvidenceRevision,
    data: Arc<EvidenceData>,
    computed: Option<Arc<Computed>>,
    last_used: u64,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<InstanceId, Entry>,
    rows: usize,
    tick: u64,
}

impl State {
    fn hit(&mut self, uuid: &InstanceId, revision: &EvidenceRevision) -> Option<&mut Entry> {
        self.tick += 1;
        let tick = self.tick;
        let entry = self.entries.get_mut(uuid)?;
        if entry.revision != *revision {
            return None;
        }
        entry.last_used = tick;
        Some(entry)
    }
}

/// See the module docs. Cheap to share: one per [`Attend`](super::Attend).
#[derive(Debug)]
pub(crate) struct RosterCache {
    budget: usize,
    state: Mutex<State>,
}

impl RosterCache {
    /// A cache holding at most `budget` rows; 0 keeps nothing.
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            budget,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether anything is ever kept.
    pub(crate) fn enabled(&self) -> bool {
        self.budget > 0
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves at worst a stale entry, which the revision
        // check still guards: keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The evidence of `uuid` loaded at `revision`; `None` if not kept (or kept at another
    /// revision).
    pub(crate) fn evidence(
        &self,
        uuid: &InstanceId,
        revision: &EvidenceRevision,
    ) -> Option<Arc<EvidenceData>> {
        let mut state = self.state();
        state.hit(uuid, revision).map(|e| Arc::clone(&e.data))
    }

    /// Keeps the evidence of `uuid` loaded after reading `revision`, replacing what was kept
    /// for it (and its roster), then drops the least recently used instances until the
    /// budget holds. Evidence larger than the budget is not kept.
    pub(crate) fn keep_evidence(
        &self,
        uuid: &InstanceId,
        revision: EvidenceRevision,
        data: Arc<EvidenceData>,
    ) {
        let rows = data.rows();
        if rows > self.budget {
            return;
        }
        let mut state = self.state();
        state.tick += 1;
        let entry = Entry {
            revision,
            data,
            computed: None,
            last_used: state.tick,
        };
        if let Some(old) = state.entries.insert(uuid.clone(), entry) {
            state.rows -= old.data.rows();
        }
        state.rows += rows;
        while state.rows > self.budget {
            let Some(oldest) = state
                .entries
                .iter()
                .filter(|(key, _)| *key != uuid)
                .min_by_key(|(_, e)| e.last_used)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            if let Some(old) = state.entries.remove(&oldest) {
                state.rows -= old.data.rows();
            }
        }
    }

    /// Takes out what is kept for `uuid`, at whatever revision: the evidence and the revision
    /// it was loaded at (its roster is dropped). For a reader that brings it up to date and
    /// keeps it again; meanwhile other readers of `uuid` load it themselves.
    pub(crate) fn take_evidence(
        &self,
        uuid: &InstanceId,
    ) -> Option<(EvidenceRevision, Arc<EvidenceData>)> {
        let mut state = self.state();
        let entry = state.entries.remove(uuid)?;
        state.rows -= entry.data.rows();
        Some((entry.revision, entry.data))
    }

    /// The roster last computed for `uuid` at `revision`, if it was computed from inputs
    /// equal to `inputs`.
    pub(crate) fn roster(
        &self,
        uuid: &InstanceId,
        revision: &EvidenceRevision,
        inputs: &RosterInputs<'_>,
    ) -> Option<(Roster, Vec<SharedLinkSuspect>)> {
        let computed = {
            let mut state = self.state();
            let entry = state.hit(uuid, revision)?;
            Arc::clone(entry.computed.as_ref()?)
        };
        // Compared outside the lock: the tables of a large meeting take a moment.
        computed
            .matches(inputs)
            .then(|| (computed.roster.clone(), computed.shared.clone()))
    }

    /// Keeps `roster` as computed from the evidence of `uuid` at `revision` and `inputs`;
    /// nothing if that evidence is no longer kept at that revision.
    pub(crate) fn keep_roster(
        &self,
        uuid: &InstanceId,
        revision: &EvidenceRevision,
        inputs: &RosterInputs<'_>,
        roster: &Roster,
        shared: &[SharedLinkSuspect],
    ) {
        if !self.enabled() {
            return;
        }
        let computed = Arc::new(Computed {
            record: inputs.record.clone(),
            policy: inputs.policy.clone(),
            tables: inputs.tables.clone(),
            registered: inputs.registered.to_vec(),
            roster: roster.clone(),
            shared: shared.to_vec(),
        });
        let mut state = self.state();
        if let Some(entry) = state.hit(uuid, revision) {
            entry.computed = Some(computed);
        }
    }

    /// Drops everything kept.
    pub(crate) fn clear(&self) {
        let mut state = self.state();
        state.entries.clear();
        state.rows = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConnectionKey, IdentityHints, MeetingId, ParticipantAction};
    use chrono::{DateTime, Utc};

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).expect("valid time")
    }

    fn data(events: usize) -> Arc<EvidenceData> {
        let event = StoredEvent {
            meeting: MeetingId::from("m"),
            event: crate::model::ParticipantEvent {
                instance: InstanceId::from("i"),
                connection: ConnectionKey::new("c"),
                action: ParticipantAction::Joined,
                at: t(0),
                hints: IdentityHints::default(),
            },
            source: None,
        };
        Arc::new(EvidenceData {
            events: vec![event; events],
            report: Vec::new(),
        })
    }

    fn rev(n: i64) -> EvidenceRevision {
        EvidenceRevision::new([n])
    }

    fn id(s: &str) -> InstanceId {
        InstanceId::from(s)
    }

    #[test]
    fn added_events_go_in_by_time_after_their_equals() {
        let at = |n: &str, s: i64| {
            let mut e = data(1).events[0].clone();
            e.event.connection = ConnectionKey::new(n);
            e.event.at = t(s);
            e
        };
        let kept = EvidenceData {
            events: vec![at("a", 1), at("b", 5), at("c", 9)],
            report: Vec::new(),
        };
        let names = |d: &EvidenceData| -> Vec<String> {
            d.events
                .iter()
                .map(|e| e.event.connection.0.clone())
                .collect()
        };
        let appended = kept
            .clone()
            .with_events_added(vec![at("d", 9), at("e", 12)]);
        assert_eq!(names(&appended), ["a", "b", "c", "d", "e"]);
        let interleaved = kept.with_events_added(vec![at("x", 0), at("y", 5), at("z", 10)]);
        assert_eq!(names(&interleaved), ["x", "a", "b", "y", "c", "z"]);
    }

    #[test]
    fn taken_evidence_leaves_the_cache_and_frees_its_rows() {
        let cache = RosterCache::new(6);
        cache.keep_evidence(&id("a"), rev(1), data(3));
        let (revision, taken) = cache.take_evidence(&id("a")).expect("kept");
        assert_eq!((revision, taken.rows()), (rev(1), 3));
        assert!(cache.evidence(&id("a"), &rev(1)).is_none());
        assert!(cache.take_evidence(&id("a")).is_none());
        // Its 3 rows are free again: two more instances of 3 fit the budget of 6.
        cache.keep_evidence(&id("b"), rev(2), data(3));
        cache.keep_evidence(&id("c"), rev(3), data(3));
        assert!(cache.evidence(&id("b"), &rev(2)).is_some());
        assert!(cache.evidence(&id("c"), &rev(3)).is_some());
    }

    #[test]
    fn evidence_is_served_only_at_its_revision() {
        let cache = RosterCache::new(100);
        cache.keep_evidence(&id("a"), rev(1), data(3));
        assert_eq!(cache.evidence(&id("a"), &rev(1)).map(|d| d.rows()), Some(3));
        assert!(
            cache.evidence(&id("a"), &rev(2)).is_none(),
            "other revision"
        );
        assert!(
            cache.evidence(&id("b"), &rev(1)).is_none(),
            "other instance"
        );
        cache.keep_evidence(&id("a"), rev(2), data(4));
        assert!(cache.evidence(&id("a"), &rev(1)).is_none(), "replaced");
        assert_eq!(cache.evidence(&id("a"), &rev(2)).map(|d| d.rows()), Some(4));
        cache.clear();
        assert!(cache.evidence(&id("a"), &rev(2)).is_none(), "cleared");
    }

    #[test]
    fn the_least_recently_used_instance_goes_first_and_the_budget_holds() {
        let cache = RosterCache::new(10);
        cache.keep_evidence(&id("a"), rev(1), data(4));
        cache.keep_evidence(&id("b"), rev(1), data(4));
        assert!(cache.evidence(&id("a"), &rev(1)).is_some(), "touch a");
        cache.keep_evidence(&id("c"), rev(1), data(4));
        assert!(
            cache.evidence(&id("b"), &rev(1)).is_none(),
            "b was least recent"
        );
        assert!(cache.evidence(&id("a"), &rev(1)).is_some());
        assert!(cache.evidence(&id("c"), &rev(1)).is_some());
        assert!(cache.state().rows <= 10, "rows {}", cache.state().rows);
        cache.keep_evidence(&id("huge"), rev(1), data(11));
        assert!(
            cache.evidence(&id("huge"), &rev(1)).is_none(),
            "over budget"
        );
        assert!(cache.evidence(&id("a"), &rev(1)).is_some(), "kept");

        let off = RosterCache::new(0);
        off.keep_evidence(&id("a"), rev(1), data(1));
        assert!(off.evidence(&id("a"), &rev(1)).is_none(), "disabled");
    }

    #[test]
    fn a_roster_is_served_only_for_equal_inputs() {
        let cache = RosterCache::new(100);
        cache.keep_evidence(&id("a"), rev(1), data(2));
        let record = InstanceRecord {
            meeting: MeetingId::from("m"),
            uuid: id("a"),
            started_at: Some(t(0)),
            ended_at: Some(t(60)),
            state: crate::model::InstanceState::Final,
            reconciled_at: None,
            updated_at: t(70),
        };
        let policy = Policy::default();
        let mut tables = IdentityTables::new();
        tables.add_registrant("reg-1", Some("a@example.org"), &UserId::from("u1"));
        let registered = vec![UserId::from("u1")];
        let inputs = RosterInputs {
            record: &record,
            policy: &policy,
            tables: &tables,
            registered: &registered,
        };
        let roster = crate::attendance::compute_instance(&crate::attendance::InstanceInput::new(
            id("a"),
            crate::attendance::Window::ended(t(0), t(60)),
            t(100),
        ));
        cache.keep_roster(&id("a"), &rev(1), &inputs, &roster, &[]);
        assert_eq!(
            cache.roster(&id("a"), &rev(1), &inputs).map(|r| r.0),
            Some(roster.clone())
        );
        assert!(
            cache.roster(&id("a"), &rev(2), &inputs).is_none(),
            "revision"
        );

        let mut linked = tables.clone();
        linked.add_manual_link(
            crate::identity::PersonKey("email:x@example.org".into()),
            &UserId::from("u2"),
        );
        let changed_tables = RosterInputs {
            tables: &linked,
            ..inputs
        };
        assert!(
            cache.roster(&id("a"), &rev(1), &changed_tables).is_none(),
            "tables"
        );
        let strict = Policy {
            late_after_seconds: policy.late_after_seconds + 60,
            ..policy.clone()
        };
        let changed_policy = RosterInputs {
            policy: &strict,
            ..inputs
        };
        assert!(
            cache.roster(&id("a"), &rev(1), &changed_policy).is_none(),
            "policy"
        );
        let finalized = InstanceRecord {
            updated_at: t(80),
            ..record.clone()
        };
        let changed_record = RosterInputs {
            record: &finalized,
            ..inputs
        };
        assert!(
            cache.roster(&id("a"), &rev(1), &changed_record).is_none(),
            "record"
        );
        let fewer: Vec<UserId> = Vec::new();
        let changed_registered = RosterInputs {
            registered: &fewer,
            ..inputs
        };
        assert!(
            cache
                .roster(&id("a"), &rev(1), &changed_registered)
                .is_none(),
            "registered"
        );

        // New evidence drops the roster computed from the old.
        cache.keep_evidence(&id("a"), rev(2), data(3));
        assert!(
            cache.roster(&id("a"), &rev(2), &inputs).is_none(),
            "new evidence"
        );
    }
}

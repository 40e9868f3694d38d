//! Read side: instances, rosters (identities resolved at read time), live view, unmatched
//! people, manual links, a user's history, CSV.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::{Instrument, info_span};

use crate::attendance::{
    ConnectionGroup, InstanceInput, ReportInterval, Roster, Subject, Window, aggregate,
    compute_instance, connections_from_groups, group_by_connection,
};
use crate::export;
use crate::identity::{
    IdentityTables, PersonKey, PresenceRef, Resolution, SharedLinkSuspect, normalize_email,
    resolve, shared_links,
};
use crate::model::{
    ConnectionKey, IdentityHints, InstanceId, InstanceState, MeetingId, ParticipantAction,
    RegistrationStatus, UserId,
};
use crate::store::{
    EvidenceRevision, InstanceRecord, ManualLink, MeetingRecord, ReportRow, StoredEvent,
};
use crate::zoom::events::connection_key;

use super::roster_cache::{EvidenceData, RosterInputs};
use super::{
    Attend, Attendance, Instance, InstanceList, LiveParticipant, LiveView, Missing, ServiceError,
    UnmatchedList, UserAttendanceRecord, UserHistory,
};

/// Everything stored about one instance.
struct Evidence {
    record: InstanceRecord,
    /// The events and report rows, possibly shared with the roster cache.
    data: Arc<EvidenceData>,
    /// The store's revision of `data` (`None` when the store cannot tell).
    revision: Option<EvidenceRevision>,
}

impl Evidence {
    fn events(&self) -> &[StoredEvent] {
        &self.data.events
    }

    fn report(&self) -> &[ReportRow] {
        &self.data.report
    }
}

/// Who is who in one meeting, built once per read.
struct Identities {
    tables: IdentityTables,
    registered: Vec<UserId>,
}

impl Identities {
    fn subject(&self, key: &ConnectionKey, hints: &IdentityHints) -> Option<Subject> {
        match resolve(hints, key, &self.tables) {
            Resolution::Host => None,
            Resolution::Matched(m) => Some(Subject::user(m.user, m.by)),
            Resolution::Unmatched(person) => {
                let Subject::Unmatched {
                    display_name,
                    email,
                    ..
                } = Subject::unmatched_from_hints(hints, key)
                else {
                    return None;
                };
                Some(Subject::Unmatched {
                    person_key: person.0,
                    display_name,
                    email,
                })
            }
        }
    }
}

impl Attend {
    pub(crate) async fn meeting_record(
        &self,
        meeting: &MeetingId,
    ) -> Result<MeetingRecord, ServiceError> {
        self.inner
            .store
            .get_meeting(meeting)
            .await?
            .ok_or(ServiceError::NotFound(Missing::Meeting))
    }

    /// The instances of a meeting, by start (instances without a known start last).
    ///
    /// # Errors
    /// `NotFound(Meeting)`; `StorageUnavailable`.
    pub async fn instances(&self, meeting: &MeetingId) -> Result<InstanceList, ServiceError> {
        self.meeting_record(meeting).await?;
        let instances = self.inner.store.list_instances(meeting).await?;
        Ok(InstanceList {
            instances: instances.into_iter().map(Instance::from).collect(),
        })
    }

    /// The attendance of one instance (`instance: Some`), or of the meeting aggregated over
    /// all its instances (`None`). Identities are resolved now, from the current
    /// registrations, manual links and host users, and statuses from the current policy, so
    /// a manual link or a policy change shows at once.
    ///
    /// A meeting that never ran gives every registered user as `absent` over an empty
    /// window at the scheduled start (or now).
    ///
    /// # Errors
    /// `NotFound(Meeting)`, `NotFound(Instance)` (unknown uuid, or one of another meeting);
    /// `StorageUnavailable` (also when the host's directory is down).
    pub async fn attendance(
        &self,
        meeting: &MeetingId,
        instance: Option<&InstanceId>,
    ) -> Result<Attendance, ServiceError> {
        let span = info_span!("attend.attendance", meeting = %meeting);
        async {
            let record = self.meeting_record(meeting).await?;
            let evidence = self.load_evidence(&record, instance).await?;
            let ids = self.identities(&record, &evidence).await?;
            let now = self.now();
            let mut rosters = Vec::new();
            let mut shared = Vec::new();
            for ev in &evidence {
                if let Some((roster, links)) = self.instance_roster(&record, &ids, ev, now) {
                    rosters.push(roster);
                    shared.extend(links);
                }
            }
            let roster = match instance {
                Some(uuid) => match rosters.pop() {
                    Some(r) => r,
                    None => self.empty_roster(&record, &ids, Some(uuid.clone()), now),
                },
                None => aggregate(&rosters, &record.policy)
                    .unwrap_or_else(|| self.empty_roster(&record, &ids, None, now)),
            };
            Ok(Attendance {
                meeting_id: record.id,
                roster,
                possible_shared_links: shared,
            })
        }
        .instrument(span)
        .await
    }

    /// [`attendance`](Self::attendance) as CSV (see [`crate::export`] for the columns), with
    /// host users' names from the directory.
    ///
    /// # Errors
    /// As [`attendance`](Self::attendance).
    pub async fn attendance_csv(
        &self,
        meeting: &MeetingId,
        instance: Option<&InstanceId>,
    ) -> Result<String, ServiceError> {
        let attendance = self.attendance(meeting, instance).await?;
        let ids: Vec<UserId> = attendance
            .roster
            .roster
            .iter()
            .map(|r| r.user_id.clone())
            .collect();
        let names: HashMap<UserId, String> = self
            .inner
            .directory
            .get_users(&ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
        export::to_csv_string(&attendance.meeting_id, &attendance.roster, |u| {
            names.get(u).cloned()
        })
        .map_err(ServiceError::internal)
    }

    /// Who is in the meeting right now: the present participants of its running instance
    /// (the latest one still `live`). Empty when the meeting is not running.
    ///
    /// # Errors
    /// `NotFound(Meeting)`; `StorageUnavailable`.
    pub async fn live(&self, meeting: &MeetingId) -> Result<LiveView, ServiceError> {
        let record = self.meeting_record(meeting).await?;
        let running = self
            .inner
            .store
            .list_instances(meeting)
            .await?
            .into_iter()
            .filter(|i| i.state == InstanceState::Live)
            .max_by_key(|i| i.started_at);
        let Some(running) = running else {
            return Ok(LiveView {
                meeting_id: record.id,
                instance: None,
                started_at: None,
                participants: Vec::new(),
            });
        };
        let evidence = vec![self.load_one(running.clone()).await?];
        let ids = self.identities(&record, &evidence).await?;
        let now = self.now();
        let mut participants = Vec::new();
        if let Some((roster, _)) = self.instance_roster(&record, &ids, &evidence[0], now) {
            let end = roster.window.end;
            for r in &roster.roster {
                if let Some(last) = r.intervals.last().filter(|i| i.leave >= end) {
                    participants.push(LiveParticipant {
                        user_id: Some(r.user_id.clone()),
                        matched_by: r.matched_by,
                        participant_key: None,
                        display_name: None,
                        since: last.join,
                        attended_seconds: r.attended_seconds,
                    });
                }
            }
            for u in &roster.unmatched {
                if let Some(last) = u.intervals.last().filter(|i| i.leave >= end) {
                    participants.push(LiveParticipant {
                        user_id: None,
                        matched_by: None,
                        participant_key: Some(u.participant_key.clone()),
                        display_name: u.display_name.clone(),
                        since: last.join,
                        attended_seconds: u.attended_seconds,
                    });
                }
            }
        }
        Ok(LiveView {
            meeting_id: record.id,
            instance: Some(running.uuid),
            started_at: running.started_at,
            participants,
        })
    }

    /// The participants of a meeting no host user was found for, over all instances,
    /// grouped per person (see [`PersonKey`]).
    ///
    /// # Errors
    /// `NotFound(Meeting)`; `StorageUnavailable`.
    pub async fn unmatched(&self, meeting: &MeetingId) -> Result<UnmatchedList, ServiceError> {
        let attendance = self.attendance(meeting, None).await?;
        Ok(UnmatchedList {
            meeting_id: attendance.meeting_id,
            unmatched: attendance.roster.unmatched,
        })
    }

    /// Links an unmatched person (by `participant_key`, as listed by
    /// [`unmatched`](Self::unmatched)) to host user `user`, as done by `linked_by`. Every
    /// roster of the meeting shows it at once (`matched_by: manual`). Linking a key again
    /// replaces the link.
    ///
    /// # Errors
    /// `NotFound(Participant)` if the key is neither unmatched now nor linked before;
    /// `NotFound(User)` if the host has no such user; `NotFound(Meeting)`;
    /// `StorageUnavailable`.
    pub async fn link_participant(
        &self,
        meeting: &MeetingId,
        participant_key: &str,
        user: &UserId,
        linked_by: &UserId,
    ) -> Result<(), ServiceError> {
        let key = participant_key.trim();
        if key.is_empty() {
            return Err(ServiceError::invalid(
                "participant_key",
                "must not be empty",
            ));
        }
        let unmatched = self.unmatched(meeting).await?;
        let known = unmatched.unmatched.iter().any(|u| u.participant_key == key)
            || self
                .inner
                .store
                .list_manual_links(meeting)
                .await?
                .iter()
                .any(|l| l.participant_key == key);
        if !known {
            return Err(ServiceError::NotFound(Missing::Participant));
        }
        if self.inner.directory.get_user(user).await?.is_none() {
            return Err(ServiceError::NotFound(Missing::User));
        }
        self.inner
            .store
            .upsert_manual_link(&ManualLink {
                meeting: meeting.clone(),
                participant_key: key.to_owned(),
                user: user.clone(),
                linked_by: linked_by.clone(),
                linked_at: self.now(),
            })
            .await?;
        Ok(())
    }

    /// A user's attendance across the meetings they are registered for: one record per
    /// instance, oldest first. Meetings where the user was only matched by email or by
    /// hand without a registration are not searched.
    ///
    /// # Errors
    /// `NotFound(User)` when neither attend nor the host's directory knows the user (an
    /// erased user the host still has gives an empty list); `StorageUnavailable`.
    pub async fn user_history(&self, user: &UserId) -> Result<UserHistory, ServiceError> {
        let registrations = self.inner.store.list_user_registrations(user).await?;
        if registrations.is_empty() && self.inner.directory.get_user(user).await?.is_none() {
            return Err(ServiceError::NotFound(Missing::User));
        }
        let meetings: BTreeSet<MeetingId> = registrations.into_iter().map(|r| r.meeting).collect();
        let now = self.now();
        let mut records = Vec::new();
        for meeting in meetings {
            let Some(record) = self.inner.store.get_meeting(&meeting).await? else {
                continue;
            };
            let evidence = self.load_evidence(&record, None).await?;
            let ids = self.identities(&record, &evidence).await?;
            for ev in &evidence {
                if let Some((roster, _)) = self.instance_roster(&record, &ids, ev, now)
                    && let Some(r) = roster.record(user)
                {
                    records.push((
                        roster.window.start,
                        UserAttendanceRecord {
                            meeting_id: record.id.clone(),
                            group: record.group.clone(),
                            instance: ev.record.uuid.clone(),
                            status: r.status,
                            attended_seconds: r.attended_seconds,
                            attendance_ratio: r.attendance_ratio,
                            first_join: r.first_join,
                            last_leave: r.last_leave,
                        },
                    ));
                }
            }
        }
        records.sort_by_key(|a| a.0);
        Ok(UserHistory {
            user_id: user.clone(),
            records: records.into_iter().map(|(_, r)| r).collect(),
        })
    }

    /// The evidence of one instance: from the roster cache when it holds the store's current
    /// revision, else loaded (and kept).
    async fn load_one(&self, record: InstanceRecord) -> Result<Evidence, ServiceError> {
        let store = &self.inner.store;
        let cache = &self.inner.roster_cache;
        // The revision is read before the rows, so rows stored in between show as a newer
        // revision at the next read rather than being missed.
        let revision = if cache.enabled() {
            store.evidence_revision(&record.uuid).await?
        } else {
            None
        };
        if let Some(rev) = &revision {
            let kept = match cache.evidence(&record.uuid, rev) {
                Some(data) => Some(data),
                None => self.catch_up(&record.uuid, rev).await?,
            };
            if let Some(data) = kept {
                return Ok(Evidence {
                    record,
                    data,
                    revision,
                });
            }
        }
        let events = store.list_participant_events(&record.uuid).await?;
        let report = store.list_report_rows(&record.uuid).await?;
        let data = Arc::new(EvidenceData { events, report });
        if let Some(rev) = &revision {
            cache.keep_evidence(&record.uuid, rev.clone(), Arc::clone(&data));
        }
        Ok(Evidence {
            record,
            data,
            revision,
        })
    }

    /// The evidence kept for `uuid` at an older revision, brought up to `now` with only the
    /// events stored since (and kept again at `now`); `None` if nothing is kept or the store
    /// cannot show that events were only added. A new event of a live class then costs its
    /// own rows, not a reload of the whole instance.
    async fn catch_up(
        &self,
        uuid: &InstanceId,
        now: &EvidenceRevision,
    ) -> Result<Option<Arc<EvidenceData>>, ServiceError> {
        let cache = &self.inner.roster_cache;
        let Some((since, kept)) = cache.take_evidence(uuid) else {
            return Ok(None);
        };
        let store = &self.inner.store;
        let Some(added) = store.participant_events_since(uuid, &since, now).await? else {
            return Ok(None);
        };
        // Usually the only holder (the reader that loaded it has answered by now).
        let kept = Arc::try_unwrap(kept).unwrap_or_else(|shared| (*shared).clone());
        let data = Arc::new(kept.with_events_added(added));
        cache.keep_evidence(uuid, now.clone(), Arc::clone(&data));
        Ok(Some(data))
    }

    async fn load_evidence(
        &self,
        meeting: &MeetingRecord,
        instance: Option<&InstanceId>,
    ) -> Result<Vec<Evidence>, ServiceError> {
        let records = match instance {
            Some(uuid) => {
                let found = self
                    .inner
                    .store
                    .get_instance(uuid)
                    .await?
                    .filter(|i| i.meeting == meeting.id)
                    .ok_or(ServiceError::NotFound(Missing::Instance))?;
                vec![found]
            }
            None => self.inner.store.list_instances(&meeting.id).await?,
        };
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            out.push(self.load_one(record).await?);
        }
        Ok(out)
    }

    /// Builds the identity tables of a meeting for the given evidence: registrations,
    /// manual links, the host, and the host users behind customer keys and emails that no
    /// registrant explains.
    async fn identities(
        &self,
        meeting: &MeetingRecord,
        evidence: &[Evidence],
    ) -> Result<Identities, ServiceError> {
        let store = &self.inner.store;
        let mut tables = IdentityTables::new();
        if let Some(host) = &meeting.host_id {
            tables.add_host_id(host);
        }
        let registrations = store.list_registrations(&meeting.id).await?;
        let mut registered = Vec::new();
        // Looked up once per stored event and report row: hashed, not ordered.
        let mut own_ids: HashSet<&str> = HashSet::new();
        let mut own_emails: HashSet<String> = HashSet::new();
        for r in &registrations {
            match &r.registrant_id {
                Some(id) => {
                    tables.add_registrant(id.as_str(), r.registrant_email.as_deref(), &r.user);
                    own_ids.insert(id.as_str());
                }
                None => {
                    if let Some(email) = &r.registrant_email {
                        tables.add_registrant_email(email, &r.user);
                    }
                }
            }
            if let Some(email) = r.registrant_email.as_deref().and_then(normalize_email) {
                own_emails.insert(email);
            }
            if matches!(
                r.status,
                RegistrationStatus::Registered | RegistrationStatus::Pending
            ) {
                registered.push(r.user.clone());
            }
        }
        for link in store.list_manual_links(&meeting.id).await? {
            tables.add_manual_link(PersonKey(link.participant_key), &link.user);
        }

        // Host users worth looking up: customer keys and emails of evidence whose
        // registrant id is not one of ours.
        let mut customer_keys: BTreeSet<String> = BTreeSet::new();
        let mut emails: BTreeSet<String> = BTreeSet::new();
        let mut consider = |hints: &IdentityHints| {
            let ours = hints
                .registrant_id
                .as_deref()
                .is_some_and(|id| own_ids.contains(id.trim()));
            if ours {
                return;
            }
            if let Some(key) = hints.customer_key.as_deref().map(str::trim)
                && !key.is_empty()
            {
                customer_keys.insert(key.to_owned());
            }
            if let Some(email) = hints.email.as_deref().and_then(normalize_email)
                && !own_emails.contains(&email)
            {
                emails.insert(email);
            }
        };
        for ev in evidence {
            for e in ev.events() {
                consider(&e.event.hints);
            }
            for row in ev.report() {
                consider(&row.hints);
            }
        }
        let directory = &self.inner.directory;
        if !customer_keys.is_empty() {
            let ids: Vec<UserId> = customer_keys.into_iter().map(UserId::new).collect();
            for user in directory.get_users(&ids).await? {
                tables.add_host_user(&user.id, user.email.as_deref());
            }
        }
        for email in emails {
            for user in directory.find_users_by_email(&email).await? {
                tables.add_host_user(&user.id, user.email.as_deref());
            }
        }
        Ok(Identities { tables, registered })
    }

    /// The roster of one instance, and the registrant links that look shared in it. `None`
    /// when the instance has no start and no evidence to measure from.
    ///
    /// A pure function of the instance row, its evidence, the policy, the identity tables
    /// and (only while the instance has no end) `now`: the roster cache serves a kept roster
    /// when all of those are equal.
    fn instance_roster(
        &self,
        meeting: &MeetingRecord,
        ids: &Identities,
        ev: &Evidence,
        now: DateTime<Utc>,
    ) -> Option<(Roster, Vec<SharedLinkSuspect>)> {
        let inputs = RosterInputs {
            record: &ev.record,
            policy: &meeting.policy,
            tables: &ids.tables,
            registered: &ids.registered,
        };
        let cache = &self.inner.roster_cache;
        // Not a live instance without an end: it is measured up to `now`.
        let open = ev.record.is_open();
        let cacheable = ev.revision.as_ref().filter(|_| !open);
        if let Some(rev) = cacheable
            && let Some(hit) = cache.roster(&ev.record.uuid, rev, &inputs)
        {
            return Some(hit);
        }
        let computed = self.compute_roster(meeting, ids, ev, now)?;
        if let Some(rev) = cacheable {
            cache.keep_roster(&ev.record.uuid, rev, &inputs, &computed.0, &computed.1);
        }
        Some(computed)
    }

    fn compute_roster(
        &self,
        meeting: &MeetingRecord,
        ids: &Identities,
        ev: &Evidence,
        now: DateTime<Utc>,
    ) -> Option<(Roster, Vec<SharedLinkSuspect>)> {
        let earliest = ev
            .events()
            .iter()
            .map(|e| e.event.at)
            .chain(ev.report().iter().map(|r| r.join))
            .min();
        let latest = ev
            .events()
            .iter()
            .map(|e| e.event.at)
            .chain(ev.report().iter().map(|r| r.leave))
            .max();
        let start = ev.record.started_at.or(earliest)?;
        let end = match (ev.record.ended_at, ev.record.state) {
            (Some(end), _) => Some(end),
            (None, InstanceState::Live) => None,
            (None, _) => Some(latest.unwrap_or(start).max(start)),
        };
        let window = Window { start, end };
        let mut input = InstanceInput::new(ev.record.uuid.clone(), window, now);
        input.state = ev.record.state;
        input.policy = meeting.policy.clone();
        input.registered = ids.registered.clone();
        // Grouped once for both the connections and the shared-link check.
        let groups = group_by_connection(ev.events().iter().map(|e| &e.event));
        input.connections = connections_from_groups(&groups, |k, h| ids.subject(k, h));
        // Only report rows need it (a live class has none yet).
        let webhook_connections = if ev.report().is_empty() {
            HashMap::new()
        } else {
            connections_by_user_id(ev.events())
        };
        input.report_rows = ev
            .report()
            .iter()
            .filter_map(|row| {
                let key = report_row_connection(&row.hints, &webhook_connections);
                ids.subject(&key, &row.hints).map(|subject| ReportInterval {
                    subject,
                    zoom_user_id: row.hints.zoom_user_id.clone(),
                    join: row.join,
                    leave: row.leave,
                })
            })
            .collect();
        let roster = compute_instance(&input);
        let shared = shared_links(presences(&groups, end));
        Some((roster, shared))
    }

    fn empty_roster(
        &self,
        meeting: &MeetingRecord,
        ids: &Identities,
        instance: Option<InstanceId>,
        now: DateTime<Utc>,
    ) -> Roster {
        let at = meeting.start_time.unwrap_or(now);
        let mut input = InstanceInput::new(
            instance.clone().unwrap_or_else(|| InstanceId::new("")),
            Window::ended(at, at),
            now,
        );
        input.policy = meeting.policy.clone();
        input.registered = ids.registered.clone();
        let mut roster = compute_instance(&input);
        roster.instance = instance;
        roster
    }
}

/// The webhook connection behind each per-meeting `user_id` seen in the events (`None` when
/// one `user_id` shows up under two connections: ambiguous, so not used).
fn connections_by_user_id(events: &[StoredEvent]) -> HashMap<&str, Option<&ConnectionKey>> {
    let mut map: HashMap<&str, Option<&ConnectionKey>> = HashMap::new();
    for e in events {
        let Some(user_id) = e
            .event
            .hints
            .zoom_user_id
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        else {
            continue;
        };
        map.entry(user_id)
            .and_modify(|known| {
                if *known != Some(&e.event.connection) {
                    *known = None;
                }
            })
            .or_insert(Some(&e.event.connection));
    }
    map
}

/// The connection key a report row is resolved under: that of the webhook connection with
/// the row's `user_id` when there is exactly one, else the key webhooks would derive from the
/// row ([`connection_key`]: `participant_uuid`, else `user_id`), else `report:`. So a guest
/// with neither email nor name seen by webhook and by report gets one person key
/// (`connection:{key}`), not two.
fn report_row_connection(
    hints: &IdentityHints,
    webhook_connections: &HashMap<&str, Option<&ConnectionKey>>,
) -> ConnectionKey {
    hints
        .zoom_user_id
        .as_deref()
        .and_then(|u| webhook_connections.get(u).copied().flatten())
        .cloned()
        .or_else(|| {
            connection_key(
                hints.participant_uuid.as_deref(),
                hints.zoom_user_id.as_deref(),
            )
        })
        .unwrap_or_else(|| ConnectionKey::new("report:"))
}

/// Per connection with a registrant id: its span of presence (first to last event; open
/// while its last event is not a leave and the instance has not ended), with the same merged
/// hints the roster resolved it by, borrowed from the groups.
fn presences<'a>(
    groups: &'a [ConnectionGroup<'a>],
    end: Option<DateTime<Utc>>,
) -> impl Iterator<Item = PresenceRef<'a>> {
    groups
        .iter()
        .filter(|group| group.hints.registrant_id.is_some())
        .filter_map(move |group| {
            let in_meeting = || {
                group.events.iter().copied().filter(|e| {
                    !matches!(
                        e.action,
                        ParticipantAction::WaitingRoomJoined | ParticipantAction::WaitingRoomLeft
                    )
                })
            };
            // Earliest and latest by (time, action); equal keys are interchangeable here.
            let first = in_meeting().min_by_key(|e| (e.at, e.action))?;
            let last = in_meeting().max_by_key(|e| (e.at, e.action))?;
            let to = if last.action == ParticipantAction::Left {
                Some(last.at)
            } else {
                end
            };
            Some(PresenceRef {
                connection: group.key,
                hints: &group.hints,
                from: first.at,
                to,
            })
        })
}

//! `aggregate`: a meeting's attendance over all its instances.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::model::{InstanceState, MatchedBy, Policy, UserId};

use super::engine::stronger;
use super::output::{
    PresenceInterval, Roster, RosterRecord, RosterWindow, Summary, UnmatchedRecord,
};
use super::rules::{Presence, ratio, round4, status};
use super::time::{SECOND, micros, whole_seconds};

#[derive(Default)]
struct UserTotal {
    registered: bool,
    attended_seconds: u64,
    joins: u32,
    matched_by: Option<MatchedBy>,
    first_join: Option<DateTime<Utc>>,
    last_leave: Option<DateTime<Utc>>,
    intervals: Vec<PresenceInterval>,
}

fn min_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Aggregates the rosters of a meeting's instances into the meeting's roster
/// (`instance: None`), following API.md:
///
/// - the window runs from the earliest instance start to the latest instance end;
/// - per user, `attended_seconds` and `joins` are summed, `attendance_ratio` is the attended
///   sum over the sum of the instance window lengths, `first_join`/`last_leave` are the
///   earliest/latest over instances, `intervals` are concatenated in time order,
///   `registered` is true if any instance says so and `matched_by` is the strongest;
/// - status follows the same rules against the aggregate window (first instance's start, last
///   instance's end) and `policy`, and `late_seconds` is measured from the first instance's
///   start (so a user who skipped the first instance is late by the gap);
/// - unmatched people are merged by participant key (times summed, intervals concatenated,
///   display name and email from the earliest instance that has one);
/// - the state is `live` if any instance is live, else `provisional` if any is, else `final`.
///
/// The order of `instances` does not matter (they are ordered by window start). Returns
/// `None` when `instances` is empty: there is no window to measure against, and the caller
/// decides what a meeting that never ran shows.
pub fn aggregate(instances: &[Roster], policy: &Policy) -> Option<Roster> {
    let mut ordered: Vec<&Roster> = instances.iter().collect();
    ordered.sort_by(|a, b| {
        (a.window.start, a.window.end, &a.instance).cmp(&(
            b.window.start,
            b.window.end,
            &b.instance,
        ))
    });
    let first = ordered.first()?;
    let start = first.window.start;
    let end = ordered
        .iter()
        .map(|roster| roster.window.end)
        .max()
        .unwrap_or(first.window.end);
    let window_sum: i64 = ordered
        .iter()
        .map(|roster| micros(roster.window.end).saturating_sub(micros(roster.window.start)))
        .fold(0_i64, i64::saturating_add);
    let state = if ordered.iter().any(|r| r.state == InstanceState::Live) {
        InstanceState::Live
    } else if ordered
        .iter()
        .any(|r| r.state == InstanceState::Provisional)
    {
        InstanceState::Provisional
    } else {
        InstanceState::Final
    };

    let mut users: BTreeMap<&UserId, UserTotal> = BTreeMap::new();
    let mut people: BTreeMap<&str, UnmatchedRecord> = BTreeMap::new();
    for roster in &ordered {
        for record in &roster.roster {
            let total = users.entry(&record.user_id).or_default();
            total.registered |= record.registered;
            total.attended_seconds = total
                .attended_seconds
                .saturating_add(record.attended_seconds);
            total.joins = total.joins.saturating_add(record.joins);
            total.matched_by = stronger(total.matched_by, record.matched_by);
            total.first_join = min_time(total.first_join, record.first_join);
            total.last_leave = max_time(total.last_leave, record.last_leave);
            total.intervals.extend_from_slice(&record.intervals);
        }
        for record in &roster.unmatched {
            let total = people
                .entry(&record.participant_key)
                .or_insert_with(|| UnmatchedRecord {
                    participant_key: record.participant_key.clone(),
                    display_name: None,
                    email: None,
                    attended_seconds: 0,
                    joins: 0,
                    first_join: None,
                    last_leave: None,
                    intervals: Vec::new(),
                });
            if total.display_name.is_none() {
                total.display_name.clone_from(&record.display_name);
            }
            if total.email.is_none() {
                total.email.clone_from(&record.email);
            }
            total.attended_seconds = total
                .attended_seconds
                .saturating_add(record.attended_seconds);
            total.joins = total.joins.saturating_add(record.joins);
            total.first_join = min_time(total.first_join, record.first_join);
            total.last_leave = max_time(total.last_leave, record.last_leave);
            total.intervals.extend_from_slice(&record.intervals);
        }
    }

    let window = (micros(start), micros(end));
    let window_seconds = window_sum as f64 / SECOND as f64;
    let roster: Vec<RosterRecord> = users
        .into_iter()
        .map(|(user_id, mut total)| {
            total
                .intervals
                .sort_by_key(|interval| (interval.join, interval.leave));
            let ratio = ratio(total.attended_seconds as f64, window_seconds);
            let span = total
                .first_join
                .zip(total.last_leave)
                .map(|(first, last)| (micros(first), micros(last)));
            RosterRecord {
                user_id: user_id.clone(),
                registered: total.registered,
                status: status(Presence { span, ratio }, window, policy),
                attended_seconds: total.attended_seconds,
                attendance_ratio: round4(ratio),
                first_join: total.first_join,
                last_leave: total.last_leave,
                late_seconds: span.map(|(first, _)| whole_seconds(first.saturating_sub(window.0))),
                joins: total.joins,
                matched_by: total.matched_by,
                intervals: total.intervals,
            }
        })
        .collect();
    let unmatched: Vec<UnmatchedRecord> = people
        .into_values()
        .map(|mut record| {
            record
                .intervals
                .sort_by_key(|interval| (interval.join, interval.leave));
            record
        })
        .collect();
    let summary = Summary::of(&roster, &unmatched);
    Some(Roster {
        instance: None,
        window: RosterWindow { start, end },
        state,
        roster,
        unmatched,
        summary,
    })
}

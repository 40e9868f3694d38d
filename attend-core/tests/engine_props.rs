//! Property tests of the attendance engine: order and duplicate independence, bounds, and
//! monotonicity (adding evidence never lowers anyone's attended time).
//!
//! Inputs are generated as a small "spec" of arbitrary (often nonsensical) event sequences,
//! report rows and manual intervals over a handful of users and guests, so that the engine is
//! exercised far outside well-formed classes too.

mod engine_support;

use attend_core::attendance::{
    Connection, ConnectionEvent, InstanceInput, ManualInterval, ReportInterval, Roster, Subject,
    Window, compute_instance,
};
use attend_core::model::{ConnectionKey, InstanceId, MatchedBy, ParticipantAction, Policy, UserId};
use chrono::{DateTime, Utc};
use engine_support::{base, s};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const ACTIONS: [ParticipantAction; 6] = [
    ParticipantAction::WaitingRoomJoined,
    ParticipantAction::WaitingRoomLeft,
    ParticipantAction::Joined,
    ParticipantAction::BreakoutJoined,
    ParticipantAction::BreakoutLeft,
    ParticipantAction::Left,
];
const MATCHES: [MatchedBy; 4] = [
    MatchedBy::RegistrantId,
    MatchedBy::CustomerKey,
    MatchedBy::Email,
    MatchedBy::Manual,
];

/// Subjects 0–3 are users u0–u3 (with varying match methods), 4–5 are guests.
fn subject(index: usize, variant: usize) -> Subject {
    if index < 4 {
        Subject::user(format!("u{index}"), MATCHES[variant % 4])
    } else {
        Subject::Unmatched {
            person_key: format!("guest-{index}"),
            display_name: Some(format!("Guest {index} #{variant}")),
            email: None,
        }
    }
}

#[derive(Clone, Debug)]
struct ConnSpec {
    subject: usize,
    variant: usize,
    zoom_user_id: Option<usize>,
    events: Vec<(usize, i64)>,
}

#[derive(Clone, Debug)]
struct RowSpec {
    subject: usize,
    variant: usize,
    zoom_user_id: Option<usize>,
    join: i64,
    length: i64,
}

#[derive(Clone, Debug)]
struct Spec {
    end: i64,
    live: bool,
    now: i64,
    count_breakout_rooms: bool,
    registered: Vec<usize>,
    connections: Vec<ConnSpec>,
    rows: Vec<RowSpec>,
    manual: Vec<(usize, i64, i64)>,
}

fn time() -> impl Strategy<Value = i64> {
    -600_i64..4_500
}

fn conn_spec() -> impl Strategy<Value = ConnSpec> {
    (
        0..6_usize,
        0..4_usize,
        proptest::option::of(0..3_usize),
        proptest::collection::vec((0..6_usize, time()), 0..8),
    )
        .prop_map(|(subject, variant, zoom_user_id, events)| ConnSpec {
            subject,
            variant,
            zoom_user_id,
            events,
        })
}

fn row_spec() -> impl Strategy<Value = RowSpec> {
    (
        0..6_usize,
        0..4_usize,
        proptest::option::of(0..3_usize),
        time(),
        -60_i64..3_000,
    )
        .prop_map(|(subject, variant, zoom_user_id, join, length)| RowSpec {
            subject,
            variant,
            zoom_user_id,
            join,
            length,
        })
}

fn manual_spec() -> impl Strategy<Value = (usize, i64, i64)> {
    (0..4_usize, time(), -60_i64..3_000)
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (0_i64..4_000, any::<bool>(), 0_i64..4_000, any::<bool>()),
        proptest::collection::vec(0..4_usize, 0..4),
        proptest::collection::vec(conn_spec(), 0..10),
        proptest::collection::vec(row_spec(), 0..6),
        proptest::collection::vec(manual_spec(), 0..4),
    )
        .prop_map(
            |((end, live, now, count_breakout_rooms), registered, connections, rows, manual)| {
                Spec {
                    end,
                    live,
                    now,
                    count_breakout_rooms,
                    registered,
                    connections,
                    rows,
                    manual,
                }
            },
        )
}

fn zoom_user_id(index: Option<usize>) -> Option<String> {
    index.map(|index| format!("z{index}"))
}

fn build(spec: &Spec) -> InstanceInput {
    let window = if spec.live {
        Window::live(base())
    } else {
        Window::ended(base(), s(spec.end))
    };
    let mut input = InstanceInput::new(InstanceId::from("i"), window, s(spec.now));
    input.policy = Policy {
        count_breakout_rooms: spec.count_breakout_rooms,
        ..Policy::default()
    };
    input.registered = spec
        .registered
        .iter()
        .map(|u| UserId::new(format!("u{u}")))
        .collect();
    input.connections = spec
        .connections
        .iter()
        .enumerate()
        .map(|(index, c)| Connection {
            key: ConnectionKey::new(format!("c{index}")),
            subject: subject(c.subject, c.variant),
            zoom_user_id: zoom_user_id(c.zoom_user_id),
            events: c
                .events
                .iter()
                .map(|&(action, at)| ConnectionEvent::new(ACTIONS[action], s(at)))
                .collect(),
        })
        .collect();
    input.report_rows = spec
        .rows
        .iter()
        .map(|r| ReportInterval {
            subject: subject(r.subject, r.variant),
            zoom_user_id: zoom_user_id(r.zoom_user_id),
            join: s(r.join),
            leave: s(r.join + r.length),
        })
        .collect();
    input.manual = spec
        .manual
        .iter()
        .map(|&(user, join, length)| ManualInterval {
            user: UserId::new(format!("u{user}")),
            join: s(join),
            leave: s(join + length),
        })
        .collect();
    input
}

/// The same evidence, delivered differently: every list shuffled, every event delivered 1–3
/// times, report rows, manual intervals and registrations repeated too.
fn redeliver(input: &InstanceInput, seed: u64) -> InstanceInput {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut copy = input.clone();
    for connection in &mut copy.connections {
        let mut events = Vec::new();
        for event in &connection.events {
            for _ in 0..rng.random_range(1..=3) {
                events.push(*event);
            }
        }
        events.shuffle(&mut rng);
        connection.events = events;
    }
    copy.connections.shuffle(&mut rng);
    fn repeat<T: Clone>(items: &mut Vec<T>, rng: &mut StdRng) {
        let mut out = Vec::new();
        for item in items.iter() {
            for _ in 0..rng.random_range(1..=3) {
                out.push(item.clone());
            }
        }
        out.shuffle(rng);
        *items = out;
    }
    repeat(&mut copy.report_rows, &mut rng);
    repeat(&mut copy.manual, &mut rng);
    repeat(&mut copy.registered, &mut rng);
    copy
}

fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// (id, attended seconds, joins) of every roster record and unmatched person.
fn totals(roster: &Roster) -> Vec<(String, u64, u32)> {
    roster
        .roster
        .iter()
        .map(|r| (r.user_id.to_string(), r.attended_seconds, r.joins))
        .chain(
            roster
                .unmatched
                .iter()
                .map(|u| (u.participant_key.clone(), u.attended_seconds, u.joins)),
        )
        .collect()
}

fn assert_not_lower(before: &Roster, after: &Roster) -> Result<(), TestCaseError> {
    let after = totals(after);
    for (id, seconds, _) in totals(before) {
        let now = after.iter().find(|(other, _, _)| *other == id);
        prop_assert!(now.is_some(), "{id} disappeared");
        let (_, later, _) = now.unwrap();
        prop_assert!(*later >= seconds, "{id}: {seconds} s became {later} s");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn order_and_duplicates_change_nothing(spec in spec(), seed in any::<u64>()) {
        let input = build(&spec);
        prop_assert_eq!(compute_instance(&input), compute_instance(&redeliver(&input, seed)));
    }

    #[test]
    fn attended_time_stays_inside_the_window(spec in spec()) {
        let roster = compute_instance(&build(&spec));
        let (start, end) = (micros(roster.window.start), micros(roster.window.end));
        prop_assert!(start <= end);
        let window_seconds = u64::try_from((end - start) / 1_000_000).unwrap();
        let people = roster
            .roster
            .iter()
            .map(|r| (r.attended_seconds, &r.intervals, r.first_join, r.last_leave))
            .chain(roster.unmatched.iter().map(|u| (u.attended_seconds, &u.intervals, u.first_join, u.last_leave)));
        for (attended, intervals, first_join, last_leave) in people {
            prop_assert!(attended <= window_seconds);
            let mut total = 0;
            let mut previous_end = i64::MIN;
            for interval in intervals {
                let (join, leave) = (micros(interval.join), micros(interval.leave));
                prop_assert!(start <= join && join < leave && leave <= end);
                prop_assert!(join >= previous_end, "pieces overlap or are out of order");
                previous_end = leave;
                total += leave - join;
            }
            prop_assert_eq!(u64::try_from(total / 1_000_000).unwrap(), attended);
            prop_assert_eq!(first_join, intervals.first().map(|i| i.join));
            prop_assert_eq!(last_leave, intervals.last().map(|i| i.leave));
        }
        for record in &roster.roster {
            prop_assert!((0.0..=1.0).contains(&record.attendance_ratio));
            prop_assert_eq!(record.status == attend_core::model::Status::Absent, record.intervals.is_empty());
        }
        let s = roster.summary;
        prop_assert_eq!((s.present + s.late + s.left_early + s.partial + s.absent) as usize, roster.roster.len());
    }

    #[test]
    fn adding_a_connection_never_lowers_attended_time(mut spec in spec(), extra in conn_spec()) {
        spec.count_breakout_rooms = true;
        let before = compute_instance(&build(&spec));
        spec.connections.push(extra);
        assert_not_lower(&before, &compute_instance(&build(&spec)))?;
    }

    #[test]
    fn adding_a_connection_never_lowers_time_without_breakouts_or_rows(mut spec in spec(), extra in conn_spec()) {
        spec.count_breakout_rooms = false;
        spec.rows.clear();
        let before = compute_instance(&build(&spec));
        spec.connections.push(extra);
        assert_not_lower(&before, &compute_instance(&build(&spec)))?;
    }

    #[test]
    fn adding_a_report_row_never_lowers_attended_time(mut spec in spec(), extra in row_spec()) {
        spec.count_breakout_rooms = true;
        let before = compute_instance(&build(&spec));
        spec.rows.push(extra);
        assert_not_lower(&before, &compute_instance(&build(&spec)))?;
    }

    #[test]
    fn adding_a_manual_interval_never_lowers_attended_time(mut spec in spec(), extra in manual_spec()) {
        let before = compute_instance(&build(&spec));
        spec.manual.push(extra);
        assert_not_lower(&before, &compute_instance(&build(&spec)))?;
    }

    #[test]
    fn report_rows_overlapping_webhook_connections_never_lower_time(
        mut spec in spec(),
        picks in proptest::collection::vec((any::<proptest::sample::Index>(), -300_i64..300, -300_i64..300), 1..6),
    ) {
        spec.rows.clear();
        let before = compute_instance(&build(&spec));
        // Rows for existing connections: same subject and Zoom user id, around their events.
        let candidates: Vec<&ConnSpec> = spec
            .connections
            .iter()
            .filter(|c| !c.events.is_empty())
            .collect();
        prop_assume!(!candidates.is_empty());
        let mut rows = Vec::new();
        for (index, shift_join, shift_leave) in picks {
            let c = index.get(&candidates);
            let first = c.events.iter().map(|e| e.1).min().unwrap_or(0);
            let last = c.events.iter().map(|e| e.1).max().unwrap_or(0);
            let join = first + shift_join;
            rows.push(RowSpec {
                subject: c.subject,
                variant: c.variant,
                zoom_user_id: c.zoom_user_id,
                join,
                length: (last + shift_leave - join).max(0),
            });
        }
        spec.rows = rows;
        let after = compute_instance(&build(&spec));
        assert_not_lower(&before, &after)?;
        let after_totals = totals(&after);
        for (id, _, joins) in totals(&before) {
            let later = after_totals.iter().find(|(other, _, _)| *other == id).map(|t| t.2);
            prop_assert!(later >= Some(joins), "{id}: joins went down");
        }
    }

    #[test]
    fn any_input_gives_a_sorted_roster_with_every_registered_user(spec in spec()) {
        let roster = compute_instance(&build(&spec));
        prop_assert!(roster.roster.windows(2).all(|w| w[0].user_id < w[1].user_id));
        prop_assert!(roster.unmatched.windows(2).all(|w| w[0].participant_key < w[1].participant_key));
        for user in &spec.registered {
            let record = roster.record(&UserId::new(format!("u{user}")));
            prop_assert!(record.is_some_and(|r| r.registered));
        }
        let mut registered = spec.registered.clone();
        registered.sort_unstable();
        registered.dedup();
        prop_assert_eq!(roster.summary.registered as usize, registered.len());
        prop_assert_eq!(roster.summary.unmatched as usize, roster.unmatched.len());
    }
}

//! One test per rule of the attendance engine, with hand-computed expectations. The instance
//! runs 10:00–11:00 (3600 s) unless said otherwise; the policy is the default (ratio 0.5, late
//! after 300 s, left early before end − 300 s, breakout rooms count).

mod engine_support;

use attend_core::attendance::{PresenceInterval, Roster, RosterRecord, compute_instance};
use attend_core::model::{
    InstanceState, IntervalSource, MatchedBy, ParticipantAction as A, Policy, Status,
};
use engine_support::*;

fn record<'r>(roster: &'r Roster, id: &str) -> &'r RosterRecord {
    roster
        .record(&uid(id))
        .unwrap_or_else(|| panic!("no record for {id}"))
}

fn bars(record: &RosterRecord) -> Vec<(i64, i64, IntervalSource)> {
    bars_of(&record.intervals)
}

/// Intervals as (start, end) in seconds after 10:00.
fn bars_of(intervals: &[PresenceInterval]) -> Vec<(i64, i64, IntervalSource)> {
    intervals
        .iter()
        .map(|i| {
            (
                (i.join - base()).num_seconds(),
                (i.leave - base()).num_seconds(),
                i.source,
            )
        })
        .collect()
}

const W: IntervalSource = IntervalSource::Webhook;
const R: IntervalSource = IntervalSource::Report;
const M: IntervalSource = IntervalSource::Manual;

#[test]
fn one_connection_gives_every_number() {
    let mut input = instance(0, 60);
    input.registered = vec![uid("alice")];
    input.connections.push(stay("c1", user("alice"), 2, 58));
    let roster = compute_instance(&input);
    let alice = record(&roster, "alice");
    assert_eq!(alice.attended_seconds, 56 * 60);
    assert_eq!(alice.attendance_ratio, 0.9333); // 3360 / 3600
    assert_eq!(alice.first_join, Some(m(2)));
    assert_eq!(alice.last_leave, Some(m(58)));
    assert_eq!(alice.late_seconds, Some(120));
    assert_eq!(alice.joins, 1);
    assert_eq!(alice.matched_by, Some(MatchedBy::RegistrantId));
    assert!(alice.registered);
    assert_eq!(alice.status, Status::Present);
    assert_eq!(bars(alice), [(120, 3480, W)]);
    assert_eq!(roster.instance.as_ref().map(|i| i.as_str()), Some("inst-1"));
    assert_eq!((roster.window.start, roster.window.end), (m(0), m(60)));
    assert_eq!(roster.state, InstanceState::Provisional);
}

#[test]
fn two_devices_count_their_union_not_their_sum() {
    let mut input = instance(0, 60);
    input.connections.push(stay("laptop", user("alice"), 0, 40));
    input.connections.push(stay("phone", user("alice"), 30, 60));
    let roster = compute_instance(&input);
    let alice = record(&roster, "alice");
    assert_eq!(alice.attended_seconds, 3600); // not 40 + 30 minutes
    assert_eq!(alice.joins, 2);
    assert_eq!(bars(alice), [(0, 3600, W)]);
}

#[test]
fn rejoin_after_disconnect_leaves_the_gap_out() {
    let mut input = instance(0, 60);
    input.connections.push(stay("first", user("alice"), 0, 20));
    input
        .connections
        .push(stay("second", user("alice"), 25, 60));
    let alice = record(&compute_instance(&input), "alice").clone();
    assert_eq!(alice.attended_seconds, 55 * 60);
    assert_eq!(alice.joins, 2);
    assert_eq!(bars(&alice), [(0, 1200, W), (1500, 3600, W)]);
    assert_eq!(alice.status, Status::Present);
}

#[test]
fn arrival_order_and_duplicates_change_nothing() {
    let ordered = [
        (A::WaitingRoomJoined, m(1)),
        (A::WaitingRoomLeft, m(3)),
        (A::Joined, m(3)),
        (A::BreakoutJoined, m(20)),
        (A::BreakoutLeft, m(30)),
        (A::Left, m(50)),
    ];
    let scrambled = [
        (A::Left, m(50)),
        (A::BreakoutLeft, m(30)),
        (A::Joined, m(3)),
        (A::Left, m(50)),
        (A::WaitingRoomLeft, m(3)),
        (A::BreakoutJoined, m(20)),
        (A::Joined, m(3)),
        (A::WaitingRoomJoined, m(1)),
        (A::BreakoutLeft, m(30)),
    ];
    let mut a = instance(0, 60);
    a.connections.push(conn("c", user("alice"), None, &ordered));
    let mut b = instance(0, 60);
    b.connections
        .push(conn("c", user("alice"), None, &scrambled));
    let (a, b) = (compute_instance(&a), compute_instance(&b));
    assert_eq!(a, b);
    let alice = record(&a, "alice");
    assert_eq!((alice.attended_seconds, alice.joins), (47 * 60, 1));
}

#[test]
fn missing_leave_is_closed_at_the_window_end() {
    let mut input = instance(0, 60);
    input
        .connections
        .push(conn("c", user("alice"), None, &[(A::Joined, m(10))]));
    let alice = record(&compute_instance(&input), "alice").clone();
    assert_eq!(alice.attended_seconds, 50 * 60);
    assert_eq!(alice.last_leave, Some(m(60)));
    assert_eq!(alice.status, Status::Late);
}

#[test]
fn live_instance_closes_at_now_and_is_live() {
    let mut input = instance(0, 60);
    input.window.end = None;
    input.now = m(30);
    input.state = InstanceState::Final; // ignored while live
    input
        .connections
        .push(conn("c", user("alice"), None, &[(A::Joined, m(2))]));
    input.connections.push(stay("d", user("bob"), 0, 10));
    let roster = compute_instance(&input);
    assert_eq!(roster.state, InstanceState::Live);
    assert_eq!(roster.window.end, m(30));
    let alice = record(&roster, "alice");
    assert_eq!(alice.attended_seconds, 28 * 60);
    assert_eq!(alice.attendance_ratio, 0.9333); // 1680 / 1800
    assert_eq!(alice.status, Status::Present);
    // bob left 20 minutes before "now": left early so far (ratio 600/1800 < 0.5: partial).
    assert_eq!(record(&roster, "bob").status, Status::Partial);
}

#[test]
fn waiting_room_time_never_counts_nor_sets_first_join() {
    let mut input = instance(0, 60);
    input.registered = vec![uid("alice"), uid("bob")];
    input.connections.push(conn(
        "c",
        user("alice"),
        None,
        &[
            (A::WaitingRoomJoined, m(0)),
            (A::WaitingRoomLeft, m(10)),
            (A::Joined, m(10)),
            (A::Left, m(60)),
        ],
    ));
    // bob sat in the waiting room and gave up.
    input.connections.push(conn(
        "d",
        user("bob"),
        None,
        &[(A::WaitingRoomJoined, m(5)), (A::WaitingRoomLeft, m(15))],
    ));
    let roster = compute_instance(&input);
    let alice = record(&roster, "alice");
    assert_eq!(alice.attended_seconds, 50 * 60);
    assert_eq!(alice.first_join, Some(m(10)));
    assert_eq!(alice.late_seconds, Some(600));
    assert_eq!(alice.status, Status::Late);
    let bob = record(&roster, "bob");
    assert_eq!(bob.status, Status::Absent);
    assert_eq!((bob.attended_seconds, bob.joins), (0, 0));
    assert_eq!(
        (bob.first_join, bob.last_leave, bob.late_seconds),
        (None, None, None)
    );
    assert_eq!(bob.matched_by, Some(MatchedBy::RegistrantId));
}

fn breakout_class(count_breakout_rooms: bool) -> Roster {
    let mut input = instance(0, 60);
    input.policy.count_breakout_rooms = count_breakout_rooms;
    input.connections.push(conn(
        "c",
        user("alice"),
        None,
        &[
            (A::Joined, m(0)),
            (A::BreakoutJoined, m(20)),
            (A::BreakoutLeft, m(40)),
            (A::Left, m(60)),
        ],
    ));
    // bob leaves from inside his breakout room.
    input.connections.push(conn(
        "d",
        user("bob"),
        None,
        &[
            (A::Joined, m(0)),
            (A::BreakoutJoined, m(20)),
            (A::Left, m(35)),
            (A::BreakoutLeft, m(35)),
        ],
    ));
    compute_instance(&input)
}

#[test]
fn breakout_move_and_return_counts_and_is_no_join() {
    let roster = breakout_class(true);
    let alice = record(&roster, "alice");
    assert_eq!((alice.attended_seconds, alice.joins), (3600, 1));
    assert_eq!(bars(alice), [(0, 3600, W)]);
    let bob = record(&roster, "bob");
    assert_eq!(bob.attended_seconds, 35 * 60);
    assert_eq!(bob.last_leave, Some(m(35)));
}

#[test]
fn breakout_time_is_left_out_when_the_policy_says_so() {
    let roster = breakout_class(false);
    let alice = record(&roster, "alice");
    assert_eq!((alice.attended_seconds, alice.joins), (40 * 60, 1));
    assert_eq!(bars(alice), [(0, 1200, W), (2400, 3600, W)]);
    assert_eq!(alice.status, Status::Present);
    let bob = record(&roster, "bob");
    assert_eq!(bob.attended_seconds, 20 * 60);
    assert_eq!(bob.last_leave, Some(m(20)));
    assert_eq!(bob.status, Status::Partial);
}

#[test]
fn moving_between_rooms_at_one_instant_stays_in_a_breakout_room() {
    let mut input = instance(0, 60);
    input.policy.count_breakout_rooms = false;
    input.connections.push(conn(
        "c",
        user("alice"),
        None,
        &[
            (A::Joined, m(0)),
            (A::BreakoutJoined, m(30)),
            (A::BreakoutJoined, m(40)),
            (A::BreakoutLeft, m(40)),
            (A::BreakoutLeft, m(50)),
            (A::Left, m(60)),
        ],
    ));
    let alice = record(&compute_instance(&input), "alice").clone();
    assert_eq!(bars(&alice), [(0, 1800, W), (3000, 3600, W)]);
}

#[test]
fn everything_is_clipped_to_the_window() {
    let mut input = instance(0, 60);
    input.connections.push(stay("c", user("alice"), -30, 90));
    input.connections.push(stay("d", user("bob"), -30, -10)); // entirely before
    let roster = compute_instance(&input);
    let alice = record(&roster, "alice");
    assert_eq!(alice.attended_seconds, 3600);
    assert_eq!(alice.attendance_ratio, 1.0);
    assert_eq!(
        (alice.first_join, alice.last_leave),
        (Some(m(0)), Some(m(60)))
    );
    assert_eq!(alice.late_seconds, Some(0));
    let bob = record(&roster, "bob");
    assert_eq!(
        (bob.status, bob.joins, bob.attended_seconds),
        (Status::Absent, 0, 0)
    );
}

#[test]
fn status_thresholds_are_strict_and_first_match_wins() {
    let mut input = instance(0, 60);
    let cases = [
        ("a-present-on-the-edges", 5 * 60, 55 * 60, Status::Present),
        ("b-late-by-a-second", 5 * 60 + 1, 60 * 60, Status::Late),
        (
            "c-left-early-by-a-second",
            0,
            55 * 60 - 1,
            Status::LeftEarly,
        ),
        ("d-late-and-left-early", 6 * 60, 50 * 60, Status::Late),
        ("e-half-exactly", 0, 30 * 60, Status::LeftEarly),
        ("f-below-half-and-late", 20 * 60, 49 * 60, Status::Partial),
    ];
    for (id, join, leave, _) in cases {
        input.connections.push(conn(
            id,
            user(id),
            None,
            &[(A::Joined, s(join)), (A::Left, s(leave))],
        ));
    }
    input.registered = vec![uid("z-absent")];
    let roster = compute_instance(&input);
    for (id, _, _, expected) in cases {
        assert_eq!(record(&roster, id).status, expected, "{id}");
    }
    assert_eq!(record(&roster, "z-absent").status, Status::Absent);
    assert_eq!(record(&roster, "e-half-exactly").attendance_ratio, 0.5);
}

#[test]
fn policy_thresholds_are_honoured() {
    let mut input = instance(0, 60);
    input.policy = Policy {
        required_ratio: 0.9,
        late_after_seconds: 0,
        left_early_before_end_seconds: 0,
        count_breakout_rooms: true,
    };
    input.connections.push(stay("a", user("a"), 0, 60));
    input.connections.push(stay("b", user("b"), 1, 60));
    input.connections.push(stay("c", user("c"), 0, 59));
    input.connections.push(stay("d", user("d"), 0, 50));
    let roster = compute_instance(&input);
    assert_eq!(record(&roster, "a").status, Status::Present);
    assert_eq!(record(&roster, "b").status, Status::Late);
    assert_eq!(record(&roster, "c").status, Status::LeftEarly);
    assert_eq!(record(&roster, "d").status, Status::Partial); // 0.8333 < 0.9
}

#[test]
fn empty_window_gives_zero_ratio_and_absence() {
    let mut input = instance(0, 0);
    input.registered = vec![uid("alice")];
    input.connections.push(stay("c", user("alice"), 0, 30));
    let roster = compute_instance(&input);
    let alice = record(&roster, "alice");
    assert_eq!((alice.attended_seconds, alice.attendance_ratio), (0, 0.0));
    assert_eq!(alice.status, Status::Absent);
    // An end before the start is an empty window too, never a panic.
    let mut inverted = instance(60, 0);
    inverted.connections.push(stay("c", user("alice"), 0, 30));
    let roster = compute_instance(&inverted);
    assert_eq!(roster.window.start, roster.window.end);
    assert_eq!(record(&roster, "alice").status, Status::Absent);
}

#[test]
fn registered_and_unregistered_users_and_the_summary() {
    let mut input = instance(0, 60);
    input.registered = vec![uid("carol"), uid("alice"), uid("bob"), uid("alice")];
    input.connections.push(stay("c1", user("alice"), 0, 60));
    input
        .connections
        .push(stay("c2", uid_subject("dave", MatchedBy::Email), 10, 60));
    input.connections.push(stay("c3", user("bob"), 0, 10));
    input
        .connections
        .push(stay("g1", guest("name:Guest", "Guest"), 0, 60));
    let roster = compute_instance(&input);
    let ids: Vec<&str> = roster.roster.iter().map(|r| r.user_id.as_str()).collect();
    assert_eq!(ids, ["alice", "bob", "carol", "dave"]);
    let dave = record(&roster, "dave");
    assert!(!dave.registered);
    assert_eq!(dave.matched_by, Some(MatchedBy::Email));
    assert_eq!(dave.status, Status::Late);
    assert_eq!(record(&roster, "carol").matched_by, None);
    let summary = roster.summary;
    assert_eq!(summary.registered, 3);
    assert_eq!(
        (
            summary.present,
            summary.late,
            summary.left_early,
            summary.partial,
            summary.absent
        ),
        (1, 1, 0, 1, 1)
    );
    assert_eq!(summary.unmatched, 1);
}

fn uid_subject(id: &str, matched_by: MatchedBy) -> attend_core::attendance::Subject {
    attend_core::attendance::Subject::user(id, matched_by)
}

#[test]
fn strongest_match_is_shown() {
    let mut input = instance(0, 60);
    input
        .connections
        .push(stay("c1", uid_subject("alice", MatchedBy::Email), 0, 30));
    input.connections.push(stay(
        "c2",
        uid_subject("alice", MatchedBy::CustomerKey),
        30,
        60,
    ));
    let roster = compute_instance(&input);
    assert_eq!(
        record(&roster, "alice").matched_by,
        Some(MatchedBy::CustomerKey)
    );
}

#[test]
fn unmatched_people_are_grouped_by_person_key() {
    let mut input = instance(0, 60);
    let early = attend_core::attendance::Subject::Unmatched {
        person_key: "email:x@example.org".into(),
        display_name: Some("X on phone".into()),
        email: Some("x@example.org".into()),
    };
    let late = attend_core::attendance::Subject::Unmatched {
        person_key: "email:x@example.org".into(),
        display_name: Some("X laptop".into()),
        email: None,
    };
    input.connections.push(stay("b", late, 20, 60));
    input.connections.push(stay("a", early, 0, 30));
    input
        .connections
        .push(stay("g", guest("name:Zed", "Zed"), 0, 5));
    let roster = compute_instance(&input);
    assert!(roster.roster.is_empty());
    let keys: Vec<&str> = roster
        .unmatched
        .iter()
        .map(|u| u.participant_key.as_str())
        .collect();
    assert_eq!(keys, ["email:x@example.org", "name:Zed"]);
    let x = roster.unmatched_person("email:x@example.org").unwrap();
    assert_eq!((x.attended_seconds, x.joins), (3600, 2));
    assert_eq!(x.display_name.as_deref(), Some("X on phone"));
    assert_eq!(x.email.as_deref(), Some("x@example.org"));
    assert_eq!(bars_of(&x.intervals), [(0, 3600, W)]);
    assert_eq!(roster.summary.unmatched, 2);
}

#[test]
fn report_row_of_a_webhook_connection_adds_time_but_no_join() {
    let mut input = instance(0, 60);
    // Webhooks lost the leave of c1 and saw it from minute 5 (the join arrived late).
    input.connections.push(conn(
        "c1",
        user("alice"),
        Some("16778240"),
        &[(A::Joined, m(5)), (A::Left, m(30))],
    ));
    input
        .report_rows
        .push(row(user("alice"), Some("16778240"), m(2), m(40)));
    let alice = record(&compute_instance(&input), "alice").clone();
    assert_eq!(alice.attended_seconds, 38 * 60);
    assert_eq!(alice.joins, 1);
    assert_eq!(
        bars(&alice),
        [(120, 300, R), (300, 1800, W), (1800, 2400, R)]
    );
}

#[test]
fn report_row_never_removes_webhook_time() {
    let mut input = instance(0, 60);
    input.connections.push(stay("c1", user("alice"), 0, 60));
    input
        .report_rows
        .push(row(user("alice"), Some("c1"), m(10), m(20)));
    let alice = record(&compute_instance(&input), "alice").clone();
    assert_eq!((alice.attended_seconds, alice.joins), (3600, 1));
    assert_eq!(bars(&alice), [(0, 3600, W)]);
}

#[test]
fn report_rows_that_are_no_webhook_connection_are_joins() {
    let mut input = instance(0, 60);
    input.connections.push(stay("c1", user("alice"), 0, 20));
    // Another Zoom user id: a connection the webhooks missed.
    input
        .report_rows
        .push(row(user("alice"), Some("other"), m(30), m(50)));
    // Same Zoom user id but no overlap: a different connection too.
    input
        .report_rows
        .push(row(user("alice"), Some("c1"), m(50), m(55)));
    // A report-only user (a Basic account has no report; this is the reverse: no webhooks).
    input
        .report_rows
        .push(row(user("bob"), Some("b1"), m(0), m(60)));
    // The same row twice (a re-fetched page) and a split row overlapping it: one join.
    input
        .report_rows
        .push(row(user("carol"), Some("k1"), m(0), m(30)));
    input
        .report_rows
        .push(row(user("carol"), Some("k1"), m(0), m(30)));
    input
        .report_rows
        .push(row(user("carol"), Some("k1"), m(29), m(60)));
    // A row whose leave precedes its join is ignored.
    input
        .report_rows
        .push(row(user("dave"), Some("d1"), m(30), m(10)));
    let roster = compute_instance(&input);
    let alice = record(&roster, "alice");
    assert_eq!((alice.attended_seconds, alice.joins), (45 * 60, 3));
    assert_eq!(
        bars(alice),
        [(0, 1200, W), (1800, 3300, R)],
        "touching report rows merge into one bar"
    );
    let bob = record(&roster, "bob");
    assert_eq!(
        (bob.attended_seconds, bob.joins, bob.status),
        (3600, 1, Status::Present)
    );
    let carol = record(&roster, "carol");
    assert_eq!((carol.attended_seconds, carol.joins), (3600, 1));
    assert!(
        roster.record(&uid("dave")).is_none(),
        "an ignored row adds nobody"
    );
}

#[test]
fn report_row_of_another_subject_is_credited_to_its_own_subject() {
    let mut input = instance(0, 60);
    input
        .connections
        .push(stay("c1", guest("name:Al", "Al"), 0, 60));
    input
        .report_rows
        .push(row(user("alice"), Some("c1"), m(0), m(60)));
    let roster = compute_instance(&input);
    let alice = record(&roster, "alice");
    assert_eq!((alice.attended_seconds, alice.joins), (3600, 1));
    let al = roster.unmatched_person("name:Al").unwrap();
    assert_eq!((al.attended_seconds, al.joins), (3600, 1));
}

#[test]
fn report_row_does_not_re_add_breakout_time_when_it_does_not_count() {
    let mut input = instance(0, 60);
    input.policy.count_breakout_rooms = false;
    input.connections.push(conn(
        "c1",
        user("alice"),
        Some("z1"),
        &[
            (A::Joined, m(0)),
            (A::BreakoutJoined, m(20)),
            (A::BreakoutLeft, m(40)),
            (A::Left, m(50)),
        ],
    ));
    // The report has the whole stay as one row, and a bit more at the end.
    input
        .report_rows
        .push(row(user("alice"), Some("z1"), m(0), m(55)));
    let alice = record(&compute_instance(&input), "alice").clone();
    assert_eq!(alice.attended_seconds, (20 + 15) * 60);
    assert_eq!(alice.joins, 1);
    assert_eq!(
        bars(&alice),
        [(0, 1200, W), (2400, 3000, W), (3000, 3300, R)]
    );
}

#[test]
fn report_row_matches_the_connection_it_overlaps_most() {
    let mut input = instance(0, 60);
    input.policy.count_breakout_rooms = false;
    // Two connections share a Zoom user id; only the second was in a breakout room.
    input.connections.push(stay("c1", user("alice"), 0, 10));
    input.connections.push(conn(
        "c2",
        user("alice"),
        Some("c1"),
        &[
            (A::Joined, m(9)),
            (A::BreakoutJoined, m(20)),
            (A::BreakoutLeft, m(30)),
            (A::Left, m(40)),
        ],
    ));
    input
        .report_rows
        .push(row(user("alice"), Some("c1"), m(9), m(40)));
    let alice = record(&compute_instance(&input), "alice").clone();
    // Matched to c2 (31 minutes of overlap, against 1): its breakout 20–30 stays out.
    assert_eq!(alice.attended_seconds, 30 * 60);
    assert_eq!(alice.joins, 2);
}

#[test]
fn report_row_can_be_the_only_evidence_that_a_connection_joined() {
    let mut input = instance(0, 60);
    input.connections.push(conn(
        "c1",
        user("alice"),
        Some("z1"),
        &[(A::Joined, m(-20)), (A::Left, m(-10))],
    ));
    input
        .report_rows
        .push(row(user("alice"), Some("z1"), m(-15), m(10)));
    let alice = record(&compute_instance(&input), "alice").clone();
    assert_eq!((alice.attended_seconds, alice.joins), (600, 1));
}

#[test]
fn manual_intervals_add_time_but_no_join() {
    let mut input = instance(0, 60);
    input.registered = vec![uid("alice"), uid("bob")];
    input.connections.push(stay("c1", user("alice"), 10, 30));
    input.manual.push(manual("alice", m(0), m(20)));
    input.manual.push(manual("alice", m(50), m(70)));
    input.manual.push(manual("bob", m(0), m(60)));
    input.manual.push(manual("eve", m(40), m(20))); // inverted: ignored
    let roster = compute_instance(&input);
    let alice = record(&roster, "alice");
    assert_eq!((alice.attended_seconds, alice.joins), (40 * 60, 1));
    assert_eq!(bars(alice), [(0, 600, M), (600, 1800, W), (3000, 3600, M)]);
    assert_eq!(alice.matched_by, Some(MatchedBy::RegistrantId));
    let bob = record(&roster, "bob");
    assert_eq!(
        (bob.attended_seconds, bob.joins, bob.status),
        (3600, 0, Status::Present)
    );
    assert_eq!(bob.matched_by, Some(MatchedBy::Manual));
    assert!(roster.record(&uid("eve")).is_none());
}

#[test]
fn intervals_prefer_webhook_then_report_then_manual() {
    let mut input = instance(0, 60);
    input.connections.push(stay("c1", user("alice"), 20, 30));
    input
        .report_rows
        .push(row(user("alice"), Some("c1"), m(15), m(35)));
    input.manual.push(manual("alice", m(10), m(40)));
    let alice = record(&compute_instance(&input), "alice").clone();
    assert_eq!(
        bars(&alice),
        [
            (600, 900, M),
            (900, 1200, R),
            (1200, 1800, W),
            (1800, 2100, R),
            (2100, 2400, M)
        ]
    );
    assert_eq!(alice.attended_seconds, 30 * 60);
}

#[test]
fn sub_second_times_are_kept_and_seconds_truncated() {
    let mut input = instance(0, 60);
    let half = chrono::Duration::milliseconds(500);
    input.connections.push(conn(
        "c1",
        user("alice"),
        None,
        &[(A::Joined, m(0) + half), (A::Left, m(0) + half * 4)],
    ));
    let alice = record(&compute_instance(&input), "alice").clone();
    assert_eq!(alice.attended_seconds, 1); // 1.5 s
    assert_eq!(alice.first_join, Some(m(0) + half));
    assert_eq!(alice.status, Status::Partial);
}

#[test]
fn serializes_with_the_api_field_names() {
    let mut input = instance(0, 60);
    input.registered = vec![uid("alice")];
    input.connections.push(stay("c1", user("alice"), 0, 60));
    input
        .connections
        .push(stay("g", guest("name:G", "G"), 0, 60));
    let json = serde_json::to_value(compute_instance(&input)).unwrap();
    let record = &json["roster"][0];
    let mut keys: Vec<&str> = record
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attendance_ratio",
            "attended_seconds",
            "first_join",
            "intervals",
            "joins",
            "last_leave",
            "late_seconds",
            "matched_by",
            "registered",
            "status",
            "user_id"
        ]
    );
    assert_eq!(record["status"], "present");
    assert_eq!(record["matched_by"], "registrant_id");
    assert_eq!(record["first_join"], "2025-03-01T10:00:00Z");
    assert_eq!(record["intervals"][0]["source"], "webhook");
    assert_eq!(json["state"], "provisional");
    assert_eq!(json["instance"], "inst-1");
    assert_eq!(json["window"]["end"], "2025-03-01T11:00:00Z");
    assert_eq!(json["unmatched"][0]["participant_key"], "name:G");
    assert_eq!(json["summary"]["registered"], 1);
    assert_eq!(json["summary"]["unmatched"], 1);
    assert_eq!(json["summary"]["left_early"], 0);
    // Absent users have nulls, not missing fields.
    let mut absent = instance(0, 60);
    absent.registered = vec![uid("bob")];
    let json = serde_json::to_value(compute_instance(&absent)).unwrap();
    assert!(json["roster"][0]["first_join"].is_null());
    assert!(json["roster"][0]["late_seconds"].is_null());
    // And it reads back.
    let back: Roster = serde_json::from_value(json).unwrap();
    assert_eq!(back.roster[0].status, Status::Absent);
}

#[test]
fn extreme_times_never_panic() {
    use attend_core::attendance::{InstanceInput, Window};
    use attend_core::model::InstanceId;
    use chrono::{DateTime, Utc};
    let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    let mut input = InstanceInput::new(InstanceId::from("i"), Window::ended(min, max), max);
    input.registered = vec![uid("alice")];
    input.connections.push(conn(
        "c",
        user("alice"),
        Some("z"),
        &[(A::Joined, min), (A::BreakoutJoined, max), (A::Left, max)],
    ));
    input
        .report_rows
        .push(row(user("alice"), Some("z"), min, max));
    input.manual.push(manual("alice", min, max));
    let roster = compute_instance(&input);
    let alice = record(&roster, "alice");
    assert!(alice.attendance_ratio <= 1.0);
    assert_eq!(alice.first_join, Some(min));
    let total = attend_core::attendance::aggregate(&[roster.clone(), roster], &Policy::default());
    assert!(total.is_some());
}

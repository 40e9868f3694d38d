//! The aggregate over a meeting's instances, with hand-computed expectations.
//!
//! Instance 1 runs 10:00–11:00 (3600 s), instance 2 12:00–12:30 (1800 s): 5400 s in all.

mod engine_support;

use attend_core::attendance::{InstanceInput, Roster, Window, aggregate, compute_instance};
use attend_core::model::{InstanceId, InstanceState, MatchedBy, Policy, Status};
use engine_support::*;

fn second_instance() -> InstanceInput {
    InstanceInput::new(
        InstanceId::from("inst-2"),
        Window::ended(m(120), m(150)),
        m(160),
    )
}

fn instances() -> (Roster, Roster) {
    let mut first = instance(0, 60);
    first.state = InstanceState::Final;
    first.registered = vec![uid("alice"), uid("bob"), uid("carol")];
    first.connections.push(stay("a1", user("alice"), 0, 60));
    first.connections.push(stay("c1", user("carol"), 10, 60));
    first
        .connections
        .push(stay("d1", Subject::user("dave", MatchedBy::Email), 0, 60));
    first
        .connections
        .push(stay("g1", guest("name:G", "G"), 0, 30));
    let mut second = second_instance();
    second.registered = first.registered.clone();
    second.connections.push(stay("a2", user("alice"), 120, 150));
    second.connections.push(stay("b2", user("bob"), 120, 150));
    second.connections.push(stay("c2", user("carol"), 120, 150));
    second.connections.push(stay(
        "d2",
        Subject::user("dave", MatchedBy::Email),
        120,
        135,
    ));
    second
        .connections
        .push(stay("g2", guest("name:G", "G"), 120, 130));
    (compute_instance(&first), compute_instance(&second))
}

use attend_core::attendance::Subject;

#[test]
fn sums_times_and_joins_and_applies_the_rules_to_the_whole_span() {
    let (first, second) = instances();
    // Order does not matter.
    let total = aggregate(&[second.clone(), first.clone()], &Policy::default()).unwrap();
    assert_eq!(
        total,
        aggregate(&[first, second], &Policy::default()).unwrap()
    );
    assert_eq!(total.instance, None);
    assert_eq!((total.window.start, total.window.end), (m(0), m(150)));
    assert_eq!(total.state, InstanceState::Provisional);

    let alice = total.record(&uid("alice")).unwrap();
    assert_eq!(
        (alice.attended_seconds, alice.attendance_ratio),
        (5400, 1.0)
    );
    assert_eq!((alice.joins, alice.status), (2, Status::Present));
    assert_eq!(
        (alice.first_join, alice.last_leave),
        (Some(m(0)), Some(m(150)))
    );
    assert_eq!(alice.intervals.len(), 2);
    assert_eq!(alice.intervals[0].join, m(0));
    assert_eq!(alice.intervals[1].leave, m(150));

    let bob = total.record(&uid("bob")).unwrap();
    assert_eq!((bob.attended_seconds, bob.attendance_ratio), (1800, 0.3333));
    assert_eq!(bob.status, Status::Partial);
    assert_eq!(
        bob.late_seconds,
        Some(7200),
        "late by the gap since the first start"
    );

    let carol = total.record(&uid("carol")).unwrap();
    assert_eq!(
        (carol.attended_seconds, carol.attendance_ratio),
        (4800, 0.8889)
    );
    assert_eq!(
        (carol.status, carol.late_seconds),
        (Status::Late, Some(600))
    );

    let dave = total.record(&uid("dave")).unwrap();
    assert_eq!(
        (dave.attended_seconds, dave.attendance_ratio),
        (4500, 0.8333)
    );
    assert_eq!(dave.status, Status::LeftEarly);
    assert!(!dave.registered);
    assert_eq!(dave.matched_by, Some(MatchedBy::Email));

    let guest = total.unmatched_person("name:G").unwrap();
    assert_eq!((guest.attended_seconds, guest.joins), (2400, 2));
    assert_eq!(guest.display_name.as_deref(), Some("G"));
    assert_eq!(
        (guest.first_join, guest.last_leave),
        (Some(m(0)), Some(m(130)))
    );

    let s = total.summary;
    assert_eq!(s.registered, 3);
    assert_eq!(
        (s.present, s.late, s.left_early, s.partial, s.absent),
        (1, 1, 1, 1, 0)
    );
    assert_eq!(s.unmatched, 1);
}

#[test]
fn the_policy_passed_decides_the_statuses() {
    let (first, second) = instances();
    let strict = Policy {
        required_ratio: 0.85,
        ..Policy::default()
    };
    let total = aggregate(&[first, second], &strict).unwrap();
    assert_eq!(total.record(&uid("dave")).unwrap().status, Status::Partial);
    assert_eq!(total.record(&uid("carol")).unwrap().status, Status::Late);
}

#[test]
fn state_is_live_then_provisional_then_final() {
    let (mut first, mut second) = instances();
    first.state = InstanceState::Final;
    second.state = InstanceState::Final;
    let state = |a: &Roster, b: &Roster| {
        aggregate(&[a.clone(), b.clone()], &Policy::default())
            .unwrap()
            .state
    };
    assert_eq!(state(&first, &second), InstanceState::Final);
    second.state = InstanceState::Provisional;
    assert_eq!(state(&first, &second), InstanceState::Provisional);
    first.state = InstanceState::Live;
    assert_eq!(state(&first, &second), InstanceState::Live);
}

#[test]
fn a_single_instance_aggregates_to_itself_but_for_the_instance() {
    let (first, _) = instances();
    let total = aggregate(std::slice::from_ref(&first), &Policy::default()).unwrap();
    assert_eq!(total.roster, first.roster);
    assert_eq!(total.unmatched, first.unmatched);
    assert_eq!(total.summary, first.summary);
    assert_eq!(total.window, first.window);
    assert_eq!(total.instance, None);
}

#[test]
fn no_instances_is_none() {
    assert!(aggregate(&[], &Policy::default()).is_none());
}

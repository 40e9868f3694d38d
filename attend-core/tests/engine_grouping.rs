//! Building engine input from stored events: grouping per connection and person keys.

mod engine_support;

use attend_core::attendance::{Subject, compute_instance, connections_from_events};
use attend_core::model::{
    ConnectionKey, IdentityHints, InstanceId, MatchedBy, ParticipantAction as A, ParticipantEvent,
};
use engine_support::*;

fn event(connection: &str, action: A, minute: i64, hints: IdentityHints) -> ParticipantEvent {
    ParticipantEvent {
        instance: InstanceId::from("inst-1"),
        connection: ConnectionKey::from(connection),
        action,
        at: m(minute),
        hints,
    }
}

fn stored_events() -> Vec<ParticipantEvent> {
    let registrant = IdentityHints {
        registrant_id: Some("r-alice".into()),
        zoom_user_id: Some("16778240".into()),
        user_name: Some("Alice".into()),
        ..IdentityHints::default()
    };
    let leave_hints = IdentityHints {
        registrant_id: Some(String::new()), // Zoom's empty string is no value
        user_name: Some("Alice (phone)".into()),
        ..IdentityHints::default()
    };
    let guest = IdentityHints {
        email: Some(" Guest@Example.ORG ".into()),
        user_name: Some("Guest".into()),
        zoom_user_id: Some("16778241".into()),
        ..IdentityHints::default()
    };
    let host = IdentityHints {
        participant_user_id: Some("host-zoom-id".into()),
        ..IdentityHints::default()
    };
    vec![
        event("p-alice", A::Left, 50, leave_hints),
        event("p-guest", A::Joined, 5, guest.clone()),
        event("p-host", A::Joined, 0, host.clone()),
        event("p-alice", A::Joined, 1, registrant.clone()),
        event("p-alice", A::Joined, 1, registrant),
        event("p-guest", A::Left, 20, guest),
        event("p-host", A::Left, 60, host),
    ]
}

fn resolve(key: &ConnectionKey, hints: &IdentityHints) -> Option<Subject> {
    if hints.participant_user_id.as_deref() == Some("host-zoom-id") {
        return None;
    }
    if hints.registrant_id.as_deref() == Some("r-alice") {
        return Some(Subject::user("alice", MatchedBy::RegistrantId));
    }
    Some(Subject::unmatched_from_hints(hints, key))
}

#[test]
fn groups_per_connection_merges_hints_and_leaves_the_host_out() {
    let mut seen = Vec::new();
    let connections = connections_from_events(&stored_events(), |key, hints| {
        seen.push((key.clone(), hints.clone()));
        resolve(key, hints)
    });
    let keys: Vec<&str> = connections.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["p-alice", "p-guest"]);
    assert_eq!(seen.len(), 3, "resolve is called once per connection");
    let alice_hints = &seen
        .iter()
        .find(|(k, _)| k.as_str() == "p-alice")
        .unwrap()
        .1;
    assert_eq!(alice_hints.registrant_id.as_deref(), Some("r-alice"));
    assert_eq!(
        alice_hints.user_name.as_deref(),
        Some("Alice"),
        "the earliest value wins"
    );
    assert_eq!(connections[0].zoom_user_id.as_deref(), Some("16778240"));
    assert_eq!(
        connections[0].events.len(),
        3,
        "duplicates are left to the engine"
    );
    assert_eq!(
        connections[1].subject,
        Subject::Unmatched {
            person_key: "email:guest@example.org".into(),
            display_name: Some("Guest".into()),
            email: Some("Guest@Example.ORG".into()),
        }
    );

    let mut input = instance(0, 60);
    input.connections = connections;
    let roster = compute_instance(&input);
    assert_eq!(
        roster.record(&uid("alice")).unwrap().attended_seconds,
        49 * 60
    );
    assert_eq!(roster.unmatched.len(), 1);
    assert_eq!(roster.unmatched[0].attended_seconds, 15 * 60);
}

#[test]
fn grouping_does_not_depend_on_event_order() {
    let events = stored_events();
    let mut reversed = events.clone();
    reversed.reverse();
    assert_eq!(
        connections_from_events(&events, resolve)
            .into_iter()
            .map(|mut c| {
                c.events.sort();
                c
            })
            .collect::<Vec<_>>(),
        connections_from_events(&reversed, resolve)
            .into_iter()
            .map(|mut c| {
                c.events.sort();
                c
            })
            .collect::<Vec<_>>()
    );
}

#[test]
fn merged_hints_take_the_earliest_value_ties_by_value_in_any_order() {
    let named = |name: &str| IdentityHints {
        user_name: Some(name.into()),
        ..IdentityHints::default()
    };
    // Two joins in the same minute with different names, a later leave with a name that
    // sorts first, and, on another connection, an earlier event against a smaller value.
    let events = vec![
        event("c-1", A::Joined, 3, named("Zed")),
        event("c-1", A::Joined, 3, named("Amy")),
        event("c-1", A::Left, 9, named("Aaron")),
        event("c-2", A::Joined, 2, named("Zoe")),
        event("c-2", A::Joined, 4, named("Abe")),
    ];
    let names = |events: &[ParticipantEvent]| {
        let mut seen = Vec::new();
        connections_from_events(events, |key, hints| {
            seen.push((key.as_str().to_owned(), hints.user_name.clone()));
            None
        });
        seen.sort();
        seen
    };
    let expected = vec![
        ("c-1".to_owned(), Some("Amy".to_owned())),
        ("c-2".to_owned(), Some("Zoe".to_owned())),
    ];
    assert_eq!(names(&events), expected, "earliest, then smallest value");
    let mut reversed = events.clone();
    reversed.reverse();
    assert_eq!(
        names(&reversed),
        expected,
        "the stored order does not matter"
    );
}

#[test]
fn person_keys_prefer_email_then_name_then_connection() {
    let key = ConnectionKey::from("c-9");
    let hints = |email: Option<&str>, name: Option<&str>| IdentityHints {
        email: email.map(str::to_owned),
        user_name: name.map(str::to_owned),
        ..IdentityHints::default()
    };
    assert_eq!(
        Subject::person_key(&hints(Some(" A@B.org"), Some("Ann")), &key),
        "email:a@b.org"
    );
    assert_eq!(
        Subject::person_key(&hints(Some("  "), Some(" Ann ")), &key),
        "name:Ann"
    );
    assert_eq!(
        Subject::person_key(&hints(None, Some("")), &key),
        "connection:c-9"
    );
    assert_eq!(
        Subject::unmatched_from_hints(&hints(Some(""), Some("Ann")), &key),
        Subject::Unmatched {
            person_key: "name:Ann".into(),
            display_name: Some("Ann".into()),
            email: None,
        }
    );
}

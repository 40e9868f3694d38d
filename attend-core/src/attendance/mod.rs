//! The pure attendance engine: evidence of presence in, roster out.
//!
//! Plain functions over plain data — no I/O, no async, no clock. The service layer loads the
//! stored events, report rows and manual intervals of an instance, decides who each connection
//! is ([`Subject`]), and calls [`compute_instance`]; [`aggregate`] then combines the instance
//! rosters of a meeting. The output ([`Roster`]) serializes with the field names of API.md's
//! `Attendance` object (the caller adds `meeting_id`).
//!
//! ```
//! use attend_core::attendance::{compute_instance, Connection, ConnectionEvent, InstanceInput, Subject, Window};
//! use attend_core::model::{ConnectionKey, InstanceId, MatchedBy, ParticipantAction, Status, UserId};
//! use chrono::{TimeZone, Utc};
//!
//! let at = |minute| Utc.with_ymd_and_hms(2025, 3, 1, 9, minute, 0).unwrap();
//! let mut input = InstanceInput::new(InstanceId::from("uuid=="), Window::ended(at(0), at(50)), at(59));
//! input.registered = vec![UserId::from("alice"), UserId::from("bob")];
//! input.connections.push(Connection {
//!     key: ConnectionKey::from("p1"),
//!     subject: Subject::user("alice", MatchedBy::RegistrantId),
//!     zoom_user_id: Some("16778240".into()),
//!     events: vec![
//!         ConnectionEvent::new(ParticipantAction::Joined, at(2)),
//!         ConnectionEvent::new(ParticipantAction::Left, at(44)),
//!     ],
//! });
//! let roster = compute_instance(&input);
//! let alice = roster.record(&UserId::from("alice")).unwrap();
//! assert_eq!((alice.attended_seconds, alice.status), (42 * 60, Status::LeftEarly));
//! assert_eq!(roster.record(&UserId::from("bob")).unwrap().status, Status::Absent);
//! ```
//!
//! # Rules
//!
//! These implement DESIGN.md "Attendance semantics" and API.md "Precise rules"; where those
//! leave a choice, the choice is written here.
//!
//! **Window.** `[start, end]`, with `now` standing in for the end while live (and the state
//! then forced to `live`). An end before the start makes an empty window. Every interval is
//! clipped to the window. Times are handled with microsecond precision.
//!
//! **One connection** ([`Connection`]) is replayed as a state machine over *out*, *waiting
//! room*, *main meeting* and *breakout room*. Its events are ordered by their own timestamp
//! (never by arrival) and exact duplicates (same time, same action) are dropped, so arrival
//! order and re-deliveries change nothing. Events at the same instant are applied in the order
//! in which each changes something (first in [`ParticipantAction`](crate::model::ParticipantAction) declaration order): a move
//! between breakout rooms (`BreakoutLeft` + `BreakoutJoined` at one instant) stays in a
//! breakout room, `Left` + `Joined` at one instant stays in. Events that change nothing are
//! ignored: only `Joined` brings a connection in (a breakout event of a connection that is out
//! never opens presence), a second `Joined` is ignored, `Left` from a breakout room leaves.
//! A connection still in at its last event is closed at the window end.
//!
//! **Counted presence** is main-meeting time, plus breakout-room time when
//! [`Policy::count_breakout_rooms`](crate::model::Policy::count_breakout_rooms); waiting-room time never counts.
//!
//! **Attended time** of a user (or unmatched person) is the length of the union of all their
//! counted intervals — every device and rejoin, report rows, manual intervals — clipped to
//! the window; `attended_seconds` truncates it to whole seconds. `attendance_ratio` is the
//! union length over the window length (0 for an empty window), rounded to 4 decimals for
//! showing; the `partial` rule compares the unrounded value.
//!
//! **Joins** count connections that were in the meeting at some instant within the window:
//! each webhook connection that entered the main meeting (a breakout move and return is no
//! join; waiting-room-only is no join), plus each report row that is no webhook connection.
//! Manual intervals are no connection and add no join.
//!
//! **Report rows** ([`ReportInterval`]). A row with the same subject and the same Zoom user
//! id as a webhook connection, whose time overlaps that connection's time in the meeting, *is*
//! that connection: its time joins the union (it can only add, never remove webhook time) and
//! it adds no join (it makes the connection a join if the webhooks alone did not). If several
//! connections qualify, the one with the largest overlap wins. With `count_breakout_rooms`
//! off, the time the webhooks show that connection in breakout rooms is cut out of the row
//! (reports have no breakout rows, so the row would otherwise re-add it). Any other row is a
//! connection of its own — except that rows of one subject with the same Zoom user id whose
//! times overlap, and exact duplicate rows, are one connection (one join). A row's time is
//! always credited to the row's own subject, so a row can never take time from anyone.
//!
//! **Status**, first match wins: `absent` (no counted presence at all) → `partial` (ratio
//! below `required_ratio`) → `late` (first join strictly later than start +
//! `late_after_seconds`) → `left_early` (last leave strictly earlier than end −
//! `left_early_before_end_seconds`) → `present`. While live, the end is `now`.
//! `first_join`/`last_leave` are the bounds of the counted presence (so never set by waiting
//! room time, nor by breakout time when that does not count); `late_seconds` is
//! `max(0, first_join − start)` in whole seconds, whatever the status; all three are `null`
//! for absent users.
//!
//! **People.** Every registered user has a record (absent if never seen); every user that
//! appears as a [`Subject::User`] or in a [`ManualInterval`] has one too, with
//! `registered: false` unless registered (even when all their time was in the waiting room).
//! `matched_by` is the strongest way any of their evidence was matched (manual intervals count
//! as [`MatchedBy::Manual`](crate::model::MatchedBy::Manual)), `None` if never seen. Unmatched participants are grouped by
//! person key, each shown with the display name and email of their earliest evidence.
//! `summary` counts every roster record by status, `registered` counts registered users only,
//! `unmatched` counts unmatched people.
//!
//! **Intervals** in the output are the pieces of the union, labelled with the preferred source
//! where sources overlap (`webhook` over `report` over `manual`); see [`PresenceInterval`].
//!
//! **Order.** The roster is sorted by user id and the unmatched list by person key: equal
//! inputs, in whatever order, give equal rosters.
//!
//! # Cost
//!
//! `compute_instance` makes one pass over the input (sorting each connection's few events,
//! hashing each subject key once), distributes compact facts into partitions by key hash, and
//! computes each partition on its own, so that the work per person stays in the caches and the
//! time grows linearly with the input; the final order is a merge of sorted runs of small
//! inline keys. Inputs of 50,000 items or more use up to `available_parallelism` scoped
//! threads (joined before it returns; same result). A 50,000-participant webinar with five
//! connections each takes about 125 ms on a shared 2-core machine, 10× that input about 10×
//! the time: see BENCHMARKS.md, "Attendance engine". Memory is about 100 bytes per input item
//! besides the output. Nothing here panics on any input: times are microseconds in an `i64`
//! (chrono's whole range fits, differences saturate), counts saturate.
//!
//! # For the service layer
//!
//! - Build one [`Connection`] per connection key of the instance, with its [`Subject`] decided
//!   by identity resolution ([`connections_from_events`] groups stored events and asks a
//!   resolver, which returns `None` for the meeting's host). Give it the connection's Zoom
//!   `user_id` so report rows can be recognised.
//! - For an unmatched participant use [`Subject::unmatched_from_hints`] (or at least
//!   [`Subject::person_key`]) so that person keys are stable: they are shown as
//!   `participant_key` and used by the manual-link route. After an instructor links a person
//!   key to a user, pass that person's evidence as `Subject::User { matched_by: Manual, .. }`.
//! - Resolve a report row and the webhook connection it belongs to to the same subject: a row
//!   whose subject differs from the connection's is counted as a connection of its own.
//! - Leave out report rows whose status is `in_waiting_room`.

mod aggregate;
mod connection;
mod engine;
mod input;
mod intern;
mod output;
mod partition;
mod rules;
mod time;
mod timeline;

pub use self::aggregate::aggregate;
pub use self::engine::compute_instance;
pub use self::input::{
    Connection, ConnectionEvent, InstanceInput, ManualInterval, ReportInterval, Subject, Window,
    connections_from_events,
};
pub(crate) use self::input::{ConnectionGroup, connections_from_groups, group_by_connection};
pub use self::output::{
    PresenceInterval, Roster, RosterRecord, RosterWindow, Summary, UnmatchedRecord,
};

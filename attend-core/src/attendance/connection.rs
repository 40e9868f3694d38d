//! The per-connection state machine: events in, segments of presence out.

use crate::model::ParticipantAction;

/// Where a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Not in the meeting (before joining, after leaving).
    Out,
    /// In the waiting room (never counted).
    Waiting,
    /// In the main meeting.
    Main,
    /// In a breakout room.
    Breakout,
}

impl Place {
    fn in_meeting(self) -> bool {
        matches!(self, Place::Main | Place::Breakout)
    }
}

/// One stretch of a connection in the meeting, unclipped, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Start.
    pub(crate) start: i64,
    /// End (never before `start`).
    pub(crate) end: i64,
    /// Whether the stretch was spent in a breakout room.
    pub(crate) breakout: bool,
}

/// Where `action` takes a connection that is at `place`, or `None` when it changes nothing.
///
/// Only `Joined` brings a connection into the meeting: breakout events of a connection that is
/// out (e.g. a `BreakoutLeft` stamped a second after the `Left` of someone who left from a
/// breakout room) never open presence that would then run to the end of the window.
fn next(place: Place, action: ParticipantAction) -> Option<Place> {
    use ParticipantAction as A;
    let to = match (place, action) {
        (Place::Waiting, A::WaitingRoomJoined) => return None,
        (_, A::WaitingRoomJoined) => Place::Waiting,
        (Place::Waiting, A::WaitingRoomLeft) => Place::Out,
        (Place::Main, A::Joined) => return None,
        (_, A::Joined) => Place::Main,
        (Place::Main, A::BreakoutJoined) => Place::Breakout,
        (Place::Breakout, A::BreakoutLeft) => Place::Main,
        (Place::Out, A::Left) => return None,
        (_, A::Left) => Place::Out,
        _ => return None,
    };
    Some(to)
}

/// Replays one connection's events and appends its stretches in the meeting to `out`.
///
/// `events` must be sorted by `(time, action)` with exact duplicates removed, so that at most
/// six events share a timestamp. Events sharing a timestamp are applied in the order that
/// makes each one change something: repeatedly the first (in [`ParticipantAction`] order)
/// that changes the place. So `BreakoutLeft` + `BreakoutJoined` at one instant (a move
/// between rooms) ends in a breakout room, and `Left` + `Joined` at one instant ends in the
/// main meeting. Events that change nothing are ignored (a second `Joined`, a `Left` while
/// out, a `BreakoutLeft` in the main meeting).
///
/// A connection still in the meeting after its last event is closed at `window.1` (or at its
/// last change, if that is later). Appended segments are in time order, do not overlap and
/// are never empty.
///
/// Returns whether the connection was in the meeting at some instant inside the closed
/// `window` (`(start, end)`): that is what makes it a join. A connection that joined and left
/// at one instant inside the window is a join without any segment.
pub(crate) fn replay(
    events: &[(i64, ParticipantAction)],
    window: (i64, i64),
    out: &mut Vec<Segment>,
) -> bool {
    let mut place = Place::Out;
    let mut since = 0_i64;
    let mut entered = false;
    let mut close = |start: i64, end: i64, breakout: bool, entered: &mut bool| {
        if start <= window.1 && end >= window.0 {
            *entered = true;
        }
        if end > start {
            out.push(Segment {
                start,
                end,
                breakout,
            });
        }
    };
    let mut rest = events;
    while let Some(&(at, _)) = rest.first() {
        let same = rest.iter().take_while(|(t, _)| *t == at).count();
        let (group, tail) = rest.split_at(same);
        rest = tail;
        let mut used: u64 = 0;
        while let Some((index, to)) = group
            .iter()
            .take(64)
            .enumerate()
            .filter(|(index, _)| used & (1 << index) == 0)
            .find_map(|(index, &(_, action))| next(place, action).map(|to| (index, to)))
        {
            used |= 1 << index;
            if place.in_meeting() {
                close(since, at, place == Place::Breakout, &mut entered);
            }
            if to.in_meeting() {
                since = at;
            }
            place = to;
        }
    }
    if place.in_meeting() {
        close(
            since,
            window.1.max(since),
            place == Place::Breakout,
            &mut entered,
        );
    }
    entered
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParticipantAction as A;

    fn run_entered(
        events: &[(i64, ParticipantAction)],
        close_at: i64,
    ) -> (Vec<(i64, i64, bool)>, bool) {
        let mut sorted = events.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = Vec::new();
        let entered = replay(&sorted, (0, close_at), &mut out);
        (
            out.iter().map(|s| (s.start, s.end, s.breakout)).collect(),
            entered,
        )
    }

    fn run(events: &[(i64, ParticipantAction)], close_at: i64) -> Vec<(i64, i64, bool)> {
        run_entered(events, close_at).0
    }

    #[test]
    fn join_leave_is_one_segment() {
        assert_eq!(
            run(&[(10, A::Joined), (50, A::Left)], 100),
            [(10, 50, false)]
        );
    }

    #[test]
    fn missing_leave_closes_at_end() {
        assert_eq!(run(&[(10, A::Joined)], 100), [(10, 100, false)]);
    }

    #[test]
    fn waiting_room_never_a_segment_nor_a_join() {
        assert_eq!(
            run_entered(&[(0, A::WaitingRoomJoined), (40, A::Left)], 100),
            (vec![], false)
        );
        let events = [
            (0, A::WaitingRoomJoined),
            (30, A::WaitingRoomLeft),
            (30, A::Joined),
            (60, A::Left),
        ];
        assert_eq!(run(&events, 100), [(30, 60, false)]);
        assert!(run(&[(0, A::WaitingRoomJoined), (40, A::Left)], 100).is_empty());
        assert!(run(&[(0, A::WaitingRoomJoined)], 100).is_empty());
    }

    #[test]
    fn breakout_move_and_return() {
        let events = [
            (0, A::Joined),
            (10, A::BreakoutJoined),
            (20, A::BreakoutLeft),
            (30, A::Left),
        ];
        assert_eq!(
            run(&events, 100),
            [(0, 10, false), (10, 20, true), (20, 30, false)]
        );
    }

    #[test]
    fn leave_from_breakout_counts_until_leave() {
        let events = [
            (0, A::Joined),
            (10, A::BreakoutJoined),
            (25, A::Left),
            (26, A::BreakoutLeft),
        ];
        assert_eq!(run(&events, 100), [(0, 10, false), (10, 25, true)]);
    }

    #[test]
    fn breakout_events_never_open_presence() {
        assert!(run(&[(5, A::BreakoutJoined), (9, A::BreakoutLeft)], 100).is_empty());
    }

    #[test]
    fn room_switch_at_one_instant_stays_in_breakout() {
        let events = [
            (0, A::Joined),
            (10, A::BreakoutJoined),
            (20, A::BreakoutLeft),
            (20, A::BreakoutJoined),
            (30, A::Left),
        ];
        assert_eq!(
            run(&events, 100),
            [(0, 10, false), (10, 20, true), (20, 30, true)]
        );
    }

    #[test]
    fn leave_and_join_at_one_instant_stays_in() {
        let events = [(0, A::Joined), (20, A::Left), (20, A::Joined)];
        assert_eq!(run(&events, 100), [(0, 20, false), (20, 100, false)]);
    }

    #[test]
    fn join_and_leave_at_one_instant_is_empty_segment() {
        assert_eq!(
            run_entered(&[(7, A::Left), (7, A::Joined)], 100),
            (vec![], true)
        );
    }

    #[test]
    fn put_back_in_waiting_room_stops_counting() {
        let events = [
            (0, A::Joined),
            (10, A::WaitingRoomJoined),
            (20, A::WaitingRoomLeft),
            (20, A::Joined),
            (30, A::Left),
        ];
        assert_eq!(run(&events, 100), [(0, 10, false), (20, 30, false)]);
    }

    #[test]
    fn second_join_is_ignored() {
        assert_eq!(
            run(&[(0, A::Joined), (10, A::Joined), (30, A::Left)], 100),
            [(0, 30, false)]
        );
    }

    #[test]
    fn events_after_close_are_no_join() {
        assert_eq!(run_entered(&[(150, A::Joined)], 100), (vec![], false));
        assert_eq!(
            run_entered(&[(-50, A::Joined), (-10, A::Left)], 100),
            (vec![(-50, -10, false)], false)
        );
        assert!(run_entered(&[(-50, A::Joined), (0, A::Left)], 100).1);
    }
}

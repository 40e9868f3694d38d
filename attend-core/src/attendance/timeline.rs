//! Union of intervals, with each piece of the union labelled by its preferred source.

use crate::model::IntervalSource;

/// An interval in microseconds with its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// Start.
    pub(crate) start: i64,
    /// End.
    pub(crate) end: i64,
    /// Where it comes from.
    pub(crate) source: IntervalSource,
}

/// Preference when sources overlap: lower wins.
fn rank(source: IntervalSource) -> usize {
    match source {
        IntervalSource::Webhook => 0,
        IntervalSource::Report => 1,
        IntervalSource::Manual => 2,
    }
}

const BY_RANK: [IntervalSource; 3] = [
    IntervalSource::Webhook,
    IntervalSource::Report,
    IntervalSource::Manual,
];

/// Appends the union of `pieces` to `out` and returns its total length.
///
/// The appended pieces are in time order, disjoint and non-empty; each is labelled with the
/// preferred source among those covering it (webhook, then report, then manual), and touching
/// pieces with the same label are merged. Empty or inverted input pieces are ignored.
/// `pieces` is reordered; `scratch` is working memory.
pub(crate) fn union(
    pieces: &mut [Piece],
    scratch: &mut Vec<(i64, usize, i32)>,
    out: &mut Vec<Piece>,
) -> i64 {
    let first_out = out.len();
    let mut total = 0_i64;
    let mut emit = |start: i64, end: i64, source: IntervalSource, out: &mut Vec<Piece>| {
        total = total.saturating_add(end.saturating_sub(start));
        let mergeable = out.len() > first_out;
        match out.last_mut() {
            Some(last) if mergeable && last.end == start && last.source == source => {
                last.end = end;
            }
            _ => out.push(Piece { start, end, source }),
        }
    };
    let single_source = pieces
        .first()
        .is_none_or(|first| pieces.iter().all(|piece| piece.source == first.source));
    if single_source {
        pieces.sort_unstable_by_key(|piece| (piece.start, piece.end));
        let mut current: Option<(i64, i64)> = None;
        for piece in pieces.iter().filter(|piece| piece.end > piece.start) {
            current = match current {
                Some((start, end)) if piece.start <= end => Some((start, end.max(piece.end))),
                Some((start, end)) => {
                    emit(start, end, piece.source, out);
                    Some((piece.start, piece.end))
                }
                None => Some((piece.start, piece.end)),
            };
        }
        if let (Some((start, end)), Some(first)) = (current, pieces.first()) {
            emit(start, end, first.source, out);
        }
        return total;
    }
    scratch.clear();
    for piece in pieces.iter().filter(|piece| piece.end > piece.start) {
        scratch.push((piece.start, rank(piece.source), 1));
        scratch.push((piece.end, rank(piece.source), -1));
    }
    scratch.sort_unstable();
    let mut open = [0_i32; 3];
    let mut index = 0;
    while index < scratch.len() {
        let at = scratch[index].0;
        while let Some(&(_, rank, delta)) = scratch.get(index).filter(|b| b.0 == at) {
            open[rank] += delta;
            index += 1;
        }
        if let (Some(&(next, _, _)), Some(best)) =
            (scratch.get(index), open.iter().position(|&count| count > 0))
        {
            emit(at, next, BY_RANK[best], out);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use IntervalSource::{Manual as M, Report as R, Webhook as W};

    fn run(input: &[(i64, i64, IntervalSource)]) -> (Vec<(i64, i64, IntervalSource)>, i64) {
        let mut pieces: Vec<Piece> = input
            .iter()
            .map(|&(start, end, source)| Piece { start, end, source })
            .collect();
        let mut out = vec![Piece {
            start: -10,
            end: 0,
            source: W,
        }];
        let total = union(&mut pieces, &mut Vec::new(), &mut out);
        let out = out[1..]
            .iter()
            .map(|p| (p.start, p.end, p.source))
            .collect();
        (out, total)
    }

    #[test]
    fn overlapping_same_source_merge() {
        assert_eq!(
            run(&[(10, 30, W), (0, 20, W), (40, 50, W)]),
            (vec![(0, 30, W), (40, 50, W)], 40)
        );
    }

    #[test]
    fn touching_pieces_merge_but_not_with_earlier_output() {
        assert_eq!(run(&[(0, 10, W), (10, 20, W)]), (vec![(0, 20, W)], 20));
    }

    #[test]
    fn contained_piece_adds_nothing() {
        assert_eq!(run(&[(0, 100, W), (10, 20, W)]), (vec![(0, 100, W)], 100));
    }

    #[test]
    fn empty_and_inverted_pieces_are_ignored() {
        assert_eq!(run(&[(5, 5, W), (9, 3, R)]), (vec![], 0));
        assert_eq!(run(&[]), (vec![], 0));
    }

    #[test]
    fn preferred_source_labels_overlap() {
        assert_eq!(
            run(&[(5, 25, R), (10, 20, W), (0, 30, M)]),
            (
                vec![(0, 5, M), (5, 10, R), (10, 20, W), (20, 25, R), (25, 30, M)],
                30
            )
        );
    }

    #[test]
    fn gaps_between_mixed_sources_stay() {
        assert_eq!(
            run(&[(0, 10, W), (20, 30, R), (25, 40, R)]),
            (vec![(0, 10, W), (20, 40, R)], 30)
        );
    }
}

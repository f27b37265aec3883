//! Hard-cut detection from kept per-frame scores: adaptive to a rolling window, blind to
//! single-frame flashes and to the sustained change of fast camera motion.

use crate::time::{Ticks, ticks_from_secs};

use super::{ClipParams, FrameScore};

/// A cut must be at least this many times the local change level (busy clips need a
/// clearly bigger jump than their usual frame-to-frame change).
pub(crate) const MIN_RATIO: f32 = 1.8;
/// Between steady shots a change of this share of the threshold is a cut when it is at
/// least `QUIET_RATIO` times the local change level.
pub(crate) const QUIET_SHARE: f32 = 0.5;
const QUIET_RATIO: f32 = 5.0;
/// Share of the next frame's change counted against a cut candidate.
const NEXT_WEIGHT: f32 = 0.5;
/// After a flash the frame matches the one before the flash: its skip-one change stays
/// below this share of the flash frame's change.
const FLASH_MATCH: f32 = 0.5;

/// A cut candidate: entry index and how far it stands out.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    index: usize,
    prominence: f32,
}

/// Indices of the entries that start a new shot, in time order.
///
/// `inside_gradual` spans (entry indices, inclusive) and the frames next to them never
/// hold a cut.
pub(crate) fn find_cuts(
    scores: &[FrameScore],
    params: &ClipParams,
    inside_gradual: &[(usize, usize)],
) -> Vec<usize> {
    let window = ticks_from_secs(params.window_secs);
    let mut candidates = Vec::new();
    for (i, s) in scores.iter().enumerate().skip(1) {
        // A cut can only be placed exactly between two consecutive frames.
        if !s.adjacent || s.diff < QUIET_SHARE * params.threshold {
            continue;
        }
        let diff_of = |j: usize| scores.get(j).filter(|n| n.adjacent).map_or(0.0, |n| n.diff);
        let prev = diff_of(i - 1);
        let next = diff_of(i + 1);
        // The new shot may itself open with big changes (an action shot), so the next frame
        // counts half; fast camera motion still fails, its change rises over several frames.
        let local = prev
            .max(NEXT_WEIGHT * next)
            .max(window_median(scores, i, window));
        let prominence = s.diff - local;
        if !stands_out(s.diff, local, params.threshold) {
            continue;
        }
        // A flash: the next frame looks like the one before this one again.
        let after_flash = scores
            .get(i + 1)
            .is_some_and(|n| n.adjacent && n.skip_diff < FLASH_MATCH * s.diff);
        if after_flash {
            continue;
        }
        // The frame on either side of a transition counts as inside it (its first frame
        // can jump when the incoming picture has more structure than the outgoing one).
        if inside_gradual
            .iter()
            .any(|&(a, b)| a.saturating_sub(1) <= i && i <= b + 1)
        {
            continue;
        }
        candidates.push(Candidate {
            index: i,
            prominence,
        });
    }
    suppress_short_scenes(scores, candidates, ticks_from_secs(params.min_scene_secs))
}

/// Whether a change of `diff` against a local change level of `local` stands out as a cut:
/// clearly, or (between steady shots: a camera on a tripod, or handheld once its shake is
/// lined up) a cut between look-alike shots that changes less but stands far above the
/// rest. Fast mode asks the same of the step that ends a refined stretch early.
pub(crate) fn stands_out(diff: f32, local: f32, threshold: f32) -> bool {
    let prominence = diff - local;
    let clear = prominence >= threshold && diff >= MIN_RATIO * local;
    let quiet = prominence >= QUIET_SHARE * threshold && diff >= QUIET_RATIO * local;
    clear || quiet
}

/// Median change of the entries within `window` of entry `i`, leaving out `i`
/// and its two neighbours.
fn window_median(scores: &[FrameScore], i: usize, window: Ticks) -> f32 {
    let Some(centre) = scores.get(i).map(|s| s.time) else {
        return 0.0;
    };
    let mut values: Vec<f32> = scores
        .iter()
        .enumerate()
        .skip(i.saturating_sub(400))
        .take(801)
        // Fast mode's keyframe entries count too: their change spans a whole quiet stretch.
        .filter(|(j, s)| j.abs_diff(i) > 1 && (s.time - centre).abs() <= window)
        .map(|(_, s)| s.diff)
        .collect();
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Keeps the strongest candidates so that no two kept cuts are closer than `min_gap`.
fn suppress_short_scenes(
    scores: &[FrameScore],
    mut candidates: Vec<Candidate>,
    min_gap: Ticks,
) -> Vec<usize> {
    candidates.sort_by(|a, b| b.prominence.total_cmp(&a.prominence));
    let time = |i: usize| scores.get(i).map_or(0, |s| s.time);
    let mut kept: Vec<usize> = Vec::new();
    for c in candidates {
        let t = time(c.index);
        if kept.iter().all(|&k| (time(k) - t).abs() >= min_gap) {
            kept.push(c.index);
        }
    }
    kept.sort_unstable();
    kept
}

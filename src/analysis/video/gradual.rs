//! Gradual transitions: fades through black or white and dissolves, found from the kept
//! per-frame colour layouts (no decoding).
//!
//! A dissolve (and each half of a fade) blends two pictures linearly, so the 4×4 grid means
//! of a frame in the middle sit halfway between those of frames on either side, the change
//! is spread over many frames (no single step carries it) and the path is straight
//! (the frame-to-frame steps add up to about the end-to-end change). Motion fails at least
//! one of these: its grid means wander.

use super::FrameScore;

/// Length of the colour signature: 4×4 grid means of Y, Cb and Cr.
const SIG_LEN: usize = 48;
/// Smallest end-to-end change over a window that can be a transition (mean abs, 0..=1).
const MIN_CHANGE: f32 = 0.04;
/// The middle frame may miss the halfway blend by this share of the change.
const MAX_MID_ERROR: f32 = 0.25;
/// No single frame step may carry more than this share of the change.
const MAX_STEP_SHARE: f32 = 0.34;
/// The summed steps may exceed the end-to-end change by at most this factor.
const MAX_PATH_RATIO: f32 = 1.6;
/// The shots around a transition change at most this share of its rate.
const CALM_SHARE: f32 = 0.5;
/// Frames brighter or darker than this, with little contrast, are a fade's black or white.
const FLAT_CONTRAST: f32 = 0.03;
const DARK: f32 = 0.1;
const LIGHT: f32 = 0.9;

/// Entries further apart than this many nominal frames never share a blend (VFR drops a
/// frame or two; a skipped stretch is far longer).
const MAX_GAP_FRAMES: f64 = 3.5;

type Sig = [f32; SIG_LEN];

fn sig(s: &FrameScore) -> Sig {
    let mut out = [0.0f32; SIG_LEN];
    let all = s.grid_y.iter().chain(&s.grid_u).chain(&s.grid_v);
    for (o, &v) in out.iter_mut().zip(all) {
        *o = f32::from(v) / 255.0;
    }
    out
}

fn dist(a: &Sig, b: &Sig) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / SIG_LEN as f32
}

/// Gradual transitions as entry-index spans `(first changed frame, first frame of the new
/// shot)`, in time order, none touching the clip's first or last frame.
pub(crate) fn find_gradual(scores: &[FrameScore], fps: f64) -> Vec<(usize, usize)> {
    let sigs: Vec<Sig> = scores.iter().map(sig).collect();
    let half = ((fps * 0.2).round() as usize).clamp(3, 30);
    let mut spans = Vec::new();
    // A blend needs consecutive frames: fast mode scores a keyframe that closes a skipped
    // stretch as adjacent (for its cut), but the frames in between were never seen.
    let max_gap = (crate::time::TICKS_PER_SECOND as f64 / fps.max(1.0) * MAX_GAP_FRAMES) as i64;
    for (start, end) in adjacent_runs(scores, max_gap) {
        spans.extend(blends(&sigs, start, end, half));
        spans.extend(fades(scores, start, end));
    }
    merge(spans, half)
}

/// Maximal runs `[start, end)` of entries where each follows the previous frame directly
/// (and at most `max_gap` after it).
fn adjacent_runs(scores: &[FrameScore], max_gap: i64) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut previous_time = scores.first().map_or(0, |s| s.time);
    for (i, s) in scores.iter().enumerate().skip(1) {
        let gap = s.time - previous_time;
        previous_time = s.time;
        if !s.adjacent || gap > max_gap {
            if i - start > 1 {
                runs.push((start, i));
            }
            start = i;
        }
    }
    if scores.len() - start > 1 {
        runs.push((start, scores.len()));
    }
    runs
}

/// Linear blends within the run `[start, end)`.
fn blends(sigs: &[Sig], start: usize, end: usize, half: usize) -> Vec<(usize, usize)> {
    let step = |k: usize| match (sigs.get(k.wrapping_sub(1)), sigs.get(k)) {
        (Some(a), Some(b)) if k > start && k < end => dist(a, b),
        _ => 0.0,
    };
    let mut marked = Vec::new();
    for c in (start + half)..end.saturating_sub(half) {
        let (Some(a), Some(m), Some(b)) = (sigs.get(c - half), sigs.get(c), sigs.get(c + half))
        else {
            continue;
        };
        let change = dist(a, b);
        if change < MIN_CHANGE {
            continue;
        }
        let mut halfway = [0.0f32; SIG_LEN];
        for ((h, x), y) in halfway.iter_mut().zip(a).zip(b) {
            *h = 0.5 * (x + y);
        }
        if dist(m, &halfway) > MAX_MID_ERROR * change {
            continue;
        }
        let steps: Vec<f32> = ((c - half + 1)..=(c + half)).map(step).collect();
        let largest = steps.iter().copied().fold(0.0, f32::max);
        let path: f32 = steps.iter().sum();
        if largest > MAX_STEP_SHARE * change || path > MAX_PATH_RATIO * change {
            continue;
        }
        marked.push(c);
    }
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(&c0) = marked.get(i) {
        let mut j = i;
        while marked
            .get(j + 1)
            .is_some_and(|&n| n <= marked.get(j).map_or(0, |&p| p + 2))
        {
            j += 1;
        }
        let c1 = marked.get(j).copied().unwrap_or(c0);
        i = j + 1;
        // Steady rate of change in the core; the span's ends are where the steps fade out.
        let core: Vec<f32> = (c0..=c1.max(c0 + 1)).map(step).collect();
        let rate = core.iter().sum::<f32>() / core.len().max(1) as f32;
        let quiet = 0.3 * rate;
        let mut s = c0.saturating_sub(half).max(start);
        while s < c0 && step(s + 1) < quiet {
            s += 1;
        }
        let mut e = (c1 + half).min(end.saturating_sub(1));
        while e > c1 && step(e) < quiet {
            e -= 1;
        }
        // The shots on either side change more slowly than the blend between them
        // (continuous change, such as a colour cycle, is no transition).
        let calm = |from: usize, to: usize| {
            let steps: Vec<f32> = (from..to).map(step).collect();
            steps.iter().sum::<f32>() / steps.len().max(1) as f32 <= CALM_SHARE * rate
        };
        let before = calm(s.saturating_sub(half).max(start + 1), s + 1);
        let after = calm(e + 1, (e + 1 + half).min(end));
        if e > s + 2 && s > start && e + 1 < end && before && after {
            spans.push((s + 1, e));
        }
    }
    spans
}

/// Fades through black or white: a run of flat dark or light frames with a ramp on at least
/// one side.
fn fades(scores: &[FrameScore], start: usize, end: usize) -> Vec<(usize, usize)> {
    let flat = |k: usize| {
        scores
            .get(k)
            .is_some_and(|s| s.contrast < FLAT_CONTRAST && (s.luma < DARK || s.luma > LIGHT))
    };
    let level = |k: usize| scores.get(k).map_or((0.0, 0.0), |s| (s.luma, s.contrast));
    let mut spans = Vec::new();
    let mut k = start;
    while k < end {
        if !flat(k) {
            k += 1;
            continue;
        }
        let a = k;
        while k + 1 < end && flat(k + 1) {
            k += 1;
        }
        let b = k;
        k += 1;
        if a == start || b + 1 >= end {
            continue;
        }
        let target = level(a).0;
        // Walk out while each step moves away from black/white and is not negligible.
        let ramp_step = |from: usize, to: usize| {
            let (lf, cf) = level(from);
            let (lt, ct) = level(to);
            let moving = (lf - lt).abs() + (cf - ct).abs() > 0.004;
            moving && (lf - target).abs() + 0.002 >= (lt - target).abs()
        };
        let mut s = a;
        while s > start && ramp_step(s - 1, s) {
            s -= 1;
        }
        let mut e = b;
        while e + 1 < end && ramp_step(e + 1, e) {
            e += 1;
        }
        // A fade has a ramp of a few frames; a cut to black and back is two cuts.
        if (a - s) + (e - b) >= 3 && s > start {
            spans.push((s + 1, e));
        }
    }
    spans
}

/// Sorted union of overlapping spans (or spans at most `gap` entries apart).
fn merge(mut spans: Vec<(usize, usize)>, gap: usize) -> Vec<(usize, usize)> {
    spans.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 + gap => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

//! Gradual transitions (fades, dissolves, wipes), found from the kept per-frame colour
//! layouts (no decoding) and reported as spans with their kind.
//!
//! Every such transition replaces one picture by another over several frames. Between an
//! anchor frame before it (picture A) and one after it (picture B), a dissolve or a fade
//! moves every frame along the straight line from A's 4×4 grid means to B's (a blend is
//! linear in the means); a wipe moves each cell from A's value to B's in one short step,
//! cell after cell across the picture. What tells a transition from motion within one shot
//! is that the change from A to B is far larger than the change the shots on either side
//! show over the same time (a handheld camera wanders all the time, a dissolve happens
//! once), that the frames in between fit the model, and that no single frame carries the
//! change (that is a hard cut).

use super::{FrameScore, TransitionKind};

/// A gradual transition as entry indices: `start` is the first frame that changed, `end`
/// the first frame of the new picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: TransitionKind,
}

/// Length of the colour signature: 4×4 grid means of Y, Cb and Cr.
const SIG_LEN: usize = 48;
const CELLS: usize = 16;
/// Transition lengths tried, seconds (the anchors sit this far apart, plus a margin).
const LENGTHS_SECS: [f64; 7] = [0.2, 0.33, 0.5, 0.75, 1.0, 1.5, 2.2];
/// The shots on either side of a transition are watched at least this long, seconds.
const SHOT_WINDOW_SECS: f64 = 0.6;
/// Smallest change from A to B (root mean square over the signature, 0..=1).
const MIN_CHANGE: f32 = 0.045;
/// The change from A to B must be this many times the change each neighbouring shot shows
/// over the same time.
const MIN_CONTRAST_TO_SHOTS: f32 = 2.5;
/// Largest mean distance of the frames in between from the blend line, as a share of the
/// change (motion in the shots adds some).
const MAX_BLEND_RESIDUAL: f32 = 0.3;
/// No single frame step may carry more than this share of the blend.
const MAX_STEP_SHARE: f32 = 0.45;
/// A wipe cell changes within this share of the transition, and the cells' change times
/// spread over at least `MIN_WIPE_SPREAD` of it.
const MAX_WIPE_CELL_SHARE: f32 = 0.6;
const MIN_WIPE_SPREAD: f32 = 0.35;
/// Share of the changing cells that must step as a wipe's do.
const MIN_WIPE_CELLS_SHARE: f32 = 0.7;
/// Layout correlation above which two pictures are one view, moved.
const SAME_VIEW: f32 = 0.8;
/// A transition's span runs from the first frame this far along the blend to the first
/// that is this close to its end: wide, so no shot keeps a trace of the blend.
const SPAN_EDGE: f32 = 0.04;
/// Frames brighter or darker than this, with little contrast, are a fade's black or white.
const FLAT_CONTRAST: f32 = 0.03;
const DARK: f32 = 0.1;
const LIGHT: f32 = 0.9;

/// Entries further apart than this many nominal frames never share a transition (VFR
/// drops a frame or two; a skipped stretch is far longer).
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

/// Root-mean-square distance of two signatures.
fn dist(a: &Sig, b: &Sig) -> f32 {
    (a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>() / SIG_LEN as f32).sqrt()
}

/// Mean of the signatures of `range` (clamped to the slice).
fn mean_sig(sigs: &[Sig], from: usize, to: usize) -> Sig {
    let mut out = [0.0f32; SIG_LEN];
    let picked = sigs.get(from..to.min(sigs.len())).unwrap_or_default();
    for s in picked {
        for (o, v) in out.iter_mut().zip(s) {
            *o += v;
        }
    }
    let n = picked.len().max(1) as f32;
    out.iter_mut().for_each(|v| *v /= n);
    out
}

fn is_flat(s: &FrameScore) -> bool {
    s.contrast < FLAT_CONTRAST && (s.luma < DARK || s.luma > LIGHT)
}

/// Gradual transitions in time order, none overlapping another.
pub(crate) fn find_gradual(scores: &[FrameScore], fps: f64) -> Vec<Span> {
    let sigs: Vec<Sig> = scores.iter().map(sig).collect();
    let fps = if fps.is_finite() && fps > 1.0 {
        fps
    } else {
        30.0
    };
    // A transition needs consecutive frames: fast mode scores a keyframe that closes a
    // skipped stretch as adjacent (for its cut), but the frames in between were never seen.
    let max_gap = (crate::time::TICKS_PER_SECOND as f64 / fps * MAX_GAP_FRAMES) as i64;
    let mut found: Vec<(f32, Span)> = Vec::new();
    for (start, end) in adjacent_runs(scores, max_gap) {
        let run = Run {
            scores,
            sigs: &sigs,
            start,
            end,
        };
        for secs in LENGTHS_SECS {
            let len = ((secs * fps).round() as usize).max(4);
            found.extend(run.candidates(len, fps).into_iter().map(|(score, span)| {
                // The wipe test is sharpest on anchors right outside the span.
                (score, run.refine_kind(span))
            }));
        }
        found.extend(run.fades().into_iter().map(|s| (f32::INFINITY, s)));
    }
    // Strongest first; a weaker candidate overlapping a kept one is dropped.
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut kept: Vec<Span> = Vec::new();
    for (_, span) in found {
        if kept
            .iter()
            .all(|k| span.end <= k.start || span.start >= k.end)
        {
            kept.push(span);
        }
    }
    kept.sort_by_key(|s| s.start);
    kept
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

/// One run of consecutive frames.
struct Run<'a> {
    scores: &'a [FrameScore],
    sigs: &'a [Sig],
    start: usize,
    end: usize,
}

impl Run<'_> {
    fn sig(&self, i: usize) -> Option<&Sig> {
        (i >= self.start && i < self.end)
            .then(|| self.sigs.get(i))
            .flatten()
    }

    /// Transitions about `len` frames long: anchors `len + 2` frames apart at every
    /// position, kept where the change between them stands out from the shots around and
    /// the frames between fit a blend or a wipe. Scored by how far the change stands out.
    fn candidates(&self, len: usize, fps: f64) -> Vec<(f32, Span)> {
        let gap = len + 2;
        // The shots are watched for at least this long on either side: a camera that pauses
        // and moves again is still one shot.
        let window = gap.max((SHOT_WINDOW_SECS * fps).round() as usize);
        // Anchor pictures average three frames each (grain, compression pumping).
        const ANCHOR: usize = 3;
        let mut out = Vec::new();
        if self.end < self.start + gap + 2 * ANCHOR {
            return out;
        }
        let mut a = self.start + ANCHOR - 1;
        while a + gap + ANCHOR <= self.end {
            let b = a + gap;
            let before = mean_sig(self.sigs, a + 1 - ANCHOR, a + 1);
            let after = mean_sig(self.sigs, b, b + ANCHOR);
            let change = dist(&before, &after);
            if change >= MIN_CHANGE
                && let Some(shots) = self.shot_change(a, b, window, &before, &after)
                && change >= MIN_CONTRAST_TO_SHOTS * shots
                && let Some(span) = self.fit(a, b, &before, &after, change)
            {
                out.push((change / shots.max(0.005), span));
            }
            a += 1;
        }
        out
    }

    /// How far the shots on either side wander: the largest distance from anchor picture
    /// `from` of the frames up to `window` before anchor `a`, and from `to` of the frames up
    /// to `window` after anchor `b` (both sides need half a window of frames, but for a
    /// side that a decoded run, not the clip, cuts short). A handheld
    /// camera swings back and forth, so every frame of the window counts, not one lag.
    fn shot_change(&self, a: usize, b: usize, window: usize, from: &Sig, to: &Sig) -> Option<f32> {
        let gap = window;
        let wander = |range: std::ops::RangeInclusive<usize>, anchor: &Sig| {
            range
                .filter_map(|i| self.sig(i).map(|s| dist(s, anchor)))
                .fold(None, |m: Option<f32>, d| Some(m.map_or(d, |m| m.max(d))))
        };
        let before = wander(a.saturating_sub(gap).max(self.start)..=a, from);
        let after = wander(b..=(b + gap).min(self.end.saturating_sub(1)), to);
        // Both shots must be seen for a while: the clip's first frames (a decoder settling,
        // a camera starting) are no shot to compare with. A run that fast mode decoded
        // around a change may begin or end close to it; there the other side must be seen.
        let has_room = |x: usize| x >= gap / 2;
        let room_before = has_room(a.saturating_sub(self.start));
        let room_after = has_room(self.end.saturating_sub(b + 1));
        let clip_start = self.start == 0;
        let clip_end = self.end >= self.scores.len();
        match (room_before, room_after) {
            (true, true) => Some(before?.max(after?)),
            (false, true) if !clip_start => Some(before.unwrap_or(0.0).max(after?)),
            (true, false) if !clip_end => Some(before?.max(after.unwrap_or(0.0))),
            _ => None,
        }
    }

    /// Fits the frames strictly between anchors `a` and `b` to a blend or a wipe from
    /// `from` to `to`; the span where they change.
    fn fit(&self, a: usize, b: usize, from: &Sig, to: &Sig, change: f32) -> Option<Span> {
        let delta: Sig = std::array::from_fn(|k| to[k] - from[k]);
        let norm2: f32 = delta.iter().map(|d| d * d).sum();
        if norm2 <= 0.0 {
            return None;
        }
        // Blend position and distance from the blend line of each frame.
        let mut alphas = Vec::with_capacity(b - a);
        let mut residual = 0.0f32;
        for i in a + 1..b {
            let s = self.sig(i)?;
            let alpha = s
                .iter()
                .zip(from)
                .zip(&delta)
                .map(|((x, f), d)| (x - f) * d)
                .sum::<f32>()
                / norm2;
            let on_line: Sig = std::array::from_fn(|k| from[k] + alpha.clamp(0.0, 1.0) * delta[k]);
            residual += dist(s, &on_line);
            alphas.push(alpha);
        }
        let inner = alphas.len().max(1) as f32;
        let steps = || {
            std::iter::once(0.0)
                .chain(alphas.iter().copied())
                .chain(std::iter::once(1.0))
                .collect::<Vec<f32>>()
        };
        let path = steps();
        let largest_step = path
            .windows(2)
            .map(|w| w.get(1).unwrap_or(&0.0) - w.first().unwrap_or(&0.0))
            .fold(0.0f32, f32::max);
        let travel: f32 = path
            .windows(2)
            .map(|w| (w.get(1).unwrap_or(&0.0) - w.first().unwrap_or(&0.0)).abs())
            .sum();
        let blend = residual / inner <= MAX_BLEND_RESIDUAL * change
            && largest_step <= MAX_STEP_SHARE
            && travel <= 1.6;
        // A camera swinging to another part of the scene changes the picture as a
        // transition does, but the picture after it is the one before it, moved.
        if self.same_view_moved(a, b) {
            return None;
        }
        // A wipe moves its edge across the picture frame by frame: when one frame holds
        // most of the change, that frame is a cut (the shots around it moving).
        let largest_frame_step = (a + 1..=b)
            .filter_map(|i| Some(dist(self.sig(i)?, self.sig(i.checked_sub(1)?)?)))
            .fold(0.0f32, f32::max);
        let swept = largest_frame_step <= MAX_STEP_SHARE * change;
        let kind = if swept && self.is_wipe(a, b, from, to) {
            TransitionKind::Wipe
        } else if blend {
            match self.fade_kind(a, b) {
                Some(fade) => fade,
                // A picture that only grew brighter or darker (a camera's exposure, a
                // light dimmed) keeps its layout and colours: no transition.
                None if lighting_only(from, to) => return None,
                None => TransitionKind::Dissolve,
            }
        } else {
            return None;
        };
        // The span: the blend's climb from A to B, found from its middle (the first frame
        // halfway): it starts after the last frame before that still at A and ends at the
        // first frame after it that reached B. A handheld shot wanders to and fro along the
        // blend line on either side; the first frame to stray off A or the last to stray
        // off B would stretch the span into the shots.
        let progress = |i: usize| self.progress(i, from, &delta, norm2);
        let middle = (a + 1..b).find(|&i| progress(i) >= 0.5).unwrap_or(b);
        let start = (a + 1..middle)
            .rev()
            .find(|&i| progress(i) <= SPAN_EDGE)
            .map_or(a + 1, |i| i + 1);
        let end = (middle..b)
            .find(|&i| progress(i) >= 1.0 - SPAN_EDGE)
            .unwrap_or(b);
        // Inside the anchors, and clear of them: a transition has room on both sides.
        (end > start + 1 && start > a && end <= b).then_some(Span { start, end, kind })
    }

    /// A blend found between wide anchors may be a wipe: looked at again on the frames
    /// right outside its span.
    fn refine_kind(&self, span: Span) -> Span {
        if span.kind != TransitionKind::Dissolve {
            return span;
        }
        let (a, b) = (span.start.saturating_sub(2), span.end + 1);
        let (Some(from), Some(to)) = (self.sig(a), self.sig(b)) else {
            return span;
        };
        if self.is_wipe(a, b, from, to) {
            Span {
                kind: TransitionKind::Wipe,
                ..span
            }
        } else {
            span
        }
    }

    /// Whether the picture at anchor `b` is the one at anchor `a` moved by the camera: their
    /// luma layouts match (correlation above `SAME_VIEW`) at the camera's summed shift
    /// (give or take a cell).
    fn same_view_moved(&self, a: usize, b: usize) -> bool {
        let (Some(from), Some(to)) = (self.scores.get(a), self.scores.get(b)) else {
            return false;
        };
        let (mut x, mut y) = (0.0f32, 0.0f32);
        for s in self.scores.get(a + 1..=b).unwrap_or_default() {
            x += f32::from(s.shift[0]);
            y += f32::from(s.shift[1]);
        }
        let cells = from.layout.len() as i32;
        let (sx, sy) = (
            (x / 1000.0 * cells as f32).round() as i32,
            (y / 1000.0 * cells as f32).round() as i32,
        );
        let mut best = -1.0f32;
        for dy in sy - 1..=sy + 1 {
            for dx in sx - 1..=sx + 1 {
                best = best.max(layout_correlation(&from.layout, &to.layout, (dx, dy)));
            }
        }
        best > SAME_VIEW
    }

    /// How far frame `i` has moved from `from` towards `from + delta`, 0..=1.
    fn progress(&self, i: usize, from: &Sig, delta: &Sig, norm2: f32) -> f32 {
        self.sig(i).map_or(0.0, |s| {
            s.iter()
                .zip(from)
                .zip(delta)
                .map(|((x, f), d)| (x - f) * d)
                .sum::<f32>()
                / norm2
        })
    }

    /// A fade when one side is black or white.
    fn fade_kind(&self, a: usize, b: usize) -> Option<TransitionKind> {
        let flat = |i: usize| self.scores.get(i).is_some_and(is_flat);
        match (flat(a), flat(b)) {
            (false, true) => Some(TransitionKind::FadeOut),
            (true, false) => Some(TransitionKind::FadeIn),
            _ => None,
        }
    }

    /// Whether every cell that changes does so in a short step of its own, and the cells'
    /// steps come one after another across the picture (left to right, top to bottom or
    /// the reverse).
    fn is_wipe(&self, a: usize, b: usize, from: &Sig, to: &Sig) -> bool {
        let length = (b - a) as f32;
        let mut times: Vec<(f32, f32, f32)> = Vec::new(); // (time, column, row)
        let mut changing = 0usize;
        for cell in 0..CELLS {
            let channels = [cell, cell + CELLS, cell + 2 * CELLS];
            let d: Vec<f32> = channels
                .iter()
                .map(|&k| to.get(k).unwrap_or(&0.0) - from.get(k).unwrap_or(&0.0))
                .collect();
            let n2: f32 = d.iter().map(|x| x * x).sum();
            if n2.sqrt() < 1.5 * MIN_CHANGE {
                continue;
            }
            let progress = |i: usize| -> Option<f32> {
                let s = self.sig(i)?;
                Some(
                    channels
                        .iter()
                        .zip(&d)
                        .map(|(&k, dk)| {
                            (s.get(k).unwrap_or(&0.0) - from.get(k).unwrap_or(&0.0)) * dk
                        })
                        .sum::<f32>()
                        / n2,
                )
            };
            let p: Vec<f32> = (a..=b).map(|i| progress(i).unwrap_or(0.0)).collect();
            let first = p.iter().position(|&x| x > 0.2);
            let last = p.iter().rposition(|&x| x < 0.8);
            let (Some(first), Some(last)) = (first, last) else {
                continue;
            };
            // One short step that stays: motion in the shots shakes some cells, so a few
            // may fail.
            let width = last.saturating_sub(first) as f32 + 1.0;
            let returns = p.iter().skip(last + 1).any(|&x| !(0.5..=1.5).contains(&x));
            changing += 1;
            if width > MAX_WIPE_CELL_SHARE * length || returns {
                continue;
            }
            let column = (cell % 4) as f32;
            let row = (cell / 4) as f32;
            times.push(((first + last) as f32 / 2.0, column, row));
        }
        if (times.len() as f32) < MIN_WIPE_CELLS_SHARE * changing as f32 {
            return false;
        }
        if times.len() < 6 {
            return false;
        }
        let spread = times.iter().map(|t| t.0).fold(f32::MIN, f32::max)
            - times.iter().map(|t| t.0).fold(f32::MAX, f32::min);
        // The cells change one after another through the whole wipe, not in two groups
        // (a short shot between two cuts).
        let mut sorted: Vec<f32> = times.iter().map(|t| t.0).collect();
        sorted.sort_by(f32::total_cmp);
        let largest_gap = sorted
            .windows(2)
            .map(|w| w.get(1).unwrap_or(&0.0) - w.first().unwrap_or(&0.0))
            .fold(0.0f32, f32::max);
        if largest_gap > 0.45 * length {
            return false;
        }
        let ordered = |coord: fn(&(f32, f32, f32)) -> f32| correlation(&times, coord).abs() > 0.8;
        spread >= MIN_WIPE_SPREAD * length && (ordered(|t| t.1) || ordered(|t| t.2))
    }

    /// Fades through black or white with a hold: a run of flat dark or light frames with a
    /// ramp on at least one side. The ramp into the hold is a fade-out to the middle of the
    /// hold, the ramp out of it a fade-in from there.
    fn fades(&self) -> Vec<Span> {
        let flat = |k: usize| k < self.end && self.scores.get(k).is_some_and(is_flat);
        let level = |k: usize| {
            self.scores
                .get(k)
                .map_or((0.0, 0.0), |s| (s.luma, s.contrast))
        };
        let mut spans = Vec::new();
        let mut k = self.start;
        while k < self.end {
            if !flat(k) {
                k += 1;
                continue;
            }
            let a = k;
            while flat(k + 1) {
                k += 1;
            }
            let b = k;
            k += 1;
            // Black or white: the darkest (or brightest) frame of the hold.
            let hold = (a..=b).map(|i| level(i).0);
            let target = if level(a).0 < 0.5 {
                hold.fold(1.0f32, f32::min)
            } else {
                hold.fold(0.0f32, f32::max)
            };
            // Walk out while each step moves away from black/white and is not negligible.
            let ramp_step = |from: usize, to: usize| {
                let (lf, cf) = level(from);
                let (lt, ct) = level(to);
                let moving = (lf - lt).abs() + (cf - ct).abs() > 0.004;
                moving && (lf - target).abs() + 0.002 >= (lt - target).abs()
            };
            let mut s = a;
            while s > self.start && ramp_step(s - 1, s) {
                s -= 1;
            }
            let mut e = b;
            while e + 1 < self.end && ramp_step(e + 1, e) {
                e += 1;
            }
            let middle = a + (b - a) / 2;
            // A fade has a ramp of a few frames; a cut to black and back is two cuts.
            // A hold that runs to the end of the clip is all fade-out; one that opens the
            // clip, all fade-in.
            let (out_end, in_start) = if b + 1 >= self.end {
                (self.end, middle + 1)
            } else if a == self.start {
                (middle + 1, a)
            } else {
                (middle + 1, middle + 1)
            };
            if a - s >= 2 && s > self.start {
                spans.push(Span {
                    start: s + 1,
                    end: out_end,
                    kind: TransitionKind::FadeOut,
                });
            }
            if e - b >= 2 && e + 1 < self.end {
                spans.push(Span {
                    start: in_start,
                    end: e + 1,
                    kind: TransitionKind::FadeIn,
                });
            }
        }
        spans
    }
}

/// Pearson correlation of two luma layouts over their overlap when `to` is moved by
/// `(dx, dy)` cells (`to(x, y)` against `from(x − dx, y − dy)`); 0 when flat or the overlap
/// is under half the picture.
fn layout_correlation(from: &[[u8; 12]; 12], to: &[[u8; 12]; 12], (dx, dy): (i32, i32)) -> f32 {
    let n = 12i32;
    let mut points: Vec<(f32, f32, f32)> = Vec::new();
    for y in 0..n {
        for x in 0..n {
            let (fx, fy) = (x - dx, y - dy);
            if !(0..n).contains(&fx) || !(0..n).contains(&fy) {
                continue;
            }
            let value = |l: &[[u8; 12]; 12], x: i32, y: i32| {
                l.get(y as usize)
                    .and_then(|row| row.get(x as usize))
                    .map_or(0.0, |&v| f32::from(v))
            };
            points.push((value(to, x, y), value(from, fx, fy), 0.0));
        }
    }
    if points.len() < (n * n / 2) as usize {
        return 0.0;
    }
    correlation(&points, |p| p.1)
}

/// Whether `to` is `from` in another light: the luma layout (gain- and offset-free) still
/// matches and the colours stayed.
fn lighting_only(from: &Sig, to: &Sig) -> bool {
    let layout = |s: &Sig| -> Vec<f32> { s.get(..CELLS).unwrap_or_default().to_vec() };
    let (ya, yb) = (layout(from), layout(to));
    let points: Vec<(f32, f32, f32)> = ya.iter().zip(&yb).map(|(&x, &y)| (x, y, 0.0)).collect();
    let chroma = (from
        .iter()
        .zip(to)
        .skip(CELLS)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        / (2 * CELLS) as f32)
        .sqrt();
    correlation(&points, |p| p.1) > 0.9 && chroma < 0.5 * MIN_CHANGE
}

/// Pearson correlation of the time (first field) with `coord` over `points`.
fn correlation(points: &[(f32, f32, f32)], coord: fn(&(f32, f32, f32)) -> f32) -> f32 {
    let n = points.len() as f32;
    let mean_t = points.iter().map(|p| p.0).sum::<f32>() / n;
    let mean_c = points.iter().map(coord).sum::<f32>() / n;
    let (mut cov, mut vt, mut vc) = (0.0f32, 0.0f32, 0.0f32);
    for p in points {
        let (dt, dc) = (p.0 - mean_t, coord(p) - mean_c);
        cov += dt * dc;
        vt += dt * dt;
        vc += dc * dc;
    }
    if vt <= 0.0 || vc <= 0.0 {
        0.0
    } else {
        cov / (vt * vc).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::TICKS_PER_SECOND;

    /// A 30 fps run: picture A, a dissolve into picture B over frames 121..=150 (frame 120
    /// is still A, frame 151 the first all B), then B. Half a second before the dissolve a
    /// handheld camera swings along the way from one picture to the other by 14 % of it
    /// and back, as a panning shot's colour layout does.
    fn swaying_dissolve() -> Vec<FrameScore> {
        let a: [f32; SIG_LEN] = std::array::from_fn(|k| match k {
            k if k < CELLS => [60.0, 190.0, 90.0, 150.0][k % 4],
            k if k < 2 * CELLS => 110.0,
            _ => 140.0,
        });
        let b: [f32; SIG_LEN] = std::array::from_fn(|k| match k {
            k if k < CELLS => [180.0, 70.0, 200.0, 40.0][k % 4],
            k if k < 2 * CELLS => 150.0,
            _ => 100.0,
        });
        let layout = |v: &[f32; SIG_LEN]| -> [[u8; 12]; 12] {
            std::array::from_fn(|y| std::array::from_fn(|x| v[(y / 3) * 4 + x / 3] as u8))
        };
        (0..300)
            .map(|i| {
                let mix = match i {
                    95..=115 => 0.14 * ((i - 95) as f32 * std::f32::consts::PI / 20.0).sin(),
                    121..=150 => (i - 120) as f32 / 31.0,
                    151.. => 1.0,
                    _ => 0.0,
                };
                let sig: [f32; SIG_LEN] =
                    std::array::from_fn(|k| (a[k] + mix * (b[k] - a[k])).clamp(0.0, 255.0));
                let grid = |range: std::ops::Range<usize>| -> [u8; 16] {
                    std::array::from_fn(|k| sig[range.start + k] as u8)
                };
                FrameScore {
                    time: i * TICKS_PER_SECOND / 30,
                    adjacent: i > 0,
                    luma: 0.5,
                    contrast: 0.3,
                    grid_y: grid(0..CELLS),
                    grid_u: grid(CELLS..2 * CELLS),
                    grid_v: grid(2 * CELLS..3 * CELLS),
                    layout: layout(&sig),
                    ..FrameScore::default()
                }
            })
            .collect()
    }

    /// The span is the dissolve's climb, not the swing before it, however far apart the
    /// anchors it is fitted between: it starts at the first frame that left A for good and
    /// ends at the first all B.
    #[test]
    fn a_swinging_camera_does_not_stretch_a_dissolve() {
        let scores = swaying_dissolve();
        let sigs: Vec<Sig> = scores.iter().map(sig).collect();
        let run = Run {
            scores: &scores,
            sigs: &sigs,
            start: 0,
            end: scores.len(),
        };
        for (a, b) in [(118, 153), (90, 160), (60, 170)] {
            let (from, to) = (sigs[a], sigs[b]);
            let span = run.fit(a, b, &from, &to, dist(&from, &to));
            let span = span.unwrap_or_else(|| panic!("anchors {a}, {b}: no blend"));
            assert_eq!(span.kind, TransitionKind::Dissolve);
            assert!(
                (120..=122).contains(&span.start),
                "anchors {a}, {b}: {span:?}"
            );
            assert!(
                (149..=152).contains(&span.end),
                "anchors {a}, {b}: {span:?}"
            );
        }
        let spans = find_gradual(&scores, 30.0);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert!((120..=122).contains(&spans[0].start), "{spans:?}");
    }
}

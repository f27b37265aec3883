//! Selection: which source range fills each slot.
//!
//! A scene's score for a slot adds quality, motion match (to the energy), duration fit, a
//! fresh-clip bonus and seeded jitter, and subtracts penalties for a recent clip, the
//! neighbouring clip, a similar look, a reused scene and a story-order miss; every term is
//! read from the index's struct-of-arrays. The best scene is found by a bounded search over cells (motion bin x
//! duration class, best quality first): a cell is abandoned as soon as its upper bound
//! falls below the best score so far, so a slot typically scores tens of scenes out of
//! 100,000 and still returns exactly the argmax a full pass would (`best_dense` is that
//! full pass; the tests check both agree). Used footage is tracked per scene as free gaps,
//! so a long scene can give several shots but no instant is shown twice until the footage
//! runs out; then the least recently used range is reused.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::arc::wanted_motion;
use super::error::PlanError;
use super::index::{DUR_CLASSES, LOOK_DIMS, PlanIndex, duration_class_max};
use super::pacing::{CutKind, Slot};
use super::reason::{Facts, Note, Reason};
use super::rng::unit;
use super::style::Style;
use super::timeline::{Segment, Transition};
use crate::analysis::music::SectionLabel;
use crate::time::{TICKS_PER_SECOND, Ticks};

/// Penalty for the clip of the neighbouring segment: consecutive shots from one clip only
/// when there is no other clip.
const NEIGHBOUR_PENALTY: f32 = 10.0;
/// How much worse (in score) a match cut may be than the best shot and still win.
const MATCH_SLACK: f32 = 0.25;
/// Share of eligible cuts that try a match cut.
const MATCH_RATE: f32 = 0.2;

/// Hashes scene numbers for the per-scene maps: one multiply instead of SipHash (keys are
/// ours, not an attacker's).
#[derive(Default, Clone, Copy)]
struct SceneHasher(u64);

impl Hasher for SceneHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0 ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by scene number.
type SceneMap<V> = HashMap<usize, V, BuildHasherDefault<SceneHasher>>;

/// Weights of the score terms, derived from the style.
#[derive(Debug, Clone, Copy)]
struct Weights {
    motion: f32,
    quality: f32,
    dur: f32,
    fresh: f32,
    recent: f32,
    recent_window: u32,
    similar: f32,
    scene_reuse: f32,
    chrono: f32,
    jitter: f32,
}

impl Weights {
    fn new(style: &Style, clips: usize) -> Self {
        let variety = style.variety.clamp(0.0, 1.0);
        // a window longer than a third of the clips forces a fixed rotation through them
        let window_cap = (clips / 3).max(1) as u32;
        Self {
            motion: 1.0,
            quality: 0.6 * style.quality.clamp(0.0, 1.0),
            dur: 0.08,
            fresh: 0.3 + 0.4 * variety,
            recent: 0.3 + 0.7 * variety,
            recent_window: (1 + (variety * 4.0).round() as u32).min(window_cap),
            similar: 0.6 * variety,
            scene_reuse: 0.3 + 0.5 * variety,
            chrono: 1.5 * style.chronology.clamp(0.0, 1.0),
            jitter: 0.02 + 0.04 * style.variation.clamp(0.0, 1.0),
        }
    }
}

/// What selection knows about the slot being filled.
#[derive(Debug, Clone)]
pub(crate) struct SlotView {
    pub len: Ticks,
    pub energy: f32,
    pub wanted: f32,
    pub arc: Option<SectionLabel>,
    pub cut: CutKind,
    /// Clip positions of the neighbouring segments.
    pub avoid: [Option<usize>; 2],
    /// Per clip: fresh bonus, recency and neighbour penalties, story-order miss, for this slot.
    pub clip_adj: Vec<f32>,
    /// Largest of `clip_adj`.
    pub max_adj: f32,
}

/// A scene picked for a slot, before it becomes a segment.
#[derive(Debug, Clone)]
pub(crate) struct Pick {
    pub scene: usize,
    pub score: f32,
    pub note: Option<Note>,
    /// Use these gaps for the window instead of the free ones (reuse).
    pub reuse: bool,
}

/// Selection state for one plan: footage use, recency and variety marks.
pub(crate) struct Selector<'a> {
    index: &'a PlanIndex,
    style: &'a Style,
    seed: u64,
    w: Weights,
    duration: Ticks,
    longest_free: Vec<Ticks>,
    gaps: SceneMap<Vec<(Ticks, Ticks)>>,
    hard_gaps: SceneMap<Vec<(Ticks, Ticks)>>,
    /// Looks of the last shots, for the "similar-looking shot recently used" penalty.
    recent_looks: Vec<[f32; LOOK_DIMS]>,
    clip_uses: Vec<u32>,
    clip_last: Vec<Option<u32>>,
    scene_last: SceneMap<u32>,
    scene_uses: Vec<u16>,
    slot_no: u32,
    prev_scene: Option<usize>,
    prev_clip: Option<usize>,
    /// `SlotView::clip_adj` of the last slot, reused so a slot allocates nothing.
    adj_buf: Vec<f32>,
    /// Search cells (and duration classes) holding a scene shortened without being used
    /// (an exclusion): their duration-fit bound is the full weight. Empty: none.
    loose_cells: Vec<bool>,
    loose_classes: [bool; DUR_CLASSES],
}

fn subtract(gaps: &mut Vec<(Ticks, Ticks)>, lo: Ticks, hi: Ticks) {
    // in place: at most one gap splits in two, so at most one element is inserted
    let mut k = 0;
    while let Some(&(a, b)) = gaps.get(k) {
        if hi <= a || b <= lo {
            k += 1;
            continue;
        }
        match (a < lo, hi < b) {
            (true, true) => {
                if let Some(g) = gaps.get_mut(k) {
                    *g = (a, lo);
                }
                gaps.insert(k + 1, (hi, b));
                k += 2;
            }
            (true, false) => {
                if let Some(g) = gaps.get_mut(k) {
                    *g = (a, lo);
                }
                k += 1;
            }
            (false, true) => {
                if let Some(g) = gaps.get_mut(k) {
                    *g = (hi, b);
                }
                k += 1;
            }
            (false, false) => {
                gaps.remove(k);
            }
        }
    }
}

fn longest(gaps: &[(Ticks, Ticks)]) -> Ticks {
    gaps.iter().map(|(a, b)| b - a).max().unwrap_or(0)
}

impl<'a> Selector<'a> {
    /// Fresh state: exclusions applied, locked footage marked used.
    pub fn new(
        index: &'a PlanIndex,
        style: &'a Style,
        seed: u64,
        excluded: &[(usize, Ticks, Ticks)],
        locked: &[Segment],
        duration: Ticks,
    ) -> Self {
        let mut sel = Self {
            index,
            style,
            seed,
            w: Weights::new(style, index.clips.len()),
            duration: duration.max(1),
            longest_free: index
                .start
                .iter()
                .zip(&index.end)
                .map(|(s, e)| e - s)
                .collect(),
            gaps: SceneMap::default(),
            hard_gaps: SceneMap::default(),
            recent_looks: Vec::new(),
            clip_uses: vec![0; index.clips.len()],
            clip_last: vec![None; index.clips.len()],
            scene_last: SceneMap::default(),
            scene_uses: vec![0; index.scene_count()],
            slot_no: 0,
            prev_scene: None,
            prev_clip: None,
            adj_buf: Vec::new(),
            loose_cells: Vec::new(),
            loose_classes: [false; DUR_CLASSES],
        };
        // a used scene's reuse penalty must outweigh any duration fit for the cell bounds
        if sel.w.scene_reuse < sel.w.dur {
            sel.loose_classes = [true; DUR_CLASSES];
            sel.loose_cells = vec![true; index.motion_bins * DUR_CLASSES];
        }
        for &(clip_id, lo, hi) in excluded {
            for n in sel.overlapping(clip_id, lo, hi) {
                let full = sel.full(n);
                let hard = sel.hard_gaps.entry(n).or_insert_with(|| vec![full]);
                subtract(hard, lo, hi);
                let free = sel.gaps.entry(n).or_insert_with(|| vec![full]);
                subtract(free, lo, hi);
                let l = longest(free);
                if let Some(x) = sel.longest_free.get_mut(n) {
                    *x = l;
                }
                sel.loosen(n);
            }
        }
        for seg in locked {
            sel.mark_used_range(seg.clip, seg.src_in, seg.src_out);
        }
        sel
    }

    /// Marks the cell of scene `n` as holding footage shortened without use.
    fn loosen(&mut self, n: usize) {
        let Some(cell) = self.index.cell_of_scene(n) else {
            return;
        };
        if self.loose_cells.is_empty() {
            self.loose_cells = vec![false; self.index.motion_bins * DUR_CLASSES];
        }
        if let Some(l) = self.loose_cells.get_mut(cell) {
            *l = true;
        }
        if let Some(l) = self.loose_classes.get_mut(cell % DUR_CLASSES) {
            *l = true;
        }
    }

    fn full(&self, n: usize) -> (Ticks, Ticks) {
        (
            self.index.start.get(n).copied().unwrap_or(0),
            self.index.end.get(n).copied().unwrap_or(0),
        )
    }

    /// Scenes of clip `clip_id` overlapping `[lo, hi)`.
    fn overlapping(&self, clip_id: usize, lo: Ticks, hi: Ticks) -> Vec<usize> {
        let Some(entry) = self
            .index
            .clip_pos(clip_id)
            .and_then(|p| self.index.clips.get(p))
        else {
            return Vec::new();
        };
        let range = entry.scenes.clone();
        let ends = self.index.end.get(range.clone()).unwrap_or(&[]);
        let first = range.start + ends.partition_point(|&e| e <= lo);
        (first..range.end)
            .take_while(|&n| self.index.start.get(n).is_some_and(|&s| s < hi))
            .collect()
    }

    fn mark_used_range(&mut self, clip_id: usize, lo: Ticks, hi: Ticks) {
        for n in self.overlapping(clip_id, lo, hi) {
            self.subtract_free(n, lo, hi);
            self.scene_last.insert(n, self.slot_no);
            if let Some(u) = self.scene_uses.get_mut(n) {
                *u = u.saturating_add(1);
            }
        }
    }

    /// Records a locked segment passing by: its clip counts as used here.
    pub fn pass_locked(&mut self, seg: &Segment) {
        let clip = self.index.clip_pos(seg.clip);
        if let Some(c) = clip {
            self.note_clip(c);
        }
        self.prev_clip = clip;
        self.prev_scene = self
            .overlapping(seg.clip, seg.src_in, seg.src_out)
            .first()
            .copied();
        if let Some(n) = self.prev_scene {
            self.remember_look(n);
        }
        self.slot_no += 1;
    }

    fn note_clip(&mut self, c: usize) {
        if let Some(u) = self.clip_uses.get_mut(c) {
            *u += 1;
        }
        if let Some(l) = self.clip_last.get_mut(c) {
            *l = Some(self.slot_no);
        }
    }

    /// The selection view of `slot`; `next_clip` is the clip id of a locked segment right after it.
    pub fn view(&self, slot: &Slot, next_clip: Option<usize>) -> SlotView {
        self.view_into(slot, next_clip, Vec::new())
    }

    /// `view`, filling `clip_adj` (a buffer kept from the previous slot).
    fn view_into(&self, slot: &Slot, next_clip: Option<usize>, mut clip_adj: Vec<f32>) -> SlotView {
        let time_frac = ((slot.start + slot.end) as f64 / 2.0 / self.duration as f64) as f32;
        let avoid = [
            self.prev_clip,
            next_clip.and_then(|id| self.index.clip_pos(id)),
        ];
        clip_adj.clear();
        clip_adj.extend(
            (0..self.index.clips.len()).map(|c| self.clip_adjustment(c, time_frac, &avoid)),
        );
        let max_adj = clip_adj.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        SlotView {
            len: slot.end - slot.start,
            energy: slot.energy,
            wanted: self.wanted(slot),
            arc: slot.arc,
            cut: slot.cut,
            avoid,
            clip_adj,
            max_adj,
        }
    }

    /// The motion a slot asks for, nudged by the seed so re-rolls explore other footage
    /// (a nudge of the target, not noise on every score, keeps the search bounds tight).
    fn wanted(&self, slot: &Slot) -> f32 {
        let nudge = unit(self.seed, u64::from(self.slot_no), 0x5eed) - 0.5;
        let spread = 0.1 + 0.2 * self.style.variation.clamp(0.0, 1.0);
        (wanted_motion(slot.energy, slot.arc, self.style) + nudge * spread).clamp(0.0, 1.0)
    }

    /// The clip-level part of a score: the same for every scene of clip `c` in one slot.
    fn clip_adjustment(&self, c: usize, time_frac: f32, avoid: &[Option<usize>; 2]) -> f32 {
        let w = &self.w;
        let mut s = 0.0;
        if self.clip_uses.get(c).copied().unwrap_or(0) == 0 {
            s += w.fresh;
        }
        if let Some(Some(last)) = self.clip_last.get(c) {
            let age = self.slot_no.saturating_sub(*last);
            if age <= w.recent_window {
                s -= w.recent * (w.recent_window + 1 - age) as f32 / w.recent_window as f32;
            }
        }
        if avoid.contains(&Some(c)) {
            s -= NEIGHBOUR_PENALTY;
        }
        let clips = self.index.clips.len();
        if w.chrono > 0.0 && clips > 1 {
            let frac = c as f32 / (clips - 1) as f32;
            s -= w.chrono * (frac - time_frac).abs();
        }
        s
    }

    /// True when scene `n` looks like one of the last few shots.
    fn looks_recent(&self, n: usize) -> bool {
        let Some(look) = self.index.look.get(n) else {
            return false;
        };
        let r2 = self.index.similar_radius2;
        self.recent_looks.iter().any(|r| {
            r.iter()
                .zip(look)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                <= r2
        })
    }

    /// Score of scene `n` for the slot, ignoring whether it still has room.
    pub fn score(&self, n: usize, v: &SlotView) -> f32 {
        self.upper(n, v) - self.penalties(n)
    }

    /// Every score term but the rare per-scene penalties: cheap, and never below `score`.
    fn upper(&self, n: usize, v: &SlotView) -> f32 {
        let ix = self.index;
        let (Some(&clip), Some(&motion), Some(&quality)) =
            (ix.clip.get(n), ix.motion.get(n), ix.quality.get(n))
        else {
            return f32::NEG_INFINITY;
        };
        self.upper_from(self.fixed_terms(quality, motion, clip, v), n, v)
    }

    /// Quality, motion match and clip terms: everything but duration fit, jitter and penalties.
    fn fixed_terms(&self, quality: f32, motion: f32, clip: u32, v: &SlotView) -> f32 {
        let w = &self.w;
        w.quality * quality - w.motion * (motion - v.wanted).abs()
            + v.clip_adj.get(clip as usize).copied().unwrap_or(0.0)
    }

    /// `upper` from its fixed terms (`best_fresh` adds the terms in this same order, so it
    /// gets the same float).
    fn upper_from(&self, fixed: f32, n: usize, v: &SlotView) -> f32 {
        let w = &self.w;
        let free = self.longest_free.get(n).copied().unwrap_or(0).max(1);
        fixed
            + w.dur * (v.len as f32 / free as f32).min(1.0)
            + w.jitter * unit(self.seed, u64::from(self.slot_no), n as u64)
    }

    /// Similar-look and scene-reuse penalties (non-negative).
    fn penalties(&self, n: usize) -> f32 {
        let w = &self.w;
        let mut p = 0.0;
        if w.similar > 0.0 && self.looks_recent(n) {
            p += w.similar;
        }
        // the same shot again, even from unused frames, reads as repetition
        let uses = self.scene_uses.get(n).copied().unwrap_or(0).min(3);
        p + w.scene_reuse * f32::from(uses)
    }

    fn usable(&self, n: usize, v: &SlotView) -> bool {
        self.longest_free.get(n).is_some_and(|&l| l >= v.len)
    }

    /// Best unused scene with room for the slot: bounded search over the index cells.
    ///
    /// A scene's score is at most its quality, motion and clip terms plus the duration fit
    /// and jitter caps. The duration fit of an untouched scene is at most that of the
    /// cell's shortest scene; a used scene pays a reuse penalty larger than any duration
    /// fit, and cells holding excluded (shortened but unused) footage get the full cap.
    pub fn best_fresh(&self, v: &SlotView) -> Option<(f32, usize)> {
        let ix = self.index;
        let w = &self.w;
        // duration classes whose scenes can be long enough: a suffix of the classes
        let first_class = (0..DUR_CLASSES)
            .find(|&c| duration_class_max(c).is_none_or(|max| max > v.len))
            .unwrap_or(DUR_CLASSES);
        // jitter cap plus a margin for rounding in the bounds
        let jitter = w.jitter + 1e-4;
        // duration-fit caps per class (the loose cap for cells with excluded footage)
        let mut caps = [w.dur + jitter; DUR_CLASSES];
        for (c, cap) in caps.iter_mut().enumerate().skip(first_class) {
            let min_len = ix.class_min_len.get(c).copied().unwrap_or(0);
            *cap = self.dur_cap(
                min_len,
                self.loose_classes.get(c).copied().unwrap_or(true),
                v,
            ) + jitter;
        }
        let class_cap = caps
            .get(first_class..)
            .unwrap_or(&[])
            .iter()
            .copied()
            .fold(0.0f32, f32::max);
        let mut best: Option<(f32, usize)> = None;
        for (dist, b) in bins_outward(v.wanted, ix.motion_bins) {
            let motion_bound = -w.motion * dist;
            if best.is_some_and(|(bs, _)| {
                w.quality * ix.max_quality + motion_bound + class_cap + v.max_adj < bs
            }) {
                break;
            }
            for c in first_class..DUR_CLASSES {
                let cell_no = b * DUR_CLASSES + c;
                let loose = self.loose_cells.get(cell_no).copied().unwrap_or(false);
                let cap = if loose {
                    w.dur + jitter
                } else {
                    caps.get(c).copied().unwrap_or(w.dur + jitter)
                };
                for cs in ix.cell(cell_no) {
                    // cells are sorted by quality: nothing further in this one can win
                    if best.is_some_and(|(bs, _)| {
                        w.quality * cs.quality + motion_bound + cap + v.max_adj < bs
                    }) {
                        break;
                    }
                    let fixed = self.fixed_terms(cs.quality, cs.motion, cs.clip, v);
                    if best.is_some_and(|(bs, _)| fixed + cap < bs) {
                        continue;
                    }
                    let n = cs.scene as usize;
                    let free = self.longest_free.get(n).copied().unwrap_or(0);
                    if free < v.len {
                        continue; // not usable
                    }
                    // all but the jitter, as `upper_from` adds them; the reuse penalty is known
                    let partial = fixed + w.dur * (v.len as f32 / free.max(1) as f32).min(1.0);
                    let uses = self.scene_uses.get(n).copied().unwrap_or(0).min(3);
                    let reuse = w.scene_reuse * f32::from(uses);
                    if best.is_some_and(|(bs, _)| partial + jitter - reuse < bs) {
                        continue;
                    }
                    let upper =
                        partial + w.jitter * unit(self.seed, u64::from(self.slot_no), n as u64);
                    if best.is_some_and(|(bs, _)| upper < bs) {
                        continue;
                    }
                    let s = upper - self.penalties(n);
                    if better(s, n, best) {
                        best = Some((s, n));
                    }
                }
            }
        }
        best
    }

    /// Largest duration-fit term of an unused scene at least `min_len` long (`loose`: of any scene).
    fn dur_cap(&self, min_len: Ticks, loose: bool, v: &SlotView) -> f32 {
        let w = &self.w;
        if loose || min_len <= 0 {
            w.dur
        } else {
            w.dur * (v.len as f32 / min_len as f32).min(1.0)
        }
    }

    /// The same argmax as `best_fresh`, by scoring every scene: the reference it is tested against.
    #[cfg(test)]
    pub fn best_dense(&self, v: &SlotView) -> Option<(f32, usize)> {
        let mut best = None;
        for n in 0..self.index.scene_count() {
            if self.usable(n, v) {
                let s = self.score(n, v);
                if better(s, n, best) {
                    best = Some((s, n));
                }
            }
        }
        best
    }

    /// Every usable scene with its score, best first.
    pub fn ranked(&self, v: &SlotView) -> Vec<(f32, usize)> {
        let mut all: Vec<(f32, usize)> = (0..self.index.scene_count())
            .filter(|&n| self.usable(n, v))
            .map(|n| (self.score(n, v), n))
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        all
    }

    /// A match cut: the best usable scene of another clip that looks like the previous shot.
    fn match_cut(&self, v: &SlotView) -> Option<(f32, usize)> {
        let prev = self.prev_scene?;
        let prev_clip = self.index.clip.get(prev).copied();
        let found = self.index.look_neighbours(prev);
        let mut best = None;
        for &n in found.as_slice() {
            let n = n as usize;
            if n == prev || self.index.clip.get(n).copied() == prev_clip || !self.usable(n, v) {
                continue;
            }
            let mut s = self.score(n, v);
            if self.w.similar > 0.0 && self.looks_recent(n) {
                s += self.w.similar; // looking alike is the point here
            }
            if better(s, n, best) {
                best = Some((s, n));
            }
        }
        best
    }

    /// Least recently used scene with an allowed range long enough (footage exhausted).
    fn least_recent(&self, v: &SlotView) -> Option<usize> {
        (0..self.index.scene_count())
            .filter(|&n| self.hard_longest(n) >= v.len)
            .min_by(|&a, &b| {
                let key = |n: usize| {
                    let avoid = self
                        .index
                        .clip
                        .get(n)
                        .is_some_and(|&c| v.avoid.contains(&Some(c as usize)));
                    (avoid, self.scene_last.get(&n).copied().unwrap_or(0))
                };
                key(a)
                    .cmp(&key(b))
                    .then(self.score(b, v).total_cmp(&self.score(a, v)))
                    .then(a.cmp(&b))
            })
    }

    /// Scene with the longest allowed range (nothing is long enough for the slot).
    fn longest_any(&self, v: &SlotView) -> Option<usize> {
        (0..self.index.scene_count())
            .filter(|&n| self.hard_longest(n) > 0)
            .min_by_key(|&n| {
                let avoid = self
                    .index
                    .clip
                    .get(n)
                    .is_some_and(|&c| v.avoid.contains(&Some(c as usize)));
                (avoid, std::cmp::Reverse(self.hard_longest(n)), n)
            })
    }

    fn hard_longest(&self, n: usize) -> Ticks {
        match self.hard_gaps.get(&n) {
            Some(g) => longest(g),
            None => {
                let (s, e) = self.full(n);
                e - s
            }
        }
    }

    /// Picks the scene for a slot: fresh footage first (or a match cut), then the least
    /// recently used range, then the longest scene held over a slot it cannot fill.
    pub fn pick(&self, v: &SlotView) -> Result<Pick, PlanError> {
        let fresh = self.best_fresh(v);
        if let Some((score, scene)) = fresh {
            let try_match = self.style.match_cuts
                && matches!(v.cut, CutKind::Beat | CutKind::Downbeat)
                && unit(self.seed, u64::from(self.slot_no), 0x3a7c) < MATCH_RATE;
            if try_match
                && let Some((ms, m)) = self.match_cut(v)
                && m != scene
                && ms >= score - MATCH_SLACK
            {
                return Ok(Pick {
                    scene: m,
                    score: ms,
                    note: Some(Note::MatchCut),
                    reuse: false,
                });
            }
            return Ok(Pick {
                scene,
                score,
                note: None,
                reuse: false,
            });
        }
        if let Some(n) = self.least_recent(v) {
            return Ok(Pick {
                scene: n,
                score: self.score(n, v),
                note: Some(Note::Reused),
                reuse: true,
            });
        }
        if let Some(n) = self.longest_any(v) {
            let l = self.hard_longest(n);
            return Ok(Pick {
                scene: n,
                score: self.score(n, v),
                note: Some(Note::Held {
                    longest: l,
                    slot: v.len,
                }),
                reuse: true,
            });
        }
        Err(PlanError::NoUsableFootage)
    }

    /// The source window of scene `n` for the slot: inside one gap, on the clip's frame grid,
    /// busiest part for energetic slots and steadiest for calm ones, clear of the scene edges.
    pub fn window(&self, n: usize, v: &SlotView, reuse: bool) -> (Ticks, Ticks) {
        let full = [self.full(n)];
        let map = if reuse { &self.hard_gaps } else { &self.gaps };
        let gaps: &[(Ticks, Ticks)] = map.get(&n).map_or(&full, Vec::as_slice);
        let clip = self.index.clip.get(n).map(|&c| c as usize).unwrap_or(0);
        let entry = self.index.clips.get(clip);
        let grid = entry.and_then(|c| c.grid);
        // without frame scores every start measures 0 and the first one wins
        let scored = entry.is_some_and(|c| !c.frames.is_empty());
        let len = v.len;
        let mut best: Option<(f64, Ticks)> = None;
        'gaps: for &(g0, g1) in gaps {
            let slack = g1 - g0 - len;
            if slack < 0 {
                continue;
            }
            let margin = (TICKS_PER_SECOND / 4).min(slack / 2);
            let starts = std::iter::once(g0 + margin).chain((0..=8).map(|k| g0 + slack * k / 8));
            for s in starts {
                let s = match grid {
                    Some(fr) => {
                        let up = fr.ticks_of_frame(fr.frame_at(s - 1) + 1);
                        let down = fr.ticks_of_frame(fr.frame_at(s));
                        if up + len <= g1 {
                            up
                        } else if down >= g0 {
                            down
                        } else {
                            s
                        }
                    }
                    None => s,
                };
                if !scored {
                    best = Some((0.0, s));
                    break 'gaps;
                }
                let motion = self.index.window_motion(clip, s, s + len).unwrap_or(0.0);
                let value = if v.wanted >= 0.5 { motion } else { -motion };
                if best.is_none_or(|(bv, _)| value > bv + 1e-9) {
                    best = Some((value, s));
                }
            }
        }
        match best {
            Some((_, s)) => (s, s + len),
            None => {
                // nothing fits: the longest gap, held (reason says so)
                let (g0, g1) = gaps
                    .iter()
                    .copied()
                    .max_by_key(|(a, b)| (b - a, std::cmp::Reverse(*a)))
                    .unwrap_or_else(|| self.full(n));
                (g0, g1.min(g0 + len))
            }
        }
    }

    /// Why a pick was made: the facts, formatted only when the reason is read.
    pub fn reason(&self, pick: &Pick, v: &SlotView) -> Reason {
        let ix = self.index;
        let n = pick.scene;
        let clip = ix.clip.get(n).map(|&c| c as usize).unwrap_or(0);
        let motion = ix.motion.get(n).copied().unwrap_or(0.0);
        Reason::planned(Facts {
            clip_id: ix.clips.get(clip).map(|c| c.id).unwrap_or(0),
            scene_no: ix.scene_no.get(n).copied().unwrap_or(0),
            motion,
            motion_fits: (motion - v.wanted).abs() < 0.15,
            energy: v.energy,
            arc: v.arc,
            quality: ix.quality.get(n).copied().unwrap_or(0.0),
            clip_age: self
                .clip_last
                .get(clip)
                .copied()
                .flatten()
                .map(|last| self.slot_no.saturating_sub(last)),
            cut: v.cut,
            score: pick.score,
            note: pick.note,
        })
    }

    /// Turns a pick into a segment for `slot` (nothing recorded).
    pub fn segment(&self, pick: &Pick, v: &SlotView, slot: &Slot) -> Segment {
        let n = pick.scene;
        let clip = self.index.clip.get(n).map(|&c| c as usize).unwrap_or(0);
        let (src_in, src_out) = self.window(n, v, pick.reuse);
        Segment {
            clip: self.index.clips.get(clip).map(|c| c.id).unwrap_or(0),
            src_in,
            src_out,
            start: slot.start,
            end: slot.end,
            locked: false,
            transition: Transition::Cut,
            reason: self.reason(pick, v),
        }
    }

    /// Fills `slot`: picks, records the use, marks similar-looking scenes, advances.
    pub fn choose(&mut self, slot: &Slot, next_clip: Option<usize>) -> Result<Segment, PlanError> {
        let buf = std::mem::take(&mut self.adj_buf);
        let v = self.view_into(slot, next_clip, buf);
        let pick = self.pick(&v)?;
        let seg = self.segment(&pick, &v, slot);
        let n = pick.scene;
        self.mark_used_scene(n, seg.src_in, seg.src_out);
        let clip = self.index.clip.get(n).map(|&c| c as usize);
        if let Some(c) = clip {
            self.note_clip(c);
        }
        self.remember_look(n);
        self.prev_clip = clip;
        self.prev_scene = Some(n);
        self.slot_no += 1;
        self.adj_buf = v.clip_adj;
        Ok(seg)
    }

    /// Removes `[lo, hi)` from the free footage of scene `n` (its allowed ranges at first).
    fn subtract_free(&mut self, n: usize, lo: Ticks, hi: Ticks) {
        let full = self.full(n);
        let hard = &self.hard_gaps;
        let free = self
            .gaps
            .entry(n)
            .or_insert_with(|| hard.get(&n).cloned().unwrap_or_else(|| vec![full]));
        subtract(free, lo, hi);
        let l = longest(free);
        if let Some(x) = self.longest_free.get_mut(n) {
            *x = l;
        }
    }

    fn mark_used_scene(&mut self, n: usize, lo: Ticks, hi: Ticks) {
        self.subtract_free(n, lo, hi);
        self.scene_last.insert(n, self.slot_no + 1);
        if let Some(u) = self.scene_uses.get_mut(n) {
            *u = u.saturating_add(1);
        }
    }

    /// Keeps the look of shot `n` for the next few slots' similarity penalty.
    fn remember_look(&mut self, n: usize) {
        let Some(look) = self.index.look.get(n) else {
            return;
        };
        if self.recent_looks.len() >= self.w.recent_window as usize {
            self.recent_looks.remove(0);
        }
        self.recent_looks.push(*look);
    }

    /// Prepares the state for ranking replacements of `timeline.segments[target]`: every
    /// other segment's footage counts as used, its neighbours' clips are avoided.
    pub fn for_replacement(
        index: &'a PlanIndex,
        style: &'a Style,
        seed: u64,
        segments: &[Segment],
        target: usize,
        duration: Ticks,
    ) -> Self {
        let others: Vec<Segment> = segments
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != target)
            .map(|(_, s)| s.clone())
            .collect();
        let mut sel = Selector::new(index, style, seed, &[], &others, duration);
        for s in &others {
            if let Some(c) = index.clip_pos(s.clip)
                && let Some(u) = sel.clip_uses.get_mut(c)
            {
                *u += 1;
            }
        }
        sel.slot_no = target as u32;
        sel.prev_clip = target
            .checked_sub(1)
            .and_then(|k| segments.get(k))
            .and_then(|s| index.clip_pos(s.clip));
        // the current shot's scenes are not alternatives to itself
        if let Some(cur) = segments.get(target) {
            for n in sel.overlapping(cur.clip, cur.src_in, cur.src_out) {
                if let Some(x) = sel.longest_free.get_mut(n) {
                    *x = 0;
                }
            }
        }
        sel
    }
}

/// Motion bins (of `bins`) in order of their distance to `wanted` (nearest first), with that distance.
fn bins_outward(wanted: f32, bins: usize) -> impl Iterator<Item = (f32, usize)> {
    let width = 1.0 / bins as f32;
    let dist = move |b: usize| {
        let lo = b as f32 * width;
        (lo - wanted).max(wanted - lo - width).max(0.0)
    };
    let home = super::index::motion_bin(wanted, bins);
    let (mut down, mut up) = (home as isize - 1, home + 1);
    std::iter::once((0.0, home)).chain(std::iter::from_fn(move || {
        let d_down = (down >= 0).then(|| dist(down as usize));
        let d_up = (up < bins).then(|| dist(up));
        match (d_down, d_up) {
            (Some(dd), Some(du)) if dd <= du => {
                down -= 1;
                Some((dd, (down + 1) as usize))
            }
            (_, Some(du)) => {
                up += 1;
                Some((du, up - 1))
            }
            (Some(dd), None) => {
                down -= 1;
                Some((dd, (down + 1) as usize))
            }
            (None, None) => None,
        }
    }))
}

/// Strict order on (score, scene): higher score, then lower scene number.
fn better(s: f32, n: usize, best: Option<(f32, usize)>) -> bool {
    match best {
        None => true,
        Some((bs, bn)) => s > bs || (s == bs && n < bn),
    }
}

/// The transition into a segment of `len` after one of `prev_len`, fitted so a crossfade
/// never takes more than half of either shot.
pub(crate) fn fitted_transition(
    wanted: Transition,
    prev_len: Ticks,
    len: Ticks,
    frame: Ticks,
) -> Transition {
    match wanted {
        Transition::Cut => Transition::Cut,
        Transition::Crossfade { frames } => {
            let room = (prev_len.min(len) / 2) / frame.max(1);
            let frames = u32::try_from(room.max(0)).unwrap_or(u32::MAX).min(frames);
            if frames == 0 {
                Transition::Cut
            } else {
                Transition::Crossfade { frames }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::video::{ClipAnalysis, Scene, SceneFeatures};
    use crate::plan::ClipInput;
    use crate::plan::index::MOTION_BINS;

    fn clips(n: usize, scenes: usize, seed: u64) -> Vec<ClipAnalysis> {
        let mut k = 0u64;
        let mut r = move || {
            k += 1;
            unit(seed, k, 99)
        };
        (0..n)
            .map(|_| {
                let mut t = 0;
                let scenes = (0..scenes)
                    .map(|_| {
                        let len = (TICKS_PER_SECOND as f32 * (0.3 + 12.0 * r())) as Ticks;
                        let s = Scene {
                            start: t,
                            end: t + len,
                            features: SceneFeatures {
                                motion: r(),
                                sharpness: r(),
                                brightness: r(),
                                contrast: r(),
                                vector: (0..12).map(|_| r()).collect(),
                                ..SceneFeatures::default()
                            },
                        };
                        t += len;
                        s
                    })
                    .collect();
                ClipAnalysis {
                    duration: t,
                    fps: 25.0,
                    scenes,
                    ..ClipAnalysis::default()
                }
            })
            .collect()
    }

    #[test]
    fn bounded_search_finds_the_dense_argmax() {
        let analyses = clips(30, 40, 5);
        let inputs: Vec<ClipInput> = analyses
            .iter()
            .enumerate()
            .map(|(id, analysis)| ClipInput {
                id,
                name: "",
                analysis,
            })
            .collect();
        let index = PlanIndex::new(&inputs);
        for style_name in ["dynamic", "documentary", "travel"] {
            let style = Style::builtin(style_name).unwrap();
            let mut sel = Selector::new(&index, &style, 3, &[], &[], 180 * TICKS_PER_SECOND);
            let mut t = 0;
            for k in 0..300u64 {
                let len = TICKS_PER_SECOND / 2 * (1 + (k % 9) as i64);
                let slot = Slot {
                    start: t,
                    end: t + len,
                    cut: CutKind::Beat,
                    energy: unit(1, k, 2),
                    arc: None,
                    locked: None,
                };
                let v = sel.view(&slot, None);
                assert_eq!(sel.best_fresh(&v), sel.best_dense(&v), "slot {k}");
                sel.choose(&slot, None).unwrap();
                t += len;
            }
        }
    }

    #[test]
    fn bins_come_nearest_first_and_all_once() {
        for count in [4, 16, MOTION_BINS] {
            for wanted in [0.0, 0.3, 0.51, 1.0] {
                let bins: Vec<(f32, usize)> = bins_outward(wanted, count).collect();
                assert_eq!(bins.len(), count);
                assert!(bins.windows(2).all(|w| w[0].0 <= w[1].0));
                let mut ids: Vec<usize> = bins.iter().map(|b| b.1).collect();
                ids.sort_unstable();
                assert_eq!(ids, (0..count).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn subtract_splits_gaps() {
        let mut g = vec![(0, 10), (20, 30)];
        subtract(&mut g, 5, 25);
        assert_eq!(g, vec![(0, 5), (25, 30)]);
        subtract(&mut g, 0, 100);
        assert!(g.is_empty());
    }

    #[test]
    fn crossfades_fit_their_shots() {
        let f = 10;
        let x = Transition::Crossfade { frames: 12 };
        assert_eq!(
            fitted_transition(x, 100, 1000, f),
            Transition::Crossfade { frames: 5 }
        );
        assert_eq!(fitted_transition(x, 10, 1000, f), Transition::Cut);
        assert_eq!(
            fitted_transition(Transition::Cut, 100, 100, f),
            Transition::Cut
        );
    }
}

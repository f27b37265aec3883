//! Selection: which source range fills each slot.
//!
//! A scene's score for a slot adds quality, motion match (to the energy), duration fit, a
//! fresh-clip bonus and seeded jitter, and subtracts penalties for a recent clip, the
//! neighbouring clip, a similar look, a reused scene and a story-order miss; every term is
//! read from the index's struct-of-arrays. The best scene is found by a bounded search
//! over cells (motion bin x duration class, best quality first): a cell is passed unopened
//! or abandoned as soon as its upper bound falls below the best score so far, so a slot
//! typically scores tens of scenes out of 100,000 and still returns exactly the argmax a
//! full pass would (`best_dense` is that full pass; the tests check both agree). A scene
//! used once leaves its cell's scan for a per-cell used list, bounded with its reuse
//! penalty, so used footage costs the search nothing; the clip-level terms are updated
//! per slot only for the clips whose terms changed. Used footage is tracked per scene as
//! free gaps, so a long scene can give several shots but no instant is shown twice until
//! the footage runs out; then the least recently used range is reused.

use super::arc::wanted_motion;
use super::error::PlanError;
use super::gaps::{GapTable, SceneMap};
use super::grid::{frame_at, ticks_of_frame};
use super::index::{CellScene, DUR_CLASSES, LOOK_DIMS, PlanIndex, duration_class_max};
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
    /// Where the slot starts on the timeline (where the shot's in-point plays).
    pub start: Ticks,
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

/// Clips whose adjustments `next_view` recomputed: their largest, count and unused ones.
struct Refresh {
    max: f32,
    count: usize,
    fresh: usize,
}

/// What the search needs to know of a cell before opening it.
#[derive(Debug, Clone, Copy)]
struct CellTop {
    /// Quality term (weight times quality) of the best unused scene (`NEG_INFINITY`: none).
    unused: f32,
    /// Quality term of the best used scene (`NEG_INFINITY`: none).
    used: f32,
    /// Leading scenes of the cell that are all used (the first `skip` used positions).
    skip: u32,
    /// The cell holds footage shortened without being used (an exclusion): its
    /// duration-fit bound is the full weight.
    loose: bool,
}

/// Selection state for one plan: footage use, recency and variety marks.
pub(crate) struct Selector<'a> {
    index: &'a PlanIndex,
    style: &'a Style,
    seed: u64,
    w: Weights,
    duration: Ticks,
    longest_free: Vec<Ticks>,
    /// Free footage of the scenes used so far (the rest are free whole).
    gaps: GapTable,
    /// Footage of the scenes with exclusions that is still allowed.
    hard_gaps: GapTable,
    /// Looks of the last shots, for the "similar-looking shot recently used" penalty.
    recent_looks: Vec<[f32; LOOK_DIMS]>,
    clip_uses: Vec<u32>,
    clip_last: Vec<Option<u32>>,
    /// Every use of a scene, in order: the last entry of a scene is its last use (read only
    /// when footage runs out, so appending is all a use costs).
    uses: Vec<Use>,
    scene_uses: Vec<u16>,
    slot_no: u32,
    prev_scene: Option<usize>,
    prev_clip: Option<usize>,
    /// `SlotView::clip_adj` of the last slot, updated in place by `next_view` (empty
    /// until the first slot).
    adj: Vec<f32>,
    /// Clips not used yet.
    fresh_clips: usize,
    /// Clips used since their adjustment last came to rest, with the slot of the use,
    /// oldest first: their recency terms change every slot.
    recent_clips: Vec<(usize, u32)>,
    /// Per clip, the slot whose view last updated its adjustment (no double counting).
    adj_slot: Vec<u32>,
    /// The neighbour clips avoided in the last slot.
    last_avoid: [Option<usize>; 2],
    /// Per search cell, the positions in `PlanIndex::cell_scenes` of its scenes used at
    /// least once, ascending (best quality first): the search skips them in the cell and
    /// bounds them apart, with their reuse penalty. Empty until the first use.
    used_in_cell: Vec<Vec<u32>>,
    /// Per search cell, its best scenes, so the search passes a cell that cannot win
    /// unopened.
    cell_tops: Vec<CellTop>,
    /// Duration classes holding a scene shortened without being used (see `CellTop::loose`).
    loose_classes: [bool; DUR_CLASSES],
    /// The beats a shot's action may land on, in time order (empty: action sync off).
    hits: Vec<Hit>,
    /// How close to a beat a landed action must be (half an output frame).
    hit_tolerance: Ticks,
}

/// A beat a shot's strongest moment can be put on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    /// Timeline time of the beat.
    pub time: Ticks,
    /// What the beat is.
    pub kind: HitKind,
}

/// The kinds of beat an action can land on, in rising preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HitKind {
    /// Any beat.
    Beat,
    /// The first beat of a bar.
    Downbeat,
    /// The first beat of a climax: the drop.
    Drop,
}

impl HitKind {
    /// How much a landing on this kind of beat is worth, relative to a drop.
    fn weight(self) -> f64 {
        match self {
            Self::Beat => 0.5,
            Self::Downbeat => 0.75,
            Self::Drop => 1.0,
        }
    }

    /// The beat's name in a reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Beat => "a beat",
            Self::Downbeat => "the downbeat",
            Self::Drop => "the drop",
        }
    }
}

/// A shot's source range, and the beat its action lands on (when it was put on one).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub src_in: Ticks,
    pub src_out: Ticks,
    pub action: Option<ActionHit>,
}

/// A shot's action put on a beat: which beat, and how strongly the action stands out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ActionHit {
    pub hit: Hit,
    pub strength: f32,
}

/// What an action landing on a drop is worth at full `Style::action_sync`, against motion
/// terms of 0..=1: enough to choose the in-point that lands it over any other.
const ACTION_WEIGHT: f64 = 2.0;
/// Action strength (times the scene's typical change) at which a landing counts in full;
/// weaker peaks count less, down to a quarter.
const ACTION_FULL_STRENGTH: f32 = 9.0;

/// One use of a scene: in which slot, and which source range.
#[derive(Debug, Clone, Copy)]
struct Use {
    scene: u32,
    slot: u32,
    range: (Ticks, Ticks),
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
        let w = Weights::new(style, index.clips.len());
        let mut sel = Self {
            index,
            style,
            seed,
            w,
            duration: duration.max(1),
            longest_free: index
                .start
                .iter()
                .zip(&index.end)
                .map(|(s, e)| e - s)
                .collect(),
            // sized for a plan's worth of shots, so they rarely grow
            gaps: GapTable::with_capacity(256),
            hard_gaps: GapTable::default(),
            recent_looks: Vec::new(),
            clip_uses: vec![0; index.clips.len()],
            clip_last: vec![None; index.clips.len()],
            uses: Vec::with_capacity(256),
            scene_uses: vec![0; index.scene_count()],
            slot_no: 0,
            prev_scene: None,
            prev_clip: None,
            adj: Vec::new(),
            fresh_clips: index.clips.len(),
            recent_clips: Vec::new(),
            adj_slot: Vec::new(),
            last_avoid: [None; 2],
            used_in_cell: Vec::new(),
            cell_tops: index
                .cell_top
                .iter()
                .map(|&top| CellTop {
                    unused: quality_term(&w, top),
                    used: f32::NEG_INFINITY,
                    skip: 0,
                    loose: false,
                })
                .collect(),
            loose_classes: [false; DUR_CLASSES],
            hits: Vec::new(),
            hit_tolerance: 0,
        };
        // a used scene's reuse penalty must outweigh any duration fit for the cell bounds
        if sel.w.scene_reuse < sel.w.dur {
            sel.loose_classes = [true; DUR_CLASSES];
            for top in &mut sel.cell_tops {
                top.loose = true;
            }
        }
        for &(clip_id, lo, hi) in excluded {
            for n in sel.overlapping(clip_id, lo, hi) {
                let full = [sel.full(n)];
                sel.hard_gaps.subtract(n, &full, lo, hi);
                let l = sel.gaps.subtract(n, &full, lo, hi);
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
        if let Some(top) = self.cell_tops.get_mut(cell) {
            top.loose = true;
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
            self.uses.push(Use {
                scene: n as u32,
                slot: self.slot_no,
                range: (lo, hi),
            });
            self.count_use(n);
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

    /// Counts a use of scene `n`; the first moves it to its cell's used list.
    fn count_use(&mut self, n: usize) {
        let Some(u) = self.scene_uses.get_mut(n) else {
            return;
        };
        let first = *u == 0;
        *u = u.saturating_add(1);
        if !first {
            return;
        }
        let (Some(cell), Some(&pos)) = (self.index.cell_of_scene(n), self.index.cell_pos.get(n))
        else {
            return;
        };
        if self.used_in_cell.is_empty() {
            self.used_in_cell = vec![Vec::new(); self.index.motion_bins * DUR_CLASSES];
        }
        let Some(used) = self.used_in_cell.get_mut(cell) else {
            return;
        };
        let at = used.partition_point(|&p| p < pos);
        used.insert(at, pos);
        let Some(top) = self.cell_tops.get_mut(cell) else {
            return;
        };
        let ix = self.index;
        let w = self.w;
        let quality = |p: Option<usize>| {
            let q = p
                .and_then(|p| ix.cell_scenes.get(p))
                .map_or(f32::NEG_INFINITY, |s| s.quality);
            quality_term(&w, q)
        };
        if at == 0 {
            top.used = quality(Some(pos as usize));
        }
        // the used scenes at the head of the cell: `used[i]` is the cell's i-th scene
        let range = ix.cell_range(cell);
        let mut skip = top.skip as usize;
        if at == skip {
            while used
                .get(skip)
                .is_some_and(|&p| p as usize == range.start + skip)
            {
                skip += 1;
            }
            top.unused = quality(Some(range.start + skip).filter(|&p| p < range.end));
            top.skip = skip as u32;
        }
    }

    fn note_clip(&mut self, c: usize) {
        if let Some(u) = self.clip_uses.get_mut(c) {
            if *u == 0 {
                self.fresh_clips = self.fresh_clips.saturating_sub(1);
            }
            *u += 1;
        }
        if let Some(l) = self.clip_last.get_mut(c) {
            *l = Some(self.slot_no);
        }
        self.recent_clips.push((c, self.slot_no));
    }

    /// The selection view of `slot`; `next_clip` is the clip id of a locked segment right after it.
    pub fn view(&self, slot: &Slot, next_clip: Option<usize>) -> SlotView {
        let avoid = self.avoid(next_clip);
        let mut clip_adj = Vec::new();
        let max_adj = self.fill_adjustments(&mut clip_adj, self.time_frac(slot), &avoid);
        self.make_view(slot, avoid, clip_adj, max_adj)
    }

    /// `view` for the slot after the last one chosen: the clip adjustments are updated in
    /// place, for the clips whose terms can have changed since the last slot (recently
    /// used ones, neighbours now or then), unless story order moves them all.
    fn next_view(&mut self, slot: &Slot, next_clip: Option<usize>) -> SlotView {
        let avoid = self.avoid(next_clip);
        let time_frac = self.time_frac(slot);
        let clips = self.index.clips.len();
        let mut adj = std::mem::take(&mut self.adj);
        let max_adj = if adj.len() != clips || (self.w.chrono > 0.0 && clips > 1) {
            self.fresh_clips = self.clip_uses.iter().filter(|&&u| u == 0).count();
            self.adj_slot = vec![u32::MAX; clips];
            self.fill_adjustments(&mut adj, time_frac, &avoid)
        } else {
            let mut acc = Refresh {
                max: f32::NEG_INFINITY,
                count: 0,
                fresh: 0,
            };
            for k in 0..self.recent_clips.len() {
                if let Some(&(c, _)) = self.recent_clips.get(k) {
                    self.refresh(c, time_frac, &avoid, &mut adj, &mut acc);
                }
            }
            for c in avoid.into_iter().chain(self.last_avoid).flatten() {
                self.refresh(c, time_frac, &avoid, &mut adj, &mut acc);
            }
            let Refresh {
                mut max,
                count,
                fresh: dirty_fresh,
            } = acc;
            // every other clip rests at the fresh bonus (unused) or at nothing (used)
            let resting_fresh = self.fresh_clips.saturating_sub(dirty_fresh);
            if resting_fresh > 0 {
                max = max.max(self.w.fresh);
            }
            if clips.saturating_sub(count) > resting_fresh {
                max = max.max(0.0);
            }
            max
        };
        // uses older than the window have come to rest (updated above for the last time)
        let window = self.w.recent_window;
        let slot_no = self.slot_no;
        self.recent_clips
            .retain(|&(_, used)| slot_no.saturating_sub(used) <= window);
        self.last_avoid = avoid;
        self.make_view(slot, avoid, adj, max_adj)
    }

    /// Recomputes the adjustment of clip `c` for this slot, once per slot.
    fn refresh(
        &mut self,
        c: usize,
        time_frac: f32,
        avoid: &[Option<usize>; 2],
        adj: &mut [f32],
        acc: &mut Refresh,
    ) {
        match self.adj_slot.get_mut(c) {
            Some(done) if *done != self.slot_no => *done = self.slot_no,
            _ => return,
        }
        let a = self.clip_adjustment(c, time_frac, avoid);
        if let Some(x) = adj.get_mut(c) {
            *x = a;
        }
        acc.max = acc.max.max(a);
        acc.count += 1;
        acc.fresh += usize::from(self.clip_uses.get(c) == Some(&0));
    }

    /// Clip positions of the neighbouring segments: the last one and a locked next one.
    fn avoid(&self, next_clip: Option<usize>) -> [Option<usize>; 2] {
        [
            self.prev_clip,
            next_clip.and_then(|id| self.index.clip_pos(id)),
        ]
    }

    /// Where the middle of `slot` falls in the song, 0..=1.
    fn time_frac(&self, slot: &Slot) -> f32 {
        ((slot.start + slot.end) as f64 / 2.0 / self.duration as f64) as f32
    }

    /// Sets `adj` to every clip's adjustment; returns the largest.
    fn fill_adjustments(
        &self,
        adj: &mut Vec<f32>,
        time_frac: f32,
        avoid: &[Option<usize>; 2],
    ) -> f32 {
        adj.clear();
        adj.extend((0..self.index.clips.len()).map(|c| self.clip_adjustment(c, time_frac, avoid)));
        adj.iter().copied().fold(f32::NEG_INFINITY, f32::max)
    }

    fn make_view(
        &self,
        slot: &Slot,
        avoid: [Option<usize>; 2],
        clip_adj: Vec<f32>,
        max_adj: f32,
    ) -> SlotView {
        SlotView {
            start: slot.start,
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
        self.recent_looks.iter().any(|r| within(r, look, r2))
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
    #[inline]
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
        // a used scene pays at least one reuse penalty, whatever its fit
        let used_cap = w.dur + jitter - w.scene_reuse;
        let loose_cap = w.dur + jitter;
        let mut best: Option<(f32, usize)> = None;
        // the score to beat (none yet: every bound passes)
        let mut bs = f32::NEG_INFINITY;
        for (dist, b) in bins_outward(v.wanted, ix.motion_bins) {
            let motion_bound = -w.motion * dist;
            if w.quality * ix.max_quality + motion_bound + class_cap + v.max_adj < bs {
                break;
            }
            // every term but quality and the duration fit, at its best in this bin
            let reach = motion_bound + v.max_adj;
            let row = b * DUR_CLASSES;
            let cells = row + first_class..row + ix.class_end.max(first_class);
            let tops = self.cell_tops.get(cells.clone()).unwrap_or(&[]);
            let class_caps = caps.get(first_class..).unwrap_or(&[]);
            for ((cell_no, top), &class_cap) in cells.zip(tops).zip(class_caps) {
                let cap = if top.loose { loose_cap } else { class_cap };
                // (an empty side has a bound of minus infinity: opened only before any pick)
                let open_unused = top.unused + reach + cap >= bs;
                let open_used = top.used + reach + used_cap >= bs;
                if !(open_unused || open_used) {
                    continue;
                }
                let used = self
                    .used_in_cell
                    .get(cell_no)
                    .map_or(&[][..], Vec::as_slice);
                if open_unused {
                    // past the used head of the cell
                    let skip = top.skip as usize;
                    let range = ix.cell_range(cell_no);
                    let start = range.start + skip;
                    let scenes = ix.cell_scenes.get(start..range.end).unwrap_or(&[]);
                    let holes = used.get(skip..).unwrap_or(&[]);
                    best = self.scan_unused(scenes, start, holes, reach, cap, v, best);
                }
                if open_used {
                    for cs in used.iter().filter_map(|&p| ix.cell_scenes.get(p as usize)) {
                        if !self.consider(cs, reach, used_cap, v, &mut best) {
                            break;
                        }
                    }
                }
                bs = best.map_or(f32::NEG_INFINITY, |(s, _)| s);
            }
        }
        best
    }

    /// The better of `best` and the unused scenes of a cell: `scenes` (best quality first)
    /// starting at position `start` of `PlanIndex::cell_scenes`, skipping the positions
    /// in `used` (ascending).
    #[allow(clippy::too_many_arguments)]
    fn scan_unused(
        &self,
        scenes: &[CellScene],
        start: usize,
        used: &[u32],
        reach: f32,
        cap: f32,
        v: &SlotView,
        mut best: Option<(f32, usize)>,
    ) -> Option<(f32, usize)> {
        // the runs of unused scenes between the used ones
        let mut from = 0;
        for &p in used {
            let hole = (p as usize).wrapping_sub(start);
            let run = scenes.get(from..hole).unwrap_or(&[]);
            if !run
                .iter()
                .all(|cs| self.consider(cs, reach, cap, v, &mut best))
            {
                return best;
            }
            from = hole + 1;
        }
        let run = scenes.get(from..).unwrap_or(&[]);
        for cs in run {
            if !self.consider(cs, reach, cap, v, &mut best) {
                break;
            }
        }
        best
    }

    /// Offers scene `cs` to `best`, its score being at most its quality term plus `reach`
    /// and `cap`; false when that bound already loses (so every lower-quality scene would).
    #[inline(always)]
    fn consider(
        &self,
        cs: &CellScene,
        reach: f32,
        cap: f32,
        v: &SlotView,
        best: &mut Option<(f32, usize)>,
    ) -> bool {
        let w = &self.w;
        // jitter cap plus a margin for rounding in the bounds
        let jitter = w.jitter + 1e-4;
        let bs = best.map_or(f32::NEG_INFINITY, |(bs, _)| bs);
        if w.quality * cs.quality + reach + cap < bs {
            return false;
        }
        let fixed = self.fixed_terms(cs.quality, cs.motion, cs.clip, v);
        if fixed + cap < bs {
            return true;
        }
        let n = cs.scene as usize;
        let free = self.longest_free.get(n).copied().unwrap_or(0);
        if free < v.len {
            return true; // not usable
        }
        // all but the jitter, as `upper_from` adds them; the reuse penalty is known
        let partial = fixed + w.dur * (v.len as f32 / free.max(1) as f32).min(1.0);
        let uses = self.scene_uses.get(n).copied().unwrap_or(0).min(3);
        let reuse = w.scene_reuse * f32::from(uses);
        if partial + jitter - reuse < bs {
            return true;
        }
        let upper = partial + w.jitter * unit(self.seed, u64::from(self.slot_no), n as u64);
        if upper < bs {
            return true;
        }
        let s = upper - self.penalties(n);
        if better(s, n, *best) {
            *best = Some((s, n));
        }
        true
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
        let last: SceneMap<u32> = self
            .uses
            .iter()
            .map(|u| (u.scene as usize, u.slot))
            .collect();
        (0..self.index.scene_count())
            .filter(|&n| self.hard_longest(n) >= v.len)
            .min_by(|&a, &b| {
                let key = |n: usize| {
                    let avoid = self
                        .index
                        .clip
                        .get(n)
                        .is_some_and(|&c| v.avoid.contains(&Some(c as usize)));
                    (avoid, last.get(&n).copied().unwrap_or(0))
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
        match self.hard_gaps.get(n) {
            Some(g) => g.iter().map(|(a, b)| b - a).max().unwrap_or(0),
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

    /// Beats a shot's action may land on (`hits`, in time order), each within `tolerance`;
    /// set only when the style asks for action on the beat.
    pub fn with_hits(mut self, hits: Vec<Hit>, tolerance: Ticks) -> Self {
        self.hits = hits;
        self.hit_tolerance = tolerance;
        self
    }

    /// The source window of scene `n` for the slot: inside one gap, on the clip's frame grid,
    /// busiest part for energetic slots and steadiest for calm ones, clear of the scene edges.
    /// With action sync on and an action peak in the scene, the in-points that put the peak
    /// on a beat inside the slot are tried too, and a landing counts for them.
    pub fn window(&self, n: usize, v: &SlotView, reuse: bool) -> Window {
        let full = [self.full(n)];
        let map = if reuse { &self.hard_gaps } else { &self.gaps };
        let gaps: &[(Ticks, Ticks)] = map.get(n).unwrap_or(&full);
        let clip = self.index.clip.get(n).map(|&c| c as usize).unwrap_or(0);
        let entry = self.index.clips.get(clip);
        let grid = entry.and_then(|c| c.grid);
        // without frame scores every start measures 0 and the first one wins
        let scored = entry.is_some_and(|c| !c.frames.is_empty());
        let len = v.len;
        let peak = self.action_peak(n);
        // the beats inside the slot (not its first frame: that is the cut itself)
        let hits: &[Hit] = match peak {
            Some(_) => {
                let lo = self.hits.partition_point(|h| h.time <= v.start);
                let hi = self.hits.partition_point(|h| h.time < v.start + len);
                self.hits.get(lo..hi).unwrap_or(&[])
            }
            None => &[],
        };
        let mut best: Option<(f64, Ticks, Option<ActionHit>)> = None;
        'gaps: for &(g0, g1) in gaps {
            let slack = g1 - g0 - len;
            if slack < 0 {
                continue;
            }
            let margin = (TICKS_PER_SECOND / 4).min(slack / 2);
            let landings = peak.into_iter().flat_map(|(at, _)| {
                hits.iter()
                    .map(move |h| at - (h.time - v.start))
                    .filter(move |&s| s >= g0 && s + len <= g1)
            });
            let starts = std::iter::once(g0 + margin)
                .chain((0..=8).map(|k| g0 + slack * k / 8))
                .chain(landings);
            for s in starts {
                let s = match grid {
                    Some(fr) => {
                        let up = ticks_of_frame(fr, frame_at(fr, s - 1) + 1);
                        let down = ticks_of_frame(fr, frame_at(fr, s));
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
                let landed = self.landing(peak, hits, v.start, s, len);
                if !scored && !reuse && landed.is_none() {
                    if best.is_none() {
                        best = Some((0.0, s, None));
                    }
                    if peak.is_none() {
                        break 'gaps;
                    }
                    continue;
                }
                let motion = self.index.window_motion(clip, s, s + len).unwrap_or(0.0);
                let mut value = if v.wanted >= 0.5 { motion } else { -motion };
                if reuse {
                    // Reused footage rotates: the range shown longest ago (and then the
                    // one overlapping the latest use least) wins; motion (0..=1) only
                    // breaks ties.
                    value -= 4.0 * self.recency(n, s, s + len);
                }
                if let Some(a) = landed {
                    let strength = (a.strength / ACTION_FULL_STRENGTH).clamp(0.25, 1.0);
                    value += ACTION_WEIGHT
                        * f64::from(self.style.action_sync)
                        * a.hit.kind.weight()
                        * f64::from(strength);
                }
                if best.is_none_or(|(bv, _, _)| value > bv + 1e-9) {
                    best = Some((value, s, landed));
                }
            }
        }
        match best {
            Some((_, s, action)) => Window {
                src_in: s,
                src_out: s + len,
                action,
            },
            None => {
                // nothing fits: the longest gap, held (reason says so)
                let (g0, g1) = gaps
                    .iter()
                    .copied()
                    .max_by_key(|(a, b)| (b - a, std::cmp::Reverse(*a)))
                    .unwrap_or_else(|| self.full(n));
                Window {
                    src_in: g0,
                    src_out: g1.min(g0 + len),
                    action: None,
                }
            }
        }
    }

    /// Scene `n`'s action peak (source time, strength) when the style seeks action on the
    /// beat and the scene has one.
    fn action_peak(&self, n: usize) -> Option<(Ticks, f32)> {
        if self.hits.is_empty() || self.style.action_sync <= 0.0 {
            return None;
        }
        self.index
            .action
            .get(n)
            .copied()
            .flatten()
            .map(|a| (a.time, a.strength))
    }

    /// The beat of `hits` that the peak lands on when the shot starts at source time `s`
    /// and plays from `start` (within half an output frame), the most wanted kind first.
    fn landing(
        &self,
        peak: Option<(Ticks, f32)>,
        hits: &[Hit],
        start: Ticks,
        s: Ticks,
        len: Ticks,
    ) -> Option<ActionHit> {
        let (at, strength) = peak?;
        let offset = at - s;
        if offset <= 0 || offset >= len {
            return None;
        }
        let plays = start + offset;
        hits.iter()
            .filter(|h| (h.time - plays).abs() <= self.hit_tolerance)
            .max_by(|a, b| a.kind.weight().total_cmp(&b.kind.weight()))
            .map(|&hit| ActionHit { hit, strength })
    }

    /// How recently `[lo, hi)` of scene `n` was shown: the latest slot that showed part of
    /// it plus the share of the range that slot showed (0 when none did).
    fn recency(&self, n: usize, lo: Ticks, hi: Ticks) -> f64 {
        let len = (hi - lo).max(1) as f64;
        self.uses
            .iter()
            .filter(|u| u.scene as usize == n && u.range.0 < hi && lo < u.range.1)
            .map(|u| {
                let shared = u.range.1.min(hi) - u.range.0.max(lo);
                f64::from(u.slot) + shared as f64 / len
            })
            .fold(0.0, f64::max)
    }

    /// Why a pick was made: the facts, formatted only when the reason is read.
    pub fn reason(&self, pick: &Pick, v: &SlotView, action: Option<ActionHit>) -> Reason {
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
            action,
        })
    }

    /// Turns a pick into a segment for `slot` (nothing recorded).
    pub fn segment(&self, pick: &Pick, v: &SlotView, slot: &Slot) -> Segment {
        let n = pick.scene;
        let clip = self.index.clip.get(n).map(|&c| c as usize).unwrap_or(0);
        let window = self.window(n, v, pick.reuse);
        Segment {
            clip: self.index.clips.get(clip).map(|c| c.id).unwrap_or(0),
            src_in: window.src_in,
            src_out: window.src_out,
            start: slot.start,
            end: slot.end,
            locked: false,
            transition: Transition::Cut,
            reason: self.reason(pick, v, window.action),
        }
    }

    /// Fills `slot`: picks, records the use, marks similar-looking scenes, advances.
    pub fn choose(&mut self, slot: &Slot, next_clip: Option<usize>) -> Result<Segment, PlanError> {
        let v = self.next_view(slot, next_clip);
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
        self.adj = v.clip_adj;
        Ok(seg)
    }

    /// Removes `[lo, hi)` from the free footage of scene `n` (its allowed ranges at first).
    fn subtract_free(&mut self, n: usize, lo: Ticks, hi: Ticks) {
        let full = [self.full(n)];
        let initial = self.hard_gaps.get(n).unwrap_or(&full);
        let l = self.gaps.subtract(n, initial, lo, hi);
        if let Some(x) = self.longest_free.get_mut(n) {
            *x = l;
        }
    }

    fn mark_used_scene(&mut self, n: usize, lo: Ticks, hi: Ticks) {
        self.subtract_free(n, lo, hi);
        self.uses.push(Use {
            scene: n as u32,
            slot: self.slot_no + 1,
            range: (lo, hi),
        });
        self.count_use(n);
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

/// Whether the squared distance of two looks is at most `r2`. The sum runs in dimension
/// order; its terms are not negative, so a partial sum past `r2` settles it early (most
/// looks are far apart).
fn within(a: &[f32; LOOK_DIMS], b: &[f32; LOOK_DIMS], r2: f32) -> bool {
    let mut d = 0.0f32;
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        d += (x - y) * (x - y);
        if k == LOOK_DIMS / 2 - 1 && d > r2 {
            return false;
        }
    }
    d <= r2
}

/// `w.quality * quality`, keeping `NEG_INFINITY` (no scene) whatever the weight.
fn quality_term(w: &Weights, quality: f32) -> f32 {
    if quality == f32::NEG_INFINITY {
        quality
    } else {
        w.quality * quality
    }
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

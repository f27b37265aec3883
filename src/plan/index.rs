//! `PlanIndex`: every scene of every clip as flat arrays, built once and reused by each replan.
//!
//! Selection reads only these arrays (struct of arrays, indexed by scene number `n`), a
//! k-d tree over an 8-dimensional look vector for variety and match cuts, and cells that
//! group scenes by motion percentile and duration class, each sorted by quality, so a slot's
//! best scene is found by a bounded search instead of scoring every scene.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use kiddo::{ImmutableKdTree, SquaredEuclidean};

use super::ClipInput;
use crate::analysis::video::{ActionPeak, Scene, SceneFeatures};
use crate::time::{FrameRate, TICKS_PER_SECOND, Ticks};

/// Dimensions of the reduced look vector in the k-d tree.
pub(crate) const LOOK_DIMS: usize = 8;
/// Most motion-percentile bins of the search cells (a small library gets fewer, so a
/// cell holds several scenes and the search does not walk empty cells).
pub(crate) const MOTION_BINS: usize = 64;
/// Scenes per motion bin the bin count aims at.
const SCENES_PER_BIN: usize = 64;
/// Duration classes of the search cells: under half a second, then powers of two up to
/// eight seconds and longer (longer classes would mostly tighten bounds of scenes far
/// longer than any slot, at the price of more cells to visit).
pub(crate) const DUR_CLASSES: usize = 6;

/// Look neighbours consulted for match cuts.
pub(crate) const MATCH_NEIGHBOURS: usize = 6;

/// The scenes nearest a scene's look (itself included), as the k-d tree returns them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Neighbours {
    ids: [u32; MATCH_NEIGHBOURS],
    len: u8,
}

impl Neighbours {
    /// The neighbours' scene numbers.
    pub fn as_slice(&self) -> &[u32] {
        self.ids.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// A scene as a search cell holds it: what the bounds read, inline, so a cell is scanned
/// front to back without touching the per-scene arrays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CellScene {
    /// `PlanIndex::quality` of the scene.
    pub quality: f32,
    /// `PlanIndex::motion` of the scene.
    pub motion: f32,
    /// `PlanIndex::clip` of the scene.
    pub clip: u32,
    /// The scene number `n`.
    pub scene: u32,
}

/// Per-clip facts kept in the index.
#[derive(Debug, Clone)]
pub(crate) struct ClipEntry {
    /// Caller's id (`ClipInput::id`).
    pub id: usize,
    /// Range of this clip's scenes in the scene arrays.
    pub scenes: std::ops::Range<usize>,
    /// Range of this clip's frame scores in `fs_time`/`fs_cum`.
    pub frames: std::ops::Range<usize>,
    /// Source frame grid, when the clip's rate is known.
    pub grid: Option<FrameRate>,
}

/// Precomputed, immutable selection data for a set of clips. Cheap to keep, rebuilt only
/// when the clips or their analyses change.
pub struct PlanIndex {
    pub(crate) clips: Vec<ClipEntry>,
    pub(crate) clip_of_id: HashMap<usize, usize>,
    /// Clip position (into `clips`) of each scene.
    pub(crate) clip: Vec<u32>,
    /// Scene number inside its clip.
    pub(crate) scene_no: Vec<u32>,
    pub(crate) start: Vec<Ticks>,
    pub(crate) end: Vec<Ticks>,
    /// Motion as a percentile over the library, 0..=1: comparable to music energy.
    pub(crate) motion: Vec<f32>,
    /// Image quality 0..=1 (sharpness, exposure, contrast).
    pub(crate) quality: Vec<f32>,
    /// Reduced look vector.
    pub(crate) look: Vec<[f32; LOOK_DIMS]>,
    /// Scenes of every (motion bin, duration class) cell, best quality first, cells
    /// concatenated; cell `c` is `cell_scenes[cell_start[c]..cell_start[c + 1]]`.
    pub(crate) cell_scenes: Vec<CellScene>,
    pub(crate) cell_start: Vec<u32>,
    /// Position of each scene in `cell_scenes` (`u32::MAX` for none).
    pub(crate) cell_pos: Vec<u32>,
    /// Search cell of each scene.
    pub(crate) scene_cell: Vec<u32>,
    /// Best quality in each cell (`NEG_INFINITY` for an empty one).
    pub(crate) cell_top: Vec<f32>,
    /// Shortest scene of each duration class over all motion bins (0 when empty).
    pub(crate) class_min_len: [Ticks; DUR_CLASSES],
    /// One past the longest duration class holding a scene: the search stops there.
    pub(crate) class_end: usize,
    /// Best quality of any scene.
    pub(crate) max_quality: f32,
    /// Motion bins of the search cells: a power of two up to `MOTION_BINS`.
    pub(crate) motion_bins: usize,
    pub(crate) tree: Option<ImmutableKdTree<f32, LOOK_DIMS>>,
    /// Squared look distance under which two scenes count as similar.
    pub(crate) similar_radius2: f32,
    pub(crate) longest_scene: Ticks,
    /// Per scene: its action peak (source time, strength), when it has one.
    pub(crate) action: Vec<Option<ActionPeak>>,
    /// Frame score times, all clips concatenated.
    pub(crate) fs_time: Vec<Ticks>,
    /// Running sum of frame differences, one longer per clip than its frames.
    pub(crate) fs_cum: Vec<f64>,
    /// Look neighbours per scene, filled on first use: a replan asks for the same few
    /// scenes' neighbours again, and a k-d query costs microseconds in 8 dimensions.
    /// Bounded by the scene count; dropped with the index.
    neighbours: Mutex<HashMap<u32, Neighbours>>,
}

impl fmt::Debug for PlanIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanIndex")
            .field("clips", &self.clips.len())
            .field("scenes", &self.start.len())
            .finish_non_exhaustive()
    }
}

fn finite01(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn quality_of(f: &SceneFeatures) -> f32 {
    let exposure = 1.0 - (2.0 * (finite01(f.brightness) - 0.5).abs()).min(1.0);
    0.5 * finite01(f.sharpness) + 0.3 * exposure + 0.2 * finite01(f.contrast)
}

/// Chunk means of the scene's look vector (or colour stats when it has none).
fn look_of(f: &SceneFeatures) -> [f32; LOOK_DIMS] {
    let mut out = [0.0f32; LOOK_DIMS];
    let v = &f.vector;
    if v.is_empty() {
        let [r, g, b] = f.dominant_rgb;
        let stats = [
            f.brightness,
            f.contrast,
            f.colorfulness,
            f32::from(r) / 255.0,
            f32::from(g) / 255.0,
            f32::from(b) / 255.0,
            f.sharpness,
            0.0,
        ];
        for (o, s) in out.iter_mut().zip(stats) {
            *o = s;
        }
    } else if v.len() <= LOOK_DIMS {
        for (o, s) in out.iter_mut().zip(v) {
            *o = *s;
        }
    } else {
        for (d, o) in out.iter_mut().enumerate() {
            let lo = d * v.len() / LOOK_DIMS;
            let hi = ((d + 1) * v.len() / LOOK_DIMS).max(lo + 1);
            let chunk = v.get(lo..hi).unwrap_or(&[]);
            *o = chunk.iter().sum::<f32>() / chunk.len().max(1) as f32;
        }
    }
    for o in &mut out {
        *o = if o.is_finite() {
            o.clamp(-1e6, 1e6)
        } else {
            0.0
        };
    }
    out
}

fn duration_class(len: Ticks) -> usize {
    let secs4 = len as f64 * 4.0 / TICKS_PER_SECOND as f64;
    if secs4 < 1.0 {
        0
    } else {
        (secs4.log2().floor() as usize).min(DUR_CLASSES - 1)
    }
}

/// Longest scene length in a duration class (exclusive), `None` for the open top class.
pub(crate) fn duration_class_max(class: usize) -> Option<Ticks> {
    if class + 1 >= DUR_CLASSES {
        None
    } else {
        Some((TICKS_PER_SECOND / 2) << class)
    }
}

/// Search cell of a scene with motion percentile `motion` and length `len`.
fn cell_of(motion: f32, len: Ticks, bins: usize) -> usize {
    motion_bin(motion, bins) * DUR_CLASSES + duration_class(len)
}

/// Motion bin of a percentile, with `bins` bins.
pub(crate) fn motion_bin(pct: f32, bins: usize) -> usize {
    ((pct * bins as f32) as usize).min(bins.saturating_sub(1))
}

impl PlanIndex {
    /// Flattens the clips' scenes. A clip without scenes (not analysed yet) counts as one
    /// scene spanning the whole clip; empty scenes are skipped.
    pub fn new(clips: &[ClipInput]) -> Self {
        let mut index = PlanIndex {
            clips: Vec::with_capacity(clips.len()),
            clip_of_id: HashMap::with_capacity(clips.len()),
            clip: Vec::new(),
            scene_no: Vec::new(),
            start: Vec::new(),
            end: Vec::new(),
            motion: Vec::new(),
            quality: Vec::new(),
            look: Vec::new(),
            cell_scenes: Vec::new(),
            cell_start: Vec::new(),
            cell_pos: Vec::new(),
            scene_cell: Vec::new(),
            cell_top: Vec::new(),
            class_min_len: [0; DUR_CLASSES],
            class_end: 0,
            max_quality: 0.0,
            motion_bins: MOTION_BINS,
            tree: None,
            similar_radius2: 0.0,
            longest_scene: 0,
            action: Vec::new(),
            fs_time: Vec::new(),
            fs_cum: Vec::new(),
            neighbours: Mutex::new(HashMap::new()),
        };
        let mut motion_raw = Vec::new();
        let whole_clip = Scene::default();
        for input in clips {
            if index.clip_of_id.contains_key(&input.id) {
                continue; // a duplicate id would make segments ambiguous
            }
            let a = input.analysis;
            let pos = index.clips.len();
            let first_scene = index.start.len();
            let mut scenes: Vec<&Scene> = a.scenes.iter().collect();
            if !scenes.is_sorted_by_key(|s| s.start) {
                scenes.sort_by_key(|s| s.start);
            }
            let synthetic;
            if scenes.is_empty() && a.duration > 0 {
                synthetic = Scene {
                    start: 0,
                    end: a.duration,
                    ..whole_clip.clone()
                };
                scenes.push(&synthetic);
            }
            let mut prev_end: Ticks = 0;
            for (k, s) in scenes.iter().enumerate() {
                let end = if a.duration > 0 {
                    s.end.min(a.duration)
                } else {
                    s.end
                };
                // overlapping scenes are trimmed so no source instant belongs to two scenes
                let start = s.start.max(prev_end);
                if end <= start {
                    continue;
                }
                prev_end = end;
                index.clip.push(pos as u32);
                index.scene_no.push(k as u32);
                index.start.push(start);
                index.end.push(end);
                motion_raw.push(finite01(s.features.motion));
                index.quality.push(quality_of(&s.features));
                index.look.push(look_of(&s.features));
                index.action.push(
                    s.features
                        .action
                        .filter(|a| a.time >= start && a.time < end && a.strength.is_finite()),
                );
                index.longest_scene = index.longest_scene.max(end - start);
            }
            let first_frame = index.fs_time.len();
            let mut frames: Vec<_> = a.frame_scores.iter().collect();
            if !frames.is_sorted_by_key(|f| f.time) {
                frames.sort_by_key(|f| f.time);
            }
            let mut cum = 0.0f64;
            for f in frames {
                index.fs_time.push(f.time);
                index.fs_cum.push(cum);
                cum += f64::from(finite01(f.diff));
            }
            let grid = (a.fps.is_finite() && a.fps > 0.0).then(|| FrameRate::from_f64(a.fps));
            index.clips.push(ClipEntry {
                id: input.id,
                scenes: first_scene..index.start.len(),
                frames: first_frame..index.fs_time.len(),
                grid,
            });
            // one extra running-sum entry closes the clip's range
            index.fs_cum.push(cum);
            index.fs_time.push(Ticks::MAX);
            index.clip_of_id.insert(input.id, pos);
        }
        index.motion = percentiles(&motion_raw);
        index.build_cells();
        index.similar_radius2 = similar_radius2(&index.look);
        if !index.look.is_empty() && index.look.len() < u32::MAX as usize {
            index.tree = ImmutableKdTree::new_from_slice(&index.look).ok();
        }
        index
    }

    /// Fills the search cells: scenes grouped by (motion bin, duration class), each cell
    /// sorted by quality (best first, then scene number).
    fn build_cells(&mut self) {
        self.motion_bins = (self.start.len() / SCENES_PER_BIN)
            .next_power_of_two()
            .clamp(4, MOTION_BINS);
        let bins = self.motion_bins;
        let cells = bins * DUR_CLASSES;
        let mut keyed: Vec<(usize, CellScene, Ticks)> = Vec::with_capacity(self.start.len());
        for n in 0..self.start.len() {
            let (Some(&motion), Some(&quality), Some(&clip), Some(len)) = (
                self.motion.get(n),
                self.quality.get(n),
                self.clip.get(n),
                self.scene_len(n),
            ) else {
                continue;
            };
            let scene = CellScene {
                quality,
                motion,
                clip,
                scene: n as u32,
            };
            keyed.push((cell_of(motion, len, bins), scene, len));
        }
        keyed.sort_by(|(ca, a, _), (cb, b, _)| {
            ca.cmp(cb)
                .then(b.quality.total_cmp(&a.quality))
                .then(a.scene.cmp(&b.scene))
        });
        self.cell_start = Vec::with_capacity(cells + 1);
        let mut next = 0;
        for (k, &(cell, scene, len)) in keyed.iter().enumerate() {
            while next <= cell {
                self.cell_start.push(k as u32);
                next += 1;
            }
            self.class_end = self.class_end.max(cell % DUR_CLASSES + 1);
            if let Some(min) = self.class_min_len.get_mut(cell % DUR_CLASSES) {
                *min = if *min == 0 { len } else { (*min).min(len) };
            }
            self.max_quality = self.max_quality.max(scene.quality);
        }
        while next <= cells {
            self.cell_start.push(keyed.len() as u32);
            next += 1;
        }
        self.cell_pos = vec![u32::MAX; self.start.len()];
        self.scene_cell = vec![u32::MAX; self.start.len()];
        for (k, &(cell, scene, _)) in keyed.iter().enumerate() {
            let n = scene.scene as usize;
            if let (Some(p), Some(c)) = (self.cell_pos.get_mut(n), self.scene_cell.get_mut(n)) {
                *p = k as u32;
                *c = cell as u32;
            }
        }
        self.cell_scenes = keyed.into_iter().map(|(_, scene, _)| scene).collect();
        self.cell_top = (0..cells)
            .map(|c| {
                self.cell(c)
                    .first()
                    .map_or(f32::NEG_INFINITY, |s| s.quality)
            })
            .collect();
    }

    /// The scenes of search cell `cell`, best quality first.
    pub(crate) fn cell(&self, cell: usize) -> &[CellScene] {
        let (Some(&a), Some(&b)) = (self.cell_start.get(cell), self.cell_start.get(cell + 1))
        else {
            return &[];
        };
        self.cell_scenes.get(a as usize..b as usize).unwrap_or(&[])
    }

    /// The positions of search cell `cell` in `cell_scenes`.
    pub(crate) fn cell_range(&self, cell: usize) -> std::ops::Range<usize> {
        match (self.cell_start.get(cell), self.cell_start.get(cell + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        }
    }

    /// The search cell of scene `n`.
    pub(crate) fn cell_of_scene(&self, n: usize) -> Option<usize> {
        self.scene_cell
            .get(n)
            .filter(|&&c| c != u32::MAX)
            .map(|&c| c as usize)
    }

    fn scene_len(&self, n: usize) -> Option<Ticks> {
        Some(self.end.get(n)? - self.start.get(n)?)
    }

    /// Number of scenes in the index.
    pub fn scene_count(&self) -> usize {
        self.start.len()
    }

    /// True when no clip has any footage.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// Position in `clips` of a caller clip id.
    pub(crate) fn clip_pos(&self, id: usize) -> Option<usize> {
        self.clip_of_id.get(&id).copied()
    }

    /// The `MATCH_NEIGHBOURS` scenes whose looks are nearest scene `n`'s (`n` among them).
    pub(crate) fn look_neighbours(&self, n: usize) -> Neighbours {
        let Ok(key) = u32::try_from(n) else {
            return Neighbours::default();
        };
        // a poisoned lock only means another thread panicked mid-insert: skip the memo
        if let Ok(memo) = self.neighbours.lock()
            && let Some(found) = memo.get(&key)
        {
            return *found;
        }
        let found = self.query_neighbours(n);
        if let Ok(mut memo) = self.neighbours.lock() {
            memo.insert(key, found);
        }
        found
    }

    fn query_neighbours(&self, n: usize) -> Neighbours {
        let mut out = Neighbours::default();
        let (Some(tree), Some(point), Some(k)) = (
            self.tree.as_ref(),
            self.look.get(n),
            NonZeroUsize::new(MATCH_NEIGHBOURS),
        ) else {
            return out;
        };
        let found = tree
            .query(point)
            .nearest_n::<SquaredEuclidean<f32>>(k)
            .execute();
        for (slot, item) in out.ids.iter_mut().zip(found) {
            *slot = item.item;
            out.len += 1;
        }
        out
    }

    /// Mean frame difference over `[t0, t1)` of a clip, when it has frame scores there.
    pub(crate) fn window_motion(&self, clip: usize, t0: Ticks, t1: Ticks) -> Option<f64> {
        let entry = self.clips.get(clip)?;
        let times = self.fs_time.get(entry.frames.clone())?;
        let lo = times.partition_point(|&t| t < t0);
        let hi = times.partition_point(|&t| t < t1);
        if hi <= lo {
            return None;
        }
        let base = entry.frames.start;
        let a = self.fs_cum.get(base + lo)?;
        let b = self.fs_cum.get(base + hi)?;
        Some((b - a) / (hi - lo) as f64)
    }
}

/// Rank of each value in `0..=1`, ties sharing their mean rank.
fn percentiles(values: &[f32]) -> Vec<f32> {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let va = values.get(a).copied().unwrap_or(0.0);
        let vb = values.get(b).copied().unwrap_or(0.0);
        va.total_cmp(&vb).then(a.cmp(&b))
    });
    let mut out = vec![0.5f32; n];
    if n < 2 {
        return out;
    }
    let mut i = 0;
    while i < n {
        let vi = order.get(i).and_then(|&k| values.get(k)).copied();
        let mut j = i + 1;
        while j < n && order.get(j).and_then(|&k| values.get(k)).copied() == vi {
            j += 1;
        }
        let rank = (i + j - 1) as f32 / 2.0 / (n - 1) as f32;
        for k in order.get(i..j).unwrap_or(&[]) {
            if let Some(o) = out.get_mut(*k) {
                *o = rank;
            }
        }
        i = j;
    }
    out
}

/// A quarter of the mean squared distance to the centroid: "looks alike" relative to the
/// spread of this library, whatever scale the analyser's vectors use.
fn similar_radius2(look: &[[f32; LOOK_DIMS]]) -> f32 {
    if look.is_empty() {
        return 0.0;
    }
    let n = look.len() as f64;
    let mut mean = [0.0f64; LOOK_DIMS];
    for v in look {
        for (m, x) in mean.iter_mut().zip(v) {
            *m += f64::from(*x) / n;
        }
    }
    let spread: f64 = look
        .iter()
        .map(|v| {
            v.iter()
                .zip(&mean)
                .map(|(x, m)| (f64::from(*x) - m).powi(2))
                .sum::<f64>()
        })
        .sum::<f64>()
        / n;
    (0.25 * spread).max(1e-9) as f32
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_rank_and_share_ties() {
        let p = percentiles(&[0.3, 0.1, 0.3, 0.9]);
        assert_eq!(p, vec![0.5, 0.0, 0.5, 1.0]);
        assert_eq!(percentiles(&[0.4]), vec![0.5]);
    }

    #[test]
    fn duration_classes_cover_their_lengths() {
        for ms in [10i64, 400, 600, 1000, 3000, 9000, 20_000, 100_000] {
            let t = ms * TICKS_PER_SECOND / 1000;
            let c = duration_class(t);
            match duration_class_max(c) {
                Some(max) => assert!(t < max, "{ms} ms in class {c}"),
                None => assert_eq!(c, DUR_CLASSES - 1, "{ms} ms: only the top class is open"),
            }
            if c > 0 {
                let floor = duration_class_max(c - 1).unwrap();
                assert!(t >= floor, "{ms} ms in class {c} (from {floor} ticks)");
            }
        }
        // Classes double: under 0.5 s, 0.5-1 s, 1-2 s, 2-4 s, ...
        let class_of = |ms: i64| duration_class(ms * TICKS_PER_SECOND / 1000);
        assert_eq!([400, 600, 1000, 3000, 9000].map(class_of), [0, 1, 2, 3, 5]);
    }

    #[test]
    fn look_reduces_long_vectors_to_chunk_means() {
        let f = SceneFeatures {
            vector: (0..16).map(|i| i as f32).collect(),
            ..SceneFeatures::default()
        };
        assert_eq!(look_of(&f), [0.5, 2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5]);
    }
}

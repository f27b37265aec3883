//! Pacing: which beats become cuts.
//!
//! Each stretch of timeline not covered by a locked segment is cut by a shortest-path
//! search over its beats (a DAG, nodes = beats, edge = one shot). A shot costs its squared
//! relative miss of the target length (style pace x energy x story arc x pattern x seeded
//! variation), plus penalties outside min/max, for crossing a section boundary, for long
//! shots not ending on a downbeat, for weak beats. Being global, the search never strands a
//! too-short shot before a lock or the song's end when a better split exists.

use super::arc::{arc_at, arc_pace, mean_energy};
use super::grid::BeatGrid;
use super::rng::unit;
use super::settings::CutMove;
use super::style::Style;
use crate::analysis::music::{MusicAnalysis, SectionLabel};
use crate::time::Ticks;

/// What kind of cut starts a slot, for transitions and reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CutKind {
    /// The timeline start.
    Start,
    /// An ordinary beat.
    Beat,
    /// The first beat of a bar.
    Downbeat,
    /// The song enters a new section.
    Section(SectionLabel),
    /// A beat the user moved a cut to.
    Moved,
    /// The boundary of a locked segment.
    Locked,
}

impl CutKind {
    /// Short phrase for reasons.
    pub fn describe(self) -> String {
        match self {
            Self::Start => "opening shot".to_owned(),
            Self::Beat => "beat cut".to_owned(),
            Self::Downbeat => "downbeat cut".to_owned(),
            Self::Section(label) => format!("section cut into {}", label.as_str()),
            Self::Moved => "cut moved here by the user".to_owned(),
            Self::Locked => "cut at a locked segment".to_owned(),
        }
    }
}

/// One shot-to-be on the timeline.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Slot {
    /// Start (output frame).
    pub start: Ticks,
    /// End (output frame).
    pub end: Ticks,
    /// The cut at `start`.
    pub cut: CutKind,
    /// Mean music energy across the slot, 0..=1.
    pub energy: f32,
    /// Story-arc label at the slot's middle.
    pub arc: Option<SectionLabel>,
    /// Index into the caller's lock list when this slot is a locked segment.
    pub locked: Option<usize>,
}

/// A locked stretch of the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LockSpan {
    /// Start on the timeline.
    pub start: Ticks,
    /// End on the timeline.
    pub end: Ticks,
    /// Index into `Constraints::locked`.
    pub index: usize,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    t: Ticks,
    pos: f64,
    downbeat: bool,
    confidence: f32,
    section: Option<SectionLabel>,
    forced: bool,
    forbidden: bool,
}

/// Everything the pacing needs besides the grid.
pub(crate) struct Pacing<'a> {
    /// The song.
    pub music: &'a MusicAnalysis,
    /// Its beats on the output grid.
    pub grid: &'a BeatGrid,
    /// The effective style.
    pub style: &'a Style,
    /// Seed of the plan.
    pub seed: u64,
    /// Longest scene in the library: longer shots would need a frame hold.
    pub longest_scene: Ticks,
}

impl Pacing<'_> {
    /// Slots covering `[0, grid.end)`: locked spans as given, the rest cut on beats.
    pub fn slots(&self, locks: &[LockSpan], moves: &[CutMove]) -> Vec<Slot> {
        let mut slots = Vec::new();
        let mut cursor = 0;
        for lock in locks {
            if lock.start > cursor {
                self.cut_interval(cursor, lock.start, moves, &mut slots);
            }
            slots.push(Slot {
                start: lock.start,
                end: lock.end,
                cut: if lock.start == 0 {
                    CutKind::Start
                } else {
                    CutKind::Locked
                },
                energy: mean_energy(self.music, self.grid, lock.start, lock.end),
                arc: arc_at(
                    self.music,
                    self.grid,
                    self.style,
                    (lock.start + lock.end) / 2,
                ),
                locked: Some(lock.index),
            });
            cursor = lock.end;
        }
        if cursor < self.grid.end {
            self.cut_interval(cursor, self.grid.end, moves, &mut slots);
        }
        slots
    }

    fn nodes(&self, a: Ticks, b: Ticks, moves: &[CutMove]) -> Vec<Node> {
        let grid = self.grid;
        let boundary = |t: Ticks| Node {
            t,
            pos: grid.pos(t),
            downbeat: false,
            confidence: 1.0,
            section: None,
            forced: false,
            forbidden: false,
        };
        let mut nodes = vec![boundary(a)];
        let first = grid.beats.partition_point(|g| g.cut <= a);
        for (k, g) in grid
            .beats
            .iter()
            .enumerate()
            .skip(first)
            .take_while(|(_, g)| g.cut < b)
        {
            nodes.push(Node {
                t: g.cut,
                // `grid.pos(g.time)`: beat times strictly increase, so beat k is at exactly k
                pos: k as f64,
                downbeat: g.downbeat,
                confidence: g.confidence,
                ..boundary(g.cut)
            });
        }
        nodes.push(boundary(b));
        let interior = 1..nodes.len().saturating_sub(1);
        let nearest = |nodes: &[Node], pos: f64| -> Option<usize> {
            let i = nodes.partition_point(|n| n.pos < pos);
            [i.saturating_sub(1), i]
                .into_iter()
                .filter(|k| interior.contains(k))
                .filter_map(|k| nodes.get(k).map(|n| (k, (n.pos - pos).abs())))
                .filter(|&(_, d)| d <= 0.5)
                .min_by(|x, y| x.1.total_cmp(&y.1))
                .map(|(k, _)| k)
        };
        for s in &self.music.sections {
            if s.start > 0
                && let Some(k) = nearest(&nodes, grid.pos(s.start))
                && let Some(n) = nodes.get_mut(k)
            {
                n.section = Some(s.label);
            }
        }
        for m in moves {
            if let Some(k) = nearest(&nodes, grid.pos(m.to))
                && let Some(n) = nodes.get_mut(k)
            {
                n.forced = true;
            }
            let half_frame = grid.fps.frame_ticks() / 2;
            let interior_count = nodes.len().saturating_sub(2);
            for n in nodes.iter_mut().skip(1).take(interior_count) {
                if (n.t - m.from).abs() <= half_frame && !n.forced {
                    n.forbidden = true;
                }
            }
        }
        nodes
    }

    /// The target shot length in beats for a shot starting at `node`.
    fn target(&self, node: &Node) -> f64 {
        let style = self.style;
        let base = f64::from(style.beats_per_shot);
        let e = f64::from(super::arc::energy_at(self.music, self.grid, node.t));
        let response = f64::from(style.energy_response);
        // full energy shortens a shot by 1.5x at full response, silence lengthens it as much
        let energy_mult = (-(e - 0.5) * 1.2 * response).exp2();
        let label = arc_at(self.music, self.grid, style, node.t);
        let mut mult = energy_mult * f64::from(arc_pace(label, style));
        if !style.pattern.is_empty() {
            let bar = (node.pos / f64::from(self.grid.beats_per_bar))
                .floor()
                .max(0.0) as usize;
            if let Some(m) = style.pattern.get(bar % style.pattern.len()) {
                mult *= f64::from(*m);
            }
        }
        let jitter = f64::from(unit(self.seed, node.t as u64, 0x7a11)) - 0.5;
        // up to +-1 octave at full variation, so tight sections still breathe
        mult *= (jitter * f64::from(style.variation) * 2.0).exp2();
        let mut target = base * mult;
        if style.intro_beats > 0.0 && node.pos < f64::from(style.intro_beats) - 0.5 {
            target = target.max(f64::from(style.intro_beats) - node.pos);
        }
        target.clamp(
            f64::from(style.min_shot_beats),
            f64::from(style.max_shot_beats),
        )
    }

    fn cut_interval(&self, a: Ticks, b: Ticks, moves: &[CutMove], slots: &mut Vec<Slot>) {
        let nodes = self.nodes(a, b, moves);
        let path = self.best_path(&nodes);
        for pair in path.windows(2) {
            let (Some(&i), Some(&j)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            let (Some(ni), Some(nj)) = (nodes.get(i), nodes.get(j)) else {
                continue;
            };
            let cut = if ni.t == 0 {
                CutKind::Start
            } else if i == 0 {
                CutKind::Locked
            } else if let Some(label) = ni.section {
                CutKind::Section(label)
            } else if ni.forced {
                CutKind::Moved
            } else if ni.downbeat {
                CutKind::Downbeat
            } else {
                CutKind::Beat
            };
            slots.push(Slot {
                start: ni.t,
                end: nj.t,
                cut,
                energy: mean_energy(self.music, self.grid, ni.t, nj.t),
                arc: arc_at(self.music, self.grid, self.style, (ni.t + nj.t) / 2),
                locked: None,
            });
        }
    }

    /// Shortest path from the first to the last node; returns node indices.
    fn best_path(&self, nodes: &[Node]) -> Vec<usize> {
        let n = nodes.len();
        let style = self.style;
        let max = f64::from(style.max_shot_beats);
        let targets: Vec<f64> = nodes.iter().map(|nd| self.target(nd)).collect();
        // prefix counts of section and forced nodes, to price crossing them
        let mut sec_prefix = vec![0u32; n + 1];
        let mut forced_prefix = vec![0u32; n + 1];
        for (k, nd) in nodes.iter().enumerate() {
            let (s, f) = (
                sec_prefix.get(k).copied().unwrap_or(0),
                forced_prefix.get(k).copied().unwrap_or(0),
            );
            if let Some(x) = sec_prefix.get_mut(k + 1) {
                *x = s + u32::from(nd.section.is_some());
            }
            if let Some(x) = forced_prefix.get_mut(k + 1) {
                *x = f + u32::from(nd.forced);
            }
        }
        let inside = |prefix: &[u32], i: usize, j: usize| -> f64 {
            let hi = prefix.get(j).copied().unwrap_or(0);
            let lo = prefix.get(i + 1).copied().unwrap_or(0);
            f64::from(hi.saturating_sub(lo))
        };
        let mut cost = vec![f64::INFINITY; n];
        let mut back = vec![0usize; n];
        if let Some(c) = cost.first_mut() {
            *c = 0.0;
        }
        for j in 1..n {
            let Some(nj) = nodes.get(j) else { continue };
            let mut best = (f64::INFINITY, j - 1);
            for i in (0..j).rev() {
                let Some(ni) = nodes.get(i) else { continue };
                let len = nj.pos - ni.pos;
                if len > max + 1.0 && i + 1 < j {
                    break;
                }
                let start_cost = cost.get(i).copied().unwrap_or(f64::INFINITY);
                if !start_cost.is_finite() {
                    continue;
                }
                let target = targets.get(i).copied().unwrap_or(1.0);
                let interior_end = j + 1 < n;
                let c = start_cost
                    + self.shot_cost(ni, nj, len, target, interior_end)
                    + 2.0 * inside(&sec_prefix, i, j)
                    + 1000.0 * inside(&forced_prefix, i, j);
                if c < best.0 {
                    best = (c, i);
                }
            }
            if let (Some(c), Some(bk)) = (cost.get_mut(j), back.get_mut(j)) {
                *c = best.0;
                *bk = best.1;
            }
        }
        let mut path = vec![n.saturating_sub(1)];
        let mut k = n.saturating_sub(1);
        while k > 0 {
            let prev = back.get(k).copied().unwrap_or(0).min(k - 1);
            path.push(prev);
            k = prev;
        }
        path.reverse();
        path
    }

    fn shot_cost(&self, ni: &Node, nj: &Node, len: f64, target: f64, interior_end: bool) -> f64 {
        let style = self.style;
        let min = f64::from(style.min_shot_beats);
        let max = f64::from(style.max_shot_beats);
        // miss measured as a ratio: 1 beat for 1.5 costs like 2.25 for 1.5
        let miss = (len.max(0.05) / target.max(0.5)).log2();
        let mut c = 4.0 * miss * miss;
        if len < min - 0.25 {
            c += 20.0 + 10.0 * (min - len);
        }
        if len > max + 0.25 {
            c += 20.0 + 10.0 * (len - max);
        }
        if nj.t - ni.t > self.longest_scene {
            c += 3.0;
        }
        if style.fibonacci && !near_fibonacci(len) {
            c += 0.4;
        }
        if interior_end {
            let pref = f64::from(style.downbeat_preference);
            let long = len >= f64::from(self.grid.beats_per_bar) - 0.25;
            if long {
                c += if nj.downbeat { -0.3 * pref } else { 0.5 * pref };
            } else if nj.downbeat {
                c -= 0.1 * pref;
            }
            c += 0.5 * (1.0 - f64::from(nj.confidence));
            if nj.section.is_some() {
                c -= 1.0;
            }
            if nj.forbidden {
                c += 1000.0;
            }
        }
        // seeded tie-breaking between equally good cut patterns
        let jitter = f64::from(unit(self.seed, ni.t as u64, nj.t as u64));
        c + jitter * (0.05 + 0.25 * f64::from(style.variation))
    }
}

fn near_fibonacci(len: f64) -> bool {
    [1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0]
        .iter()
        .any(|f| (len - f).abs() < 0.25)
}

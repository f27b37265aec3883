//! Pacing: which beats become cuts.
//!
//! Each stretch of timeline not covered by a locked segment is cut by a shortest-path
//! search over its beats (a DAG, nodes = beats, edge = one shot). A shot costs its squared
//! relative miss of the target length (style pace x energy x story arc x pattern x seeded
//! variation), plus penalties outside min/max, for crossing a section boundary, for long
//! shots not ending on a downbeat, for weak beats. Being global, the search never strands a
//! too-short shot before a lock or the song's end when a better split exists.

use super::arc::{StoryArc, arc_pace, mean_energy};
use super::grid::BeatGrid;
use super::rng::{mix, unit, unit_mixed};
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
    /// The story arc of the song for this style.
    pub arc: StoryArc<'a>,
}

impl Pacing<'_> {
    /// Slots covering `[0, grid.end)`: locked spans as given, the rest cut on beats.
    pub fn slots(&self, locks: &[LockSpan], moves: &[CutMove]) -> Vec<Slot> {
        // every slot but a locked one starts on a beat or at 0
        let mut slots = Vec::with_capacity(self.grid.beats.len() + 2 * locks.len() + 1);
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
                arc: self.arc.at((lock.start + lock.end) / 2),
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
        let first = grid.beats.partition_point(|g| g.cut <= a);
        let last = grid.beats.partition_point(|g| g.cut < b);
        let mut nodes = Vec::with_capacity(last.saturating_sub(first) + 2);
        nodes.push(boundary(a));
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
                section: None,
                forced: false,
                forbidden: false,
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

    /// The log2 of the target shot length in beats for a shot starting at `node` (at
    /// least half a beat): the style's pace times energy, story-arc, pattern and seeded
    /// multipliers, stretched over an intro, within the style's shortest and longest shot.
    /// Summed as logs, as the search compares shots by their log miss (`logs`: the
    /// constant ones).
    fn log_target(&self, node: &Node, logs: &TargetLogs) -> f64 {
        let style = self.style;
        let e = f64::from(super::arc::energy_at(self.music, self.grid, node.t));
        let response = f64::from(style.energy_response);
        // full energy shortens a shot by 1.5x at full response, silence lengthens it as much
        let mut lt = logs.base - (e - 0.5) * 1.2 * response;
        lt += logs.arc_pace(self.arc.at(node.t));
        if !logs.pattern.is_empty() {
            let bar = (node.pos / f64::from(self.grid.beats_per_bar))
                .floor()
                .max(0.0) as usize;
            if let Some(m) = logs.pattern.get(bar % logs.pattern.len()) {
                lt += m;
            }
        }
        let jitter = f64::from(unit(self.seed, node.t as u64, 0x7a11)) - 0.5;
        // up to +-1 octave at full variation, so tight sections still breathe
        lt += jitter * f64::from(style.variation) * 2.0;
        if style.intro_beats > 0.0 && node.pos < f64::from(style.intro_beats) - 0.5 {
            lt = lt.max((f64::from(style.intro_beats) - node.pos).log2());
        }
        lt.clamp(logs.min, logs.max).max(-1.0)
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
                arc: self.arc.at((ni.t + nj.t) / 2),
                locked: None,
            });
        }
    }

    /// Shortest path from the first to the last node; returns node indices.
    ///
    /// The inner loop runs for every (start, end) pair within reach, so each part of a
    /// shot's cost is computed where it varies: the log of the target once per start, the
    /// cut terms and half the jitter hash once per end, the length terms from a table of
    /// whole beats, and the jitter hash only for a shot that could still win.
    fn best_path(&self, nodes: &[Node]) -> Vec<usize> {
        let n = nodes.len();
        let style = self.style;
        let reach = f64::from(style.max_shot_beats) + 1.0;
        // interior nodes are consecutive beats at their beat indices, so a shot between two
        // of them is a whole number of beats, `j - i`, up to `whole_reach`
        let whole_reach = (reach.clamp(1.0, 1e6) as usize).max(1);
        let lengths = LengthCosts::new(style, self.grid.beats_per_bar, whole_reach);
        // a miss is measured as a ratio (1 beat for 1.5 costs like 2.25 for 1.5), as logs
        let logs = TargetLogs::new(style);
        let log_target: Vec<f64> = nodes.iter().map(|nd| self.log_target(nd, &logs)).collect();
        let times: Vec<Ticks> = nodes.iter().map(|nd| nd.t).collect();
        // the cost of a shot crossing each node (a section change or a cut the user moved)
        let crossing: Vec<f64> = nodes
            .iter()
            .map(|nd| {
                let section = if nd.section.is_some() { 2.0 } else { 0.0 };
                section + if nd.forced { 1000.0 } else { 0.0 }
            })
            .collect();
        let shot = ShotCosts {
            pacing: self,
            // seeded tie-breaking between equally good cut patterns
            jitter_scale: 0.05 + 0.25 * f64::from(style.variation),
        };
        let mut cost = vec![f64::INFINITY; n];
        let mut back = vec![0usize; n];
        if let Some(c) = cost.first_mut() {
            *c = 0.0;
        }
        for j in 1..n {
            let Some(nj) = nodes.get(j) else { continue };
            let end = EndCost::new(nj, j + 1 < n, style);
            let end_hash = mix(nj.t as u64);
            let mut best = (f64::INFINITY, j - 1);
            // the nodes strictly between the shot's ends
            let mut crossed = 0.0;
            let mut i = j;
            if j + 1 < n {
                let lo = j.saturating_sub(whole_reach).max(1);
                let (Some(costs), Some(crosses), Some(logs), Some(ts), Some(lens)) = (
                    cost.get(lo..j),
                    crossing.get(lo..j),
                    log_target.get(lo..j),
                    times.get(lo..j),
                    lengths.whole.get(1..=j - lo),
                ) else {
                    continue;
                };
                // from the shot of one beat (start j - 1) back to `whole_reach` beats
                let starts = costs.iter().zip(crosses).zip(logs).zip(ts).rev();
                for (&(log_len, len_cost, long), (((&start_cost, &cross), &lt), &ti)) in
                    lens.iter().zip(starts)
                {
                    i -= 1;
                    if start_cost.is_finite() {
                        let c = start_cost + len_cost + if long { end.long } else { end.short };
                        let start = (i, ti, lt);
                        shot.offer(start, (nj.t, end_hash), c, log_len, crossed, &mut best);
                    }
                    crossed += cross;
                }
                // an interior start further back is out of reach (the search stops there);
                // with none left, the interval's own start may still be in reach
                if lo > 1 {
                    i = 0;
                }
            }
            while i > 0 {
                i -= 1;
                let Some(ni) = nodes.get(i) else { continue };
                let len = nj.pos - ni.pos;
                if len > reach && i + 1 < j {
                    break;
                }
                let start_cost = cost.get(i).copied().unwrap_or(f64::INFINITY);
                if start_cost.is_finite() {
                    let (log_len, len_cost, long) = lengths.get(len);
                    let c = start_cost + len_cost + if long { end.long } else { end.short };
                    let lt = log_target.get(i).copied().unwrap_or(0.0);
                    let start = (i, ni.t, lt);
                    shot.offer(start, (nj.t, end_hash), c, log_len, crossed, &mut best);
                }
                crossed += crossing.get(i).copied().unwrap_or(0.0);
            }
            if let (Some(c), Some(bk)) = (cost.get_mut(j), back.get_mut(j)) {
                *c = best.0;
                *bk = best.1;
            }
        }
        let mut path = Vec::with_capacity(n);
        path.push(n.saturating_sub(1));
        let mut k = n.saturating_sub(1);
        while k > 0 {
            let prev = back.get(k).copied().unwrap_or(0).min(k - 1);
            path.push(prev);
            k = prev;
        }
        path.reverse();
        path
    }
}

/// Logs of the style's constant target factors, taken once per interval.
struct TargetLogs {
    base: f64,
    min: f64,
    max: f64,
    /// Per story-arc label, at `arc_slot`.
    arc: [f64; 7],
    pattern: Vec<f64>,
}

/// Where `TargetLogs::arc` keeps a label's factor (a match, so a new label must be placed).
fn arc_slot(label: Option<SectionLabel>) -> usize {
    match label {
        None => 0,
        Some(SectionLabel::Intro) => 1,
        Some(SectionLabel::Build) => 2,
        Some(SectionLabel::Climax) => 3,
        Some(SectionLabel::Drop) => 4,
        Some(SectionLabel::Quiet) => 5,
        Some(SectionLabel::Outro) => 6,
    }
}

impl TargetLogs {
    fn new(style: &Style) -> Self {
        let log = |x: f32| f64::from(x).log2();
        let mut arc = [0.0; 7];
        let labels = [
            SectionLabel::Intro,
            SectionLabel::Build,
            SectionLabel::Climax,
            SectionLabel::Drop,
            SectionLabel::Quiet,
            SectionLabel::Outro,
        ];
        for label in labels.map(Some).into_iter().chain([None]) {
            if let Some(a) = arc.get_mut(arc_slot(label)) {
                *a = log(arc_pace(label, style));
            }
        }
        Self {
            base: log(style.beats_per_shot),
            min: log(style.min_shot_beats),
            max: log(style.max_shot_beats),
            arc,
            pattern: style.pattern.iter().map(|&m| log(m)).collect(),
        }
    }

    fn arc_pace(&self, label: Option<SectionLabel>) -> f64 {
        self.arc.get(arc_slot(label)).copied().unwrap_or(0.0)
    }
}

/// What `best_path` needs to finish a shot's cost from its start's side.
struct ShotCosts<'a> {
    pacing: &'a Pacing<'a>,
    jitter_scale: f64,
}

impl ShotCosts<'_> {
    /// Offers the shot from `start` (node, time, log of its target length) to the end at
    /// `(tj, end_hash)` (time, its half of the jitter hash) to `best` (cost, start node):
    /// `partial` is its start's path cost plus its length and end terms, `log_len` the log
    /// of its length, `crossed` the cost of the nodes it crosses.
    #[inline(always)]
    fn offer(
        &self,
        (i, ti, log_target): (usize, Ticks, f64),
        (tj, end_hash): (Ticks, u64),
        partial: f64,
        log_len: f64,
        crossed: f64,
        best: &mut (f64, usize),
    ) {
        let miss = log_len - log_target;
        let mut c = partial + 4.0 * miss * miss + crossed;
        if tj - ti > self.pacing.longest_scene {
            c += 3.0;
        }
        // the jitter only adds: a shot already no better cannot win
        if c >= best.0 {
            return;
        }
        c += self.jitter_scale * f64::from(unit_mixed(self.pacing.seed, ti as u64, end_hash));
        if c < best.0 {
            *best = (c, i);
        }
    }
}

/// The parts of a shot's cost that depend on its length alone, tabled for whole beats.
struct LengthCosts {
    min: f64,
    max: f64,
    fibonacci: bool,
    /// A shot at least this long should end on a downbeat.
    long: f64,
    /// `(log2 of the length, length penalties, long)` for 0, 1, 2... beats.
    whole: Vec<(f64, f64, bool)>,
}

impl LengthCosts {
    /// The costs for `style`, tabled for shots of 0 to `longest` whole beats.
    fn new(style: &Style, beats_per_bar: u8, longest: usize) -> Self {
        let mut costs = Self {
            min: f64::from(style.min_shot_beats),
            max: f64::from(style.max_shot_beats),
            fibonacci: style.fibonacci,
            long: f64::from(beats_per_bar) - 0.25,
            whole: Vec::new(),
        };
        costs.whole = (0..=longest).map(|k| costs.compute(k as f64)).collect();
        costs
    }

    fn get(&self, len: f64) -> (f64, f64, bool) {
        // beat-to-beat shots are whole beats; only the interval's ends are fractional
        let whole = len as usize; // saturating; exact only for whole beats
        if whole as f64 == len
            && let Some(&c) = self.whole.get(whole)
        {
            return c;
        }
        self.compute(len)
    }

    fn compute(&self, len: f64) -> (f64, f64, bool) {
        let mut c = 0.0;
        if len < self.min - 0.25 {
            c += 20.0 + 10.0 * (self.min - len);
        }
        if len > self.max + 0.25 {
            c += 20.0 + 10.0 * (len - self.max);
        }
        if self.fibonacci && !near_fibonacci(len) {
            c += 0.4;
        }
        (len.max(0.05).log2(), c, len >= self.long)
    }
}

/// The parts of a shot's cost that depend on its end cut alone (none at the interval end).
#[derive(Debug, Clone, Copy)]
struct EndCost {
    /// For a shot of at least a bar (prefers to end on a downbeat).
    long: f64,
    /// For a shorter shot.
    short: f64,
}

impl EndCost {
    fn new(end: &Node, interior: bool, style: &Style) -> Self {
        if !interior {
            return Self {
                long: 0.0,
                short: 0.0,
            };
        }
        let pref = f64::from(style.downbeat_preference);
        let mut c = 0.5 * (1.0 - f64::from(end.confidence));
        if end.section.is_some() {
            c -= 1.0;
        }
        if end.forbidden {
            c += 1000.0;
        }
        let (long, short) = if end.downbeat {
            (-0.3 * pref, -0.1 * pref)
        } else {
            (0.5 * pref, 0.0)
        };
        Self {
            long: long + c,
            short: short + c,
        }
    }
}

fn near_fibonacci(len: f64) -> bool {
    [1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0]
        .iter()
        .any(|f| (len - f).abs() < 0.25)
}

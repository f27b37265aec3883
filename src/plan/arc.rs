//! The story arc and the energy of the song at any time, as the pacing and selection see it.

use super::grid::BeatGrid;
use super::style::Style;
use crate::analysis::music::{MusicAnalysis, SectionLabel};
use crate::time::Ticks;

/// Normalised loudness-and-density of the music at `t`, 0..=1.
///
/// The smoothed energy curve is the main term; onset density (hits per beat) adds the
/// "denser" half of "louder/denser -> shorter". Without a curve, the section energy is used.
pub(crate) fn energy_at(music: &MusicAnalysis, grid: &BeatGrid, t: Ticks) -> f32 {
    let curve = &music.energy.smoothed;
    let loud = if curve.hop > 0 && !curve.values.is_empty() {
        Some(curve.at(t))
    } else {
        music
            .sections
            .iter()
            .find(|s| s.start <= t && t < s.end)
            .map(|s| s.energy)
    };
    let dense = onset_density(music, grid, t);
    let e = match (loud, dense) {
        (Some(l), Some(d)) => 0.75 * l + 0.25 * d,
        (Some(l), None) => l,
        (None, Some(d)) => d,
        (None, None) => 0.5,
    };
    if e.is_finite() {
        e.clamp(0.0, 1.0)
    } else {
        0.5
    }
}

/// Onsets per beat within two beats of `t`, mapped so four per beat is 1.
fn onset_density(music: &MusicAnalysis, grid: &BeatGrid, t: Ticks) -> Option<f32> {
    if music.onsets.is_empty() {
        return None;
    }
    let half = (grid.period() * 2.0) as Ticks;
    let lo = music.onsets.partition_point(|&o| o < t - half);
    let hi = music.onsets.partition_point(|&o| o < t + half);
    let per_beat = hi.saturating_sub(lo) as f32 / 4.0;
    Some((per_beat / 4.0).min(1.0))
}

/// Mean energy over `[start, end)`, sampled at four points.
pub(crate) fn mean_energy(music: &MusicAnalysis, grid: &BeatGrid, start: Ticks, end: Ticks) -> f32 {
    let len = (end - start).max(0);
    (0..4)
        .map(|k| energy_at(music, grid, start + len * (2 * k + 1) / 8))
        .sum::<f32>()
        / 4.0
}

/// Where in the story `t` falls: the song's section label, with the style's intro length and
/// a fallback arc (intro, body, outro) when the analysis found no sections.
pub(crate) fn arc_at(
    music: &MusicAnalysis,
    grid: &BeatGrid,
    style: &Style,
    t: Ticks,
) -> Option<SectionLabel> {
    let pos = grid.pos(t);
    if style.intro_beats > 0.0 && pos < f64::from(style.intro_beats) {
        return Some(SectionLabel::Intro);
    }
    if let Some(s) = section_at(music, t) {
        return Some(s);
    }
    if music.sections.is_empty() && grid.end_pos() - pos <= 8.0 {
        return Some(SectionLabel::Outro);
    }
    None
}

fn section_at(music: &MusicAnalysis, t: Ticks) -> Option<SectionLabel> {
    music
        .sections
        .iter()
        .find(|s| s.start <= t && t < s.end)
        .map(|s| s.label)
}

/// `arc_at` for many times of one plan: where the intro ends and, without sections, where
/// the outro starts are found once, so a label takes a few comparisons instead of a
/// search of the beats.
pub(crate) struct StoryArc<'a> {
    music: &'a MusicAnalysis,
    grid: &'a BeatGrid,
    style: &'a Style,
    /// Times before this are in the intro.
    intro_end: Ticks,
    /// Without sections, times from this on are in the outro.
    outro_start: Ticks,
}

/// The times `StoryArc` resolves by its boundaries; others take `arc_at`'s way.
const SEARCHED: std::ops::RangeInclusive<Ticks> = -(1 << 61)..=(1 << 61);

impl<'a> StoryArc<'a> {
    /// The arc of `music` on `grid` for `style`.
    pub fn new(music: &'a MusicAnalysis, grid: &'a BeatGrid, style: &'a Style) -> Self {
        // beat positions grow with time, so each of these, once true, stays true
        let intro = f64::from(style.intro_beats);
        let intro_end = if style.intro_beats > 0.0 {
            first_time(|t| grid.pos(t).partial_cmp(&intro) != Some(std::cmp::Ordering::Less))
        } else {
            *SEARCHED.start()
        };
        let outro_start = if music.sections.is_empty() {
            first_time(|t| grid.end_pos() - grid.pos(t) <= 8.0)
        } else {
            Ticks::MAX
        };
        Self {
            music,
            grid,
            style,
            intro_end,
            outro_start,
        }
    }

    /// `arc_at(music, grid, style, t)`.
    pub fn at(&self, t: Ticks) -> Option<SectionLabel> {
        if !SEARCHED.contains(&t) {
            return arc_at(self.music, self.grid, self.style, t);
        }
        if t < self.intro_end {
            return Some(SectionLabel::Intro);
        }
        if let Some(s) = section_at(self.music, t) {
            return Some(s);
        }
        if t >= self.outro_start {
            return Some(SectionLabel::Outro);
        }
        None
    }
}

/// The first time in `SEARCHED` at which `reached` holds (past the end when it never
/// does), for a condition that stays true once true.
fn first_time(reached: impl Fn(Ticks) -> bool) -> Ticks {
    let (mut lo, mut hi) = (*SEARCHED.start(), *SEARCHED.end() + 1);
    // reached(t) is false below `lo`, true from `hi` on
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if reached(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// How a section stretches (>1) or tightens (<1) shots.
pub(crate) fn arc_pace(label: Option<SectionLabel>, style: &Style) -> f32 {
    match label {
        Some(SectionLabel::Intro) => 1.3,
        Some(SectionLabel::Build) => 1.0,
        Some(SectionLabel::Climax) => 1.0 - 0.4 * style.climax_intensity.clamp(0.0, 1.0),
        Some(SectionLabel::Drop) => 0.9,
        Some(SectionLabel::Quiet) => 1.4,
        Some(SectionLabel::Outro) => 1.3,
        None => 1.0,
    }
}

/// How a section shifts the wanted motion (percentile units).
pub(crate) fn arc_motion(label: Option<SectionLabel>, style: &Style) -> f32 {
    match label {
        Some(SectionLabel::Intro) => -0.15,
        Some(SectionLabel::Build) => 0.05,
        Some(SectionLabel::Climax) => 0.25 * style.climax_intensity.clamp(0.0, 1.0),
        Some(SectionLabel::Drop) => 0.1,
        Some(SectionLabel::Quiet) => -0.2,
        Some(SectionLabel::Outro) => -0.2,
        None => 0.0,
    }
}

/// The motion percentile a slot asks for: energy (scaled by the style's response), action
/// bias and story arc combined, 0..=1.
pub(crate) fn wanted_motion(energy: f32, label: Option<SectionLabel>, style: &Style) -> f32 {
    let follow = (0.5 + 0.5 * style.energy_response).clamp(0.0, 1.0);
    let m = 0.5 + (energy - 0.5) * follow + 0.25 * style.action_bias + arc_motion(label, style);
    m.clamp(0.0, 1.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::music::{Beat, Section};
    use crate::time::{FrameRate, TICKS_PER_SECOND};

    fn music(secs: i64, sections: bool) -> MusicAnalysis {
        let ms = |x: i64| x * TICKS_PER_SECOND / 1000;
        MusicAnalysis {
            duration: ms(secs * 1000),
            tempo_bpm: 117.0,
            beats_per_bar: 4,
            // slightly uneven beats from 0.3 s
            beats: (0..secs * 2)
                .map(|i| Beat {
                    time: ms(300 + i * 513 + (i % 3) * 7),
                    bar: (i / 4) as u32,
                    beat_in_bar: (i % 4) as u8,
                    confidence: 1.0,
                })
                .collect(),
            sections: if sections {
                vec![Section {
                    start: ms(5000),
                    end: ms(9000),
                    label: SectionLabel::Climax,
                    energy: 0.9,
                }]
            } else {
                Vec::new()
            },
            ..MusicAnalysis::default()
        }
    }

    #[test]
    fn story_arc_labels_like_arc_at() {
        for sections in [false, true] {
            let m = music(20, sections);
            let grid = BeatGrid::new(&m, FrameRate::whole(30)).unwrap();
            for intro in [0.0, 2.5, 4.0] {
                let style = Style {
                    intro_beats: intro,
                    ..Style::default()
                };
                let arc = StoryArc::new(&m, &grid, &style);
                let step = TICKS_PER_SECOND / 1000;
                let times = (-500..21_000).map(|k| k * step);
                // and the exact beat times, where labels change
                let beats = m
                    .beats
                    .iter()
                    .flat_map(|b| [b.time - 1, b.time, b.time + 1]);
                for t in times.chain(beats).chain([-(1 << 62), 1 << 62]) {
                    assert_eq!(arc.at(t), arc_at(&m, &grid, &style, t), "{t}");
                }
            }
        }
    }
}

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
    if let Some(s) = music.sections.iter().find(|s| s.start <= t && t < s.end) {
        return Some(s.label);
    }
    if music.sections.is_empty() && grid.pos(grid.end) - pos <= 8.0 {
        return Some(SectionLabel::Outro);
    }
    None
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

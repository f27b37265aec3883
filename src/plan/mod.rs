//! The montage planner: cuts the clips to the beat of the song.
//!
//! `plan` is a pure, deterministic function of the analyses, the settings (style, seed,
//! frame rate, overrides) and the user's constraints (locks, exclusions, moved cuts).
//! It runs in two steps:
//!
//! 1. **Pacing** (`pacing`): beats snapped to the output frame grid (`grid`) become cut
//!    points, chosen by a shortest-path search whose target shot length follows the style,
//!    the music's energy and the story arc (`arc`). Locked segments are fixed islands.
//! 2. **Selection** (`select`): each slot gets the best source range by a bounded search
//!    over a precomputed [`PlanIndex`] (struct of arrays, k-d tree over look vectors), with
//!    use-once footage tracking.
//!
//! For interactive replanning keep a [`PlanIndex`] and call [`plan_with_index`]; rebuild it
//! only when clips or their analyses change.

mod arc;
mod error;
mod gaps;
mod grid;
mod index;
mod pacing;
mod reason;
mod region;
mod rng;
mod select;
mod settings;
mod style;
mod timeline;

pub use error::PlanError;
pub use index::PlanIndex;
pub use reason::Reason;
pub use region::{MusicRegion, choose_region};
pub use settings::{Constraints, CutMove, PlanSettings};
pub use style::Style;
pub use timeline::{Segment, SegmentReport, Timeline, TimelineReport, Transition};

use crate::analysis::music::{MusicAnalysis, SectionLabel};
use crate::analysis::video::ClipAnalysis;
use crate::time::Ticks;
use grid::BeatGrid;
use pacing::{CutKind, LockSpan, Pacing, Slot};
use select::{Selector, fitted_transition};

/// One clip offered to the planner: the caller's id (echoed in `Segment::clip`), a display
/// name and its analysis. Borrowed, so building these every frame costs nothing.
#[derive(Debug, Clone, Copy)]
pub struct ClipInput<'a> {
    /// Caller's identifier, usually the clip's index in the project.
    pub id: usize,
    /// Display name (file name).
    pub name: &'a str,
    /// Scenes and features of the clip.
    pub analysis: &'a ClipAnalysis,
}

/// Plans a montage: resolves the style (`settings.style` is a built-in name or a style
/// file path), indexes the clips and cuts them to the music.
pub fn plan(
    music: &MusicAnalysis,
    clips: &[ClipInput],
    settings: &PlanSettings,
    constraints: &Constraints,
) -> Result<Timeline, PlanError> {
    let style = Style::resolve(&settings.style)?;
    let index = PlanIndex::new(clips);
    plan_with_index(&index, music, &style, settings, constraints)
}

/// The beats a shot's action may be put on when the style asks for it (none otherwise):
/// every beat of the grid, marked as a downbeat, or as the drop when a climax starts there.
fn action_hits(music: &MusicAnalysis, grid: &BeatGrid, style: &Style) -> Vec<select::Hit> {
    if style.action_sync <= 0.0 {
        return Vec::new();
    }
    let half_beat = grid
        .beats
        .windows(2)
        .map(|w| (w[1].time - w[0].time) / 2)
        .min()
        .unwrap_or(0);
    let climaxes: Vec<Ticks> = music
        .sections
        .iter()
        .filter(|s| s.label == SectionLabel::Climax)
        .map(|s| s.start)
        .collect();
    grid.beats
        .iter()
        .map(|b| {
            let kind = if climaxes.iter().any(|&c| (b.time - c).abs() <= half_beat) {
                select::HitKind::Drop
            } else if b.downbeat {
                select::HitKind::Downbeat
            } else {
                select::HitKind::Beat
            };
            select::Hit { time: b.time, kind }
        })
        .collect()
}

/// Plans with a prebuilt index and an explicit style (its overrides in `settings` applied);
/// the fast path for replanning on every edit.
pub fn plan_with_index(
    index: &PlanIndex,
    music: &MusicAnalysis,
    style: &Style,
    settings: &PlanSettings,
    constraints: &Constraints,
) -> Result<Timeline, PlanError> {
    let style = style.with_settings(settings)?;
    // The user's grid repairs first: every cut, bar and pace below follows the repaired grid.
    let repaired = constraints.beat_grid.apply(music);
    // A montage shorter than the song plans its stretch of it as a song of its own.
    let region = settings.length_secs.and_then(|secs| {
        choose_region(
            &repaired,
            crate::time::ticks_from_secs(secs.max(0.0)),
            settings.region_start,
            settings.fps,
        )
    });
    let mut excerpt = region.map(|r| repaired.excerpt(r.start, r.end));
    let mut cut_moves = constraints.cut_moves.clone();
    // Decaying over the final bar: the last cut on its downbeat, none after it.
    if let (Some(excerpt), Some(final_downbeat)) = (
        excerpt.as_mut(),
        region.and_then(|r| r.final_downbeat().map(|t| t - r.start)),
    ) {
        let half_frame = settings.fps.frame_ticks() / 2;
        excerpt
            .beats
            .retain(|b| b.time <= final_downbeat + half_frame);
        cut_moves.push(CutMove {
            from: -1,
            to: final_downbeat,
        });
    }
    let music: &MusicAnalysis = excerpt.as_ref().unwrap_or(&repaired);
    let grid = BeatGrid::new(music, settings.fps)?;
    if index.is_empty() {
        return Err(PlanError::NoClips);
    }
    let (locks, locked) = lock_spans(&constraints.locked, grid.end);
    let pacing = Pacing {
        music,
        grid: &grid,
        style: &style,
        seed: settings.seed,
        longest_scene: index.longest_scene,
        arc: arc::StoryArc::new(music, &grid, &style),
    };
    let slots = pacing.slots(&locks, &cut_moves);
    let mut selector = Selector::new(
        index,
        &style,
        settings.seed,
        &constraints.excluded,
        &locked,
        grid.end,
    )
    .with_hits(
        action_hits(music, &grid, &style),
        settings.fps.frame_ticks() / 2,
    );
    let frame = settings.fps.frame_ticks();
    let mut segments: Vec<Segment> = Vec::with_capacity(slots.len());
    for (k, slot) in slots.iter().enumerate() {
        if let Some(seg) = slot.locked.and_then(|i| locked.get(i)) {
            selector.pass_locked(seg);
            segments.push(seg.clone());
            continue;
        }
        let next_clip = slots
            .get(k + 1)
            .and_then(|s| s.locked)
            .and_then(|i| locked.get(i))
            .map(|s| s.clip);
        let mut seg = selector.choose(slot, next_clip)?;
        let wanted = match slot.cut {
            CutKind::Start => Transition::Cut,
            CutKind::Section(_) => style.section_transition,
            _ => style.transition,
        };
        let prev_len = segments.last().map_or(0, Segment::len);
        seg.transition = fitted_transition(wanted, prev_len, seg.len(), frame);
        segments.push(seg);
    }
    Ok(Timeline {
        fps: settings.fps,
        duration: grid.end,
        style: style.name.clone(),
        seed: settings.seed,
        segments,
        region,
    })
}

/// Locked segments that fit the timeline, in time order, without overlaps (a later lock
/// overlapping an earlier one is dropped; one running past the end is trimmed).
fn lock_spans(locked: &[Segment], end: Ticks) -> (Vec<LockSpan>, Vec<Segment>) {
    let mut sorted: Vec<&Segment> = locked
        .iter()
        .filter(|s| s.start >= 0 && s.start < end && s.end > s.start)
        .collect();
    sorted.sort_by_key(|s| (s.start, s.end));
    let mut spans = Vec::new();
    let mut kept: Vec<Segment> = Vec::new();
    for s in sorted {
        if kept.last().is_some_and(|p| p.end > s.start) {
            continue;
        }
        let mut seg = s.clone();
        seg.locked = true;
        if seg.end > end {
            seg.src_out -= seg.end - end;
            seg.end = end;
        }
        spans.push(LockSpan {
            start: seg.start,
            end: seg.end,
            index: kept.len(),
        });
        kept.push(seg);
    }
    (spans, kept)
}

/// "Replace this segment": up to `count` next-best alternatives for the slot of
/// `timeline.segments[segment_index]`, best first, never footage used elsewhere in the
/// timeline nor the segment's own scene. Empty when the index is out of range or the
/// inputs are degenerate. The style is `settings.style`, else the timeline's, else `dynamic`.
pub fn candidates_for(
    music: &MusicAnalysis,
    clips: &[ClipInput],
    settings: &PlanSettings,
    timeline: &Timeline,
    segment_index: usize,
    count: usize,
) -> Vec<Segment> {
    let style = Style::resolve(&settings.style)
        .or_else(|_| Style::resolve(&timeline.style))
        .unwrap_or_default();
    let index = PlanIndex::new(clips);
    candidates_with_index(
        &index,
        music,
        &style,
        settings,
        timeline,
        segment_index,
        count,
    )
}

/// [`candidates_for`] with a prebuilt index and an explicit style.
pub fn candidates_with_index(
    index: &PlanIndex,
    music: &MusicAnalysis,
    style: &Style,
    settings: &PlanSettings,
    timeline: &Timeline,
    segment_index: usize,
    count: usize,
) -> Vec<Segment> {
    let Some(target) = timeline.segments.get(segment_index) else {
        return Vec::new();
    };
    let style = style
        .with_settings(settings)
        .unwrap_or_else(|_| style.clone());
    let Ok(grid) = BeatGrid::new(music, timeline.fps) else {
        return Vec::new();
    };
    let selector = Selector::for_replacement(
        index,
        &style,
        settings.seed,
        &timeline.segments,
        segment_index,
        timeline.duration,
    )
    .with_hits(
        action_hits(music, &grid, &style),
        timeline.fps.frame_ticks() / 2,
    );
    let slot = Slot {
        start: target.start,
        end: target.end,
        cut: if target.start == 0 {
            CutKind::Start
        } else {
            CutKind::Beat
        },
        energy: arc::mean_energy(music, &grid, target.start, target.end),
        arc: arc::arc_at(music, &grid, &style, (target.start + target.end) / 2),
        locked: None,
    };
    let next_clip = timeline.segments.get(segment_index + 1).map(|s| s.clip);
    let view = selector.view(&slot, next_clip);
    selector
        .ranked(&view)
        .into_iter()
        .take(count)
        .map(|(score, scene)| {
            let pick = select::Pick {
                scene,
                score,
                note: Some(reason::Note::Alternative),
                reuse: false,
            };
            let mut seg = selector.segment(&pick, &view, &slot);
            seg.transition = target.transition;
            seg
        })
        .collect()
}

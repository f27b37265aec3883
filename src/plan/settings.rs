//! What the caller asks of a plan: style, seed, frame rate, overrides and user constraints.

use serde::{Deserialize, Serialize};

use super::timeline::{Segment, Transition};
use crate::analysis::music::BeatGridEdits;
use crate::time::{FrameRate, Ticks};

/// Knobs of one planning run. The style is named here; the other fields override it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct PlanSettings {
    /// A built-in style name (`Style::builtin_names`) or a path to a `.toml`/`.json` style file.
    pub style: String,
    /// Seed for every random choice: same seed, same plan.
    pub seed: u64,
    /// Output frame rate; cuts land on its frames.
    pub fps: FrameRate,
    /// Overrides the style's shortest shot, in beats.
    pub min_shot_beats: Option<f32>,
    /// Overrides the style's longest shot, in beats.
    pub max_shot_beats: Option<f32>,
    /// Scales how much the music's energy drives pacing and motion (0 = ignore, 1 = as styled, up to 2).
    pub energy_influence: f32,
    /// Overrides the style's transition at ordinary cuts.
    pub transition: Option<Transition>,
    /// Overrides whether the style makes match cuts.
    pub match_cuts: Option<bool>,
    /// Overrides how strongly shots put their action on a beat (`Style::action_sync`, 0..=1).
    pub action_sync: Option<f32>,
    /// Length of the montage in seconds (15, 30, 60 or any); `None` uses the whole song.
    /// A shorter montage takes the best stretch of the song (see `plan::choose_region`).
    pub length_secs: Option<f64>,
    /// Where the stretch starts in the song when the user placed it (snapped to the
    /// nearest downbeat); `None` lets the planner choose.
    pub region_start: Option<Ticks>,
}

impl Default for PlanSettings {
    fn default() -> Self {
        Self {
            style: "dynamic".to_owned(),
            seed: 0,
            fps: FrameRate::whole(30),
            min_shot_beats: None,
            max_shot_beats: None,
            energy_influence: 1.0,
            transition: None,
            match_cuts: None,
            action_sync: None,
            length_secs: None,
            region_start: None,
        }
    }
}

impl PlanSettings {
    /// Settings for `style` with `seed` at `fps`, no overrides.
    pub fn new(style: &str, seed: u64, fps: FrameRate) -> Self {
        Self {
            style: style.to_owned(),
            seed,
            fps,
            ..Self::default()
        }
    }
}

/// The user moved the cut nearest `from` to the beat nearest `to`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CutMove {
    /// Where the cut was (timeline time).
    pub from: Ticks,
    /// Where the user wants it (timeline time; the nearest beat is used).
    pub to: Ticks,
}

/// User edits that every replan honours (re-roll, style or threshold changes).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct Constraints {
    /// Segments kept exactly where they are; the planner fills around them.
    pub locked: Vec<Segment>,
    /// Source ranges `(clip id, from, to)` the user rejected ("replace"); never chosen again.
    pub excluded: Vec<(usize, Ticks, Ticks)>,
    /// Cuts the user moved to another beat.
    pub cut_moves: Vec<CutMove>,
    /// Repairs of the beat grid (x2, /2, half-beat shift, nudge, tempo, moved beats, beatless
    /// stretches), applied to the song's analysis before every plan.
    pub beat_grid: BeatGridEdits,
    /// How the user framed source ranges for portrait and square exports (lock to the
    /// centre, placed by hand); everything else follows its subject.
    pub framing: Vec<crate::reframe::FramingOverride>,
}

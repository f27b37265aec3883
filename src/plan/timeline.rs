//! The planned edit: segments on the output frame grid, the music being the master clock.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::reason::Reason;
use crate::time::{FrameRate, Ticks, secs_from_ticks};

/// What happens at the cut into a segment.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Transition {
    /// A hard cut on the beat.
    #[default]
    Cut,
    /// A crossfade centred on the cut (its midpoint lands on the beat); the renderer takes
    /// handles from both sources, or holds the edge frame where a source has none.
    Crossfade {
        /// Length of the fade in output frames.
        frames: u32,
    },
}

/// One shot of the montage: a source range of one clip placed on the output timeline.
///
/// `src_out - src_in == end - start` (no speed change), except where `reason` says the
/// longest scene was shorter than its slot; then the renderer holds the last frame.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Segment {
    /// The clip, as `ClipInput::id`.
    pub clip: usize,
    /// First source instant used, in the clip's time.
    pub src_in: Ticks,
    /// End of the source range (exclusive).
    pub src_out: Ticks,
    /// Start on the output timeline (on the output frame grid).
    pub start: Ticks,
    /// End on the output timeline (exclusive, on the output frame grid).
    pub end: Ticks,
    /// Set by the user: replanning keeps this segment exactly where it is.
    #[serde(default)]
    pub locked: bool,
    /// How this segment begins.
    #[serde(default)]
    pub transition: Transition,
    /// Why the planner chose it, for `--explain` and the inspector (reads as text; the
    /// planner formats it only when it is read).
    #[serde(default)]
    pub reason: Reason,
}

impl Segment {
    /// Length on the output timeline.
    pub fn len(&self) -> Ticks {
        self.end - self.start
    }

    /// True when the segment covers no time.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// The whole plan: contiguous segments from 0 to the music duration snapped to the frame grid.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Timeline {
    /// Output frame rate; every segment boundary is a frame of it.
    pub fps: FrameRate,
    /// Music duration snapped to the nearest output frame; the last segment ends here.
    pub duration: Ticks,
    /// Style the plan was made with.
    pub style: String,
    /// Seed the plan was made with.
    pub seed: u64,
    /// Segments in time order, gap-free.
    pub segments: Vec<Segment>,
}

impl Timeline {
    /// Index of the segment showing at `t`, if any.
    pub fn segment_at(&self, t: Ticks) -> Option<usize> {
        let i = self.segments.partition_point(|s| s.end <= t);
        self.segments.get(i).filter(|s| s.start <= t).map(|_| i)
    }

    /// The plan as JSON with seconds at the edge: `{"duration_s","fps","style","seed","segments":[...]}`,
    /// each segment `{"clip","src_in_s","src_out_s","start_s","end_s","locked","transition","reason"}`
    /// with `clip` the clip id; callers add clip paths and beats.
    pub fn to_json(&self) -> serde_json::Value {
        let segments: Vec<serde_json::Value> = self
            .segments
            .iter()
            .map(|s| {
                json!({
                    "clip": s.clip,
                    "src_in_s": secs_from_ticks(s.src_in),
                    "src_out_s": secs_from_ticks(s.src_out),
                    "start_s": secs_from_ticks(s.start),
                    "end_s": secs_from_ticks(s.end),
                    "locked": s.locked,
                    "transition": s.transition,
                    "reason": s.reason,
                })
            })
            .collect();
        json!({
            "duration_s": secs_from_ticks(self.duration),
            "fps": self.fps.as_f64(),
            "style": self.style,
            "seed": self.seed,
            "segments": segments,
        })
    }
}

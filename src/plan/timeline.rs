//! The planned edit: segments on the output frame grid, the music being the master clock.

use serde::{Deserialize, Serialize};

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
    /// The stretch of the song used when the montage is shorter than the song (timeline
    /// time 0 is `region.start` in the song); `None` for the whole song.
    #[serde(default)]
    pub region: Option<super::MusicRegion>,
}

impl Timeline {
    /// Where timeline time 0 sits in the song.
    pub fn music_start(&self) -> Ticks {
        self.region.map_or(0, |r| r.start)
    }

    /// How long the music fades out at the end (0: as the export settings say).
    pub fn music_fade_out(&self) -> Ticks {
        self.region.map_or(0, |r| r.fade_out)
    }
}

impl Timeline {
    /// Index of the segment showing at `t`, if any.
    pub fn segment_at(&self, t: Ticks) -> Option<usize> {
        let i = self.segments.partition_point(|s| s.end <= t);
        self.segments.get(i).filter(|s| s.start <= t).map(|_| i)
    }

    /// The plan as the timeline file `beatcut plan --json` and `render --timeline` write
    /// (seconds at the edge): each segment with its clip's id and file (`clip_path` from
    /// `clip_path_of`), the beats the plan cut to and the song.
    pub fn report<'a>(
        &'a self,
        clip_path_of: impl Fn(usize) -> Option<String>,
        beats: &[Ticks],
        music: Option<String>,
    ) -> TimelineReport<'a> {
        TimelineReport {
            duration_s: secs_from_ticks(self.duration),
            fps: self.fps.as_f64(),
            style: &self.style,
            seed: self.seed,
            segments: self
                .segments
                .iter()
                .map(|s| SegmentReport {
                    clip: s.clip,
                    clip_path: clip_path_of(s.clip),
                    src_in_s: secs_from_ticks(s.src_in),
                    src_out_s: secs_from_ticks(s.src_out),
                    start_s: secs_from_ticks(s.start),
                    end_s: secs_from_ticks(s.end),
                    locked: s.locked,
                    transition: s.transition,
                    reason: &s.reason,
                })
                .collect(),
            beats: beats
                .iter()
                .map(|&t| (secs_from_ticks(t) * 1000.0).round() / 1000.0)
                .collect(),
            music,
            music_start_s: secs_from_ticks(self.music_start()),
            music_fade_out_s: secs_from_ticks(self.music_fade_out()),
        }
    }
}

/// The timeline file: what [`Timeline::report`] gives, as JSON.
#[derive(Serialize, Debug)]
pub struct TimelineReport<'a> {
    /// Length in seconds.
    pub duration_s: f64,
    /// Output frame rate.
    pub fps: f64,
    /// Style the plan was made with.
    pub style: &'a str,
    /// Seed the plan was made with.
    pub seed: u64,
    /// The segments in time order.
    pub segments: Vec<SegmentReport<'a>>,
    /// The (repaired) beats the plan cut to, seconds to the millisecond.
    pub beats: Vec<f64>,
    /// The song's path.
    pub music: Option<String>,
    /// Where the montage starts in the song, seconds (0: the whole song is used).
    pub music_start_s: f64,
    /// How long the music fades out at the end, seconds (0: as the export settings say).
    pub music_fade_out_s: f64,
}

/// One segment in a [`TimelineReport`].
#[derive(Serialize, Debug)]
pub struct SegmentReport<'a> {
    /// The clip's id in the project.
    pub clip: usize,
    /// The clip's file.
    pub clip_path: Option<String>,
    /// Source in point, seconds.
    pub src_in_s: f64,
    /// Source out point, seconds.
    pub src_out_s: f64,
    /// Timeline start, seconds.
    pub start_s: f64,
    /// Timeline end, seconds.
    pub end_s: f64,
    /// Kept through replans.
    pub locked: bool,
    /// How it begins.
    pub transition: Transition,
    /// Why the planner chose it.
    pub reason: &'a Reason,
}

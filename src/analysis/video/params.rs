//! Tunable parameters of clip analysis and its error type.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::DetectMode;

/// Tunable parameters of clip analysis; part of the cache key (with [`ClipParams::VERSION`]).
///
/// Only `threshold`, `min_scene_secs`, `window_secs` and `gradual` act after decoding, so
/// changing them needs [`super::redetect`], never a new decode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClipParams {
    /// Keyframes first (fast) or every frame (accurate).
    pub mode: DetectMode,
    /// Cut sensitivity, 0..=1: how far a frame's change must stand above the change of its
    /// neighbours and of the surrounding window to count as a cut. Lower finds more cuts.
    pub threshold: f32,
    /// Shortest shot kept, seconds: weaker cuts closer than this to a stronger one are dropped.
    pub min_scene_secs: f64,
    /// Half-width of the rolling window the threshold adapts to, seconds.
    pub window_secs: f64,
    /// Report fades and dissolves as spans (and never as cuts).
    pub gradual: bool,
    /// Width of the box frames are scaled into for scoring (and thumbnails), pixels.
    pub analysis_size: u32,
    /// Decoder threads per clip (0: FFmpeg chooses).
    pub threads: usize,
    /// Fast mode: keyframe-to-keyframe change that makes the stretch between them decode fully.
    pub refine_threshold: f32,
    /// Track where each shot's subject is (a few samples a second), so portrait and square
    /// exports can crop to it; off saves its small cost when only landscape is made.
    pub track_subject: bool,
}

impl Default for ClipParams {
    fn default() -> Self {
        Self {
            mode: DetectMode::Fast,
            threshold: 0.3,
            min_scene_secs: 0.5,
            window_secs: 1.0,
            gradual: true,
            analysis_size: 96,
            threads: 0,
            refine_threshold: 0.12,
            track_subject: true,
        }
    }
}

impl ClipParams {
    /// Version of the analysis results; bump when results change (used in cache keys).
    pub const VERSION: u32 = 9;

    /// A copy with every value forced into a workable range.
    pub fn sanitized(&self) -> Self {
        let finite_or = |v: f64, d: f64| if v.is_finite() { v } else { d };
        let defaults = Self::default();
        Self {
            mode: self.mode,
            threshold: if self.threshold.is_finite() {
                self.threshold.clamp(0.02, 1.0)
            } else {
                defaults.threshold
            },
            min_scene_secs: finite_or(self.min_scene_secs, defaults.min_scene_secs)
                .clamp(0.0, 60.0),
            window_secs: finite_or(self.window_secs, defaults.window_secs).clamp(0.1, 10.0),
            gradual: self.gradual,
            analysis_size: self.analysis_size.clamp(32, 320) & !1,
            threads: self.threads.min(64),
            refine_threshold: if self.refine_threshold.is_finite() {
                self.refine_threshold.clamp(0.0, 1.0)
            } else {
                defaults.refine_threshold
            },
            track_subject: self.track_subject,
        }
    }
}

/// Why a clip could not be analysed. Partial problems (corrupt packets) are warnings in the
/// analysis instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClipError {
    /// The media layer could not open or decode the file (no video stream, unreadable, ...).
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    /// The caller cancelled the analysis.
    #[error("clip analysis cancelled")]
    Cancelled,
    /// The video stream decoded to no frames at all.
    #[error("no decodable video frames: {}", path.display())]
    NoFrames {
        /// The file.
        path: PathBuf,
    },
}

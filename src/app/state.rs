//! What the editor knows about each piece of media while analysis streams in.

use std::path::PathBuf;
use std::sync::Arc;

use crate::analysis::music::{MusicAnalysis, WaveformPyramid};
use crate::analysis::video::ClipAnalysis;
use crate::media::MediaInfo;
use crate::time::Ticks;

/// Where a clip's analysis stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ClipStatus {
    /// Waiting for a worker.
    Pending,
    /// Being analysed; fraction done.
    Analysing(f32),
    /// Analysed (possibly from the cache).
    Ready {
        /// Served from the cache.
        cached: bool,
    },
    /// Analysis failed; the reason names the file.
    Failed(String),
}

/// A clip in the media bin.
#[derive(Debug, Clone)]
pub struct ClipEntry {
    /// The file.
    pub path: PathBuf,
    /// File name for display.
    pub name: String,
    /// Probe result.
    pub info: Option<MediaInfo>,
    /// Analysis state.
    pub status: ClipStatus,
    /// Analysis at the default threshold, as cached.
    pub base_analysis: Option<Arc<ClipAnalysis>>,
    /// Analysis with the editor's threshold applied.
    pub analysis: Option<Arc<ClipAnalysis>>,
}

impl ClipEntry {
    /// A freshly added clip.
    pub fn new(path: PathBuf, info: Option<MediaInfo>) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| path.display().to_string());
        Self {
            path,
            name,
            info,
            status: ClipStatus::Pending,
            base_analysis: None,
            analysis: None,
        }
    }

    /// A one-line description: duration, size, frame rate.
    pub fn summary(&self) -> String {
        match self.info.as_ref().and_then(|i| i.video().map(|v| (i, v))) {
            Some((info, v)) => format!(
                "{:.1} s · {}×{} · {} fps{}",
                crate::time::secs_from_ticks(info.duration),
                v.display_width,
                v.display_height,
                v.frame_rate,
                if v.variable_frame_rate { " (VFR)" } else { "" }
            ),
            None => String::new(),
        }
    }
}

/// The song.
#[derive(Debug, Clone)]
pub struct MusicEntry {
    /// The file.
    pub path: PathBuf,
    /// File name for display.
    pub name: String,
    /// Duration from the probe (before analysis finishes).
    pub duration: Ticks,
    /// Waveform so far (grows while decoding).
    pub waveform: Option<WaveformPyramid>,
    /// Analysis as cached (default detection settings).
    pub base_analysis: Option<Arc<MusicAnalysis>>,
    /// Analysis with the editor's detection settings.
    pub analysis: Option<Arc<MusicAnalysis>>,
    /// Status text.
    pub status: String,
    /// True when analysis failed.
    pub failed: bool,
}

impl MusicEntry {
    /// A freshly set song.
    pub fn new(path: PathBuf, duration: Ticks) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        Self {
            path,
            name,
            duration,
            waveform: None,
            base_analysis: None,
            analysis: None,
            status: "analysing…".into(),
            failed: false,
        }
    }
}

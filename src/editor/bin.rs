//! The media bin: what the session knows about each clip and the song while analysis
//! streams in (a view of the project's media, kept in step with it by the session).

use std::path::PathBuf;
use std::sync::Arc;

use crate::analysis::music::{MusicAnalysis, WaveformPyramid};
use crate::analysis::video::ClipAnalysis;
use crate::media::MediaInfo;
use crate::project::ClipId;
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
    /// The clip's persistent id in the project.
    pub id: ClipId,
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
    pub fn new(id: ClipId, path: PathBuf, info: Option<MediaInfo>) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| path.display().to_string());
        Self {
            id,
            path,
            name,
            info,
            status: ClipStatus::Pending,
            base_analysis: None,
            analysis: None,
        }
    }

    /// What went partly wrong reading the clip (skipped corrupt packets, a truncated end):
    /// the analysis stands, but the user should know. Empty when all went well.
    pub fn warnings(&self) -> &[String] {
        self.base_analysis
            .as_ref()
            .map_or(&[][..], |a| a.warnings.as_slice())
    }

    /// True while the clip waits for or runs its analysis.
    pub fn is_analysing(&self) -> bool {
        matches!(self.status, ClipStatus::Pending | ClipStatus::Analysing(_))
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

impl MusicEntry {
    /// What went partly wrong decoding the song (corrupt packets skipped, stopped early).
    pub fn warnings(&self) -> &[String] {
        self.base_analysis
            .as_ref()
            .map_or(&[][..], |a| a.warnings.as_slice())
    }

    /// True while the song waits for or runs its analysis.
    pub fn is_analysing(&self) -> bool {
        self.analysis.is_none() && !self.failed
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

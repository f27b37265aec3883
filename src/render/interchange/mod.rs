//! Timeline interchange: the montage as a CMX3600 EDL, an FCPXML 1.10 document or an
//! OpenTimelineIO JSON file, so it can be finished in DaVinci Resolve, Premiere Pro or
//! Final Cut Pro.
//!
//! All three writers read the timeline through one snapping step (`cuts`), so the files
//! agree frame for frame. Crossfades are centred on the cut, as the renderer draws them.

mod cuts;
mod edl;
mod escape;
mod fcpxml;
mod otio;
pub mod timecode;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::time::{FrameRate, Ticks};

pub use edl::write_edl;
pub use fcpxml::write_fcpxml;
pub use otio::write_otio;

/// A source clip referenced by the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct InterchangeClip {
    /// The media file.
    pub path: PathBuf,
    /// Name shown in the editor (usually the file name).
    pub name: String,
    /// Length of the media.
    pub duration: Ticks,
    /// The clip's own frame rate.
    pub fps: FrameRate,
    /// Frame width in pixels (0 for audio-only media).
    pub width: u32,
    /// Frame height in pixels (0 for audio-only media).
    pub height: u32,
    /// Whether the media carries sound.
    pub has_audio: bool,
}

/// One edit: a source range placed on the record timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct InterchangeEvent {
    /// Index into [`InterchangeTimeline::clips`].
    pub clip: usize,
    /// First source instant used, in the clip's time.
    pub src_in: Ticks,
    /// End of the source range (exclusive). Informational: the record range sets the length.
    pub src_out: Ticks,
    /// Start on the record timeline.
    pub start: Ticks,
    /// End on the record timeline (exclusive).
    pub end: Ticks,
    /// Length of the crossfade into this event in timeline frames, centred on `start`;
    /// 0 is a hard cut.
    pub crossfade_frames: u32,
}

/// A whole montage as the interchange writers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct InterchangeTimeline {
    /// Title of the sequence.
    pub name: String,
    /// Timeline frame rate; every time is snapped to it.
    pub fps: FrameRate,
    /// Timeline frame width in pixels.
    pub width: u32,
    /// Timeline frame height in pixels.
    pub height: u32,
    /// Timeline length (the song's length).
    pub duration: Ticks,
    /// The source clips, referenced by index.
    pub clips: Vec<InterchangeClip>,
    /// The edits in record order.
    pub events: Vec<InterchangeEvent>,
    /// The song, placed on an audio track from 0 to `duration`.
    pub music: Option<InterchangeClip>,
    /// Where in the song the timeline starts (a montage shorter than the song): the music
    /// track's source in point.
    pub music_start: Ticks,
    /// The clips' own sound is part of the edit (mixed under the music): the timeline files
    /// carry it with the pictures (EDL channel B, FCPXML audio enabled, an OTIO audio track).
    pub clip_sound: bool,
}

/// Why a timeline file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InterchangeError {
    /// Creating, writing or renaming the file failed.
    #[error("could not write the timeline file: {source}: {}", path.display())]
    Io {
        /// The file being written (the temporary one where that is what failed).
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The extension names no format this writer knows.
    #[error(
        "unknown timeline format (use .edl, .fcpxml, .otio or .json): {}",
        path.display()
    )]
    UnknownFormat {
        /// The requested file.
        path: PathBuf,
    },
}

/// The interchange formats, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterchangeFormat {
    /// CMX3600 edit decision list (`.edl`).
    Edl,
    /// Final Cut Pro XML 1.10 (`.fcpxml`).
    Fcpxml,
    /// OpenTimelineIO JSON (`.otio`, `.json`).
    Otio,
}

impl InterchangeFormat {
    /// The format for `path`'s extension (case-insensitive), if it is one of ours.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "edl" => Some(Self::Edl),
            "fcpxml" => Some(Self::Fcpxml),
            "otio" | "json" => Some(Self::Otio),
            _ => None,
        }
    }

    /// Renders `timeline` in this format.
    pub fn write(self, timeline: &InterchangeTimeline) -> String {
        match self {
            Self::Edl => write_edl(timeline),
            Self::Fcpxml => write_fcpxml(timeline),
            Self::Otio => write_otio(timeline),
        }
    }
}

/// Writes `timeline` in the format `path`'s extension names (`.edl`, `.fcpxml`, `.otio`,
/// `.json` for OTIO), atomically: to a temporary file beside `path`, then renamed over it,
/// so an editor never sees half a file.
pub fn write_timeline_file(
    timeline: &InterchangeTimeline,
    path: &Path,
) -> Result<(), InterchangeError> {
    let format =
        InterchangeFormat::from_path(path).ok_or_else(|| InterchangeError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
    let text = format.write(timeline);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InterchangeError::Io { path, source }
    };
    let written = std::fs::File::create(&tmp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    if let Err(source) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(&tmp)(source));
    }
    if let Err(source) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(path)(source));
    }
    Ok(())
}

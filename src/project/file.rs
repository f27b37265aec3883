//! The `.beatcut` project file: pretty JSON, versioned, media paths relative where possible.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::music::MusicParams;
use crate::analysis::video::ClipParams;
use crate::plan::{Constraints, PlanSettings};
use crate::render::{Aspect, Preset};

/// Schema version written by this build; files with a higher one are refused.
pub const PROJECT_VERSION: u32 = 1;
/// File extension of project files.
pub const PROJECT_EXTENSION: &str = "beatcut";
/// Marker so a random JSON file is not taken for a project.
const FORMAT_TAG: &str = "beatcut-project";

/// Why a project could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    /// Reading or writing the file failed.
    #[error("cannot access project file ({source}): {}", path.display())]
    Io {
        /// The project file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not a valid project.
    #[error("not a valid Beatcut project ({reason}): {}", path.display())]
    Malformed {
        /// The project file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Written by a newer Beatcut.
    #[error(
        "project was saved by a newer Beatcut (format {found}, this version reads up to {supported}); update Beatcut to open it: {}",
        path.display()
    )]
    TooNew {
        /// The project file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Highest version this build reads.
        supported: u32,
    },
}

/// Export choices remembered with the project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportOptions {
    /// Size and quality class.
    pub preset: Preset,
    /// Output shape.
    pub aspect: Aspect,
    /// Last output path.
    pub output: Option<PathBuf>,
    /// Also write EDL, FCPXML and OTIO beside the video.
    pub interchange: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            preset: Preset::Final,
            aspect: Aspect::Landscape,
            output: None,
            interchange: true,
        }
    }
}

/// Everything the user decided; analyses are not stored (they are cached by content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    /// Always "beatcut-project".
    pub format: String,
    /// Schema version.
    pub version: u32,
    /// Video clips in bin order.
    pub clips: Vec<PathBuf>,
    /// The song.
    pub music: Option<PathBuf>,
    /// Style, seed, frame rate and pacing overrides.
    pub plan: PlanSettings,
    /// Locks, rejected ranges, moved cuts.
    pub constraints: Constraints,
    /// Beat detection settings.
    pub music_params: MusicParams,
    /// Scene detection settings.
    pub clip_params: ClipParams,
    /// Export choices.
    pub export: ExportOptions,
}

impl Default for Project {
    fn default() -> Self {
        Self {
            format: FORMAT_TAG.into(),
            version: PROJECT_VERSION,
            clips: Vec::new(),
            music: None,
            plan: PlanSettings::default(),
            constraints: Constraints::default(),
            music_params: MusicParams::default(),
            clip_params: ClipParams::default(),
            export: ExportOptions::default(),
        }
    }
}

impl Project {
    /// The clip analysis this project's plan needs: its detection settings, scanning every
    /// frame (accurate mode) when the style puts each shot's action on a beat, which needs
    /// the motion of every frame (fast mode sees only the stretches it decodes).
    pub fn analysis_params(&self) -> ClipParams {
        let mut params = self.clip_params.clone();
        let action_sync = crate::plan::Style::resolve(&self.plan.style)
            .and_then(|style| style.with_settings(&self.plan))
            .map_or(0.0, |style| style.action_sync);
        if action_sync > 0.0 && params.mode == crate::analysis::video::DetectMode::Fast {
            params.mode = crate::analysis::video::DetectMode::Accurate;
        }
        params
    }

    /// Reads a project, resolving relative media paths against the file's folder.
    pub fn load(path: &Path) -> Result<Self, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProjectError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&text, path)
    }

    /// Parses project JSON; `path` is used for messages and relative paths.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, ProjectError> {
        let malformed = |reason: String| ProjectError::Malformed {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
        let object = value
            .as_object()
            .ok_or_else(|| malformed("top level is not an object".into()))?;
        if object.get("format").and_then(|f| f.as_str()) != Some(FORMAT_TAG) {
            return Err(malformed("missing \"format\": \"beatcut-project\"".into()));
        }
        let version = object
            .get("version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| malformed("missing version".into()))?;
        if version > PROJECT_VERSION as u64 {
            return Err(ProjectError::TooNew {
                path: path.to_path_buf(),
                found: version.min(u32::MAX as u64) as u32,
                supported: PROJECT_VERSION,
            });
        }
        let mut project: Project =
            serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        project.version = PROJECT_VERSION;
        let base = path.parent().unwrap_or(Path::new("."));
        for clip in &mut project.clips {
            *clip = absolutise(base, clip);
        }
        if let Some(music) = project.music.as_mut() {
            *music = absolutise(base, music);
        }
        Ok(project)
    }

    /// The JSON text of this project with media paths made relative to `base` where they
    /// sit under it (so a project folder can move as a whole).
    pub fn to_json(&self, base: &Path) -> String {
        let mut copy = self.clone();
        for clip in &mut copy.clips {
            *clip = relativise(base, clip);
        }
        if let Some(music) = copy.music.as_mut() {
            *music = relativise(base, music);
        }
        serde_json::to_string_pretty(&copy).unwrap_or_default()
    }

    /// Saves atomically: writes a temporary file beside `path`, then renames it over.
    pub fn save(&self, path: &Path) -> Result<(), ProjectError> {
        let base = path.parent().unwrap_or(Path::new("."));
        let text = self.to_json(base);
        write_atomically(path, text.as_bytes())
    }

    /// Media files that no longer exist (to offer relinking).
    pub fn missing_media(&self) -> Vec<PathBuf> {
        self.clips
            .iter()
            .chain(self.music.iter())
            .filter(|p| !p.exists())
            .cloned()
            .collect()
    }
}

/// The user's data directory for Beatcut (recent projects, the unsaved session's autosave):
/// the platform's (`~/.local/share/beatcut` on Linux), or a temporary one when there is no home.
pub fn user_data_dir() -> PathBuf {
    directories::ProjectDirs::from("org", "beatcut", "beatcut")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("beatcut-data"))
}

/// The autosave/recovery file for a project (beside it), or for an unsaved session (in
/// `data_dir`, normally [`user_data_dir`]; tests pass their own).
pub fn recovery_path(data_dir: &Path, project: Option<&Path>) -> PathBuf {
    match project {
        Some(p) => {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "project".into());
            p.with_file_name(format!(".{name}.autosave"))
        }
        None => data_dir.join("unsaved.beatcut.autosave"),
    }
}

/// Writes `bytes` to a temporary name beside `path`, syncs, then renames over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ProjectError> {
    use std::io::Write;
    let io = |source| ProjectError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let temp = crate::media::temporary_path_for(path);
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io)
}

fn absolutise(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn relativise(base: &Path, path: &Path) -> PathBuf {
    let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
    let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match full.strip_prefix(&base) {
        Ok(rel) if rel.components().all(|c| matches!(c, Component::Normal(_))) => rel.to_path_buf(),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_relative_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clip = dir.path().join("media/a.mp4");
        std::fs::create_dir_all(clip.parent().expect("parent")).expect("mkdir");
        std::fs::write(&clip, b"x").expect("write");
        let project = Project {
            clips: vec![clip.clone()],
            ..Project::default()
        };
        let path = dir.path().join("p.beatcut");
        project.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("\"media/a.mp4\""), "{text}");
        let back = Project::load(&path).expect("load");
        assert_eq!(
            std::fs::canonicalize(&back.clips[0]).expect("canon"),
            std::fs::canonicalize(&clip).expect("canon")
        );
    }

    #[test]
    fn beat_grid_repairs_round_trip_and_old_files_have_none() {
        use crate::analysis::music::BeatGridEdits;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut project = Project::default();
        project.constraints.beat_grid = BeatGridEdits {
            level: -1,
            half_beat_shift: true,
            offset: -441,
            bpm: Some(127.5),
            moved: vec![(1000, 1200)],
            downbeat: Some(5000),
            no_beats: vec![(0, 9000)],
            beats: None,
        };
        let path = dir.path().join("grid.beatcut");
        project.save(&path).expect("save");
        let back = Project::load(&path).expect("load");
        assert_eq!(back.constraints.beat_grid, project.constraints.beat_grid);
        // A project saved before grid repairs existed loads with none.
        let old = r#"{"format":"beatcut-project","version":1,"constraints":{"locked":[],"excluded":[],"cut_moves":[]}}"#;
        let loaded = Project::from_json(old, Path::new("old.beatcut")).expect("old file");
        assert!(loaded.constraints.beat_grid.is_empty());
    }

    #[test]
    fn refuses_newer_and_malformed_files() {
        let path = Path::new("x.beatcut");
        let newer = r#"{"format":"beatcut-project","version":99}"#;
        assert!(matches!(
            Project::from_json(newer, path),
            Err(ProjectError::TooNew { found: 99, .. })
        ));
        for bad in [
            "",
            "[]",
            "{}",
            "{\"format\":\"beatcut-project\"}",
            "{\"format\":\"beatcut-project\",\"version\":1,\"clips\":5}",
            "\u{0}\u{1}",
        ] {
            let err = Project::from_json(bad, path).expect_err(bad);
            assert!(err.to_string().contains("x.beatcut"), "{err}");
        }
        // Older/partial files load with defaults.
        let minimal = r#"{"format":"beatcut-project","version":1}"#;
        assert_eq!(
            Project::from_json(minimal, path)
                .expect("minimal")
                .plan
                .style,
            "dynamic"
        );
    }
}

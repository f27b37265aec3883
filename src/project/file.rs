//! The `.beatcut` project file: pretty JSON, versioned, media paths relative where possible.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::music::MusicParams;
use crate::analysis::video::ClipParams;
use crate::plan::{Constraints, PlanSettings};
use crate::render::{Aspect, Fit, Preset};

/// Schema version written by this build; files with a higher one are refused. Version 2
/// gave every clip a persistent [`ClipId`] (version 1 listed paths, known by position).
pub const PROJECT_VERSION: u32 = 2;
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
    /// How shapes that differ from the output are fitted; `None`: the aspect's own
    /// ([`Fit::for_aspect`]: portrait and square reframe to the subject).
    pub fit: Option<Fit>,
    /// Level of the clips' own sound under the music, 0 (off) to 1; the preview plays it
    /// and the export dialog starts from it.
    pub clip_audio: f32,
    /// How far the music ducks (dB) while the clips' sound is loud.
    pub duck_db: f32,
}

impl ExportOptions {
    /// The fit an export uses: the chosen one, else the aspect's.
    pub fn effective_fit(&self) -> Fit {
        self.fit.unwrap_or(Fit::for_aspect(self.aspect))
    }
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            preset: Preset::Final,
            aspect: Aspect::Landscape,
            output: None,
            interchange: true,
            fit: None,
            clip_audio: 0.0,
            duck_db: 10.0,
        }
    }
}

/// A clip's identity in its project: given when the clip is added, never reused, kept by
/// saves, undo and relinking. Segments, locks and exclusions refer to clips by it (as
/// [`ClipId::key`], the planner's clip key), so removing one clip moves no edit onto another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClipId(pub u32);

impl ClipId {
    /// The key the planner, segments and constraints use for this clip.
    pub fn key(self) -> usize {
        self.0 as usize
    }

    /// The clip with planner key `key` (as found in a segment or constraint).
    pub fn from_key(key: usize) -> Self {
        Self(u32::try_from(key).unwrap_or(u32::MAX))
    }
}

impl std::fmt::Display for ClipId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "clip {}", self.0)
    }
}

/// One video clip of the project: its identity and file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectClip {
    /// Persistent identity.
    pub id: ClipId,
    /// The file (absolute in memory; relative to the project file on disk where possible).
    pub path: PathBuf,
}

impl ProjectClip {
    /// The file name for display.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| self.path.display().to_string())
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
    /// Video clips in bin order, each with its persistent id.
    pub clips: Vec<ProjectClip>,
    /// The id the next added clip gets (ids are never reused, so a stale reference to a
    /// removed clip can never land on a new one).
    pub next_clip_id: u32,
    /// The song.
    pub music: Option<PathBuf>,
    /// Style, seed, frame rate and pacing overrides.
    pub plan: PlanSettings,
    /// Locks, rejected ranges, moved cuts.
    pub constraints: Constraints,
    /// Beat detection settings (only the user-facing knobs are saved; see
    /// [`user_settings`]).
    #[serde(with = "user_settings::music")]
    pub music_params: MusicParams,
    /// Scene detection settings (only the user-facing knobs are saved).
    #[serde(with = "user_settings::clips")]
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
            next_clip_id: 0,
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
    /// A project over `clips` (ids 0, 1, … in order) and `music`.
    pub fn with_media(clips: &[PathBuf], music: Option<PathBuf>) -> Self {
        let mut project = Self {
            music,
            ..Self::default()
        };
        for clip in clips {
            project.add_clip(clip.clone());
        }
        project
    }

    /// Adds a clip (or returns the id it already has when the file is in the project).
    pub fn add_clip(&mut self, path: PathBuf) -> ClipId {
        if let Some(clip) = self.clips.iter().find(|c| c.path == path) {
            return clip.id;
        }
        let floor = self.clips.iter().map(|c| c.id.0 + 1).max().unwrap_or(0);
        let id = ClipId(self.next_clip_id.max(floor));
        self.next_clip_id = id.0.saturating_add(1);
        self.clips.push(ProjectClip { id, path });
        id
    }

    /// Removes a clip with the edits that only meant something for it (its locked segments
    /// and rejected ranges); every other clip keeps its id and edits. Returns false when
    /// there was no such clip.
    pub fn remove_clip(&mut self, id: ClipId) -> bool {
        let before = self.clips.len();
        self.clips.retain(|c| c.id != id);
        if self.clips.len() == before {
            return false;
        }
        let key = id.key();
        self.constraints.locked.retain(|s| s.clip != key);
        self.constraints.excluded.retain(|e| e.0 != key);
        true
    }

    /// The clip with this id.
    pub fn clip(&self, id: ClipId) -> Option<&ProjectClip> {
        self.clips.iter().find(|c| c.id == id)
    }

    /// The clip a segment or constraint refers to by its planner key.
    pub fn clip_by_key(&self, key: usize) -> Option<&ProjectClip> {
        self.clip(ClipId::from_key(key))
    }

    /// The clip whose file is `path`.
    pub fn clip_at_path(&self, path: &Path) -> Option<&ProjectClip> {
        self.clips.iter().find(|c| c.path == path)
    }

    /// Points every reference to `old` (a clip or the song) at `new`, keeping the clip's id
    /// (so its locks, exclusions and segments stay on it).
    pub fn relink(&mut self, old: &Path, new: &Path) {
        for clip in self.clips.iter_mut().filter(|c| c.path == old) {
            clip.path = new.to_path_buf();
        }
        if self.music.as_deref() == Some(old) {
            self.music = Some(new.to_path_buf());
        }
    }

    /// The clip files in bin order.
    pub fn clip_paths(&self) -> Vec<PathBuf> {
        self.clips.iter().map(|c| c.path.clone()).collect()
    }

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
        let mut value = value;
        if version < 2 {
            migrate_clip_paths_to_ids(&mut value).map_err(malformed)?;
        }
        let mut project: Project =
            serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        project.version = PROJECT_VERSION;
        let mut seen = std::collections::HashSet::new();
        if let Some(clip) = project.clips.iter().find(|c| !seen.insert(c.id)) {
            return Err(malformed(format!("two clips have id {}", clip.id.0)));
        }
        let floor = project.clips.iter().map(|c| c.id.0 + 1).max().unwrap_or(0);
        project.next_clip_id = project.next_clip_id.max(floor);
        let base = path.parent().unwrap_or(Path::new("."));
        for clip in &mut project.clips {
            clip.path = absolutise(base, &clip.path);
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
            clip.path = relativise(base, &clip.path);
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
            .map(|c| &c.path)
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

/// The analysis settings a project file keeps: only what the user sets in the editor or on
/// the command line. Internal knobs (sample rates, window sizes, thread counts) are not
/// saved, so a project opened by a newer Beatcut gets that version's tuning rather than
/// pinning the old one; values saved by older files for them are ignored.
mod user_settings {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::analysis::music::MusicParams;
    use crate::analysis::video::{ClipParams, DetectMode};

    /// Beat detection as saved.
    #[derive(Serialize, Deserialize)]
    #[serde(default)]
    struct MusicSettings {
        beat_sensitivity: f32,
        min_bpm: f64,
        max_bpm: f64,
    }

    impl From<&MusicParams> for MusicSettings {
        fn from(p: &MusicParams) -> Self {
            Self {
                beat_sensitivity: p.beat_sensitivity,
                min_bpm: p.min_bpm,
                max_bpm: p.max_bpm,
            }
        }
    }

    impl Default for MusicSettings {
        fn default() -> Self {
            Self::from(&MusicParams::default())
        }
    }

    /// Scene detection as saved.
    #[derive(Serialize, Deserialize)]
    #[serde(default)]
    struct ClipSettings {
        mode: DetectMode,
        threshold: f32,
        min_scene_secs: f64,
        gradual: bool,
    }

    impl From<&ClipParams> for ClipSettings {
        fn from(p: &ClipParams) -> Self {
            Self {
                mode: p.mode,
                threshold: p.threshold,
                min_scene_secs: p.min_scene_secs,
                gradual: p.gradual,
            }
        }
    }

    impl Default for ClipSettings {
        fn default() -> Self {
            Self::from(&ClipParams::default())
        }
    }

    pub mod music {
        use super::*;

        pub fn serialize<S: Serializer>(p: &MusicParams, s: S) -> Result<S::Ok, S::Error> {
            MusicSettings::from(p).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MusicParams, D::Error> {
            let saved = MusicSettings::deserialize(d)?;
            Ok(MusicParams {
                beat_sensitivity: saved.beat_sensitivity,
                min_bpm: saved.min_bpm,
                max_bpm: saved.max_bpm,
                ..MusicParams::default()
            })
        }
    }

    pub mod clips {
        use super::*;

        pub fn serialize<S: Serializer>(p: &ClipParams, s: S) -> Result<S::Ok, S::Error> {
            ClipSettings::from(p).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ClipParams, D::Error> {
            let saved = ClipSettings::deserialize(d)?;
            Ok(ClipParams {
                mode: saved.mode,
                threshold: saved.threshold,
                min_scene_secs: saved.min_scene_secs,
                gradual: saved.gradual,
                ..ClipParams::default()
            })
        }
    }
}

/// Version 1 listed clips as paths, known by position (segments, locks and exclusions held
/// that position): each becomes `{"id": position, "path": …}`, so every reference keeps
/// pointing at the same file.
fn migrate_clip_paths_to_ids(value: &mut serde_json::Value) -> Result<(), String> {
    let Some(clips) = value.get_mut("clips") else {
        return Ok(());
    };
    let paths = clips
        .as_array()
        .ok_or_else(|| "\"clips\" is not a list".to_string())?
        .clone();
    let mut migrated = Vec::with_capacity(paths.len());
    for (position, path) in paths.into_iter().enumerate() {
        if !path.is_string() {
            return Err(format!("clip {position} is not a file path"));
        }
        migrated.push(serde_json::json!({ "id": position, "path": path }));
    }
    *clips = serde_json::Value::Array(migrated);
    Ok(())
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
        let project = Project::with_media(std::slice::from_ref(&clip), None);
        let path = dir.path().join("p.beatcut");
        project.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("\"media/a.mp4\""), "{text}");
        let back = Project::load(&path).expect("load");
        assert_eq!(
            std::fs::canonicalize(&back.clips[0].path).expect("canon"),
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
            half_beat_spans: vec![(2000, 6000)],
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
    fn version_1_files_keep_every_reference_on_its_clip() {
        // Version 1 knew clips by position: the lock is on c.mp4, the exclusion on b.mp4.
        let old = r#"{"format":"beatcut-project","version":1,
            "clips":["a.mp4","b.mp4","c.mp4"],
            "constraints":{"locked":[{"clip":2,"src_in":0,"src_out":10,"start":0,"end":10}],
                           "excluded":[[1,0,5]],"cut_moves":[]}}"#;
        let mut project = Project::from_json(old, Path::new("/x/old.beatcut")).expect("v1");
        let ids: Vec<u32> = project.clips.iter().map(|c| c.id.0).collect();
        assert_eq!(ids, [0, 1, 2]);
        let file_of = |p: &Project, key: usize| p.clip_by_key(key).expect("clip").name();
        assert_eq!(
            file_of(&project, project.constraints.locked[0].clip),
            "c.mp4"
        );
        assert_eq!(
            file_of(&project, project.constraints.excluded[0].0),
            "b.mp4"
        );
        // Removing the first clip moves nothing onto its neighbours; a new clip gets a new id.
        assert!(project.remove_clip(ClipId(0)));
        assert_eq!(
            file_of(&project, project.constraints.locked[0].clip),
            "c.mp4"
        );
        assert_eq!(
            file_of(&project, project.constraints.excluded[0].0),
            "b.mp4"
        );
        assert_eq!(project.add_clip(PathBuf::from("/x/d.mp4")), ClipId(3));
        // Removing the locked clip drops its lock, and its id is never given again.
        assert!(project.remove_clip(ClipId(2)));
        assert!(project.constraints.locked.is_empty());
        assert_eq!(project.add_clip(PathBuf::from("/x/e.mp4")), ClipId(4));
        // Saved as version 2 and read back, ids and the counter survive.
        let text = project.to_json(Path::new("/x"));
        let back = Project::from_json(&text, Path::new("/x/new.beatcut")).expect("v2");
        assert_eq!(back.clips, project.clips);
        assert_eq!(back.next_clip_id, 5);
        let duplicate = text.replace("\"id\": 4", "\"id\": 1");
        assert!(Project::from_json(&duplicate, Path::new("/x/dup.beatcut")).is_err());
    }

    #[test]
    fn only_user_facing_analysis_settings_are_saved() {
        let mut project = Project::default();
        project.music_params.beat_sensitivity = 0.8;
        project.music_params.fft_size = 4096;
        project.clip_params.threshold = 0.6;
        project.clip_params.threads = 3;
        project.clip_params.analysis_size = 128;
        let text = project.to_json(Path::new("/x"));
        for internal in ["fft_size", "analysis_rate", "threads", "analysis_size"] {
            assert!(!text.contains(internal), "{internal} saved:\n{text}");
        }
        let back = Project::from_json(&text, Path::new("/x/p.beatcut")).expect("load");
        assert_eq!(back.music_params.beat_sensitivity, 0.8);
        assert_eq!(back.clip_params.threshold, 0.6);
        assert_eq!(back.music_params.fft_size, MusicParams::default().fft_size);
        assert_eq!(back.clip_params.threads, 0);
        // An older file's internal values are ignored; its user settings are kept.
        let old = r#"{"format":"beatcut-project","version":1,
            "music_params":{"min_bpm":70.0,"fft_size":512,"analysis_rate":8000},
            "clip_params":{"mode":"accurate","threads":9}}"#;
        let loaded = Project::from_json(old, Path::new("/x/old.beatcut")).expect("old");
        assert_eq!(loaded.music_params.min_bpm, 70.0);
        assert_eq!(
            loaded.music_params.analysis_rate,
            MusicParams::default().analysis_rate
        );
        assert_eq!(
            loaded.clip_params.mode,
            crate::analysis::video::DetectMode::Accurate
        );
        assert_eq!(loaded.clip_params.threads, 0);
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

//! The editing session: the project, its undo history, the media bin, the plan and the
//! background work that feeds them, driven by commands. The app draws it and sends
//! commands; the tests and the CLI drive it the same way, without a window.
//!
//! - Every user action is a method here (`add_paths`, `remove_clip`, `lock_segment`,
//!   `replace_segment`, `move_cut`, `set_settings`, `grid_command`, `undo`, …). Changes to
//!   the project go through one place, [`Session::change_project`], which records undo and
//!   keeps the bin, the plan index and the plan in step.
//! - Background work (probes, analyses, planning) reports typed events; [`Session::poll`]
//!   takes them in and returns what the UI must act on (a song to load for playback).
//! - Clips are known by their persistent [`ClipId`]: segments, locks and exclusions keep
//!   pointing at their clip through removals, re-adds, relinks and undo.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::bin::{ClipEntry, ClipStatus, MusicEntry};
use super::export::{ExportEvent, ExportJob, ExportRequest};
use super::planner::{PlanRequest, Planner};
use super::soundtrack::SoundtrackMixer;
use super::worker::{MediaKind, WorkFailure, Worker, WorkerEvent, expand_paths};
use super::{GridCommand, PlanClips, TapTempo};
use crate::analysis::music::{Beat, BeatGridEdits, MusicAnalysis, MusicParams};
use crate::analysis::video::{ClipAnalysis, ClipParams, DetectMode};
use crate::cache::Cache;
use crate::plan::{CutMove, PlanIndex, PlanSettings, Segment, Style, Timeline};
use crate::project::{ClipId, History, Project, recovery_path, user_data_dir};
use crate::time::Ticks;

/// How often unsaved changes are written to the recovery file.
const AUTOSAVE_EVERY: Duration = Duration::from_secs(20);
/// Messages kept for the user.
const MAX_NOTICES: usize = 50;
/// Replacement candidates offered for a segment.
const CANDIDATES: usize = 5;

/// A message for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The text, naming the file and the reason where there is one.
    pub text: String,
    /// Warning or error (true) versus information.
    pub is_problem: bool,
}

/// Something the UI acts on after [`Session::poll`].
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// The song is analysed: load it for playback.
    MusicReady(PathBuf),
    /// A new plan landed.
    PlanLanded,
    /// The preview's mix of music and clip sound for the current plan is ready (or the
    /// preview went back to the bare song).
    SoundtrackReady,
}

/// Where an export crops one frame, as shares of the source picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropWindow {
    /// The window's centre (x, y).
    pub centre: (f32, f32),
    /// The window's width and height.
    pub size: (f32, f32),
}

/// The choices of one export that the project does not keep (size, shape and frame rate
/// come from the project and its plan).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportChoice {
    /// The file to write.
    pub output: PathBuf,
    /// Level of the clips' own sound under the music (0: off).
    pub clip_audio: f32,
    /// How far the music ducks (dB) while the clip sound is loud; 0 never.
    pub duck_db: f32,
    /// Also write EDL, FCPXML and OTIO beside it.
    pub interchange: bool,
}

/// Which way to move a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutStep {
    /// To the previous beat of the (repaired) grid.
    EarlierBeat,
    /// To the next beat of the (repaired) grid.
    LaterBeat,
}

/// What runs in the background, per kind (the status bar shows it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// Files being probed.
    pub probing: usize,
    /// The song waiting for or in analysis.
    pub music: bool,
    /// Clips waiting for or in analysis.
    pub clips: usize,
    /// A plan being computed or due.
    pub planning: bool,
}

impl Activity {
    /// True when nothing runs.
    pub fn is_idle(&self) -> bool {
        *self == Self::default()
    }

    /// A short description ("analysing 3 clips · planning"), "idle" when nothing runs.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.probing > 0 {
            parts.push(format!("reading {} file(s)", self.probing));
        }
        if self.music {
            parts.push("analysing the song".to_string());
        }
        if self.clips > 0 {
            parts.push(format!("analysing {} clip(s)", self.clips));
        }
        if self.planning {
            parts.push("planning".to_string());
        }
        if parts.is_empty() {
            "idle".into()
        } else {
            parts.join(" · ")
        }
    }
}

/// The song's beats after the project's grid repairs, kept while neither changes.
#[derive(Debug, Clone)]
pub struct GridView {
    edits: BeatGridEdits,
    analysis: Arc<MusicAnalysis>,
    /// The repaired beats.
    pub beats: Arc<Vec<Beat>>,
    /// Their tempo, BPM.
    pub tempo_bpm: f64,
}

/// The editing session (see the module documentation).
pub struct Session {
    project: Project,
    project_path: Option<PathBuf>,
    history: History,
    clips: Vec<ClipEntry>,
    /// Bin entries of clips removed from the project, kept so undo brings them back with
    /// their analysis.
    removed: HashMap<ClipId, ClipEntry>,
    /// Files probed because the user added them (their bin entry comes from that probe).
    probed_ahead: Vec<PathBuf>,
    /// Files the user added, in order, with their probe's answer once it came.
    #[allow(clippy::type_complexity)]
    adding: std::collections::VecDeque<(
        PathBuf,
        Option<Result<(MediaKind, Option<crate::media::MediaInfo>), String>>,
    )>,
    music: Option<MusicEntry>,
    timeline: Option<Timeline>,
    plan_status: String,
    plan_index: Option<Arc<PlanIndex>>,
    planner: Planner,
    /// Mixes the preview's sound (music, clip sound, ducking) as the export will.
    soundtrack: SoundtrackMixer,
    /// What the last mix was asked for: the plan's version, level and depth.
    soundtrack_key: Option<(u64, u32, u32)>,
    /// Counts the plans taken, so the mix knows when the timeline changed.
    timeline_version: u64,
    plans_made: u64,
    needs_replan: bool,
    needs_reindex: bool,
    selected: Option<usize>,
    candidates: Vec<Segment>,
    worker: Worker,
    cache: Arc<Cache>,
    notices: Vec<Notice>,
    data_dir: PathBuf,
    dirty: bool,
    last_autosave: Instant,
    tap_tempo: TapTempo,
    started: Instant,
    grid_view: Option<GridView>,
    recovery_offer: Option<PathBuf>,
    export: Option<ExportJob>,
    waker: Arc<dyn Fn() + Send + Sync>,
    /// A session without a window (the CLI): no first looks, no autosave, no recent list.
    batch: bool,
}

impl Session {
    /// A new, empty session. `waker` is called from background threads when results arrive
    /// (the GUI passes `ctx.request_repaint`; tests and the CLI pass a no-op and poll).
    pub fn new(cache: Arc<Cache>, waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let data_dir = user_data_dir();
        let recovery = recovery_path(&data_dir, None);
        Self {
            project: Project::default(),
            project_path: None,
            history: History::default(),
            clips: Vec::new(),
            removed: HashMap::new(),
            probed_ahead: Vec::new(),
            adding: std::collections::VecDeque::new(),
            music: None,
            timeline: None,
            plan_status:
                "Drop video clips and a song here, or use File > Add media… and File > Set music…"
                    .into(),
            plan_index: None,
            planner: Planner::new(waker.clone()),
            soundtrack: SoundtrackMixer::new(waker.clone()),
            soundtrack_key: None,
            timeline_version: 0,
            export: None,
            plans_made: 0,
            needs_replan: false,
            needs_reindex: false,
            selected: None,
            candidates: Vec::new(),
            worker: Worker::new(waker.clone()),
            waker,
            batch: false,
            cache,
            notices: Vec::new(),
            recovery_offer: recovery.exists().then_some(recovery),
            data_dir,
            dirty: false,
            last_autosave: Instant::now(),
            tap_tempo: TapTempo::default(),
            started: Instant::now(),
            grid_view: None,
        }
    }

    /// A session for batch work (the CLI's `plan` and `render`): the same commands,
    /// analyses and planner as the editor, without the editor's extras: no quick first
    /// look before each clip's analysis (nobody looks at it), no autosave and no
    /// recent-projects list (nothing written outside the cache).
    pub fn batch(cache: Arc<Cache>) -> Self {
        let mut session = Self::new(cache, Arc::new(|| {}));
        session.batch = true;
        session.recovery_offer = None;
        session
    }

    /// The same session keeping its recent-projects list and unsaved-session autosave in
    /// `dir` instead of the user's data directory (tests and benchmarks never touch the
    /// user's).
    pub fn with_data_dir(mut self, dir: PathBuf) -> Self {
        let recovery = recovery_path(&dir, None);
        self.recovery_offer = recovery.exists().then_some(recovery);
        self.data_dir = dir;
        self
    }

    // ----- reading the state -------------------------------------------------------------

    /// The user's project (what is saved).
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Where the project was last saved or opened from.
    pub fn project_path(&self) -> Option<&Path> {
        self.project_path.as_deref()
    }

    /// Clips in the bin, in project order.
    pub fn clips(&self) -> &[ClipEntry] {
        &self.clips
    }

    /// The bin entry of a clip.
    pub fn clip(&self, id: ClipId) -> Option<&ClipEntry> {
        self.clips.iter().find(|c| c.id == id)
    }

    /// The bin entry of the clip a segment shows.
    pub fn clip_of(&self, segment: &Segment) -> Option<&ClipEntry> {
        self.clip(ClipId::from_key(segment.clip))
    }

    /// The song.
    pub fn music(&self) -> Option<&MusicEntry> {
        self.music.as_ref()
    }

    /// The current plan.
    pub fn timeline(&self) -> Option<&Timeline> {
        self.timeline.as_ref()
    }

    /// Why there is no plan, or a summary of the one there is.
    pub fn plan_status(&self) -> &str {
        &self.plan_status
    }

    /// The selected timeline segment.
    pub fn selected(&self) -> Option<usize> {
        self.selected
    }

    /// Replacement candidates for the selected segment (after [`Session::load_candidates`]).
    pub fn candidates(&self) -> &[Segment] {
        &self.candidates
    }

    /// Messages for the user, oldest first.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// True when there is something to undo.
    pub fn can_undo(&self) -> bool {
        self.history.can_undo()
    }

    /// True when there is something to redo.
    pub fn can_redo(&self) -> bool {
        self.history.can_redo()
    }

    /// True when the project changed since it was last saved or opened.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The analysis cache.
    pub fn cache(&self) -> &Arc<Cache> {
        &self.cache
    }

    /// Where the recent list and the unsaved session's autosave live.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A recovery file found at start-up, offered until taken or dismissed.
    pub fn recovery_offer(&self) -> Option<&Path> {
        self.recovery_offer.as_deref()
    }

    /// What runs in the background, per kind.
    pub fn activity(&self) -> Activity {
        Activity {
            probing: self.worker.probes_running(),
            music: self.music.as_ref().is_some_and(MusicEntry::is_analysing),
            clips: self.clips.iter().filter(|c| c.is_analysing()).count(),
            planning: self.plan_pending(),
        }
    }

    /// True when background analysis or planning is still running.
    pub fn is_busy(&self) -> bool {
        self.worker.is_busy() || self.plan_pending() || self.soundtrack.is_pending()
    }

    /// True while a plan is being computed or is due.
    pub fn plan_pending(&self) -> bool {
        self.needs_replan || self.planner.is_pending()
    }

    /// How many plans have landed since the session started (each replan counts).
    pub fn plans_made(&self) -> u64 {
        self.plans_made
    }

    /// Wall time of the last plan, milliseconds.
    pub fn last_plan_millis(&self) -> f32 {
        self.planner.last_millis
    }

    /// Taps of the tap-tempo button so far.
    pub fn taps(&self) -> usize {
        self.tap_tempo.count()
    }

    /// The song's beat grid as the user repaired it (what the plan cuts on), or `None` before
    /// the music is analysed.
    pub fn grid(&mut self) -> Option<GridView> {
        let analysis = self.music.as_ref()?.analysis.clone()?;
        let edits = &self.project.constraints.beat_grid;
        let fresh = self
            .grid_view
            .as_ref()
            .is_some_and(|v| Arc::ptr_eq(&v.analysis, &analysis) && v.edits == *edits);
        if !fresh {
            let repaired = edits.apply(&analysis);
            self.grid_view = Some(GridView {
                edits: edits.clone(),
                beats: Arc::new(repaired.beats.clone()),
                tempo_bpm: repaired.tempo_bpm,
                analysis: analysis.clone(),
            });
        }
        self.grid_view.clone()
    }

    // ----- commands: media ---------------------------------------------------------------

    /// Adds files or folders: each is probed in the background and becomes a clip, the
    /// music, or opens as a project.
    pub fn add_paths(&mut self, paths: &[PathBuf]) {
        for path in expand_paths(paths) {
            if self.clips.iter().any(|c| c.path == path)
                || self.adding.iter().any(|(p, _)| *p == path)
            {
                continue;
            }
            self.adding.push_back((path.clone(), None));
            self.worker.probe(path, false);
        }
    }

    /// Sets the song (probed in the background first).
    pub fn set_music_path(&mut self, path: PathBuf) {
        self.worker.probe(path, true);
    }

    /// Removes a clip from the project (undoable): its locks and rejected ranges go with
    /// it, every other clip keeps its edits, and its analysis stops.
    pub fn remove_clip(&mut self, id: ClipId) {
        self.change_project(|p| {
            p.remove_clip(id);
        });
    }

    /// Points a missing clip (or the song) at its new location, keeping its id, so its
    /// locks and its place in the plan stay.
    pub fn relink(&mut self, old: &Path, new: PathBuf) {
        self.change_project(|p| p.relink(old, &new));
    }

    /// Adds a clip whose analysis is already known (from the cache or a benchmark) without
    /// starting any background work.
    pub fn add_analysed_clip(&mut self, path: PathBuf, analysis: Arc<ClipAnalysis>) {
        let id = self.project.add_clip(path.clone());
        let mut entry = ClipEntry::new(id, path, None);
        entry.base_analysis = Some(analysis.clone());
        entry.analysis = Some(analysis);
        entry.status = ClipStatus::Ready { cached: true };
        self.clips.push(entry);
        self.needs_reindex = true;
        self.needs_replan = true;
    }

    /// Sets a song whose analysis is already known, without background work.
    pub fn set_analysed_music(&mut self, path: PathBuf, analysis: Arc<MusicAnalysis>) {
        let mut entry = MusicEntry::new(path.clone(), analysis.duration);
        entry.waveform = Some(analysis.waveform.clone());
        entry.base_analysis = Some(analysis.clone());
        entry.analysis = Some(analysis);
        entry.status = "ready".into();
        self.music = Some(entry);
        self.project.music = Some(path);
        self.needs_replan = true;
    }

    // ----- commands: project files -------------------------------------------------------

    /// Opens a project file, replacing the current session's project.
    pub fn open_project(&mut self, path: &Path) {
        match Project::load(path) {
            Ok(project) => self.load_project(project, Some(path.to_path_buf())),
            Err(e) => self.notify(e.to_string(), true),
        }
    }

    /// Opens a project that exists only in memory (the CLI's, merged from its arguments),
    /// replacing the current one; it counts as unsaved.
    pub fn open_unsaved(&mut self, project: Project) {
        self.load_project(project, None);
        self.dirty = true;
    }

    /// Takes the recovery file offered at start-up (an unsaved session's autosave).
    pub fn recover(&mut self) {
        let Some(path) = self.recovery_offer.take() else {
            return;
        };
        match Project::load(&path) {
            Ok(project) => {
                self.load_project(project, None);
                self.dirty = true;
            }
            Err(e) => self.notify(e.to_string(), true),
        }
    }

    /// Declines the recovery file and deletes it.
    pub fn discard_recovery(&mut self) {
        if let Some(path) = self.recovery_offer.take() {
            let _ = std::fs::remove_file(path);
        }
    }

    fn load_project(&mut self, project: Project, path: Option<PathBuf>) {
        for clip in self.clips.drain(..) {
            self.worker.cancel_clip(&clip.path);
        }
        if let Some(music) = self.music.take() {
            self.worker.cancel_music(&music.path);
        }
        self.removed.clear();
        self.timeline = None;
        self.selected = None;
        self.candidates.clear();
        self.plan_index = None;
        self.history = History::default();
        for missing in project.missing_media() {
            self.notify(
                format!(
                    "media file is missing (use Relink… in the media bin): {}",
                    missing.display()
                ),
                true,
            );
        }
        self.project = project;
        if let Some(p) = path.as_ref().filter(|_| !self.batch) {
            super::recent::remember(&self.data_dir, p);
        }
        self.project_path = path;
        self.sync_media();
        self.dirty = false;
        self.needs_replan = true;
    }

    /// Saves the project to `path` (atomically) and remembers it in the recent list.
    pub fn save_project(&mut self, path: &Path) {
        match self.project.save(path) {
            Ok(()) => {
                super::recent::remember(&self.data_dir, path);
                self.project_path = Some(path.to_path_buf());
                self.dirty = false;
                let _ = std::fs::remove_file(recovery_path(&self.data_dir, None));
                self.notify(format!("saved {}", path.display()), false);
            }
            Err(e) => self.notify(e.to_string(), true),
        }
    }

    /// Projects opened or saved lately, newest first.
    pub fn recent_projects(&self) -> Vec<PathBuf> {
        super::recent::list(&self.data_dir)
    }

    // ----- commands: plan and segments ---------------------------------------------------

    /// Applies a change to the project, recording it for undo; the bin, the analyses and
    /// the plan follow. Every edit goes through here.
    pub fn change_project(&mut self, change: impl FnOnce(&mut Project)) {
        let before = self.project.clone();
        change(&mut self.project);
        if self.project != before {
            self.history.record(before.clone());
            self.after_change(&before);
        }
    }

    /// Sets the plan settings and the detection thresholds (one undo step); thresholds are
    /// re-applied to the analyses in memory without decoding.
    pub fn set_settings(&mut self, plan: PlanSettings, music: MusicParams, clips: ClipParams) {
        self.change_project(|p| {
            p.plan = plan;
            p.music_params = music;
            p.clip_params = clips;
        });
    }

    /// Sets the montage's length in seconds (`None`: the whole song); the planner picks the
    /// stretch of the song again (a stretch the user placed is forgotten).
    pub fn set_length(&mut self, secs: Option<f64>) {
        let secs = secs.filter(|s| s.is_finite() && *s > 0.0);
        self.change_project(|p| {
            p.plan.length_secs = secs;
            p.plan.region_start = None;
        });
    }

    /// Places the stretch of the song a shorter montage uses so it starts near `start` (the
    /// planner snaps it to the nearest downbeat); `None` lets the planner choose again.
    pub fn place_region(&mut self, start: Option<Ticks>) {
        self.change_project(|p| p.plan.region_start = start.map(|t| t.max(0)));
    }

    /// Selects a timeline segment (or none); replacement candidates are cleared.
    pub fn select(&mut self, segment: Option<usize>) {
        if self.selected != segment {
            self.candidates.clear();
        }
        self.selected = segment;
    }

    /// True when the segment at `index` is locked.
    pub fn is_locked(&self, index: usize) -> bool {
        self.segment(index).is_some_and(|s| {
            self.project
                .constraints
                .locked
                .iter()
                .any(|l| same_slot(l, s))
        })
    }

    /// Locks (keeps through replans) or unlocks the segment at `index`.
    pub fn lock_segment(&mut self, index: usize, lock: bool) {
        let Some(segment) = self.segment(index).cloned() else {
            return;
        };
        self.change_project(|p| {
            p.constraints.locked.retain(|l| !same_slot(l, &segment));
            if lock {
                p.constraints.locked.push(Segment {
                    locked: true,
                    ..segment
                });
            }
        });
    }

    /// Sets the export's size class, shape and fit (one undo step): the preview shows the
    /// shape, and a cropping fit shows each frame's crop.
    pub fn set_export_format(
        &mut self,
        preset: crate::render::Preset,
        aspect: crate::render::Aspect,
        fit: Option<crate::render::Fit>,
    ) {
        self.change_project(|p| {
            p.export.preset = preset;
            p.export.aspect = aspect;
            p.export.fit = fit;
        });
    }

    /// How segment `index` is framed for portrait and square exports.
    pub fn framing(&self, index: usize) -> crate::reframe::Framing {
        self.segment(index).map_or_else(Default::default, |s| {
            crate::reframe::framing_for(
                &self.project.constraints.framing,
                s.clip,
                s.src_in,
                s.src_out,
            )
        })
    }

    /// Frames segment `index` (one undo step): follow its subject, lock it to the centre, or
    /// place the crop by hand. The choice belongs to the segment's source range, so it stays
    /// with the shot when the plan changes around it.
    pub fn set_framing(&mut self, index: usize, framing: crate::reframe::Framing) {
        let Some(segment) = self.segment(index).cloned() else {
            return;
        };
        self.change_project(|p| {
            crate::reframe::set_framing(
                &mut p.constraints.framing,
                segment.clip,
                segment.src_in,
                segment.src_out,
                framing,
            );
        });
    }

    /// The analysis of a clip by its persistent id (as segments name clips), when done.
    pub fn clip_analysis(&self, key: usize) -> Option<Arc<ClipAnalysis>> {
        let id = ClipId::from_key(key);
        self.clips
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.analysis.clone())
    }

    /// Where the export crops segment `index` at source time `src_time`: the window's centre
    /// and size as shares of the source picture, as the export will cut it. `None` when the
    /// export keeps the whole picture (letterbox) or there is no such segment.
    pub fn crop_window(&self, index: usize, src_time: Ticks) -> Option<CropWindow> {
        let export = &self.project.export;
        let fit = export.effective_fit();
        if !fit.crops() {
            return None;
        }
        let segment = self.segment(index)?;
        let settings =
            crate::render::RenderSettings::new(export.preset, export.aspect, self.project.plan.fps);
        let analysis = self.clip_analysis(segment.clip)?;
        let window = crate::reframe::window_share(
            analysis.width,
            analysis.height,
            settings.width,
            settings.height,
        );
        let path = match fit {
            crate::render::Fit::Reframe => crate::montage::segment_crop(
                segment,
                &settings,
                &self.project.constraints.framing,
                &|key| self.clip_analysis(key),
            ),
            _ => None,
        };
        let centre = path.map_or((0.5, 0.5), |p| p.centre_at(src_time));
        Some(CropWindow {
            centre: crate::reframe::clamp_centre(centre, window),
            size: window,
        })
    }

    /// Moves the cut at the start of segment `index` to the neighbouring beat of the
    /// repaired grid (which follows tempo changes and the user's repairs). Returns false
    /// when there is no such cut or beat.
    pub fn move_cut(&mut self, index: usize, step: CutStep) -> bool {
        let Some(segment) = self.segment(index).cloned() else {
            return false;
        };
        if index == 0 {
            return false;
        }
        let Some(to) = self.neighbour_beat(segment.start, step) else {
            return false;
        };
        self.change_project(|p| {
            p.constraints.cut_moves.push(CutMove {
                from: segment.start,
                to,
            })
        });
        true
    }

    /// The beat of the repaired grid before or after `t` (more than half a frame away).
    pub fn neighbour_beat(&mut self, t: Ticks, step: CutStep) -> Option<Ticks> {
        let half_frame = self.project.plan.fps.frame_ticks() / 2 + 1;
        let grid = self.grid()?;
        match step {
            CutStep::EarlierBeat => grid
                .beats
                .iter()
                .rev()
                .find(|b| b.time < t - half_frame)
                .map(|b| b.time),
            CutStep::LaterBeat => grid
                .beats
                .iter()
                .find(|b| b.time > t + half_frame)
                .map(|b| b.time),
        }
    }

    /// Finds the next-best shots for segment `index` (shown until the selection changes or
    /// a plan lands), from the plan index the session keeps (no rebuild).
    pub fn load_candidates(&mut self, index: usize) {
        self.candidates.clear();
        let (Some(timeline), Some(music), Some(plan_index)) = (
            self.timeline.as_ref(),
            self.music.as_ref().and_then(|m| m.analysis.clone()),
            self.plan_index.clone(),
        ) else {
            return;
        };
        let style = Style::resolve(&self.project.plan.style)
            .or_else(|_| Style::resolve(&timeline.style))
            .unwrap_or_default();
        // On the grid the plan was made on: the song with the user's grid repairs.
        let music = self.project.constraints.beat_grid.apply(&music);
        self.candidates = crate::plan::candidates_with_index(
            &plan_index,
            &music,
            &style,
            &self.project.plan,
            timeline,
            index,
            CANDIDATES,
        );
    }

    /// Puts candidate `choice` (of [`Session::candidates`]) in segment `index`'s slot: the
    /// old shot's range is never chosen again, the new one is locked there.
    pub fn replace_segment(&mut self, index: usize, choice: usize) {
        let (Some(segment), Some(chosen)) = (
            self.segment(index).cloned(),
            self.candidates.get(choice).cloned(),
        ) else {
            return;
        };
        self.change_project(|p| {
            p.constraints
                .excluded
                .push((segment.clip, segment.src_in, segment.src_out));
            p.constraints.locked.retain(|l| !same_slot(l, &segment));
            p.constraints.locked.push(Segment {
                locked: true,
                ..chosen
            });
        });
        self.candidates.clear();
    }

    /// Applies a beat grid repair (an undoable project change; the plan follows).
    pub fn grid_command(&mut self, command: GridCommand) {
        self.change_project(|p| command.apply(&mut p.constraints.beat_grid));
    }

    /// A tap of the tap-tempo button; from the fourth tap the grid follows the tapped tempo.
    pub fn tap_tempo(&mut self) -> Option<f64> {
        let bpm = self.tap_tempo.tap(self.started.elapsed().as_secs_f64())?;
        self.grid_command(GridCommand::SetBpm(bpm));
        Some(bpm)
    }

    /// Steps back one change.
    pub fn undo(&mut self) {
        if let Some(previous) = self.history.undo(self.project.clone()) {
            self.restore(previous);
        }
    }

    /// Steps forward one change.
    pub fn redo(&mut self) {
        if let Some(next) = self.history.redo(self.project.clone()) {
            self.restore(next);
        }
    }

    fn restore(&mut self, project: Project) {
        let before = std::mem::replace(&mut self.project, project);
        self.after_change(&before);
    }

    /// Everything that follows a project change: the bin follows the project's media,
    /// thresholds are re-applied, clips are rescanned when the plan needs another scan.
    fn after_change(&mut self, before: &Project) {
        self.dirty = true;
        self.needs_replan = true;
        self.sync_media();
        if before.clip_params != self.project.clip_params
            || before.music_params != self.project.music_params
        {
            self.apply_thresholds();
        }
        self.rescan_if_needed(before.analysis_params().mode);
    }

    // ----- export ------------------------------------------------------------------------

    /// Starts exporting the current plan on the export thread (a running export is
    /// cancelled first): the project's size and shape, the plan's frame grid; the written
    /// file is then checked against the plan and the repaired beat grid.
    pub fn start_export(&mut self, choice: ExportChoice) -> Result<(), String> {
        let (Some(timeline), Some(music)) = (self.timeline.clone(), self.music.clone()) else {
            return Err("nothing to export yet: add a song and clips".into());
        };
        let mut settings = self.sound_settings(timeline.fps, choice.clip_audio, choice.duck_db);
        settings.fit = self.project.export.effective_fit();
        let mut job = crate::montage::render_job(&timeline, &self.project.clips, &music.path)
            .map_err(|e| e.to_string())?;
        crate::montage::reframe_job(
            &mut job,
            &timeline,
            &settings,
            &self.project.constraints.framing,
            |key| self.clip_analysis(key),
        );
        // The beats the plan cut to, in timeline time (a shorter montage uses a stretch).
        let (offset, length) = (timeline.music_start(), timeline.duration);
        let beats = self
            .grid()
            .map(|g| {
                g.beats
                    .iter()
                    .map(|b| b.time - offset)
                    .filter(|t| (0..length).contains(t))
                    .collect()
            })
            .unwrap_or_default();
        let verify = crate::render::VerifyPlan::from_timeline(&timeline, beats, &music.path);
        let interchange = choice.interchange.then(|| {
            (
                timeline.clone(),
                self.project.clips.clone(),
                music.path.clone(),
            )
        });
        if let Some(previous) = self.export.take() {
            previous.cancel();
        }
        let request = ExportRequest {
            job,
            settings,
            output: choice.output,
            interchange,
            verify,
        };
        let job = ExportJob::start(request, self.waker.clone()).map_err(|e| e.to_string())?;
        self.export = Some(job);
        Ok(())
    }

    /// Stops the running export (its partial file is removed) or the check after it.
    pub fn cancel_export(&self) {
        if let Some(job) = &self.export {
            job.cancel();
        }
    }

    /// The last export started: its phase, progress, result and check.
    pub fn export_job(&self) -> Option<&ExportJob> {
        self.export.as_ref()
    }

    fn poll_export(&mut self) {
        let Some(job) = self.export.as_mut() else {
            return;
        };
        for event in job.poll() {
            let (text, is_problem) = match event {
                ExportEvent::Progress(_) => continue,
                ExportEvent::Done(Ok(path)) => (format!("exported {}", path.display()), false),
                ExportEvent::Done(Err(e)) => (format!("export failed: {e}"), true),
                ExportEvent::Verified(Ok(report)) => (
                    format!("export checked: {}", report.summary()),
                    !report.problems().is_empty(),
                ),
                ExportEvent::Verified(Err(e)) => (format!("export not checked: {e}"), true),
            };
            self.notify(text, is_problem);
        }
    }

    // ----- background work ---------------------------------------------------------------

    /// Takes in what background work reported, replans when due, takes a landed plan and
    /// autosaves; call once a frame (the app) or in a loop (tests, the CLI). Returns what
    /// the UI must act on.
    pub fn poll(&mut self) -> Vec<SessionEvent> {
        let mut events = Vec::new();
        self.handle_worker_events(&mut events);
        self.poll_export();
        if self.needs_replan {
            self.replan();
        }
        if self.receive_plan() {
            self.timeline_version += 1;
            events.push(SessionEvent::PlanLanded);
        }
        self.update_soundtrack();
        if self.soundtrack.poll() {
            if let Some(reason) = self.soundtrack.failure() {
                let text = format!("cannot mix the clip sound for the preview: {reason}");
                self.notify(text, true);
            }
            events.push(SessionEvent::SoundtrackReady);
        }
        self.autosave();
        events
    }

    /// Asks for a new preview mix when the plan or the clip sound changed: with clip sound
    /// on, the mix of the current plan; off, none (the preview plays the bare song).
    fn update_soundtrack(&mut self) {
        if self.batch {
            return;
        }
        let export = &self.project.export;
        let level = export.clip_audio.clamp(0.0, 1.0);
        let key = (
            self.timeline_version,
            level.to_bits(),
            export.duck_db.to_bits(),
        );
        if self.soundtrack_key == Some(key) {
            return;
        }
        self.soundtrack_key = Some(key);
        let (Some(timeline), Some(music)) = (&self.timeline, &self.music) else {
            self.soundtrack.clear();
            return;
        };
        if level <= 0.0 {
            self.soundtrack.clear();
            return;
        }
        let Ok(job) = crate::montage::render_job(timeline, &self.project.clips, &music.path) else {
            self.soundtrack.clear();
            return;
        };
        self.soundtrack.submit(
            job,
            self.sound_settings(timeline.fps, level, export.duck_db),
        );
    }

    /// Render settings for the sound of an export or the preview: the project's size class
    /// and shape (their fades), the given clip sound level and ducking depth.
    fn sound_settings(
        &self,
        fps: crate::time::FrameRate,
        clip_audio: f32,
        duck_db: f32,
    ) -> crate::render::RenderSettings {
        let mut settings = crate::render::RenderSettings::new(
            self.project.export.preset,
            self.project.export.aspect,
            fps,
        );
        settings.clip_audio_level = clip_audio.clamp(0.0, 1.0);
        settings.duck_db = duck_db.clamp(0.0, 60.0);
        settings
    }

    /// The preview's mix of the current plan (music, clip sound, ducking) once it is ready;
    /// `None` while clip sound is off or the mix is being made (play the bare song then).
    pub fn soundtrack(&self) -> Option<Arc<super::Soundtrack>> {
        self.soundtrack.current().cloned()
    }

    /// Sets the level of the clips' own sound and how far the music ducks under it (one
    /// undo step): the preview remixes, and the export dialog starts from these.
    pub fn set_clip_sound(&mut self, level: f32, duck_db: f32) {
        let level = if level.is_finite() {
            level.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let duck_db = if duck_db.is_finite() {
            duck_db.clamp(0.0, 60.0)
        } else {
            10.0
        };
        self.change_project(|p| {
            p.export.clip_audio = level;
            p.export.duck_db = duck_db;
        });
    }

    /// Adds a message for the user (problems are logged too).
    pub fn notify(&mut self, text: String, is_problem: bool) {
        // A batch session's caller (the CLI) reports what matters in its own words.
        if is_problem && !self.batch {
            tracing::warn!("{text}");
        }
        self.notices.push(Notice { text, is_problem });
        if self.notices.len() > MAX_NOTICES {
            self.notices.remove(0);
        }
    }

    /// The parameters clips are analysed with: the base threshold (the editor's is applied
    /// on top, without decoding) and the scan the plan needs.
    fn scan_params(&self) -> ClipParams {
        let mut params = self.project.analysis_params();
        params.threshold = ClipParams::default().threshold;
        params
    }

    /// Analyses every clip again when the scan the plan needs changed (action on the beat
    /// turned on asks for every frame's motion); results replace the old ones as they land.
    fn rescan_if_needed(&mut self, scan_before: DetectMode) {
        let params = self.scan_params();
        if params.mode == scan_before {
            return;
        }
        for clip in &self.clips {
            self.worker
                .analyze_clip(clip.path.clone(), params.clone(), self.cache.clone());
        }
    }

    /// Starts the analyses of a clip that has none (first look, then the full pass).
    fn start_clip_analysis(&mut self, path: PathBuf) {
        let params = self.scan_params();
        if !self.batch {
            self.worker
                .first_look_clip(path.clone(), params.clone(), self.cache.clone());
        }
        self.worker.analyze_clip(path, params, self.cache.clone());
    }

    /// Brings the bin in step with the project's media: clips added, removed (their
    /// analysis stopped, the entry kept for undo), relinked or restored, in project order;
    /// the song set, changed or cleared.
    fn sync_media(&mut self) {
        let mut bin: Vec<ClipEntry> = Vec::with_capacity(self.project.clips.len());
        let mut old: HashMap<ClipId, ClipEntry> = self.clips.drain(..).map(|c| (c.id, c)).collect();
        let mut changed = false;
        let mut to_probe = Vec::new();
        let mut to_analyse = Vec::new();
        for clip in &self.project.clips {
            if let Some(entry) = old.remove(&clip.id).filter(|e| e.path == clip.path) {
                bin.push(entry);
                continue;
            }
            changed = true;
            if let Some(entry) = self
                .removed
                .remove(&clip.id)
                .filter(|e| e.path == clip.path)
            {
                // Back from an undo: analysed already, or its analysis starts again.
                if entry.is_analysing() {
                    to_analyse.push(entry.path.clone());
                }
                bin.push(entry);
                continue;
            }
            let mut entry = ClipEntry::new(clip.id, clip.path.clone(), None);
            if !clip.path.exists() {
                entry.status = ClipStatus::Failed("file is missing".into());
            } else if let Some(i) = self.probed_ahead.iter().position(|p| *p == clip.path) {
                self.probed_ahead.swap_remove(i);
            } else {
                to_probe.push(clip.path.clone());
            }
            bin.push(entry);
        }
        for (id, entry) in old {
            changed = true;
            if entry.is_analysing() {
                self.worker.cancel_clip(&entry.path);
            }
            self.removed.insert(id, entry);
        }
        self.clips = bin;
        for path in to_probe {
            self.worker.probe(path, false);
        }
        for path in to_analyse {
            self.start_clip_analysis(path);
        }
        if changed {
            self.needs_reindex = true;
            self.needs_replan = true;
            if self
                .selected
                .is_some_and(|s| self.timeline.as_ref().is_none_or(|t| s >= t.segments.len()))
            {
                self.selected = None;
            }
        }
        let music_path = self.project.music.clone();
        if self.music.as_ref().map(|m| &m.path) != music_path.as_ref() {
            if let Some(old) = self.music.take() {
                self.worker.cancel_music(&old.path);
            }
            if let Some(path) = music_path.filter(|p| p.exists()) {
                self.worker.probe(path, true);
            }
        }
    }

    /// Re-applies the detection thresholds to the analyses already in memory (no decode).
    fn apply_thresholds(&mut self) {
        let clip_params = self.project.clip_params.clone();
        for clip in &mut self.clips {
            if let Some(base) = &clip.base_analysis {
                clip.analysis = Some(Arc::new(crate::analysis::video::redetect(
                    base,
                    &clip_params,
                )));
            }
        }
        if let Some(music) = &mut self.music
            && let Some(base) = &music.base_analysis
        {
            music.analysis = Some(Arc::new(crate::analysis::music::redetect(
                base,
                &self.project.music_params,
            )));
        }
        self.needs_reindex = true;
        self.needs_replan = true;
    }

    fn handle_worker_events(&mut self, out: &mut Vec<SessionEvent>) {
        for event in self.worker.drain() {
            match event {
                WorkerEvent::Probed {
                    path,
                    result,
                    as_music,
                } => self.probed(path, result, as_music),
                WorkerEvent::Waveform(path, waveform) => {
                    if let Some(music) = self.music.as_mut().filter(|m| m.path == path) {
                        music.waveform = Some(waveform);
                    }
                }
                WorkerEvent::MusicDone(path, result, cached) => {
                    self.music_done(path, result, cached, out);
                }
                WorkerEvent::ClipProgress(path, fraction) => {
                    if let Some(clip) = self.clips.iter_mut().find(|c| c.path == path) {
                        clip.status = ClipStatus::Analysing(fraction);
                    }
                }
                WorkerEvent::ClipDone(path, result, cached) => {
                    self.clip_done(path, result, cached);
                }
            }
        }
    }

    /// A probe's answer. Files the user added are taken in the order they were added (so the
    /// bin, the clip ids and the plan do not depend on which probe finished first): an
    /// answer waits until every file added before it has its own.
    fn probed(
        &mut self,
        path: PathBuf,
        result: Result<(MediaKind, Option<crate::media::MediaInfo>), String>,
        as_music: bool,
    ) {
        if !as_music && self.adding.iter().any(|(p, _)| *p == path) {
            if let Some(slot) = self
                .adding
                .iter_mut()
                .find(|(p, r)| *p == path && r.is_none())
            {
                slot.1 = Some(result);
            }
            while let Some((_, Some(_))) = self.adding.front() {
                if let Some((path, Some(result))) = self.adding.pop_front() {
                    self.take_probe(path, result, false);
                }
            }
            return;
        }
        self.take_probe(path, result, as_music);
    }

    fn take_probe(
        &mut self,
        path: PathBuf,
        result: Result<(MediaKind, Option<crate::media::MediaInfo>), String>,
        as_music: bool,
    ) {
        match result {
            // A file the project lists as a clip turned out to hold no picture (or
            // to be a project): the clip fails, the song stays.
            Ok((kind, _))
                if kind != MediaKind::Clip
                    && !as_music
                    && self.project.clip_at_path(&path).is_some() =>
            {
                let reason = format!("no video stream to use as a clip: {}", path.display());
                if let Some(clip) = self.clips.iter_mut().find(|c| c.path == path) {
                    clip.status = ClipStatus::Failed(reason.clone());
                }
                self.notify(reason, true);
            }
            Ok((MediaKind::Project, _)) => self.open_project(&path),
            Ok((MediaKind::Music, info)) => self.accept_music(path, info),
            Ok((MediaKind::Clip, info)) if as_music => {
                // A video chosen as the song: use its sound.
                if info.as_ref().is_some_and(|i| i.audio().is_some()) {
                    self.accept_music(path, info);
                } else {
                    self.notify(
                        format!("no audio stream to use as music: {}", path.display()),
                        true,
                    );
                }
            }
            Ok((MediaKind::Clip, info)) => self.accept_clip(path, info),
            Err(reason) => {
                if let Some(clip) = self.clips.iter_mut().find(|c| c.path == path) {
                    clip.status = ClipStatus::Failed(reason.clone());
                }
                self.notify(format!("cannot use file: {reason}"), true);
            }
        }
    }

    fn music_done(
        &mut self,
        path: PathBuf,
        result: Result<Arc<MusicAnalysis>, WorkFailure>,
        cached: bool,
        out: &mut Vec<SessionEvent>,
    ) {
        let Some(music) = self.music.as_mut().filter(|m| m.path == path) else {
            return;
        };
        match result {
            Ok(analysis) => {
                let warnings = analysis.warnings.clone();
                music.waveform = Some(analysis.waveform.clone());
                // Analysed with the project's detection settings already.
                music.base_analysis = Some(analysis.clone());
                music.analysis = Some(analysis);
                music.status = if cached {
                    "ready (cached)".into()
                } else {
                    "ready".into()
                };
                music.failed = false;
                self.needs_replan = true;
                out.push(SessionEvent::MusicReady(path.clone()));
                if !warnings.is_empty() {
                    self.notify(
                        format!(
                            "{} problem(s) reading the song ({}): {}",
                            warnings.len(),
                            warnings[0],
                            path.display()
                        ),
                        true,
                    );
                }
            }
            Err(WorkFailure::Cancelled) => {}
            Err(WorkFailure::Failed(reason)) => {
                music.status = reason.clone();
                music.failed = true;
                self.notify(reason, true);
            }
        }
    }

    fn clip_done(
        &mut self,
        path: PathBuf,
        result: Result<Arc<ClipAnalysis>, WorkFailure>,
        cached: bool,
    ) {
        let clip_params = self.project.clip_params.clone();
        let Some(clip) = self.clips.iter_mut().find(|c| c.path == path) else {
            return;
        };
        match result {
            Ok(analysis) if analysis.mode.is_first_look() => {
                // A first look only stands in until the full analysis lands.
                let superseded = clip
                    .base_analysis
                    .as_ref()
                    .is_some_and(|a| !a.mode.is_first_look());
                if superseded || matches!(clip.status, ClipStatus::Failed(_)) {
                    return;
                }
                clip.analysis = Some(Arc::new(crate::analysis::video::redetect(
                    &analysis,
                    &clip_params,
                )));
                clip.base_analysis = Some(analysis);
            }
            Ok(analysis) => {
                let warnings = analysis.warnings.len();
                clip.analysis = Some(Arc::new(crate::analysis::video::redetect(
                    &analysis,
                    &clip_params,
                )));
                clip.base_analysis = Some(analysis);
                clip.status = ClipStatus::Ready { cached };
                if warnings > 0 {
                    let text = format!(
                        "{warnings} problem(s) reading the clip ({}): {}",
                        clip.warnings()[0],
                        path.display()
                    );
                    self.notify(text, true);
                }
            }
            // Cancelled on purpose (removed, rescanned): a later run reports.
            Err(WorkFailure::Cancelled) => return,
            Err(WorkFailure::Failed(reason)) => {
                clip.status = ClipStatus::Failed(reason.clone());
                self.notify(reason, true);
                return;
            }
        }
        self.needs_reindex = true;
        self.needs_replan = true;
    }

    fn accept_music(&mut self, path: PathBuf, info: Option<crate::media::MediaInfo>) {
        if self.music.as_ref().is_some_and(|m| m.path == path) {
            return;
        }
        if let Some(old) = self.music.take() {
            self.worker.cancel_music(&old.path);
        }
        let duration = info.as_ref().map_or(0, |i| i.duration);
        self.music = Some(MusicEntry::new(path.clone(), duration));
        if self.project.music.as_ref() != Some(&path) {
            self.change_project(|p| p.music = Some(path.clone()));
        }
        self.worker
            .analyze_music(path, self.project.music_params.clone(), self.cache.clone());
    }

    fn accept_clip(&mut self, path: PathBuf, info: Option<crate::media::MediaInfo>) {
        if self.project.clip_at_path(&path).is_none() {
            self.probed_ahead.push(path.clone());
            self.change_project(|p| {
                p.add_clip(path.clone());
            });
            self.probed_ahead.retain(|p| *p != path);
        }
        let Some(clip) = self.clips.iter_mut().find(|c| c.path == path) else {
            return;
        };
        clip.info = info;
        if clip.analysis.is_none() && clip.status == ClipStatus::Pending {
            self.start_clip_analysis(path);
        }
    }

    /// Rebuilds the plan from the current analyses and project on the planning thread.
    fn replan(&mut self) {
        self.needs_replan = false;
        let Some(music) = self.music.as_ref().and_then(|m| m.analysis.clone()) else {
            self.plan_status = if self.music.is_some() {
                "Analysing the music…".into()
            } else {
                "Add a song: drop an audio file or use File > Set music…".into()
            };
            return;
        };
        if self.needs_reindex || self.plan_index.is_none() {
            let by_id: HashMap<ClipId, &ClipEntry> = self.clips.iter().map(|c| (c.id, c)).collect();
            let plan_clips = PlanClips::new(&self.project, |c| {
                by_id.get(&c.id).and_then(|e| e.analysis.clone())
            });
            if plan_clips.is_empty() {
                self.timeline = None;
                self.plan_index = None;
                self.plan_status = if self.clips.is_empty() {
                    "Add video clips: drop them here or use File > Add media…".into()
                } else {
                    "Analysing clips…".into()
                };
                return;
            }
            self.plan_index = Some(Arc::new(PlanIndex::new(&plan_clips.inputs())));
            self.needs_reindex = false;
        }
        let style = match Style::resolve(&self.project.plan.style) {
            Ok(s) => s,
            Err(e) => {
                self.plan_status = e.to_string();
                return;
            }
        };
        let Some(index) = self.plan_index.clone() else {
            return;
        };
        self.planner.submit(PlanRequest {
            generation: 0,
            index,
            music,
            style,
            settings: self.project.plan.clone(),
            constraints: self.project.constraints.clone(),
        });
    }

    /// Takes a plan that landed from the planning thread; true when one did.
    fn receive_plan(&mut self) -> bool {
        let Some(outcome) = self.planner.poll() else {
            return false;
        };
        self.plans_made += 1;
        match outcome.result {
            Ok(timeline) => {
                let analysing = self.clips.iter().filter(|c| c.is_analysing()).count();
                self.plan_status = if analysing > 0 {
                    format!(
                        "{} segments; refining as {analysing} more clip(s) finish analysis",
                        timeline.segments.len()
                    )
                } else {
                    format!(
                        "{} segments, {:.1} s",
                        timeline.segments.len(),
                        crate::time::secs_from_ticks(timeline.duration)
                    )
                };
                if self.selected.is_some_and(|s| s >= timeline.segments.len()) {
                    self.selected = None;
                }
                self.timeline = Some(timeline);
                self.candidates.clear();
            }
            Err(e) => {
                self.plan_status = e;
                self.timeline = None;
            }
        }
        true
    }

    fn autosave(&mut self) {
        if !self.batch && self.dirty && self.last_autosave.elapsed() >= AUTOSAVE_EVERY {
            self.last_autosave = Instant::now();
            let path = recovery_path(&self.data_dir, None);
            if let Err(e) = self.project.save(&path) {
                self.notify(format!("autosave failed: {e}"), true);
            }
        }
    }

    fn segment(&self, index: usize) -> Option<&Segment> {
        self.timeline.as_ref()?.segments.get(index)
    }

    /// Steps [`Session::poll`] until `done` holds or `timeout` passes (tests and the CLI,
    /// which have no frame loop); true when it held.
    pub fn poll_until(&mut self, timeout: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            self.poll();
            if done(self) {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// True when two segments fill the same slot of the timeline.
fn same_slot(a: &Segment, b: &Segment) -> bool {
    a.start == b.start && a.end == b.end
}

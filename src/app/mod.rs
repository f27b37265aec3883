//! The editor: an eframe app with a media bin, music lane, timeline, preview, inspector,
//! export dialog and status bar. Everything heavy runs on background threads; the UI
//! thread only drains results, replans (cheap) and draws.

mod export;
pub mod frame_server;
mod lanes;
mod panels;
mod planner;
mod playback;
mod preview;
pub mod preview_gpu;
mod proxy;
mod recent;
mod state;
mod worker;
pub mod yuv;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use state::{ClipEntry, ClipStatus, MusicEntry};
pub use worker::{MediaKind, Worker, WorkerEvent};

use crate::cache::Cache;
use crate::plan::{ClipInput, PlanIndex, Style, Timeline};
use crate::project::{History, Project, recovery_path, user_data_dir};
use crate::time::Ticks;

/// How often unsaved changes are written to the recovery file.
const AUTOSAVE_EVERY: Duration = Duration::from_secs(20);

/// A message shown to the user in the status area.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The text, naming the file and the reason where there is one.
    pub text: String,
    /// Warning or error (true) versus information.
    pub is_problem: bool,
}

/// The editor application state.
pub struct BeatcutApp {
    /// The user's project (what is saved).
    pub project: Project,
    /// Where the project was last saved or opened from.
    pub project_path: Option<PathBuf>,
    history: History,
    /// Clips in the bin.
    pub clips: Vec<ClipEntry>,
    /// The song.
    pub music: Option<MusicEntry>,
    /// The current plan.
    pub timeline: Option<Timeline>,
    /// Why there is no plan, when there is none.
    pub plan_status: String,
    plan_index: Option<Arc<PlanIndex>>,
    planner: planner::Planner,
    plans_made: u64,
    needs_replan: bool,
    needs_reindex: bool,
    /// Selected timeline segment.
    pub selected: Option<usize>,
    /// Replacement candidates for the selected segment.
    candidates: Vec<crate::plan::Segment>,
    /// Playhead position on the timeline.
    pub playhead: Ticks,
    playing: Option<(Instant, Ticks, f64)>,
    shuttle_speed: f64,
    worker: Worker,
    cache: Arc<Cache>,
    preview: preview::Preview,
    playback: playback::Playback,
    export: export::ExportPanel,
    /// Messages for the user.
    pub notices: Vec<Notice>,
    show_help: bool,
    show_performance: bool,
    recovery_offer: Option<PathBuf>,
    /// Where the recent-projects list and the unsaved session's autosave live.
    data_dir: PathBuf,
    frame_times_ms: VecDeque<f32>,
    dirty: bool,
    last_autosave: Instant,
    dialogs: crossbeam_channel::Receiver<DialogResult>,
    dialog_tx: crossbeam_channel::Sender<DialogResult>,
    /// Taps of the tap-tempo button.
    tap_tempo: crate::editor::TapTempo,
    /// When the editor started: the clock of the tap-tempo taps.
    started: Instant,
    /// The repaired beat grid last drawn, with the repairs and analysis it was made from.
    grid_view: Option<GridView>,
    /// Where the music lane's context menu was opened.
    lane_menu_at: Option<Ticks>,
    /// The beat being dragged in the music lane (its time when the drag began).
    beat_drag: Option<Ticks>,
}

/// The song's beats after the project's grid repairs, kept while neither changes.
#[derive(Debug, Clone)]
pub struct GridView {
    edits: crate::analysis::music::BeatGridEdits,
    analysis: Arc<crate::analysis::music::MusicAnalysis>,
    /// The repaired beats.
    pub beats: Arc<Vec<crate::analysis::music::Beat>>,
    /// Their tempo, BPM.
    pub tempo_bpm: f64,
}

/// A file chosen in a native dialog (run off the UI thread).
#[derive(Debug)]
enum DialogResult {
    AddMedia(Vec<PathBuf>),
    SetMusic(PathBuf),
    OpenProject(PathBuf),
    SaveProject(PathBuf),
    ExportTo(PathBuf),
    Relink(PathBuf, PathBuf),
}

impl BeatcutApp {
    /// A new editor. `waker` is called from background threads when results arrive
    /// (the GUI passes `ctx.request_repaint`).
    pub fn new(cache: Arc<Cache>, waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let (dialog_tx, dialogs) = crossbeam_channel::bounded(8);
        let data_dir = user_data_dir();
        let recovery = recovery_path(&data_dir, None);
        Self {
            project: Project::default(),
            project_path: None,
            history: History::default(),
            clips: Vec::new(),
            music: None,
            timeline: None,
            plan_status:
                "Drop video clips and a song here, or use File > Add media… and File > Set music…"
                    .into(),
            plan_index: None,
            planner: planner::Planner::new(waker.clone()),
            plans_made: 0,
            needs_replan: false,
            needs_reindex: false,
            selected: None,
            candidates: Vec::new(),
            playhead: 0,
            playing: None,
            shuttle_speed: 1.0,
            worker: Worker::new(waker.clone()),
            preview: preview::Preview::new(waker.clone()),
            playback: playback::Playback::new(),
            export: export::ExportPanel::new(waker),
            cache,
            notices: Vec::new(),
            show_help: false,
            show_performance: false,
            recovery_offer: recovery.exists().then_some(recovery),
            data_dir,
            frame_times_ms: VecDeque::new(),
            dirty: false,
            last_autosave: Instant::now(),
            dialogs,
            dialog_tx,
            tap_tempo: crate::editor::TapTempo::default(),
            started: Instant::now(),
            grid_view: None,
            lane_menu_at: None,
            beat_drag: None,
        }
    }

    /// Applies a beat grid repair (an undoable project change; the plan follows).
    pub fn grid_command(&mut self, command: crate::editor::GridCommand) {
        self.change_project(|p| command.apply(&mut p.constraints.beat_grid));
    }

    /// A tap of the tap-tempo button; from the fourth tap the grid follows the tapped tempo.
    pub fn tap_tempo(&mut self) -> Option<f64> {
        let bpm = self.tap_tempo.tap(self.started.elapsed().as_secs_f64())?;
        self.grid_command(crate::editor::GridCommand::SetBpm(bpm));
        Some(bpm)
    }

    /// Taps counted so far by the tap-tempo button.
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

    /// Adds files or folders: each is probed in the background and becomes a clip, the
    /// music, or opens as a project.
    pub fn add_paths(&mut self, paths: &[PathBuf]) {
        for path in worker::expand_paths(paths) {
            if self.clips.iter().any(|c| c.path == path) {
                continue;
            }
            self.worker.probe(path, false);
        }
    }

    /// Sets the song (probed in the background first).
    pub fn set_music_path(&mut self, path: PathBuf) {
        self.worker.probe(path, true);
    }

    /// Opens a project file, replacing the current session.
    pub fn open_project(&mut self, path: &Path) {
        match Project::load(path) {
            Ok(project) => self.load_project(project, Some(path.to_path_buf())),
            Err(e) => self.notify(e.to_string(), true),
        }
    }

    fn load_project(&mut self, project: Project, path: Option<PathBuf>) {
        self.clips.clear();
        self.music = None;
        self.timeline = None;
        self.selected = None;
        self.plan_index = None;
        self.history = History::default();
        let missing = project.missing_media();
        for m in &missing {
            self.notify(
                format!(
                    "media file is missing (use Relink… in the media bin): {}",
                    m.display()
                ),
                true,
            );
        }
        let clips = project.clips.clone();
        let music = project.music.clone();
        self.project = project;
        if let Some(p) = &path {
            recent::remember(&self.data_dir, p);
        }
        self.project_path = path;
        for clip in clips {
            if clip.exists() {
                self.worker.probe(clip, false);
            } else {
                let mut entry = ClipEntry::new(clip, None);
                entry.status = ClipStatus::Failed("file is missing".into());
                self.clips.push(entry);
            }
        }
        if let Some(music) = music.filter(|m| m.exists()) {
            self.worker.probe(music, true);
        }
        self.dirty = false;
    }

    /// Points a missing clip at its new location, keeping its place in the project (so
    /// locks and the plan still refer to it).
    pub fn relink(&mut self, old: &Path, new: PathBuf) {
        self.clips.retain(|c| c.path != old);
        self.change_project(|p| {
            for clip in p.clips.iter_mut().filter(|c| c.as_path() == old) {
                *clip = new.clone();
            }
            if p.music.as_deref() == Some(old) {
                p.music = Some(new.clone());
            }
        });
        self.worker.probe(new, false);
    }

    /// Asks for the new location of a missing clip in a native dialog.
    fn relink_dialog(&self, old: PathBuf) {
        let tx = self.dialog_tx.clone();
        std::thread::spawn(move || {
            if let Some(new) = rfd::FileDialog::new().set_title("Relink media").pick_file() {
                let _ = tx.send(DialogResult::Relink(old, new));
            }
        });
    }

    /// Adds a clip whose analysis is already known (from the cache or a benchmark) without
    /// starting any background work.
    pub fn add_analysed_clip(
        &mut self,
        path: PathBuf,
        analysis: Arc<crate::analysis::video::ClipAnalysis>,
    ) {
        let mut entry = ClipEntry::new(path.clone(), None);
        entry.base_analysis = Some(analysis.clone());
        entry.analysis = Some(analysis);
        entry.status = ClipStatus::Ready { cached: true };
        self.clips.push(entry);
        self.project.clips.push(path);
        self.needs_reindex = true;
        self.needs_replan = true;
    }

    /// Sets a song whose analysis is already known, without background work.
    pub fn set_analysed_music(
        &mut self,
        path: PathBuf,
        analysis: Arc<crate::analysis::music::MusicAnalysis>,
    ) {
        let mut entry = MusicEntry::new(path.clone(), analysis.duration);
        entry.waveform = Some(analysis.waveform.clone());
        entry.base_analysis = Some(analysis.clone());
        entry.analysis = Some(analysis);
        entry.status = "ready".into();
        self.music = Some(entry);
        self.project.music = Some(path);
        self.needs_replan = true;
    }

    /// Saves the project to `path` (atomically).
    pub fn save_project(&mut self, path: &Path) {
        match self.project.save(path) {
            Ok(()) => {
                recent::remember(&self.data_dir, path);
                self.project_path = Some(path.to_path_buf());
                self.dirty = false;
                let _ = std::fs::remove_file(recovery_path(&self.data_dir, None));
                self.notify(format!("saved {}", path.display()), false);
            }
            Err(e) => self.notify(e.to_string(), true),
        }
    }

    fn notify(&mut self, text: String, is_problem: bool) {
        if is_problem {
            tracing::warn!("{text}");
        }
        self.notices.push(Notice { text, is_problem });
        if self.notices.len() > 50 {
            self.notices.remove(0);
        }
    }

    /// Applies a change to the project, recording it for undo and replanning.
    pub fn change_project(&mut self, change: impl FnOnce(&mut Project)) {
        let before = self.project.clone();
        change(&mut self.project);
        if self.project != before {
            let scan_before = before.analysis_params().mode;
            self.history.record(before);
            self.dirty = true;
            self.needs_replan = true;
            self.rescan_if_needed(scan_before);
        }
    }

    /// Analyses every clip again when the scan the plan needs changed (action on the beat
    /// turned on asks for every frame's motion); results replace the old ones as they land.
    fn rescan_if_needed(&mut self, scan_before: crate::analysis::video::DetectMode) {
        let params = self.scan_params();
        if params.mode == scan_before {
            return;
        }
        for clip in &self.clips {
            self.worker
                .analyze_clip(clip.path.clone(), params.clone(), self.cache.clone());
        }
    }

    /// The parameters clips are analysed with: the base threshold (the editor's is applied on
    /// top, without decoding) and the scan the plan needs.
    fn scan_params(&self) -> crate::analysis::video::ClipParams {
        let mut params = self.project.analysis_params();
        params.threshold = crate::analysis::video::ClipParams::default().threshold;
        params
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
        let thresholds_changed = project.clip_params != self.project.clip_params
            || project.music_params != self.project.music_params;
        let scan_before = self.project.analysis_params().mode;
        self.project = project;
        self.rescan_if_needed(scan_before);
        if thresholds_changed {
            self.apply_thresholds();
        }
        self.dirty = true;
        self.needs_replan = true;
    }

    /// The same editor keeping its recent-projects list and unsaved-session autosave in `dir`
    /// instead of the user's data directory (tests and benchmarks never touch the user's).
    pub fn with_data_dir(mut self, dir: PathBuf) -> Self {
        let recovery = recovery_path(&dir, None);
        self.recovery_offer = recovery.exists().then_some(recovery);
        self.data_dir = dir;
        self
    }

    /// True when background analysis or planning is still running.
    pub fn is_busy(&self) -> bool {
        self.worker.is_busy() || self.plan_pending()
    }

    /// True when the preview shows the frame (or the error) for the playhead's last request.
    pub fn preview_settled(&self) -> bool {
        self.preview.is_settled()
    }

    /// True while an export runs on its thread (the dialog shows its progress).
    pub fn is_exporting(&self) -> bool {
        self.export.is_running()
    }

    /// True while the export thread checks the file it wrote.
    pub fn is_verifying_export(&self) -> bool {
        self.export.is_verifying()
    }

    /// The last export's sync report (shown in the export dialog), or why there is none.
    pub fn export_verification(&self) -> Option<&Result<crate::render::SyncReport, String>> {
        self.export.verification()
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

    fn handle_events(&mut self) {
        for event in self.worker.drain() {
            match event {
                WorkerEvent::Probed {
                    path,
                    result,
                    as_music,
                } => match result {
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
                    Err(reason) => self.notify(format!("cannot use file: {reason}"), true),
                },
                WorkerEvent::Waveform(path, waveform) => {
                    if let Some(music) = self.music.as_mut().filter(|m| m.path == path) {
                        music.waveform = Some(waveform);
                    }
                }
                WorkerEvent::MusicDone(path, result, cached) => {
                    let Some(music) = self.music.as_mut().filter(|m| m.path == path) else {
                        continue;
                    };
                    match result {
                        Ok(analysis) => {
                            music.waveform = Some(analysis.waveform.clone());
                            music.base_analysis = Some(analysis.clone());
                            music.analysis = Some(analysis);
                            music.status = if cached {
                                "ready (cached)".into()
                            } else {
                                "ready".into()
                            };
                            music.failed = false;
                            self.playback.load(&path);
                            self.needs_replan = true;
                        }
                        Err(reason) => {
                            music.status = reason.clone();
                            music.failed = true;
                            self.notify(reason, true);
                        }
                    }
                }
                WorkerEvent::ClipProgress(path, fraction) => {
                    if let Some(clip) = self.clips.iter_mut().find(|c| c.path == path) {
                        clip.status = ClipStatus::Analysing(fraction);
                    }
                }
                WorkerEvent::ClipDone(path, result, cached) => {
                    let clip_params = self.project.clip_params.clone();
                    let Some(clip) = self.clips.iter_mut().find(|c| c.path == path) else {
                        continue;
                    };
                    match result {
                        Ok(analysis) if analysis.mode.is_first_look() => {
                            // A first look only stands in until the full analysis lands.
                            let superseded = clip
                                .base_analysis
                                .as_ref()
                                .is_some_and(|a| !a.mode.is_first_look());
                            if superseded || matches!(clip.status, ClipStatus::Failed(_)) {
                                continue;
                            }
                            clip.analysis = Some(Arc::new(crate::analysis::video::redetect(
                                &analysis,
                                &clip_params,
                            )));
                            clip.base_analysis = Some(analysis);
                            self.needs_reindex = true;
                            self.needs_replan = true;
                        }
                        Ok(analysis) => {
                            clip.analysis = Some(Arc::new(crate::analysis::video::redetect(
                                &analysis,
                                &clip_params,
                            )));
                            clip.base_analysis = Some(analysis);
                            clip.status = ClipStatus::Ready { cached };
                            self.needs_reindex = true;
                            self.needs_replan = true;
                        }
                        Err(reason) => {
                            clip.status = ClipStatus::Failed(reason.clone());
                            self.notify(reason, true);
                        }
                    }
                }
            }
        }
    }

    fn accept_music(&mut self, path: PathBuf, info: Option<crate::media::MediaInfo>) {
        if self.music.as_ref().is_some_and(|m| m.path == path) {
            return;
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
        if self.clips.iter().any(|c| c.path == path) {
            return;
        }
        self.clips.push(ClipEntry::new(path.clone(), info));
        if !self.project.clips.contains(&path) {
            self.change_project(|p| p.clips.push(path.clone()));
        }
        // Analyse with the base parameters; the editor's threshold is applied on top.
        let params = self.scan_params();
        self.worker
            .first_look_clip(path.clone(), params.clone(), self.cache.clone());
        self.worker.analyze_clip(path, params, self.cache.clone());
    }

    /// Rebuilds the plan from the current analyses and project (pure and fast).
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
        // Project order gives the clip ids; the bin may hold them in another order.
        let by_path: std::collections::HashMap<&std::path::Path, &ClipEntry> =
            self.clips.iter().map(|c| (c.path.as_path(), c)).collect();
        let ready: Vec<(usize, &str, Arc<crate::analysis::video::ClipAnalysis>)> = self
            .project
            .clips
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let clip = by_path.get(p.as_path())?;
                Some((i, clip.name.as_str(), clip.analysis.clone()?))
            })
            .collect();
        if ready.is_empty() {
            self.timeline = None;
            self.plan_status = if self.clips.is_empty() {
                "Add video clips: drop them here or use File > Add media…".into()
            } else {
                "Analysing clips…".into()
            };
            return;
        }
        if self.needs_reindex || self.plan_index.is_none() {
            let inputs: Vec<ClipInput> = ready
                .iter()
                .map(|(i, name, a)| ClipInput {
                    id: *i,
                    name,
                    analysis: a,
                })
                .collect();
            let index = Arc::new(PlanIndex::new(&inputs));
            drop(inputs);
            drop(ready);
            self.plan_index = Some(index);
            self.needs_reindex = false;
        } else {
            drop(ready);
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
        self.planner.submit(planner::PlanRequest {
            generation: 0,
            index,
            music,
            style,
            settings: self.project.plan.clone(),
            constraints: self.project.constraints.clone(),
        });
    }

    /// Takes a plan that landed from the planning thread.
    fn receive_plan(&mut self) {
        let Some(outcome) = self.planner.poll() else {
            return;
        };
        self.plans_made += 1;
        match outcome.result {
            Ok(timeline) => {
                let analysing = self
                    .clips
                    .iter()
                    .filter(|c| matches!(c.status, ClipStatus::Pending | ClipStatus::Analysing(_)))
                    .count();
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
    }

    /// How many plans have landed since the editor started (each replan counts).
    pub fn plans_made(&self) -> u64 {
        self.plans_made
    }

    /// True while a plan is being computed or is due.
    pub fn plan_pending(&self) -> bool {
        self.needs_replan || self.planner.is_pending()
    }

    fn autosave(&mut self) {
        if self.dirty && self.last_autosave.elapsed() >= AUTOSAVE_EVERY {
            self.last_autosave = Instant::now();
            let path = recovery_path(&self.data_dir, None);
            if let Err(e) = self.project.save(&path) {
                self.notify(format!("autosave failed: {e}"), true);
            }
        }
    }

    /// Draws the whole editor into `ui` and handles input; the eframe `App::ui` calls this,
    /// and the headless tests drive it directly.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let started = Instant::now();
        self.handle_events();
        self.handle_dialogs();
        self.handle_drops(ui.ctx());
        self.export.poll(&mut self.notices);
        if self.needs_replan {
            self.replan();
        }
        self.receive_plan();
        self.advance_playback(ui.ctx());
        self.handle_shortcuts(ui.ctx());
        panels::menu_bar_ui(self, ui);
        panels::status_bar_ui(self, ui);
        lanes::timeline_area_ui(self, ui);
        panels::media_bin_ui(self, ui);
        panels::inspector_ui(self, ui);
        preview::preview_panel_ui(self, ui);
        self.export.window_ui(
            ui.ctx(),
            &self.project,
            self.timeline.as_ref(),
            &self.clips,
            self.music.as_ref(),
            &self.dialog_tx,
        );
        let (preset, aspect) = self.export.choice();
        if self.export.open
            && (preset, aspect) != (self.project.export.preset, self.project.export.aspect)
        {
            self.change_project(|p| {
                p.export.preset = preset;
                p.export.aspect = aspect;
            });
        } else if !self.export.open {
            self.export
                .adopt(self.project.export.preset, self.project.export.aspect);
        }
        if let Some(fps) = self.export.take_fps_request() {
            self.change_project(|p| p.plan.fps = crate::time::FrameRate::whole(fps));
        }
        panels::help_window_ui(self, ui.ctx());
        panels::performance_window_ui(self, ui.ctx());
        panels::recovery_window_ui(self, ui.ctx());
        self.autosave();
        if self.playing.is_some() || self.is_busy() || self.export.is_running() {
            ui.ctx().request_repaint_after(Duration::from_millis(16));
        }
        self.frame_times_ms
            .push_back(started.elapsed().as_secs_f32() * 1000.0);
        if self.frame_times_ms.len() > 240 {
            self.frame_times_ms.pop_front();
        }
    }

    fn handle_drops(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            self.add_paths(&dropped);
        }
    }

    fn handle_dialogs(&mut self) {
        while let Ok(result) = self.dialogs.try_recv() {
            match result {
                DialogResult::AddMedia(paths) => self.add_paths(&paths),
                DialogResult::SetMusic(path) => self.set_music_path(path),
                DialogResult::OpenProject(path) => self.open_project(&path),
                DialogResult::SaveProject(path) => self.save_project(&path),
                DialogResult::ExportTo(path) => self.export.set_output(path),
                DialogResult::Relink(old, new) => self.relink(&old, new),
            }
        }
    }

    /// Shows a native file dialog on its own thread (never blocking the UI).
    fn open_dialog(&self, kind: &'static str) {
        let tx = self.dialog_tx.clone();
        std::thread::spawn(move || {
            let result = match kind {
                "add" => rfd::FileDialog::new()
                    .set_title("Add media")
                    .add_filter(
                        "Video",
                        &["mp4", "mov", "mkv", "webm", "avi", "m4v", "ts", "mts"],
                    )
                    .pick_files()
                    .map(DialogResult::AddMedia),
                "music" => rfd::FileDialog::new()
                    .set_title("Set music")
                    .add_filter(
                        "Audio",
                        &["mp3", "wav", "flac", "ogg", "m4a", "aac", "opus"],
                    )
                    .pick_file()
                    .map(DialogResult::SetMusic),
                "open" => rfd::FileDialog::new()
                    .add_filter("Beatcut project", &["beatcut"])
                    .pick_file()
                    .map(DialogResult::OpenProject),
                "save" => rfd::FileDialog::new()
                    .add_filter("Beatcut project", &["beatcut"])
                    .set_file_name("montage.beatcut")
                    .save_file()
                    .map(DialogResult::SaveProject),
                _ => rfd::FileDialog::new()
                    .add_filter("MP4 video", &["mp4"])
                    .set_file_name("montage.mp4")
                    .save_file()
                    .map(DialogResult::ExportTo),
            };
            if let Some(result) = result {
                let _ = tx.send(result);
            }
        });
    }

    fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        use egui::{Key, KeyboardShortcut, Modifiers};
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
        let save = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
        let open = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
        let export = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);
        if ctx.input_mut(|i| i.consume_shortcut(&redo)) {
            self.redo();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&undo)) {
            self.undo();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&save)) {
            self.save_or_ask();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&open)) {
            self.open_dialog("open");
        }
        if ctx.input_mut(|i| i.consume_shortcut(&export)) {
            self.export.open = true;
        }
        let frame = self.project.plan.fps.frame_ticks();
        let end = self.timeline.as_ref().map_or(0, |t| t.duration);
        ctx.input(|i| {
            if i.key_pressed(Key::Space) {
                self.toggle_play(1.0);
            }
            if i.key_pressed(Key::K) {
                self.stop();
            }
            if i.key_pressed(Key::L) {
                let speed = if self.playing.is_some() && self.shuttle_speed > 0.0 {
                    (self.shuttle_speed * 2.0).min(8.0)
                } else {
                    1.0
                };
                self.start_play(speed);
            }
            if i.key_pressed(Key::J) {
                let speed = if self.playing.is_some() && self.shuttle_speed < 0.0 {
                    (self.shuttle_speed * 2.0).max(-8.0)
                } else {
                    -1.0
                };
                self.start_play(speed);
            }
            if i.key_pressed(Key::ArrowRight) {
                self.seek((self.playhead + frame).min(end));
            }
            if i.key_pressed(Key::ArrowLeft) {
                self.seek((self.playhead - frame).max(0));
            }
            if i.key_pressed(Key::Home) {
                self.seek(0);
            }
            if i.key_pressed(Key::End) {
                self.seek((end - frame).max(0));
            }
        });
    }

    fn save_or_ask(&mut self) {
        match self.project_path.clone() {
            Some(path) => self.save_project(&path),
            None => self.open_dialog("save"),
        }
    }

    /// Moves the playhead (and the preview) to `t`.
    pub fn seek(&mut self, t: Ticks) {
        self.playhead = t.max(0);
        if let Some((_, _, speed)) = self.playing {
            self.playing = Some((Instant::now(), self.playhead, speed));
            self.playback.play_from(self.playhead, speed);
        }
    }

    fn toggle_play(&mut self, speed: f64) {
        if self.playing.is_some() {
            self.stop();
        } else {
            self.start_play(speed);
        }
    }

    fn start_play(&mut self, speed: f64) {
        self.shuttle_speed = speed;
        self.playing = Some((Instant::now(), self.playhead, speed));
        self.playback.play_from(self.playhead, speed);
    }

    fn stop(&mut self) {
        self.playing = None;
        self.playback.stop();
    }

    /// Playback follows the audio clock when there is sound, the system clock otherwise.
    fn advance_playback(&mut self, _ctx: &egui::Context) {
        let Some((started, from, speed)) = self.playing else {
            return;
        };
        let end = self.timeline.as_ref().map_or(0, |t| t.duration);
        let elapsed = self
            .playback
            .position()
            .map(|p| p - from)
            .unwrap_or_else(|| {
                crate::time::ticks_from_secs(started.elapsed().as_secs_f64() * speed)
            });
        let t = from + elapsed;
        if let Some(restart) = self.loop_restart(t, speed) {
            self.seek(restart);
            return;
        }
        if t >= end || t < 0 {
            self.playhead = t.clamp(0, end);
            self.stop();
        } else {
            self.playhead = t;
        }
    }

    /// Frame-time percentiles of the UI thread (p50, p95, max) in milliseconds.
    pub fn frame_time_percentiles(&self) -> (f32, f32, f32) {
        let mut v: Vec<f32> = self.frame_times_ms.iter().copied().collect();
        if v.is_empty() {
            return (0.0, 0.0, 0.0);
        }
        v.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f32| v[((v.len() - 1) as f32 * q) as usize];
        (at(0.5), at(0.95), at(1.0))
    }
}

/// eframe wrapper owning the app.
struct EframeApp(BeatcutApp);

impl eframe::App for EframeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.0.ui(ui);
    }
}

/// Opens the editor window on `files` (media, or a project). Blocks until it closes.
pub fn run_editor(files: Vec<PathBuf>, cache: Arc<Cache>) -> Result<(), eframe::Error> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Beatcut")
            .with_inner_size([1400.0, 860.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Wgpu,
        ..Default::default()
    };
    eframe::run_native(
        "Beatcut",
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let waker: Arc<dyn Fn() + Send + Sync> = Arc::new(move || ctx.request_repaint());
            let mut app = BeatcutApp::new(cache, waker);
            if let Some(render_state) = cc.wgpu_render_state.as_ref() {
                app.use_wgpu_preview(render_state);
            }
            let (projects, media): (Vec<PathBuf>, Vec<PathBuf>) =
                files.into_iter().partition(|p| {
                    p.extension()
                        .is_some_and(|e| e == crate::project::PROJECT_EXTENSION)
                });
            if let Some(project) = projects.first() {
                app.open_project(project);
            }
            app.add_paths(&media);
            Ok(Box::new(EframeApp(app)))
        }),
    )
}

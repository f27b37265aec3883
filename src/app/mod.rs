//! The editor: an eframe app with a media bin, music lane, timeline, preview, inspector,
//! export dialog and status bar. Everything heavy runs on background threads; the UI
//! thread only drains results, replans (cheap) and draws.

mod export;
mod lanes;
mod panels;
mod playback;
mod preview;
pub mod preview_gpu;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::editor::{ClipEntry, ClipStatus, MusicEntry, Notice};

use crate::cache::Cache;
use crate::editor::{Session, SessionEvent, TimelineView};
use crate::time::Ticks;

/// The editor window: draws the [`Session`] and sends it the user's commands. Only what
/// concerns drawing and playback lives here (playhead, preview, export dialog, zoom).
pub struct BeatcutApp {
    session: Session,
    /// Playhead position on the timeline.
    pub playhead: Ticks,
    playing: Option<(Instant, Ticks, f64)>,
    shuttle_speed: f64,
    preview: preview::Preview,
    playback: playback::Playback,
    export: export::ExportPanel,
    show_help: bool,
    show_performance: bool,
    frame_times_ms: VecDeque<f32>,
    dialogs: crossbeam_channel::Receiver<DialogResult>,
    dialog_tx: crossbeam_channel::Sender<DialogResult>,
    /// Where the music lane's context menu was opened.
    lane_menu_at: Option<Ticks>,
    /// The beat being dragged in the music lane (its time when the drag began).
    beat_drag: Option<Ticks>,
    /// Zoom and scroll of the timeline and music lane.
    view: TimelineView,
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
        Self {
            session: Session::new(cache, waker.clone()),
            playhead: 0,
            playing: None,
            shuttle_speed: 1.0,
            preview: preview::Preview::new(waker.clone()),
            playback: playback::Playback::new(),
            export: export::ExportPanel::new(),
            show_help: false,
            show_performance: false,
            frame_times_ms: VecDeque::new(),
            dialogs,
            dialog_tx,
            lane_menu_at: None,
            beat_drag: None,
            view: TimelineView::new(),
        }
    }

    /// The same editor keeping its recent-projects list and unsaved-session autosave in `dir`
    /// instead of the user's data directory (tests and benchmarks never touch the user's).
    pub fn with_data_dir(mut self, dir: PathBuf) -> Self {
        self.session = self.session.with_data_dir(dir);
        self
    }

    /// The same editor decoding every preview frame from its source, never from a seek
    /// proxy (made in the background, so when one is ready depends on the machine): the
    /// window then looks the same on every run, as snapshot tests need.
    pub fn without_seek_proxies(mut self) -> Self {
        self.preview.disable_proxies();
        self
    }

    /// The editing session the window shows (project, bin, plan, background work).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, to send it commands (what the window's buttons do).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Zoom and scroll of the timeline and music lane.
    pub fn view(&self) -> &TimelineView {
        &self.view
    }

    /// Adds files or folders (media, or a project to open).
    pub fn add_paths(&mut self, paths: &[PathBuf]) {
        self.session.add_paths(paths);
    }

    /// Opens a project file, replacing the current session's project.
    pub fn open_project(&mut self, path: &Path) {
        self.session.open_project(path);
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

    /// True when background analysis or planning is still running.
    pub fn is_busy(&self) -> bool {
        self.session.is_busy()
    }

    /// True when the preview shows the frame (or the error) for the playhead's last request.
    pub fn preview_settled(&self) -> bool {
        self.preview.is_settled()
    }

    /// True while an export renders on its thread (the dialog shows its progress).
    pub fn is_exporting(&self) -> bool {
        self.session
            .export_job()
            .is_some_and(|j| j.phase() == crate::editor::ExportPhase::Rendering)
    }

    /// True while the export thread checks the file it wrote.
    pub fn is_verifying_export(&self) -> bool {
        self.session
            .export_job()
            .is_some_and(|j| j.phase() == crate::editor::ExportPhase::Verifying)
    }

    /// The last export's sync report (shown in the export dialog), or why there is none.
    pub fn export_verification(&self) -> Option<&Result<crate::render::SyncReport, String>> {
        self.session.export_job().and_then(|j| j.verification())
    }

    /// Draws the whole editor into `ui` and handles input; the eframe `App::ui` calls this,
    /// and the headless tests drive it directly.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let started = Instant::now();
        for event in self.session.poll() {
            match event {
                SessionEvent::MusicReady(path) => self.playback.load(&path),
                SessionEvent::PlanLanded => {}
                SessionEvent::SoundtrackReady => {
                    let mix = self.session.soundtrack();
                    self.playback
                        .set_soundtrack(mix.map(|m| (m.samples.clone(), m.rate)));
                    // Playing on: continue from here with the new sound.
                    if self.playing.is_some() {
                        self.seek(self.playhead);
                    }
                }
            }
        }
        let music_start = self.session.timeline().map_or(0, |t| t.music_start());
        self.playback.set_music_start(music_start);
        self.handle_dialogs();
        self.handle_drops(ui.ctx());
        self.advance_playback(ui.ctx());
        self.handle_shortcuts(ui.ctx());
        panels::menu_bar_ui(self, ui);
        panels::status_bar_ui(self, ui);
        lanes::timeline_area_ui(self, ui);
        panels::media_bin_ui(self, ui);
        panels::inspector_ui(self, ui);
        preview::preview_panel_ui(self, ui);
        self.export
            .window_ui(ui.ctx(), &mut self.session, &self.dialog_tx);
        let project = self.session.project();
        let (preset, aspect, fit) = self.export.choice();
        let saved = (
            project.export.preset,
            project.export.aspect,
            project.export.fit,
        );
        let (level, duck) = self.export.sound();
        let saved_sound = (project.export.clip_audio, project.export.duck_db);
        // A slider being dragged becomes one undo step when it is let go.
        let settled = !ui.ctx().input(|i| i.pointer.any_down());
        if self.export.open && (preset, aspect, fit) != saved {
            self.session.set_export_format(preset, aspect, fit);
        } else if self.export.open && settled && (level, duck) != saved_sound {
            self.session.set_clip_sound(level, duck);
        } else if !self.export.open {
            self.export.adopt(saved.0, saved.1, saved.2);
            self.export.adopt_sound(saved_sound.0, saved_sound.1);
        }
        if let Some(fps) = self.export.take_fps_request() {
            self.session
                .change_project(|p| p.plan.fps = crate::time::FrameRate::whole(fps));
        }
        panels::help_window_ui(self, ui.ctx());
        panels::performance_window_ui(self, ui.ctx());
        panels::recovery_window_ui(self, ui.ctx());
        if self.playing.is_some()
            || self.is_busy()
            || self.is_exporting()
            || self.is_verifying_export()
        {
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
                DialogResult::SetMusic(path) => self.session.set_music_path(path),
                DialogResult::OpenProject(path) => self.open_project(&path),
                DialogResult::SaveProject(path) => self.session.save_project(&path),
                DialogResult::ExportTo(path) => self.export.set_output(path),
                DialogResult::Relink(old, new) => self.session.relink(&old, new),
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
            self.session.redo();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&undo)) {
            self.session.undo();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&save)) {
            self.save_or_ask();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&open)) {
            self.open_dialog("open");
        }
        if self.export.open && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape)) {
            self.export.open = false;
        }
        if ctx.input_mut(|i| i.consume_shortcut(&export)) {
            self.export.open = true;
        }
        let frame = self.session.project().plan.fps.frame_ticks();
        let end = self.session.timeline().map_or(0, |t| t.duration);
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
        match self.session.project_path().map(Path::to_path_buf) {
            Some(path) => self.session.save_project(&path),
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
        let end = self.session.timeline().map_or(0, |t| t.duration);
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

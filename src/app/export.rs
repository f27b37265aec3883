//! The export dialog and its dedicated render thread (progress, ETA, cancel).

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::{DialogResult, MusicEntry, Notice};
use crate::jobs::CancelToken;
use crate::plan::Timeline;
use crate::project::Project;
use crate::render::{Aspect, Preset, RenderProgress, SyncReport, VerifyPlan};

enum ExportEvent {
    Progress(RenderProgress),
    Done(Result<String, String>),
    /// The written file checked again (after `Done`): cuts and sound as they really are.
    Verified(Result<SyncReport, String>),
}

/// Export dialog state.
pub struct ExportPanel {
    /// Whether the dialog is shown.
    pub open: bool,
    output: String,
    preset: Preset,
    aspect: Aspect,
    fps: i32,
    fps_request: Option<i32>,
    clip_audio: f32,
    interchange: bool,
    running: Option<(CancelToken, Receiver<ExportEvent>)>,
    progress: Option<RenderProgress>,
    last_result: Option<Result<String, String>>,
    /// The export thread checking the file it wrote (after the export itself finished).
    verifying: Option<(CancelToken, Receiver<ExportEvent>)>,
    /// The last export's sync report, or why it could not be made.
    verification: Option<Result<SyncReport, String>>,
    project_output: Option<PathBuf>,
    waker: Arc<dyn Fn() + Send + Sync>,
}

impl ExportPanel {
    /// A closed dialog.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self {
            open: false,
            output: std::env::current_dir()
                .unwrap_or_default()
                .join("montage.mp4")
                .display()
                .to_string(),
            preset: Preset::Final,
            aspect: Aspect::Landscape,
            fps: 30,
            fps_request: None,
            clip_audio: 0.0,
            interchange: true,
            running: None,
            progress: None,
            last_result: None,
            verifying: None,
            verification: None,
            project_output: None,
            waker,
        }
    }

    /// The preset and aspect chosen in the dialog (remembered in the project).
    pub fn choice(&self) -> (Preset, Aspect) {
        (self.preset, self.aspect)
    }

    /// Takes the preset and aspect from a loaded project.
    pub fn adopt(&mut self, preset: Preset, aspect: Aspect) {
        self.preset = preset;
        self.aspect = aspect;
    }

    /// A frame rate the user picked in the dialog (the app replans on it).
    pub fn take_fps_request(&mut self) -> Option<i32> {
        self.fps_request.take()
    }

    /// True while an export is running.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Sets the output path (from the save dialog).
    pub fn set_output(&mut self, path: PathBuf) {
        self.output = path.display().to_string();
    }

    /// True while the export thread checks the file it wrote.
    pub fn is_verifying(&self) -> bool {
        self.verifying.is_some()
    }

    /// The last export's sync report (or why there is none).
    pub fn verification(&self) -> Option<&Result<SyncReport, String>> {
        self.verification.as_ref()
    }

    /// Drains progress, completion and verification events.
    pub fn poll(&mut self, notices: &mut Vec<Notice>) {
        if let Some((_, rx)) = &self.verifying {
            let mut verified = None;
            while let Ok(event) = rx.try_recv() {
                if let ExportEvent::Verified(result) = event {
                    verified = Some(result);
                }
            }
            if let Some(result) = verified {
                let (text, is_problem) = match &result {
                    Ok(report) => (
                        format!("export checked: {}", report.summary()),
                        !report.problems().is_empty(),
                    ),
                    Err(e) => (format!("export not checked: {e}"), true),
                };
                notices.push(Notice { is_problem, text });
                self.verification = Some(result);
                self.verifying = None;
            }
        }
        let Some((_, rx)) = &self.running else {
            return;
        };
        let mut finished = None;
        while let Ok(event) = rx.try_recv() {
            match event {
                ExportEvent::Progress(p) => self.progress = Some(p),
                ExportEvent::Done(result) => {
                    finished = Some(result);
                    break;
                }
                ExportEvent::Verified(_) => {}
            }
        }
        if let Some(result) = finished {
            let text = match &result {
                Ok(path) => format!("exported {path}"),
                Err(e) => format!("export failed: {e}"),
            };
            notices.push(Notice {
                is_problem: result.is_err(),
                text,
            });
            let written = result.is_ok();
            self.last_result = Some(result);
            if let Some(running) = self.running.take()
                && written
            {
                // The same thread goes on to check the file; its report comes on this channel.
                self.verifying = Some(running);
            }
        }
    }

    /// Starts rendering on the export thread.
    pub fn start(&mut self, project: &Project, timeline: &Timeline, music: &MusicEntry) {
        let output = PathBuf::from(self.output.trim());
        // The timeline is planned on the project's frame grid; export on the same grid so
        // every cut stays on its frame.
        let mut settings =
            crate::render::RenderSettings::new(self.preset, self.aspect, timeline.fps);
        settings.clip_audio_level = self.clip_audio;
        let job = match crate::montage::render_job(timeline, &project.clips, &music.path) {
            Ok(job) => job,
            Err(e) => {
                self.last_result = Some(Err(e.to_string()));
                return;
            }
        };
        // The beats the plan cut to: the song's, with the user's grid repairs.
        let beats = music
            .analysis
            .as_ref()
            .map(|a| {
                project
                    .constraints
                    .beat_grid
                    .apply(a)
                    .beats
                    .iter()
                    .map(|b| b.time)
                    .collect()
            })
            .unwrap_or_default();
        let verify_plan = VerifyPlan::from_timeline(timeline, beats, &music.path);
        let write_interchange = self.interchange;
        let interchange_input = (timeline.clone(), project.clips.clone(), music.path.clone());
        let cancel = CancelToken::new();
        let (tx, rx): (Sender<ExportEvent>, Receiver<ExportEvent>) = bounded(64);
        let waker = self.waker.clone();
        let thread_cancel = cancel.clone();
        let spawned = std::thread::Builder::new()
            .name("export".into())
            .spawn(move || {
                let mut report = |p: RenderProgress| {
                    let _ = tx.try_send(ExportEvent::Progress(p));
                    waker();
                };
                let result =
                    crate::render::render(&job, &settings, &output, &thread_cancel, &mut report)
                        .map(|r| r.path.display().to_string())
                        .map_err(|e| e.to_string());
                let result = result.and_then(|path| {
                    if write_interchange {
                        let (timeline, clips, music) = &interchange_input;
                        let timeline = crate::montage::interchange_timeline(
                            timeline,
                            clips,
                            Some(music),
                            &settings,
                        )
                        .map_err(|e| e.to_string())?;
                        for ext in ["edl", "fcpxml", "otio"] {
                            let side = output.with_extension(ext);
                            crate::render::interchange::write_timeline_file(&timeline, &side)
                                .map_err(|e| e.to_string())?;
                        }
                    }
                    Ok(path)
                });
                let written = result.is_ok();
                let _ = tx.send(ExportEvent::Done(result));
                waker();
                if written {
                    let verified = crate::render::verify_export(
                        &output,
                        &verify_plan,
                        &thread_cancel,
                        &mut |_| {},
                    )
                    .map_err(|e| e.to_string());
                    let _ = tx.send(ExportEvent::Verified(verified));
                    waker();
                }
            });
        match spawned {
            Ok(_) => {
                self.running = Some((cancel, rx));
                self.progress = None;
                self.last_result = None;
                self.verification = None;
                if let Some((previous, _)) = self.verifying.take() {
                    previous.cancel();
                }
            }
            Err(e) => self.last_result = Some(Err(format!("cannot start the export thread: {e}"))),
        }
    }

    /// Asks the running export to stop (it removes its partial file).
    pub fn cancel(&mut self) {
        if let Some((cancel, _)) = &self.running {
            cancel.cancel();
        }
    }

    /// The dialog window.
    pub fn window_ui(
        &mut self,
        ctx: &egui::Context,
        project: &Project,
        timeline: Option<&Timeline>,
        music: Option<&MusicEntry>,
        dialogs: &Sender<DialogResult>,
    ) {
        if project.export.output != self.project_output {
            self.project_output = project.export.output.clone();
            if let Some(path) = &self.project_output {
                self.output = path.display().to_string();
            }
        }
        let mut open = self.open;
        egui::Window::new("Export")
            .open(&mut open)
            .resizable(false)
            .show(ctx, |ui| {
                egui::Grid::new("export_grid")
                    .num_columns(2)
                    .show(ui, |ui| {
                        ui.label("Preset");
                        egui::ComboBox::from_id_salt("preset")
                            .selected_text(self.preset.as_str())
                            .show_ui(ui, |ui| {
                                for p in Preset::ALL {
                                    ui.selectable_value(&mut self.preset, p, p.as_str());
                                }
                            });
                        ui.end_row();
                        ui.label("Aspect");
                        egui::ComboBox::from_id_salt("aspect")
                            .selected_text(self.aspect.as_str())
                            .show_ui(ui, |ui| {
                                for a in Aspect::ALL {
                                    ui.selectable_value(&mut self.aspect, a, a.as_str());
                                }
                            });
                        ui.end_row();
                        ui.label("Frame rate");
                        // The frame rate is the plan's frame grid: changing it replans so
                        // cuts land on the new grid's frames.
                        self.fps = project.plan.fps.as_f64().round() as i32;
                        let before = self.fps;
                        egui::ComboBox::from_id_salt("fps")
                            .selected_text(project.plan.fps.to_string())
                            .show_ui(ui, |ui| {
                                for f in [24, 25, 30, 50, 60] {
                                    ui.selectable_value(&mut self.fps, f, f.to_string());
                                }
                            });
                        if self.fps != before {
                            self.fps_request = Some(self.fps);
                        }
                        ui.end_row();
                        ui.label("Clip sound");
                        ui.add(
                            egui::Slider::new(&mut self.clip_audio, 0.0..=1.0)
                                .text("under the music (0 = off)"),
                        );
                        ui.end_row();
                        ui.label("Output");
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::TextEdit::singleline(&mut self.output).desired_width(260.0),
                            );
                            if ui.button("Browse…").clicked() {
                                let tx = dialogs.clone();
                                std::thread::spawn(move || {
                                    if let Some(path) = rfd::FileDialog::new()
                                        .add_filter("MP4 video", &["mp4"])
                                        .set_file_name("montage.mp4")
                                        .save_file()
                                    {
                                        let _ = tx.send(DialogResult::ExportTo(path));
                                    }
                                });
                            }
                        });
                        ui.end_row();
                        ui.label("");
                        ui.checkbox(
                            &mut self.interchange,
                            "Also write EDL, FCPXML and OTIO beside it",
                        );
                        ui.end_row();
                    });
                ui.separator();
                if let Some((_, _)) = &self.running {
                    if let Some(p) = self.progress {
                        ui.add(
                            egui::ProgressBar::new(
                                p.frames_done as f32 / p.frames_total.max(1) as f32,
                            )
                            .show_percentage(),
                        );
                        ui.label(format!(
                            "{} / {} frames · {:.0} fps · {:.0} s left",
                            p.frames_done, p.frames_total, p.fps, p.eta_secs
                        ));
                    } else {
                        ui.spinner();
                    }
                    if ui.button("Cancel export").clicked() {
                        self.cancel();
                    }
                } else {
                    let ready = timeline.is_some() && music.is_some();
                    if ui
                        .add_enabled(ready, egui::Button::new("Start export"))
                        .clicked()
                        && let (Some(t), Some(m)) = (timeline, music)
                    {
                        self.start(project, t, m);
                    }
                    if !ready {
                        ui.small("Add a song and clips first.");
                    }
                }
                match &self.last_result {
                    Some(Ok(path)) => {
                        ui.label(format!("Done: {path}"));
                        if ui.button("Open folder").clicked()
                            && let Some(dir) = std::path::Path::new(path).parent()
                        {
                            let _ = std::process::Command::new("xdg-open").arg(dir).spawn();
                        }
                    }
                    Some(Err(e)) => {
                        ui.colored_label(egui::Color32::from_rgb(230, 120, 60), e);
                    }
                    None => {}
                }
                sync_report_ui(ui, self.verifying.is_some(), self.verification.as_ref());
            });
        self.open = open;
    }
}

/// The sync report in the export dialog: all cuts on the beat, or which are off and by how
/// much, and the sound against the picture.
fn sync_report_ui(ui: &mut egui::Ui, verifying: bool, report: Option<&Result<SyncReport, String>>) {
    let warn = egui::Color32::from_rgb(230, 120, 60);
    if verifying {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Checking the written file: cuts and sound…");
        });
        return;
    }
    match report {
        Some(Ok(report)) => {
            let problems = report.problems();
            if problems.is_empty() {
                ui.label(format!("Checked: {}", report.summary()));
            } else {
                ui.colored_label(warn, format!("Checked: {}", report.summary()));
                for problem in problems.iter().take(8) {
                    ui.colored_label(warn, format!("• {problem}"));
                }
                if problems.len() > 8 {
                    ui.colored_label(warn, format!("… and {} more", problems.len() - 8));
                }
            }
        }
        Some(Err(e)) => {
            ui.colored_label(warn, format!("Not checked: {e}"));
        }
        None => {}
    }
}

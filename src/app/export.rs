//! The export dialog and its dedicated render thread (progress, ETA, cancel).

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::{ClipEntry, DialogResult, MusicEntry, Notice};
use crate::jobs::CancelToken;
use crate::plan::Timeline;
use crate::project::Project;
use crate::render::{Aspect, Preset, RenderProgress};

enum ExportEvent {
    Progress(RenderProgress),
    Done(Result<String, String>),
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

    /// Drains progress and completion events.
    pub fn poll(&mut self, notices: &mut Vec<Notice>) {
        let Some((_, rx)) = &self.running else {
            return;
        };
        let mut finished = None;
        while let Ok(event) = rx.try_recv() {
            match event {
                ExportEvent::Progress(p) => self.progress = Some(p),
                ExportEvent::Done(result) => finished = Some(result),
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
            self.last_result = Some(result);
            self.running = None;
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
        let job = crate::montage::render_job(timeline, &project.clips, &music.path);
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
                        );
                        for ext in ["edl", "fcpxml", "otio"] {
                            let side = output.with_extension(ext);
                            crate::render::interchange::write_timeline_file(&timeline, &side)
                                .map_err(|e| e.to_string())?;
                        }
                    }
                    Ok(path)
                });
                let _ = tx.send(ExportEvent::Done(result));
                waker();
            });
        match spawned {
            Ok(_) => {
                self.running = Some((cancel, rx));
                self.progress = None;
                self.last_result = None;
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
        _clips: &[ClipEntry],
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
            });
        self.open = open;
    }
}

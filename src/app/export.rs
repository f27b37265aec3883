//! The export dialog: size, shape, frame rate, clip sound, output and timeline files; the
//! export itself runs in the session ([`crate::editor::ExportJob`], its own thread), and
//! the dialog shows its progress, result and the check of the written file.

use std::path::PathBuf;

use crossbeam_channel::Sender;

use super::DialogResult;
use crate::editor::{ExportChoice, ExportPhase, Session};
use crate::render::{Aspect, Fit, Preset, SyncReport};

/// Export dialog state.
pub struct ExportPanel {
    /// Whether the dialog is shown.
    pub open: bool,
    output: String,
    preset: Preset,
    aspect: Aspect,
    /// `None`: the aspect's own fit.
    fit: Option<Fit>,
    fps: i32,
    fps_request: Option<i32>,
    clip_audio: f32,
    duck_db: f32,
    interchange: bool,
    /// Why the last export could not start.
    start_error: Option<String>,
    project_output: Option<PathBuf>,
}

impl ExportPanel {
    /// A closed dialog.
    pub fn new() -> Self {
        Self {
            open: false,
            output: std::env::current_dir()
                .unwrap_or_default()
                .join("montage.mp4")
                .display()
                .to_string(),
            preset: Preset::Final,
            aspect: Aspect::Landscape,
            fit: None,
            fps: 30,
            fps_request: None,
            clip_audio: 0.0,
            duck_db: 10.0,
            interchange: true,
            start_error: None,
            project_output: None,
        }
    }

    /// The preset, aspect and fit chosen in the dialog (remembered in the project).
    pub fn choice(&self) -> (Preset, Aspect, Option<Fit>) {
        (self.preset, self.aspect, self.fit)
    }

    /// Takes the preset, aspect and fit from the project.
    pub fn adopt(&mut self, preset: Preset, aspect: Aspect, fit: Option<Fit>) {
        self.preset = preset;
        self.aspect = aspect;
        self.fit = fit;
    }

    /// The clip sound level and ducking depth set in the dialog (the preview plays them).
    pub fn sound(&self) -> (f32, f32) {
        (self.clip_audio, self.duck_db)
    }

    /// Takes the clip sound level and ducking depth from the project.
    pub fn adopt_sound(&mut self, level: f32, duck_db: f32) {
        self.clip_audio = level;
        self.duck_db = duck_db;
    }

    /// A frame rate the user picked in the dialog (the app replans on it).
    pub fn take_fps_request(&mut self) -> Option<i32> {
        self.fps_request.take()
    }

    /// Sets the output path (from the save dialog).
    pub fn set_output(&mut self, path: PathBuf) {
        self.output = path.display().to_string();
    }

    fn start(&mut self, session: &mut Session) {
        let choice = ExportChoice {
            output: PathBuf::from(self.output.trim()),
            clip_audio: self.clip_audio,
            duck_db: self.duck_db,
            interchange: self.interchange,
        };
        self.start_error = session.start_export(choice).err();
    }

    /// The dialog window.
    pub fn window_ui(
        &mut self,
        ctx: &egui::Context,
        session: &mut Session,
        dialogs: &Sender<DialogResult>,
    ) {
        let project = session.project();
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
                        // Each control is labelled by the text beside it (screen readers, tests).
                        let label = ui.label("Preset").id;
                        egui::ComboBox::from_id_salt("preset")
                            .selected_text(self.preset.as_str())
                            .show_ui(ui, |ui| {
                                for p in Preset::ALL {
                                    ui.selectable_value(&mut self.preset, p, p.as_str());
                                }
                            })
                            .response
                            .labelled_by(label);
                        ui.end_row();
                        let label = ui.label("Aspect").id;
                        egui::ComboBox::from_id_salt("aspect")
                            .selected_text(self.aspect.as_str())
                            .show_ui(ui, |ui| {
                                for a in Aspect::ALL {
                                    ui.selectable_value(&mut self.aspect, a, a.as_str());
                                }
                            })
                            .response
                            .labelled_by(label);
                        ui.end_row();
                        let label = ui.label("Fit").id;
                        let fit_name = |fit: Option<Fit>| match fit {
                            None => format!("auto ({})", Fit::for_aspect(self.aspect).as_str()),
                            Some(f) => f.as_str().to_string(),
                        };
                        egui::ComboBox::from_id_salt("fit")
                            .selected_text(fit_name(self.fit))
                            .show_ui(ui, |ui| {
                                let auto = fit_name(None);
                                ui.selectable_value(&mut self.fit, None, auto);
                                for f in Fit::ALL {
                                    ui.selectable_value(&mut self.fit, Some(f), f.as_str());
                                }
                            })
                            .response
                            .labelled_by(label)
                            .on_hover_text(
                                "How other shapes fill the frame: letterbox keeps the whole picture, crop keeps the middle, reframe follows each shot's subject",
                            );
                        ui.end_row();
                        let label = ui.label("Frame rate").id;
                        // The frame rate is the plan's frame grid: changing it replans so
                        // cuts land on the new grid's frames.
                        let plan_fps = session.project().plan.fps;
                        self.fps = plan_fps.as_f64().round() as i32;
                        let before = self.fps;
                        egui::ComboBox::from_id_salt("fps")
                            .selected_text(plan_fps.to_string())
                            .show_ui(ui, |ui| {
                                for f in [24, 25, 30, 50, 60] {
                                    ui.selectable_value(&mut self.fps, f, f.to_string());
                                }
                            })
                            .response
                            .labelled_by(label);
                        if self.fps != before {
                            self.fps_request = Some(self.fps);
                        }
                        ui.end_row();
                        ui.label("Clip sound");
                        ui.add(
                            egui::Slider::new(&mut self.clip_audio, 0.0..=1.0)
                                .text("under the music (0 = off)"),
                        )
                        .on_hover_text("The preview plays it too, with the music ducked");
                        ui.end_row();
                        ui.label("Duck the music");
                        ui.add_enabled(
                            self.clip_audio > 0.0,
                            egui::Slider::new(&mut self.duck_db, 0.0..=30.0)
                                .suffix(" dB")
                                .text("while the clip sound is loud (speech)"),
                        );
                        ui.end_row();
                        let label = ui.label("Output").id;
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::TextEdit::singleline(&mut self.output).desired_width(260.0),
                            )
                            .labelled_by(label);
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
                let phase = session.export_job().map(|j| j.phase());
                if phase == Some(ExportPhase::Rendering) {
                    match session.export_job().and_then(|j| j.progress()) {
                        Some(p) => {
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
                        }
                        None => {
                            ui.spinner();
                        }
                    }
                    if ui.button("Cancel export").clicked() {
                        session.cancel_export();
                    }
                } else {
                    let ready = session.timeline().is_some() && session.music().is_some();
                    if ui
                        .add_enabled(ready, egui::Button::new("Start export"))
                        .clicked()
                    {
                        self.start(session);
                    }
                    if !ready {
                        ui.small("Add a song and clips first.");
                    }
                }
                if let Some(e) = &self.start_error {
                    ui.colored_label(egui::Color32::from_rgb(230, 120, 60), e);
                }
                match session.export_job().and_then(|j| j.result()) {
                    Some(Ok(path)) => {
                        ui.label(format!("Done: {}", path.display()));
                        if ui.button("Open folder").clicked()
                            && let Some(dir) = path.parent()
                        {
                            let _ = std::process::Command::new("xdg-open").arg(dir).spawn();
                        }
                    }
                    Some(Err(e)) => {
                        ui.colored_label(egui::Color32::from_rgb(230, 120, 60), e);
                    }
                    None => {}
                }
                let job = session.export_job();
                sync_report_ui(
                    ui,
                    job.is_some_and(|j| j.phase() == ExportPhase::Verifying),
                    job.and_then(|j| j.verification()),
                );
            });
        self.open = open;
    }
}

/// The sync report in the export dialog: all cuts on the beat, or which are off and by how
/// much, and the sound against the picture.
impl Default for ExportPanel {
    fn default() -> Self {
        Self::new()
    }
}

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

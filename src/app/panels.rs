//! Side and top panels: menu, media bin, inspector, status bar, help.

use super::{BeatcutApp, ClipStatus};
use crate::plan::Style;
use crate::time::secs_from_ticks;

/// The File / Edit / Help menu.
pub fn menu_bar_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Add media…").clicked() {
                    app.open_dialog("add");
                }
                if ui.button("Set music…").clicked() {
                    app.open_dialog("music");
                }
                ui.separator();
                if ui.button("Open project…").clicked() {
                    app.open_dialog("open");
                }
                ui.menu_button("Open recent", |ui| {
                    let recent = app.session.recent_projects();
                    if recent.is_empty() {
                        ui.label("No recent projects");
                    }
                    for path in recent {
                        if ui.button(path.display().to_string()).clicked() {
                            app.open_project(&path);
                        }
                    }
                });
                if ui.button("Save project").clicked() {
                    app.save_or_ask();
                }
                if ui.button("Save project as…").clicked() {
                    app.open_dialog("save");
                }
                ui.separator();
                if ui.button("Export…").clicked() {
                    app.export.open = true;
                }
            });
            ui.menu_button("Edit", |ui| {
                if ui
                    .add_enabled(app.session.can_undo(), egui::Button::new("Undo"))
                    .clicked()
                {
                    app.session.undo();
                }
                if ui
                    .add_enabled(app.session.can_redo(), egui::Button::new("Redo"))
                    .clicked()
                {
                    app.session.redo();
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Keyboard shortcuts").clicked() {
                    app.show_help = true;
                }
                if ui.button("Performance").clicked() {
                    app.show_performance = true;
                }
            });
            ui.separator();
            if ui.button("Export…").clicked() {
                app.export.open = true;
            }
        });
    });
}

/// Jobs, cache, warnings and UI frame time.
pub fn status_bar_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal(|ui| {
            // What runs, per kind: probes, the song, clips, the planner.
            let activity = app.session.activity();
            if !activity.is_idle() {
                ui.spinner();
            }
            ui.label(activity.describe());
            ui.separator();
            let stats = app.session.cache().stats();
            ui.label(format!(
                "cache: {} hits, {} misses, {} entries",
                stats.session.hits(),
                stats.session.misses,
                stats.entries
            ));
            ui.separator();
            // Frame times are in the performance window (Help > Performance), not here:
            // a number that changes every frame distracts, and would make snapshots unstable.
            ui.label(app.session.plan_status());
            if let Some(notice) = app.session.notices().last() {
                ui.separator();
                let color = if notice.is_problem {
                    egui::Color32::from_rgb(230, 140, 60)
                } else {
                    ui.visuals().text_color()
                };
                ui.colored_label(color, &notice.text);
            }
        });
    });
}

/// The media bin: music and clips with status and thumbnails.
pub fn media_bin_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    egui::Panel::left("media_bin")
        .default_size(260.0)
        .show(ui, |ui| {
            ui.heading("Media");
            ui.horizontal(|ui| {
                if ui.button("Add media…").clicked() {
                    app.open_dialog("add");
                }
                if ui.button("Set music…").clicked() {
                    app.open_dialog("music");
                }
            });
            ui.separator();
            // The grid as repaired, what the plan cuts on.
            let tempo = app
                .session
                .grid()
                .map(|g| match g.beats.len() {
                    0 => "no beat found · ".to_string(),
                    n => format!("{:.1} BPM · {n} beats · ", g.tempo_bpm),
                })
                .unwrap_or_default();
            match app.session.music() {
                Some(music) => {
                    ui.label(egui::RichText::new(format!("Music: {}", music.name)).strong());
                    ui.small(format!(
                        "{tempo}{:.1} s · {}",
                        secs_from_ticks(music.duration),
                        music.status
                    ));
                    warnings_badge(ui, music.warnings());
                }
                None => {
                    ui.small("No music yet: drop a song here.");
                }
            }
            ui.separator();
            let mut remove = None;
            let mut relink = None;
            // Only the rows in view are laid out: a bin of hundreds of clips costs what a
            // screenful does.
            let rows = app.session.clips().len();
            egui::ScrollArea::vertical().show_rows(ui, BIN_ROW_HEIGHT, rows, |ui, range| {
                for index in range {
                    let Some(clip) = app.session.clips().get(index) else {
                        continue;
                    };
                    let size = egui::vec2(ui.available_width(), BIN_ROW_HEIGHT);
                    ui.allocate_ui(size, |ui| {
                        ui.set_min_height(BIN_ROW_HEIGHT);
                        ui.horizontal(|ui| {
                            if let Some(thumb) = clip
                                .analysis
                                .as_ref()
                                .and_then(|a| a.scenes.first())
                                .and_then(|s| s.features.thumbnails.first())
                            {
                                let texture = thumbnail_texture(ui.ctx(), &clip.path, 0, thumb);
                                ui.image((texture.id(), egui::vec2(64.0, 36.0)));
                            }
                            ui.vertical(|ui| {
                                ui.label(&clip.name);
                                ui.small(clip.summary());
                                warnings_badge(ui, clip.warnings());
                                match &clip.status {
                                    ClipStatus::Pending => {
                                        ui.small("waiting");
                                    }
                                    ClipStatus::Analysing(f) => {
                                        ui.add(
                                            egui::ProgressBar::new(*f)
                                                .desired_width(140.0)
                                                .show_percentage(),
                                        );
                                    }
                                    ClipStatus::Ready { cached } => {
                                        let (scenes, transitions) =
                                            clip.analysis.as_ref().map_or((0, 0), |a| {
                                                (a.scenes.len(), a.transitions.len())
                                            });
                                        let transitions = match transitions {
                                            0 => String::new(),
                                            1 => ", 1 transition".to_string(),
                                            n => format!(", {n} transitions"),
                                        };
                                        ui.small(format!(
                                            "{scenes} scenes{transitions}{}",
                                            if *cached { " (cached)" } else { "" }
                                        ));
                                    }
                                    ClipStatus::Failed(reason) => {
                                        ui.colored_label(
                                            egui::Color32::from_rgb(230, 120, 60),
                                            reason,
                                        );
                                        if !clip.path.exists()
                                            && ui.small_button("Relink…").clicked()
                                        {
                                            relink = Some(clip.path.clone());
                                        }
                                    }
                                }
                            });
                            if ui
                                .small_button("x")
                                .on_hover_text("Remove from the project")
                                .clicked()
                            {
                                remove = Some(clip.id);
                            }
                        });
                    });
                }
            });
            if let Some(old) = relink {
                app.relink_dialog(old);
            }
            if let Some(id) = remove {
                app.session.remove_clip(id);
            }
            if app.session.clips().is_empty() && app.session.music().is_none() {
                ui.add_space(20.0);
                ui.label("Drop video clips and a song onto this window to start.");
                ui.label("Or run `beatcut demo` for generated demo material.");
            }
        });
}

/// "⚠ N problems reading this file" with the reasons on hover; nothing when there are none.
/// The analysis stands on what could be read, but the user should know it is partial.
fn warnings_badge(ui: &mut egui::Ui, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    let text = match warnings.len() {
        1 => "⚠ 1 problem reading this file".to_string(),
        n => format!("⚠ {n} problems reading this file"),
    };
    ui.colored_label(egui::Color32::from_rgb(230, 160, 60), text)
        .on_hover_text(warnings.join("\n"));
}

/// The segment's source clip as a strip: its scenes, hard cuts (white lines), gradual
/// transitions (amber, kind and span on hover: no shot starts or ends inside one) and the
/// stretch the segment uses (blue outline).
fn source_strip_ui(
    ui: &mut egui::Ui,
    analysis: &crate::analysis::video::ClipAnalysis,
    (used_in, used_out): (crate::time::Ticks, crate::time::Ticks),
) {
    let duration = analysis.duration.max(1) as f32;
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width().min(360.0), 16.0),
        egui::Sense::hover(),
    );
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Canvas,
            true,
            format!(
                "Source clip: scenes {}, cuts {}, transitions {}",
                analysis.scenes.len(),
                analysis.cuts.len(),
                analysis.transitions.len()
            ),
        )
    });
    let x =
        |t: crate::time::Ticks| rect.left() + rect.width() * (t as f32 / duration).clamp(0.0, 1.0);
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(30));
    for (i, scene) in analysis.scenes.iter().enumerate() {
        let shade = if i % 2 == 0 { 70 } else { 90 };
        let r = egui::Rect::from_x_y_ranges(x(scene.start)..=x(scene.end), rect.y_range());
        painter.rect_filled(
            r.shrink2(egui::vec2(0.0, 2.0)),
            1.0,
            egui::Color32::from_gray(shade),
        );
    }
    let mut hover = None;
    for t in &analysis.transitions {
        let r = egui::Rect::from_x_y_ranges(
            x(t.start)..=x(t.end).max(x(t.start) + 2.0),
            rect.y_range(),
        );
        painter.rect_filled(r, 1.0, egui::Color32::from_rgb(220, 160, 40));
        if response
            .hover_pos()
            .is_some_and(|p| r.expand2(egui::vec2(3.0, 0.0)).contains(p))
        {
            hover = Some(format!(
                "{} {:.2}–{:.2} s",
                t.kind.as_str(),
                secs_from_ticks(t.start),
                secs_from_ticks(t.end)
            ));
        }
    }
    for &cut in &analysis.cuts {
        painter.vline(
            x(cut),
            rect.y_range(),
            egui::Stroke::new(1.5, egui::Color32::WHITE),
        );
    }
    let used = egui::Rect::from_x_y_ranges(x(used_in)..=x(used_out), rect.y_range());
    painter.rect_stroke(
        used,
        1.0,
        egui::Stroke::new(2.0, egui::Color32::from_rgb(80, 160, 255)),
        egui::StrokeKind::Inside,
    );
    if let Some(text) = hover {
        response.on_hover_text(text);
    }
}

/// Height of one clip's row in the media bin (thumbnail, name, summary, status).
const BIN_ROW_HEIGHT: f32 = 62.0;

/// A cached texture for a scene thumbnail.
pub fn thumbnail_texture(
    ctx: &egui::Context,
    path: &std::path::Path,
    scene: usize,
    thumb: &crate::analysis::video::Thumbnail,
) -> egui::TextureHandle {
    let id = egui::Id::unique(("thumb", path, scene, thumb.width, thumb.height));
    if let Some(texture) = ctx.data(|d| d.get_temp::<egui::TextureHandle>(id)) {
        return texture;
    }
    let image =
        egui::ColorImage::from_rgb([thumb.width as usize, thumb.height as usize], &thumb.rgb);
    let texture = ctx.load_texture(
        format!("thumb-{}-{scene}", path.display()),
        image,
        egui::TextureOptions::LINEAR,
    );
    ctx.data_mut(|d| d.insert_temp(id, texture.clone()));
    texture
}

/// Settings that replan live, and the selected segment's details.
pub fn inspector_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    egui::Panel::right("inspector")
        .default_size(300.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.heading("Plan");
                let project = app.session.project();
                let mut plan = project.plan.clone();
                let mut music_params = project.music_params.clone();
                let mut clip_params = project.clip_params.clone();
                egui::ComboBox::from_label("Style")
                    .selected_text(plan.style.clone())
                    .show_ui(ui, |ui| {
                        for name in Style::builtin_names() {
                            ui.selectable_value(&mut plan.style, (*name).to_string(), *name);
                        }
                    });
                ui.horizontal(|ui| {
                    ui.add(egui::DragValue::new(&mut plan.seed).prefix("seed "));
                    if ui
                        .button("Re-roll")
                        .on_hover_text("Replan unlocked segments with a new seed")
                        .clicked()
                    {
                        plan.seed = plan.seed.wrapping_add(1);
                    }
                });
                // Length: the whole song, or a short-form montage from its best stretch.
                let mut length = plan.length_secs;
                ui.horizontal(|ui| {
                    egui::ComboBox::from_label("Length")
                        .selected_text(match length {
                            None => "whole song".to_string(),
                            Some(s) => format!("{s:.0} s"),
                        })
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut length, None, "whole song");
                            for secs in [15.0, 30.0, 60.0] {
                                ui.selectable_value(
                                    &mut length,
                                    Some(secs),
                                    format!("{secs:.0} s"),
                                );
                            }
                        });
                    if let Some(secs) = length.as_mut() {
                        ui.add(egui::DragValue::new(secs).range(1.0..=3600.0).suffix(" s"));
                    }
                });
                if plan.region_start.is_some()
                    && ui
                        .small_button("Best stretch")
                        .on_hover_text("Let Beatcut choose the stretch of the song again")
                        .clicked()
                {
                    plan.region_start = None;
                }
                if length != plan.length_secs {
                    plan.length_secs = length;
                    plan.region_start = None;
                }
                let style = Style::resolve(&plan.style).unwrap_or_default();
                let mut min_beats = plan.min_shot_beats.unwrap_or(style.min_shot_beats);
                let mut max_beats = plan.max_shot_beats.unwrap_or(style.max_shot_beats);
                if ui
                    .add(egui::Slider::new(&mut min_beats, 0.5..=16.0).text("Min shot (beats)"))
                    .changed()
                {
                    plan.min_shot_beats = Some(min_beats);
                }
                if ui
                    .add(egui::Slider::new(&mut max_beats, 1.0..=32.0).text("Max shot (beats)"))
                    .changed()
                {
                    plan.max_shot_beats = Some(max_beats);
                }
                ui.add(
                    egui::Slider::new(&mut plan.energy_influence, 0.0..=2.0)
                        .text("Energy influence"),
                );
                let mut action_sync = plan.action_sync.unwrap_or(style.action_sync);
                if ui
                    .add(
                        egui::Slider::new(&mut action_sync, 0.0..=1.0)
                            .fixed_decimals(2)
                            .text("Action on beat"),
                    )
                    .on_hover_text(
                        "Slide each shot so its strongest moment (an impact, a flash, a \
                         sudden move) lands on a beat: 0 is off",
                    )
                    .changed()
                {
                    plan.action_sync = Some(action_sync);
                }
                ui.separator();
                ui.heading("Detection");
                ui.add(
                    egui::Slider::new(&mut music_params.beat_sensitivity, 0.0..=1.0)
                        .text("Beat sensitivity"),
                );
                ui.add(egui::Slider::new(&mut music_params.min_bpm, 40.0..=120.0).text("Min BPM"));
                ui.add(egui::Slider::new(&mut music_params.max_bpm, 100.0..=240.0).text("Max BPM"));
                ui.add(
                    egui::Slider::new(&mut clip_params.threshold, 0.0..=1.0)
                        .text("Scene threshold"),
                );
                if ui.button("Reset to style defaults").clicked() {
                    plan.min_shot_beats = None;
                    plan.max_shot_beats = None;
                    plan.energy_influence = 1.0;
                    plan.transition = None;
                    plan.match_cuts = None;
                    plan.action_sync = None;
                }
                let project = app.session.project();
                if plan != project.plan
                    || music_params != project.music_params
                    || clip_params != project.clip_params
                {
                    app.session.set_settings(plan, music_params, clip_params);
                }
                ui.separator();
                segment_inspector_ui(app, ui);
            });
        });
}

fn segment_inspector_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    use crate::editor::CutStep;
    ui.heading("Segment");
    let Some(index) = app.session.selected() else {
        ui.label("Click a segment on the timeline to see why it was chosen.");
        return;
    };
    let Some(segment) = app
        .session
        .timeline()
        .and_then(|t| t.segments.get(index))
        .cloned()
    else {
        return;
    };
    let clip = app.session.clip_of(&segment);
    let name = clip.map(|c| c.name.clone()).unwrap_or_default();
    ui.label(format!("#{} {}", index + 1, name));
    ui.small(format!(
        "timeline {:.2}–{:.2} s · source {:.2}–{:.2} s",
        secs_from_ticks(segment.start),
        secs_from_ticks(segment.end),
        secs_from_ticks(segment.src_in),
        secs_from_ticks(segment.src_out)
    ));
    if let Some(analysis) = clip.and_then(|c| c.analysis.clone()) {
        source_strip_ui(ui, &analysis, (segment.src_in, segment.src_out));
    }
    ui.label(egui::RichText::new(&segment.reason).italics());
    let mut lock = app.session.is_locked(index);
    if ui.checkbox(&mut lock, "Lock segment").changed() {
        app.session.lock_segment(index, lock);
    }
    framing_ui(app, ui, index);
    ui.horizontal(|ui| {
        if ui.button("< Cut a beat earlier").clicked() {
            app.session.move_cut(index, CutStep::EarlierBeat);
        }
        if ui.button("Cut a beat later >").clicked() {
            app.session.move_cut(index, CutStep::LaterBeat);
        }
    });
    if ui
        .button("Replace…")
        .on_hover_text("Show the next-best shots for this slot")
        .clicked()
    {
        app.session.load_candidates(index);
    }
    let mut chosen = None;
    for (k, candidate) in app.session.candidates().iter().enumerate() {
        let cname = app
            .session
            .project()
            .clip_by_key(candidate.clip)
            .map(|c| c.name())
            .unwrap_or_default();
        let label = format!("{} @ {:.1} s", cname, secs_from_ticks(candidate.src_in));
        if ui.button(label).on_hover_text(&*candidate.reason).clicked() {
            chosen = Some(k);
        }
    }
    if let Some(choice) = chosen {
        app.session.replace_segment(index, choice);
    }
}

/// How the segment is framed when the export crops (9:16 and 1:1 from wider footage):
/// follow the subject, lock to the centre, or as placed by dragging the preview.
fn framing_ui(app: &mut BeatcutApp, ui: &mut egui::Ui, index: usize) {
    use crate::reframe::Framing;
    if !app.session.project().export.effective_fit().crops() {
        return;
    }
    let current = app.session.framing(index);
    let mut chosen = current;
    ui.horizontal(|ui| {
        let label = ui.label("Framing").id;
        egui::ComboBox::from_id_salt("framing")
            .selected_text(match current {
                Framing::Follow => "Follow subject",
                Framing::Centre => "Centre",
                Framing::Fixed { .. } => "By hand",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, Framing::Follow, "Follow subject");
                ui.selectable_value(&mut chosen, Framing::Centre, "Centre");
            })
            .response
            .labelled_by(label)
            .on_hover_text("Drag the preview picture to place the crop by hand");
    });
    if chosen != current {
        app.session.set_framing(index, chosen);
    }
}

/// The keyboard shortcut list.
pub fn help_window_ui(app: &mut BeatcutApp, ctx: &egui::Context) {
    let mut open = app.show_help;
    egui::Window::new("Keyboard shortcuts")
        .open(&mut open)
        .show(ctx, |ui| {
            egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                for (keys, what) in [
                    ("Space", "play / pause"),
                    (
                        "J / K / L",
                        "shuttle back / stop / forward (repeat to speed up)",
                    ),
                    ("Left / Right", "step one frame"),
                    ("Home / End", "go to start / end"),
                    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"),
                    ("Ctrl+S", "save project"),
                    ("Ctrl+O", "open project"),
                    ("Ctrl+E", "export"),
                    ("Esc", "close the export dialog"),
                ] {
                    ui.label(keys);
                    ui.label(what);
                    ui.end_row();
                }
            });
        });
    app.show_help = open;
}

/// Offers to recover an autosaved session after a crash.
pub fn recovery_window_ui(app: &mut BeatcutApp, ctx: &egui::Context) {
    if app.session.recovery_offer().is_none() {
        return;
    }
    egui::Window::new("Recover unsaved work?")
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label("Beatcut found work that was not saved when it last closed.");
            ui.horizontal(|ui| {
                if ui.button("Recover").clicked() {
                    app.session.recover();
                }
                if ui.button("Discard").clicked() {
                    app.session.discard_recovery();
                }
            });
        });
}

/// Per-stage figures: UI frame times, preview latency, cache hit rate, analysis state.
pub fn performance_window_ui(app: &mut BeatcutApp, ctx: &egui::Context) {
    let mut open = app.show_performance;
    egui::Window::new("Performance")
        .open(&mut open)
        .show(ctx, |ui| {
            let (p50, p95, max) = app.frame_time_percentiles();
            let stats = app.session.cache().stats();
            let lookups = stats.session.hits() + stats.session.misses;
            egui::Grid::new("perf").striped(true).show(ui, |ui| {
                ui.label("UI frame time p50 / p95 / max");
                ui.label(format!("{p50:.2} / {p95:.2} / {max:.2} ms"));
                ui.end_row();
                ui.label("Preview: request to frame");
                ui.label(format!("{:.1} ms", app.preview.last_latency_ms));
                ui.end_row();
                ui.label("Cache hit rate (this session)");
                ui.label(if lookups == 0 {
                    "-".to_string()
                } else {
                    format!(
                        "{:.0} % of {lookups}",
                        100.0 * stats.session.hits() as f64 / lookups as f64
                    )
                });
                ui.end_row();
                ui.label("Analysis time saved by the cache");
                ui.label(format!("{:.1} s", stats.session.time_saved().as_secs_f64()));
                ui.end_row();
                ui.label("Clips analysed / total");
                ui.label(format!(
                    "{} / {}",
                    app.session
                        .clips()
                        .iter()
                        .filter(|c| c.analysis.is_some())
                        .count(),
                    app.session.clips().len()
                ));
                ui.end_row();
                ui.label("Last plan");
                ui.label(app.session.plan_status());
                ui.end_row();
            });
        });
    app.show_performance = open;
}

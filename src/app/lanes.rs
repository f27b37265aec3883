//! The bottom area: music lane (waveform, energy, beats, sections) and the timeline
//! (segments by clip, cuts on the beat grid, playhead).

use super::BeatcutApp;
use crate::time::{Ticks, secs_from_ticks};

const MUSIC_LANE_HEIGHT: f32 = 90.0;
const TIMELINE_HEIGHT: f32 = 64.0;

/// A distinct colour per clip.
pub fn clip_color(clip: usize) -> egui::Color32 {
    let hue = (clip as f32 * 0.618_034).fract();
    let rgb = egui::ecolor::Hsva::new(hue, 0.55, 0.75, 1.0);
    egui::Color32::from(rgb)
}

/// Music lane above the timeline, both sharing one time axis.
pub fn timeline_area_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    egui::Panel::bottom("timeline_area")
        .default_size(MUSIC_LANE_HEIGHT + TIMELINE_HEIGHT + 40.0)
        .show(ui, |ui| {
            let duration = app
                .timeline
                .as_ref()
                .map(|t| t.duration)
                .or_else(|| app.music.as_ref().map(|m| m.duration))
                .unwrap_or(0)
                .max(1);
            ui.horizontal(|ui| {
                ui.label(format!(
                    "{} / {}",
                    timecode(app.playhead, app.project.plan.fps),
                    timecode(duration, app.project.plan.fps)
                ));
                if ui
                    .button(if app.playing.is_some() {
                        "Pause"
                    } else {
                        "Play"
                    })
                    .clicked()
                {
                    app.toggle_play(1.0);
                }
                if !app.playback.available() {
                    ui.small("(no audio device: silent playback on the system clock)");
                }
            });
            beat_grid_bar_ui(app, ui);
            music_lane_ui(app, ui, duration);
            timeline_ui(app, ui, duration);
        });
}

/// The beat grid's tempo and its repairs: x2, /2, half a beat, nudges, tap tempo, reset.
fn beat_grid_bar_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    use crate::editor::GridCommand;
    let Some(grid) = app.grid() else {
        return;
    };
    let alternative = app
        .music
        .as_ref()
        .and_then(|m| m.analysis.as_ref())
        .map_or(0.0, |a| a.tempo_alternative_bpm);
    let repaired = !app.project.constraints.beat_grid.is_empty();
    let mut command = None;
    ui.horizontal(|ui| {
        ui.label(format!(
            "Beat grid: {:.1} BPM{}",
            grid.tempo_bpm,
            if repaired { " (repaired)" } else { "" }
        ));
        if alternative > 0.0 && !repaired {
            let faster = alternative > grid.tempo_bpm;
            if ui
                .small_button(format!("or {alternative:.1}?"))
                .on_hover_text("The next most likely tempo: use it instead")
                .clicked()
            {
                command = Some(if faster {
                    GridCommand::Double
                } else {
                    GridCommand::Halve
                });
            }
        }
        ui.separator();
        if ui
            .small_button("x2")
            .on_hover_text("Twice as many beats")
            .clicked()
        {
            command = Some(GridCommand::Double);
        }
        if ui
            .small_button("/2")
            .on_hover_text("Half as many beats (downbeats kept)")
            .clicked()
        {
            command = Some(GridCommand::Halve);
        }
        if ui
            .small_button("Half beat")
            .on_hover_text("Move the grid by half a beat (beats on the off-beat)")
            .clicked()
        {
            command = Some(GridCommand::ShiftHalfBeat);
        }
        if ui
            .small_button("-10 ms")
            .on_hover_text("Beats 10 ms earlier")
            .clicked()
        {
            command = Some(GridCommand::Nudge { millis: -10.0 });
        }
        if ui
            .small_button("+10 ms")
            .on_hover_text("Beats 10 ms later")
            .clicked()
        {
            command = Some(GridCommand::Nudge { millis: 10.0 });
        }
        let taps = app.taps();
        let tap_label = if taps == 0 {
            "Tap".to_string()
        } else {
            format!("Tap ({taps})")
        };
        if ui
            .small_button(tap_label)
            .on_hover_text("Tap along four times or more: the grid follows your tempo")
            .clicked()
        {
            app.tap_tempo();
        }
        if ui
            .add_enabled(repaired, egui::Button::new("Reset grid").small())
            .on_hover_text("Back to the beats the analysis found")
            .clicked()
        {
            command = Some(GridCommand::Reset);
        }
    });
    if let Some(command) = command {
        app.grid_command(command);
    }
}

fn timecode(t: Ticks, fps: crate::time::FrameRate) -> String {
    let secs = secs_from_ticks(t).max(0.0);
    let frame = fps.frame_at(t) - fps.frame_at(crate::time::ticks_from_secs(secs.floor()));
    format!(
        "{:02}:{:02}:{:02}",
        (secs / 60.0) as u64,
        secs as u64 % 60,
        frame.max(0)
    )
}

fn x_of(rect: egui::Rect, t: Ticks, duration: Ticks) -> f32 {
    rect.left() + rect.width() * (t as f32 / duration as f32)
}

fn music_lane_ui(app: &mut BeatcutApp, ui: &mut egui::Ui, duration: Ticks) {
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), MUSIC_LANE_HEIGHT),
        egui::Sense::click_and_drag(),
    );
    // An accessibility node, so the lane can be found (and dragged on) by its label.
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Music lane"));
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(24));
    let Some(music) = &app.music else {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "Music lane: drop a song",
            egui::FontId::proportional(14.0),
            egui::Color32::GRAY,
        );
        return;
    };
    if let Some(analysis) = &music.analysis {
        for section in &analysis.sections {
            let r = egui::Rect::from_x_y_ranges(
                x_of(rect, section.start, duration)..=x_of(rect, section.end, duration),
                rect.y_range(),
            );
            let tint = match section.label {
                crate::analysis::music::SectionLabel::Climax => {
                    egui::Color32::from_rgba_unmultiplied(200, 60, 60, 40)
                }
                crate::analysis::music::SectionLabel::Build => {
                    egui::Color32::from_rgba_unmultiplied(200, 160, 60, 30)
                }
                crate::analysis::music::SectionLabel::Quiet
                | crate::analysis::music::SectionLabel::Intro
                | crate::analysis::music::SectionLabel::Outro => {
                    egui::Color32::from_rgba_unmultiplied(60, 90, 200, 30)
                }
                crate::analysis::music::SectionLabel::Drop => {
                    egui::Color32::from_rgba_unmultiplied(160, 60, 200, 40)
                }
            };
            painter.rect_filled(r, 0.0, tint);
            painter.text(
                r.left_top() + egui::vec2(3.0, 2.0),
                egui::Align2::LEFT_TOP,
                section.label.as_str(),
                egui::FontId::proportional(10.0),
                egui::Color32::from_gray(170),
            );
        }
    }
    if let Some(waveform) = &music.waveform {
        let buckets = waveform.buckets(0, duration, rect.width() as usize);
        let mid = rect.center().y;
        let half = rect.height() * 0.45;
        let step = rect.width() / buckets.len().max(1) as f32;
        for (i, b) in buckets.iter().enumerate() {
            let x = rect.left() + i as f32 * step;
            painter.line_segment(
                [
                    egui::pos2(x, mid - b.max.clamp(-1.0, 1.0) * half),
                    egui::pos2(x, mid - b.min.clamp(-1.0, 1.0) * half),
                ],
                egui::Stroke::new(1.0, egui::Color32::from_rgb(90, 150, 200)),
            );
        }
    }
    if let Some(analysis) = &music.analysis {
        let energy = &analysis.energy.smoothed;
        if energy.hop > 0 && !energy.values.is_empty() {
            let n = (rect.width() as usize).max(2);
            let points: Vec<egui::Pos2> = (0..n)
                .map(|i| {
                    let t = duration * i as i64 / n as i64;
                    egui::pos2(
                        rect.left() + i as f32,
                        rect.bottom() - energy.at(t).clamp(0.0, 1.0) * rect.height(),
                    )
                })
                .collect();
            painter.add(egui::Shape::line(
                points,
                egui::Stroke::new(1.5, egui::Color32::from_rgb(240, 180, 60)),
            ));
        }
    }
    let grid = app.grid();
    let beats: &[crate::analysis::music::Beat] = grid.as_ref().map_or(&[], |g| g.beats.as_slice());
    // Shade where the tracker is unsure (beats under 0.3 confidence) and where the user said
    // there is no beat.
    for pair in beats.windows(2) {
        if pair[0].confidence < 0.3 && pair[1].confidence < 0.3 {
            let r = egui::Rect::from_x_y_ranges(
                x_of(rect, pair[0].time, duration)..=x_of(rect, pair[1].time, duration),
                rect.y_range(),
            );
            painter.rect_filled(r, 0.0, egui::Color32::from_rgba_unmultiplied(0, 0, 0, 90));
        }
    }
    let found_beatless: Vec<(Ticks, Ticks)> = app
        .music
        .as_ref()
        .and_then(|m| m.analysis.as_ref())
        .map(|a| a.beatless.clone())
        .unwrap_or_default();
    for (start, end) in found_beatless {
        let r = egui::Rect::from_x_y_ranges(
            x_of(rect, start, duration)..=x_of(rect, end, duration),
            rect.y_range(),
        );
        painter.rect_filled(r, 0.0, egui::Color32::from_rgba_unmultiplied(0, 0, 0, 110));
        painter.text(
            r.center(),
            egui::Align2::CENTER_CENTER,
            "no beat found",
            egui::FontId::proportional(10.0),
            egui::Color32::from_gray(200),
        );
    }
    for &(start, end) in &app.project.constraints.beat_grid.no_beats {
        let r = egui::Rect::from_x_y_ranges(
            x_of(rect, start, duration)..=x_of(rect, end, duration),
            rect.y_range(),
        );
        painter.rect_filled(
            r,
            0.0,
            egui::Color32::from_rgba_unmultiplied(90, 90, 90, 110),
        );
        painter.text(
            r.center(),
            egui::Align2::CENTER_CENTER,
            "no beats",
            egui::FontId::proportional(10.0),
            egui::Color32::from_gray(200),
        );
    }
    {
        for beat in beats {
            let x = x_of(rect, beat.time, duration);
            let (h, c) = if beat.beat_in_bar == 0 {
                (1.0, egui::Color32::WHITE)
            } else {
                (0.3, egui::Color32::from_gray(150))
            };
            painter.line_segment(
                [
                    egui::pos2(x, rect.top()),
                    egui::pos2(x, rect.top() + rect.height() * h * 0.35),
                ],
                egui::Stroke::new(1.0, c),
            );
        }
        // Flash the beat under the playhead.
        if let Some(beat) = beats.iter().rev().find(|b| b.time <= app.playhead)
            && app.playhead - beat.time < crate::time::TICKS_PER_SECOND / 10
        {
            painter.rect_filled(
                egui::Rect::from_center_size(
                    egui::pos2(x_of(rect, beat.time, duration), rect.top() + 6.0),
                    egui::vec2(10.0, 10.0),
                ),
                5.0,
                egui::Color32::YELLOW,
            );
        }
    }
    draw_playhead(&painter, rect, app.playhead, duration);
    lane_menu(app, &response, rect, duration, beats);
    if !drag_beat(app, &response, &painter, rect, duration, beats) {
        scrub(app, &response, rect, duration);
    }
}

/// Dragging a beat marker (the ticks along the top of the lane) moves that beat; anywhere
/// else a drag scrubs. Returns true while a beat is being dragged.
fn drag_beat(
    app: &mut BeatcutApp,
    response: &egui::Response,
    painter: &egui::Painter,
    rect: egui::Rect,
    duration: Ticks,
    beats: &[crate::analysis::music::Beat],
) -> bool {
    const GRAB_PX: f32 = 4.0;
    let time_at = |x: f32| -> Ticks {
        ((x - rect.left()).clamp(0.0, rect.width()) / rect.width() * duration as f32) as Ticks
    };
    // Where the button went down, not where the drag was recognised a few pixels later.
    if response.drag_started()
        && let Some(pos) = response
            .ctx
            .input(|i| i.pointer.press_origin())
            .or(response.interact_pointer_pos())
        && pos.y < rect.top() + rect.height() * 0.4
    {
        app.beat_drag = beats
            .iter()
            .map(|b| (b.time, (x_of(rect, b.time, duration) - pos.x).abs()))
            .filter(|(_, d)| *d <= GRAB_PX)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(t, _)| t);
    }
    let Some(from) = app.beat_drag else {
        return false;
    };
    if let Some(pos) = response.interact_pointer_pos().or(response.hover_pos()) {
        let x = pos.x.clamp(rect.left(), rect.right());
        painter.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            egui::Stroke::new(2.0, egui::Color32::YELLOW),
        );
        if response.drag_stopped() {
            app.beat_drag = None;
            let to = time_at(x);
            if to != from {
                app.grid_command(crate::editor::GridCommand::MoveBeat { from, to });
            }
        }
    } else if response.drag_stopped() {
        app.beat_drag = None;
    }
    true
}

/// The music lane's context menu: repairs at the pointer.
fn lane_menu(
    app: &mut BeatcutApp,
    response: &egui::Response,
    rect: egui::Rect,
    duration: Ticks,
    beats: &[crate::analysis::music::Beat],
) {
    use crate::editor::GridCommand;
    if response.secondary_clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        let frac = ((pos.x - rect.left()) / rect.width()).clamp(0.0, 1.0) as f64;
        app.lane_menu_at = Some((duration as f64 * frac).round() as Ticks);
    }
    let Some(at) = app.lane_menu_at else {
        return;
    };
    // The bar around `at`: from the last downbeat at or before it to the next one.
    let bar_start = beats
        .iter()
        .rev()
        .find(|b| b.beat_in_bar == 0 && b.time <= at)
        .map_or(0, |b| b.time);
    let bar_end = beats
        .iter()
        .find(|b| b.beat_in_bar == 0 && b.time > at)
        .map_or(duration, |b| b.time);
    let section = app
        .music
        .as_ref()
        .and_then(|m| m.analysis.as_ref())
        .and_then(|a| a.sections.iter().find(|s| s.start <= at && at < s.end))
        .map(|s| (s.start, s.end));
    let nearest = beats
        .iter()
        .min_by_key(|b| (b.time - at).abs())
        .map(|b| b.time);
    let mut command = None;
    response.context_menu(|ui| {
        ui.label(format!("At {:.2} s", secs_from_ticks(at)));
        if ui.button("Downbeat here").clicked() {
            command = Some(GridCommand::SetDownbeat(at));
        }
        if let Some(from) = nearest
            && ui.button("Move the nearest beat here").clicked()
        {
            command = Some(GridCommand::MoveBeat { from, to: at });
        }
        if ui.button("No beats in this bar").clicked() {
            command = Some(GridCommand::NoBeats {
                start: bar_start,
                end: bar_end,
            });
        }
        if let Some((start, end)) = section
            && ui.button("No beats in this section").clicked()
        {
            command = Some(GridCommand::NoBeats { start, end });
        }
        if !app.project.constraints.beat_grid.no_beats.is_empty()
            && ui.button("Beats everywhere again").clicked()
        {
            command = Some(GridCommand::ClearNoBeats);
        }
    });
    if let Some(command) = command {
        app.grid_command(command);
        app.lane_menu_at = None;
    }
}

fn timeline_ui(app: &mut BeatcutApp, ui: &mut egui::Ui, duration: Ticks) {
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), TIMELINE_HEIGHT),
        egui::Sense::click_and_drag(),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(18));
    let Some(timeline) = &app.timeline else {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            &app.plan_status,
            egui::FontId::proportional(14.0),
            egui::Color32::GRAY,
        );
        return;
    };
    let current = timeline.segment_at(app.playhead);
    for (i, seg) in timeline.segments.iter().enumerate() {
        let r = egui::Rect::from_x_y_ranges(
            x_of(rect, seg.start, duration)..=x_of(rect, seg.end, duration) - 1.0,
            rect.y_range(),
        );
        let mut color = clip_color(seg.clip);
        if current == Some(i) {
            color = color.gamma_multiply(1.3);
        }
        painter.rect_filled(r, 2.0, color);
        if seg.locked
            || app
                .project
                .constraints
                .locked
                .iter()
                .any(|l| l.start == seg.start)
        {
            painter.text(
                r.right_top() + egui::vec2(-10.0, 2.0),
                egui::Align2::CENTER_TOP,
                "lock",
                egui::FontId::proportional(10.0),
                egui::Color32::WHITE,
            );
        }
        if app.selected == Some(i) {
            painter.rect_stroke(
                r,
                2.0,
                egui::Stroke::new(2.0, egui::Color32::WHITE),
                egui::StrokeKind::Inside,
            );
        }
        if r.width() > 30.0 {
            let name = app
                .project
                .clips
                .get(seg.clip)
                .and_then(|p| p.file_stem())
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            painter.text(
                r.left_center() + egui::vec2(3.0, 0.0),
                egui::Align2::LEFT_CENTER,
                name,
                egui::FontId::proportional(10.0),
                egui::Color32::BLACK,
            );
        }
    }
    // Mark the next cut after the playhead.
    if let Some(next) = timeline.segments.iter().find(|s| s.start > app.playhead) {
        let x = x_of(rect, next.start, duration);
        painter.line_segment(
            [
                egui::pos2(x, rect.bottom() - 8.0),
                egui::pos2(x, rect.bottom()),
            ],
            egui::Stroke::new(3.0, egui::Color32::YELLOW),
        );
    }
    draw_playhead(&painter, rect, app.playhead, duration);
    if response.clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        let t = ((pos.x - rect.left()) / rect.width() * duration as f32) as Ticks;
        app.selected = timeline.segment_at(t);
        app.candidates.clear();
    }
    scrub(app, &response, rect, duration);
}

fn draw_playhead(painter: &egui::Painter, rect: egui::Rect, playhead: Ticks, duration: Ticks) {
    let x = x_of(rect, playhead, duration);
    painter.line_segment(
        [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
        egui::Stroke::new(2.0, egui::Color32::RED),
    );
}

fn scrub(app: &mut BeatcutApp, response: &egui::Response, rect: egui::Rect, duration: Ticks) {
    if (response.dragged() || response.clicked())
        && let Some(pos) = response.interact_pointer_pos()
    {
        let t = ((pos.x - rect.left()).clamp(0.0, rect.width()) / rect.width() * duration as f32)
            as Ticks;
        app.seek(t);
    }
}

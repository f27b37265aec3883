//! The bottom area: music lane (waveform, energy, beats, sections) and the timeline
//! (segments by clip, cuts on the beat grid, playhead).

use super::BeatcutApp;
use crate::editor::TimelineView;
use crate::time::{Ticks, secs_from_ticks};

/// The time axis of one lane: the shared view over its rectangle. The music lane's times
/// are the song's: `offset` is where timeline time 0 sits in the song (a montage shorter
/// than the song), so both lanes stay aligned.
#[derive(Clone, Copy)]
struct Axis {
    rect: egui::Rect,
    view: TimelineView,
    duration: Ticks,
    offset: Ticks,
}

impl Axis {
    fn x(&self, t: Ticks) -> f32 {
        self.view.x_of(
            t - self.offset,
            self.rect.left(),
            self.rect.width(),
            self.duration,
        )
    }

    fn time_at(&self, x: f32) -> Ticks {
        self.timeline_time_at(x) + self.offset
    }

    /// The timeline time at `x` (where the playhead goes).
    fn timeline_time_at(&self, x: f32) -> Ticks {
        self.view
            .time_at(x, self.rect.left(), self.rect.width(), self.duration)
    }

    fn visible(&self) -> (Ticks, Ticks) {
        let (start, end) = self.view.visible(self.duration);
        (start + self.offset, end + self.offset)
    }

    /// The rectangle over `start..end`, clipped to the lane.
    fn span_rect(&self, start: Ticks, end: Ticks) -> egui::Rect {
        let left = self.x(start).max(self.rect.left());
        let right = self.x(end).min(self.rect.right());
        egui::Rect::from_x_y_ranges(left..=right.max(left), self.rect.y_range())
    }
}

const MUSIC_LANE_HEIGHT: f32 = 90.0;
const TIMELINE_HEIGHT: f32 = 64.0;
/// The song overview strip (shown for a montage shorter than the song).
const OVERVIEW_HEIGHT: f32 = 16.0;
/// Segments at least this wide on screen get a clickable node of their own.
const MIN_NODE_PX: f32 = 4.0;

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
                .session
                .timeline()
                .map(|t| t.duration)
                .or_else(|| app.session.music().map(|m| m.duration))
                .unwrap_or(0)
                .max(1);
            let fps = app.session.project().plan.fps;
            ui.horizontal(|ui| {
                ui.label(format!(
                    "{} / {}",
                    timecode(app.playhead, fps),
                    timecode(duration, fps)
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
                ui.separator();
                zoom_controls_ui(app, ui, duration);
            });
            beat_grid_bar_ui(app, ui);
            if app.playing.is_some() && app.view.follow {
                app.view.reveal(app.playhead, duration);
            }
            song_overview_ui(app, ui);
            let lanes_top = ui.cursor().top();
            music_lane_ui(app, ui, duration);
            timeline_ui(app, ui, duration);
            let lanes =
                egui::Rect::from_x_y_ranges(ui.max_rect().x_range(), lanes_top..=ui.cursor().top());
            zoom_and_scroll_with_pointer(app, ui, lanes, duration);
        });
}

/// The whole song as a strip with the stretch a shorter montage uses (only when a length is
/// set): drag the stretch to move it; it snaps to the nearest downbeat when dropped.
fn song_overview_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    let Some(region) = app.session.timeline().and_then(|t| t.region) else {
        return;
    };
    let Some(song) = app.session.music().map(|m| m.duration).filter(|d| *d > 0) else {
        return;
    };
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), OVERVIEW_HEIGHT),
        egui::Sense::drag(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, "Song region"));
    let x = |t: Ticks| rect.left() + rect.width() * (t as f64 / song as f64) as f32;
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(30));
    if let Some(analysis) = app.session.music().and_then(|m| m.analysis.clone()) {
        for section in &analysis.sections {
            if section.label == crate::analysis::music::SectionLabel::Climax {
                let r =
                    egui::Rect::from_x_y_ranges(x(section.start)..=x(section.end), rect.y_range());
                painter.rect_filled(
                    r,
                    0.0,
                    egui::Color32::from_rgba_unmultiplied(200, 60, 60, 70),
                );
            }
        }
    }
    let length = region.end - region.start;
    // While dragging, the stretch follows the pointer (centred on it); dropped, it is placed.
    let dragged_start = response
        .interact_pointer_pos()
        .filter(|_| response.dragged() || response.drag_stopped())
        .map(|p| {
            let t = ((p.x - rect.left()) / rect.width()).clamp(0.0, 1.0) as f64 * song as f64;
            (t as Ticks - length / 2).clamp(0, song - length)
        });
    let start = dragged_start.unwrap_or(region.start);
    let r = egui::Rect::from_x_y_ranges(x(start)..=x(start + length), rect.y_range());
    painter.rect_filled(
        r,
        2.0,
        egui::Color32::from_rgba_unmultiplied(240, 200, 60, 60),
    );
    painter.rect_stroke(
        r,
        2.0,
        egui::Stroke::new(1.5, egui::Color32::from_rgb(240, 200, 60)),
        egui::StrokeKind::Inside,
    );
    painter.text(
        r.left_center() + egui::vec2(3.0, 0.0),
        egui::Align2::LEFT_CENTER,
        format!(
            "{:.1}–{:.1} s of the song",
            secs_from_ticks(start),
            secs_from_ticks(start + length)
        ),
        egui::FontId::proportional(10.0),
        egui::Color32::WHITE,
    );
    if response.drag_stopped()
        && let Some(start) = dragged_start
    {
        app.session.place_region(Some(start));
    }
}

/// The zoom slider (seconds in view, logarithmic), "Fit" and "Follow playhead".
fn zoom_controls_ui(app: &mut BeatcutApp, ui: &mut egui::Ui, duration: Ticks) {
    let (start, end) = app.view.visible(duration);
    let longest = secs_from_ticks(duration).max(secs_from_ticks(crate::editor::MIN_SPAN));
    let mut seconds = secs_from_ticks(end - start);
    let slider = egui::Slider::new(
        &mut seconds,
        secs_from_ticks(crate::editor::MIN_SPAN)..=longest,
    )
    .logarithmic(true)
    .suffix(" s")
    .fixed_decimals(2)
    .text("in view");
    if ui
        .add(slider)
        .on_hover_text("Zoom the timeline and music lane (Ctrl+wheel over them zooms around the pointer; Shift+wheel scrolls)")
        .changed()
    {
        app.view
            .set_span(crate::time::ticks_from_secs(seconds), duration);
    }
    if ui
        .add_enabled(!app.view.is_fit(), egui::Button::new("Fit"))
        .on_hover_text("Show the whole montage")
        .clicked()
    {
        app.view.fit();
    }
    ui.checkbox(&mut app.view.follow, "Follow playhead");
}

/// Ctrl+wheel (or a pinch) over the lanes zooms around the pointer; a horizontal wheel or
/// Shift+wheel scrolls.
fn zoom_and_scroll_with_pointer(
    app: &mut BeatcutApp,
    ui: &egui::Ui,
    lanes: egui::Rect,
    duration: Ticks,
) {
    let Some(pointer) = ui
        .input(|i| i.pointer.hover_pos())
        .filter(|p| lanes.contains(*p))
    else {
        return;
    };
    let (zoom, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta));
    if (zoom - 1.0).abs() > f32::EPSILON {
        let anchor = app
            .view
            .time_at(pointer.x, lanes.left(), lanes.width(), duration);
        app.view.zoom_around(f64::from(zoom), anchor, duration);
    } else if scroll.x.abs() > 0.0 {
        let (start, end) = app.view.visible(duration);
        let per_pixel = (end - start) as f64 / f64::from(lanes.width().max(1.0));
        app.view.scroll_by(
            (-f64::from(scroll.x) * per_pixel).round() as Ticks,
            duration,
        );
    }
}

/// The beat grid's tempo and its repairs: x2, /2, half a beat, nudges, tap tempo, reset.
fn beat_grid_bar_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    use crate::editor::GridCommand;
    let Some(grid) = app.session.grid() else {
        return;
    };
    let alternative = app
        .session
        .music()
        .and_then(|m| m.analysis.as_ref())
        .map_or(0.0, |a| a.tempo_alternative_bpm);
    let repaired = !app.session.project().constraints.beat_grid.is_empty();
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
        let taps = app.session.taps();
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
            app.session.tap_tempo();
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
        app.session.grid_command(command);
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

fn music_lane_ui(app: &mut BeatcutApp, ui: &mut egui::Ui, duration: Ticks) {
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), MUSIC_LANE_HEIGHT),
        egui::Sense::click_and_drag(),
    );
    // An accessibility node, so the lane can be found (and dragged on) by its label.
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Music lane"));
    let axis = Axis {
        rect,
        view: app.view,
        duration,
        offset: app.session.timeline().map_or(0, |t| t.music_start()),
    };
    let playhead = app.playhead + axis.offset;
    let (view_start, view_end) = axis.visible();
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(24));
    let Some(music) = app.session.music() else {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "Music lane: drop a song",
            egui::FontId::proportional(14.0),
            egui::Color32::GRAY,
        );
        return;
    };
    let analysis = music.analysis.clone();
    if let Some(analysis) = &analysis {
        for section in &analysis.sections {
            if section.end < view_start || section.start > view_end {
                continue;
            }
            let r = axis.span_rect(section.start, section.end);
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
        draw_waveform(&painter, &axis, waveform);
    }
    if let Some(analysis) = &analysis {
        let energy = &analysis.energy.smoothed;
        if energy.hop > 0 && !energy.values.is_empty() {
            let n = (rect.width() as usize).max(2);
            let points: Vec<egui::Pos2> = (0..n)
                .map(|i| {
                    let t = axis.time_at(rect.left() + i as f32);
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
    let grid = app.session.grid();
    let all_beats: &[crate::analysis::music::Beat] =
        grid.as_ref().map_or(&[], |g| g.beats.as_slice());
    // Only the beats in view (and one either side, for the shading between them).
    let first = all_beats
        .partition_point(|b| b.time < view_start)
        .saturating_sub(1);
    let last = (all_beats.partition_point(|b| b.time <= view_end) + 1).min(all_beats.len());
    let beats = &all_beats[first..last.max(first)];
    // Shade where the tracker is unsure (beats under 0.3 confidence) and where the user said
    // there is no beat.
    for pair in beats.windows(2) {
        if pair[0].confidence < 0.3 && pair[1].confidence < 0.3 {
            let r = axis.span_rect(pair[0].time, pair[1].time);
            painter.rect_filled(r, 0.0, egui::Color32::from_rgba_unmultiplied(0, 0, 0, 90));
        }
    }
    let found_beatless: Vec<(Ticks, Ticks)> = analysis
        .as_ref()
        .map(|a| a.beatless.clone())
        .unwrap_or_default();
    for (start, end) in found_beatless {
        let r = axis.span_rect(start, end);
        painter.rect_filled(r, 0.0, egui::Color32::from_rgba_unmultiplied(0, 0, 0, 110));
        painter.text(
            r.center(),
            egui::Align2::CENTER_CENTER,
            "no beat found",
            egui::FontId::proportional(10.0),
            egui::Color32::from_gray(200),
        );
    }
    for &(start, end) in &app.session.project().constraints.beat_grid.no_beats {
        let r = axis.span_rect(start, end);
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
    // Stretches moved by half a beat: an amber band along the bottom (the top holds the
    // section names), so the repair shows.
    for &(start, end) in &app.session.project().constraints.beat_grid.half_beat_spans {
        let r = axis.span_rect(start, end);
        let band = egui::Rect::from_min_max(egui::pos2(r.min.x, r.max.y - 12.0), r.max);
        painter.rect_filled(
            band,
            0.0,
            egui::Color32::from_rgba_unmultiplied(200, 140, 20, 200),
        );
        painter.text(
            band.left_center() + egui::vec2(4.0, 0.0),
            egui::Align2::LEFT_CENTER,
            "half a beat later",
            egui::FontId::proportional(10.0),
            egui::Color32::from_gray(230),
        );
    }
    for beat in beats {
        let x = axis.x(beat.time);
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
    if let Some(beat) = beats.iter().rev().find(|b| b.time <= playhead)
        && playhead - beat.time < crate::time::TICKS_PER_SECOND / 10
    {
        painter.rect_filled(
            egui::Rect::from_center_size(
                egui::pos2(axis.x(beat.time), rect.top() + 6.0),
                egui::vec2(10.0, 10.0),
            ),
            5.0,
            egui::Color32::YELLOW,
        );
    }
    draw_playhead(&painter, &axis, playhead);
    lane_menu(app, &response, &axis, all_beats);
    if !drag_beat(app, &response, &painter, &axis, beats) {
        scrub(app, &response, &axis);
    }
}

/// The waveform of the stretch in view, from the pyramid level with about one bucket per
/// pixel (so any zoom costs what a lane's width of buckets does), each bucket at its time.
fn draw_waveform(
    painter: &egui::Painter,
    axis: &Axis,
    waveform: &crate::analysis::music::WaveformPyramid,
) {
    let (start, end) = axis.visible();
    let rect = axis.rect;
    let Some((level, first, stop)) = waveform.level_for(start, end, rect.width() as usize) else {
        return;
    };
    let Some(buckets) = waveform.levels.get(level).and_then(|l| l.get(first..stop)) else {
        return;
    };
    let bucket = waveform.bucket_ticks(level).max(1);
    let mid = rect.center().y;
    let half = rect.height() * 0.45;
    let color = egui::Color32::from_rgb(90, 150, 200);
    for (i, b) in buckets.iter().enumerate() {
        let t0 = (first + i) as Ticks * bucket;
        let x0 = axis.x(t0).max(rect.left());
        let x1 = axis.x(t0 + bucket).min(rect.right());
        let top = mid - b.max.clamp(-1.0, 1.0) * half;
        let bottom = mid - b.min.clamp(-1.0, 1.0) * half;
        if x1 - x0 > 1.5 {
            painter.rect_filled(
                egui::Rect::from_min_max(
                    egui::pos2(x0, top),
                    egui::pos2(x1, bottom.max(top + 1.0)),
                ),
                0.0,
                color,
            );
        } else {
            painter.line_segment(
                [egui::pos2(x0, top), egui::pos2(x0, bottom)],
                egui::Stroke::new(1.0, color),
            );
        }
    }
}

/// Dragging a beat marker (the ticks along the top of the lane) moves that beat; anywhere
/// else a drag scrubs. Returns true while a beat is being dragged.
fn drag_beat(
    app: &mut BeatcutApp,
    response: &egui::Response,
    painter: &egui::Painter,
    axis: &Axis,
    beats: &[crate::analysis::music::Beat],
) -> bool {
    const GRAB_PX: f32 = 4.0;
    let rect = axis.rect;
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
            .map(|b| (b.time, (axis.x(b.time) - pos.x).abs()))
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
            let to = axis.time_at(x);
            if to != from {
                app.session
                    .grid_command(crate::editor::GridCommand::MoveBeat { from, to });
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
    axis: &Axis,
    beats: &[crate::analysis::music::Beat],
) {
    use crate::editor::GridCommand;
    if response.secondary_clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        app.lane_menu_at = Some(axis.time_at(pos.x));
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
        .map_or(axis.offset + axis.duration, |b| b.time);
    let section = app
        .session
        .music()
        .and_then(|m| m.analysis.as_ref())
        .and_then(|a| a.sections.iter().find(|s| s.start <= at && at < s.end))
        .map(|s| (s.start, s.end));
    let nearest = beats
        .iter()
        .min_by_key(|b| (b.time - at).abs())
        .map(|b| b.time);
    let has_no_beats = !app
        .session
        .project()
        .constraints
        .beat_grid
        .no_beats
        .is_empty();
    let section_shifted = section.is_some_and(|span| {
        app.session
            .project()
            .constraints
            .beat_grid
            .half_beat_spans
            .contains(&span)
    });
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
        if let Some((start, end)) = section {
            let label = if section_shifted {
                "Beats of this section as found"
            } else {
                "Half a beat later in this section"
            };
            if ui.button(label).clicked() {
                command = Some(GridCommand::HalfBeatIn { start, end });
            }
        }
        if has_no_beats && ui.button("Beats everywhere again").clicked() {
            command = Some(GridCommand::ClearNoBeats);
        }
    });
    if let Some(command) = command {
        app.session.grid_command(command);
        app.lane_menu_at = None;
    }
}

fn timeline_ui(app: &mut BeatcutApp, ui: &mut egui::Ui, duration: Ticks) {
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), TIMELINE_HEIGHT),
        egui::Sense::click_and_drag(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Timeline"));
    let axis = Axis {
        rect,
        view: app.view,
        duration,
        offset: 0,
    };
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(18));
    let Some(timeline) = app.session.timeline() else {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            app.session.plan_status(),
            egui::FontId::proportional(14.0),
            egui::Color32::GRAY,
        );
        return;
    };
    let (view_start, view_end) = axis.visible();
    let current = timeline.segment_at(app.playhead);
    let selected = app.session.selected();
    let project = app.session.project();
    let first = timeline.segments.partition_point(|s| s.end <= view_start);
    let mut clicked = None;
    for (i, seg) in timeline
        .segments
        .iter()
        .enumerate()
        .skip(first)
        .take_while(|(_, s)| s.start < view_end)
    {
        let r = axis.span_rect(seg.start, seg.end);
        let r = r.with_max_x((r.max.x - 1.0).max(r.min.x));
        let mut color = clip_color(seg.clip);
        if current == Some(i) {
            color = color.gamma_multiply(1.3);
        }
        painter.rect_filled(r, 2.0, color);
        let locked = seg.locked
            || project
                .constraints
                .locked
                .iter()
                .any(|l| l.start == seg.start);
        if locked && r.width() > 12.0 {
            painter.text(
                r.right_top() + egui::vec2(-10.0, 2.0),
                egui::Align2::CENTER_TOP,
                "lock",
                egui::FontId::proportional(10.0),
                egui::Color32::WHITE,
            );
        }
        if selected == Some(i) {
            painter.rect_stroke(
                r,
                2.0,
                egui::Stroke::new(2.0, egui::Color32::WHITE),
                egui::StrokeKind::Inside,
            );
        }
        let name = project
            .clip_by_key(seg.clip)
            .and_then(|c| c.path.file_stem())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if r.width() > 30.0 {
            painter.text(
                r.left_center() + egui::vec2(3.0, 0.0),
                egui::Align2::LEFT_CENTER,
                &name,
                egui::FontId::proportional(10.0),
                egui::Color32::BLACK,
            );
        }
        // A segment wide enough to aim at is a clickable node of its own ("Segment 12:
        // clip"), found by a user, a screen reader or a test; narrower ones (hundreds at
        // fit-all) are picked by a click on the lane, which selects the segment under it.
        if r.width() < MIN_NODE_PX {
            continue;
        }
        let segment_response = ui.interact(r, rect_id(&response, i), egui::Sense::click());
        segment_response.widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::Role::Button,
                true,
                format!("Segment {}: {name}", i + 1),
            )
        });
        if segment_response.clicked() {
            let at = segment_response
                .interact_pointer_pos()
                .map_or(seg.start, |p| axis.time_at(p.x));
            clicked = Some((i, at));
        }
    }
    // Mark the next cut after the playhead.
    if let Some(next) = timeline.segments.iter().find(|s| s.start > app.playhead)
        && next.start < view_end
    {
        let x = axis.x(next.start);
        painter.line_segment(
            [
                egui::pos2(x, rect.bottom() - 8.0),
                egui::pos2(x, rect.bottom()),
            ],
            egui::Stroke::new(3.0, egui::Color32::YELLOW),
        );
    }
    draw_playhead(&painter, &axis, app.playhead);
    if let Some((index, at)) = clicked {
        app.session.select(Some(index));
        app.seek(at);
    } else if response.clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        let t = axis.time_at(pos.x);
        let index = app.session.timeline().and_then(|t2| t2.segment_at(t));
        app.session.select(index);
    }
    scrub(app, &response, &axis);
}

/// The id of segment `index`'s click area inside the timeline.
fn rect_id(timeline: &egui::Response, index: usize) -> egui::Id {
    timeline.id.with(("segment", index))
}

fn draw_playhead(painter: &egui::Painter, axis: &Axis, playhead: Ticks) {
    let (start, end) = axis.visible();
    if !(start..=end).contains(&playhead) {
        return;
    }
    let x = axis.x(playhead);
    painter.line_segment(
        [
            egui::pos2(x, axis.rect.top()),
            egui::pos2(x, axis.rect.bottom()),
        ],
        egui::Stroke::new(2.0, egui::Color32::RED),
    );
}

fn scrub(app: &mut BeatcutApp, response: &egui::Response, axis: &Axis) {
    if (response.dragged() || response.clicked())
        && let Some(pos) = response.interact_pointer_pos()
    {
        app.seek(axis.timeline_time_at(pos.x));
    }
}

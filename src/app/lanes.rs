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
            music_lane_ui(app, ui, duration);
            timeline_ui(app, ui, duration);
        });
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
        for beat in &analysis.beats {
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
        if let Some(beat) = analysis.beats.iter().rev().find(|b| b.time <= app.playhead)
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
    scrub(app, &response, rect, duration);
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

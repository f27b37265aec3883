//! The preview viewer: shows the frames the engine's [`PreviewPlayer`] decodes (see
//! `crate::preview`), aspect-correct, with the safe-area guide for social formats. With a
//! wgpu render state the 4:2:0 planes go to the GPU and `shaders/yuv_to_rgb.wgsl` converts
//! them; without one (the headless tests, or a pipeline that failed to build) the CPU
//! reference conversion feeds an egui texture.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::BeatcutApp;
use super::preview_gpu::PreviewCallback;
use crate::media::VideoFrame;
use crate::preview::{PreviewPlayer, YuvMatrix};
use crate::time::Ticks;

/// The frame on screen in GPU mode.
struct Current {
    frame: Arc<VideoFrame>,
    matrix: YuvMatrix,
    generation: u64,
}

/// What the viewer shows, and the decode thread ([`PreviewPlayer`]) that feeds it.
pub struct Preview {
    player: PreviewPlayer,
    texture: Option<egui::TextureHandle>,
    gpu: bool,
    current: Option<Current>,
    generation: u64,
    error: Option<String>,
    /// Time from request to display of the last frame, for the performance readout.
    pub last_latency_ms: f32,
    requested_at: Option<Instant>,
    /// Loop playback over the selected segment.
    pub loop_segment: bool,
    last_playhead: Ticks,
    /// True when the frame on screen came from a seek proxy (lower resolution).
    pub showing_proxy: bool,
    /// While the user drags the picture to place the crop: the segment and the crop's
    /// centre so far (committed as one undoable framing on release).
    crop_drag: Option<(usize, (f32, f32))>,
}

impl Preview {
    /// Starts the preview's decode thread.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self {
            player: PreviewPlayer::new(waker),
            texture: None,
            gpu: false,
            current: None,
            generation: 0,
            error: None,
            last_latency_ms: 0.0,
            requested_at: None,
            loop_segment: false,
            last_playhead: 0,
            showing_proxy: false,
            crop_drag: None,
        }
    }

    /// True when the last frame asked for has been answered (shown, or its error).
    pub fn is_settled(&self) -> bool {
        self.player.is_settled()
    }

    /// Never makes seek proxies (see [`BeatcutApp::without_seek_proxies`]).
    pub fn disable_proxies(&mut self) {
        self.player.disable_proxies();
    }

    fn request(&mut self, path: PathBuf, time: Ticks, playing: bool) {
        if self.player.request(path, time, !self.gpu, playing) {
            self.requested_at = Some(Instant::now());
        }
    }

    fn receive(&mut self, ctx: &egui::Context) {
        for shown in self.player.drain() {
            self.error = shown.error;
            if let Some(served) = shown.frame {
                let frame = &served.frame;
                if let Some(rgba) = shown.rgba {
                    let image = egui::ColorImage::from_rgba_unmultiplied(
                        [frame.width as usize, frame.height as usize],
                        &rgba,
                    );
                    match &mut self.texture {
                        Some(texture) => texture.set(image, egui::TextureOptions::LINEAR),
                        None => {
                            self.texture = Some(ctx.load_texture(
                                "preview",
                                image,
                                egui::TextureOptions::LINEAR,
                            ))
                        }
                    }
                }
                self.showing_proxy = served.proxy;
                self.generation += 1;
                self.current = Some(Current {
                    frame: served.frame.clone(),
                    matrix: served.matrix,
                    generation: self.generation,
                });
                if let Some(at) = self.requested_at.take() {
                    self.last_latency_ms = at.elapsed().as_secs_f32() * 1000.0;
                }
            }
        }
    }
}

impl BeatcutApp {
    /// Draws preview frames on the GPU from now on (called with eframe's wgpu render state).
    /// Returns false, keeping the CPU path, when the pipeline cannot be built.
    pub fn use_wgpu_preview(&mut self, render_state: &egui_wgpu::RenderState) -> bool {
        match super::preview_gpu::install(render_state) {
            Ok(()) => {
                self.preview.gpu = true;
                self.preview.player.forget_request();
                true
            }
            Err(e) => {
                tracing::warn!("GPU preview unavailable, converting frames on the CPU: {e}");
                false
            }
        }
    }
}

/// The central preview area.
pub fn preview_panel_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    app.preview.receive(ui.ctx());
    // Frames are shown on the output frame grid: during playback that is the output rate.
    let fps = app.session.project().plan.fps;
    let at = fps.ticks_of_frame(fps.frame_at(app.playhead));
    let mut shown: Option<(usize, Ticks)> = None;
    if let Some(timeline) = app.session.timeline()
        && let Some(index) = timeline.segment_at(at)
        && let Some(seg) = timeline.segments.get(index)
        && let Some(clip) = app.session.project().clip_by_key(seg.clip)
    {
        let path = clip.path.clone();
        let source_time = seg.src_in + (at - seg.start);
        shown = Some((index, source_time));
        let playing = app.playing.is_some();
        app.preview.player.want_proxy(&path, app.session.cache());
        app.preview.request(path, source_time, playing);
    }
    scrub_audio(app, ui.ctx());
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            let can_loop = app.session.selected().is_some();
            ui.add_enabled(
                can_loop,
                egui::Checkbox::new(&mut app.preview.loop_segment, "Loop segment"),
            )
            .on_hover_text("Playback loops over the selected segment")
            .on_disabled_hover_text("Select a segment on the timeline to loop it");
            if app.preview.gpu {
                ui.weak("GPU");
            }
            if app.preview.showing_proxy {
                ui.weak("Proxy").on_hover_text(
                    "Shown from the low-resolution seek proxy; the full-resolution frame follows when the playhead rests",
                );
            }
        });
        let available = ui.available_rect_before_wrap();
        let painter = ui.painter_at(available);
        painter.rect_filled(available, 0.0, egui::Color32::BLACK);
        let aspect = app.session.project().export.aspect;
        let (out_w, out_h) = match aspect {
            crate::render::Aspect::Landscape => (16.0, 9.0),
            crate::render::Aspect::Portrait => (9.0, 16.0),
            crate::render::Aspect::Square => (1.0, 1.0),
        };
        let scale = (available.width() / out_w).min(available.height() / out_h);
        let frame_rect = egui::Rect::from_center_size(
            available.center(),
            egui::vec2(out_w * scale, out_h * scale),
        );
        painter.rect_stroke(
            frame_rect,
            0.0,
            egui::Stroke::new(1.0, egui::Color32::from_gray(60)),
            egui::StrokeKind::Outside,
        );
        let size = match (&app.preview.current, app.session.timeline()) {
            (Some(current), Some(_)) => Some(egui::vec2(
                current.frame.width as f32,
                current.frame.height as f32,
            )),
            _ => None,
        };
        // Where the export crops this frame: the whole picture is drawn so that the crop
        // window fills the frame, and what the export leaves out is dimmed around it.
        let crop = shown.and_then(|(index, time)| {
            let mut window = app.session.crop_window(index, time)?;
            if let Some((dragged, centre)) = app.preview.crop_drag
                && dragged == index
            {
                window.centre = crate::reframe::clamp_centre(centre, window.size);
            }
            Some((index, window))
        });
        match size {
            Some(size) if size.x > 0.0 && size.y > 0.0 => {
                let image_rect = match crop {
                    Some((_, window)) => {
                        let full = egui::vec2(
                            frame_rect.width() / window.size.0,
                            frame_rect.height() / window.size.1,
                        );
                        let offset = egui::vec2(
                            (window.centre.0 - window.size.0 / 2.0) * full.x,
                            (window.centre.1 - window.size.1 / 2.0) * full.y,
                        );
                        egui::Rect::from_min_size(frame_rect.min - offset, full)
                    }
                    None => {
                        let s = (frame_rect.width() / size.x).min(frame_rect.height() / size.y);
                        egui::Rect::from_center_size(frame_rect.center(), size * s)
                    }
                };
                match (&app.preview.current, &app.preview.texture) {
                    (Some(current), _) if app.preview.gpu => {
                        painter.add(egui_wgpu::Callback::new_paint_callback(
                            image_rect,
                            PreviewCallback {
                                frame: current.frame.clone(),
                                matrix: current.matrix,
                                generation: current.generation,
                            },
                        ));
                    }
                    (_, Some(texture)) => {
                        painter.image(
                            texture.id(),
                            image_rect,
                            egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                            egui::Color32::WHITE,
                        );
                    }
                    _ => {}
                }
                if crop.is_some() {
                    let dim = egui::Color32::from_black_alpha(170);
                    for outside in [
                        egui::Rect::from_min_max(available.min, egui::pos2(frame_rect.left(), available.bottom())),
                        egui::Rect::from_min_max(egui::pos2(frame_rect.right(), available.top()), available.max),
                        egui::Rect::from_min_max(egui::pos2(frame_rect.left(), available.top()), egui::pos2(frame_rect.right(), frame_rect.top())),
                        egui::Rect::from_min_max(egui::pos2(frame_rect.left(), frame_rect.bottom()), egui::pos2(frame_rect.right(), available.bottom())),
                    ] {
                        painter.rect_filled(outside, 0.0, dim);
                    }
                    painter.rect_stroke(
                        frame_rect,
                        0.0,
                        egui::Stroke::new(1.5, egui::Color32::from_rgb(240, 200, 80)),
                        egui::StrokeKind::Outside,
                    );
                }
                // Safe-area guide (90 %) for social formats.
                if aspect != crate::render::Aspect::Landscape {
                    painter.rect_stroke(
                        frame_rect.shrink2(frame_rect.size() * 0.05),
                        0.0,
                        egui::Stroke::new(1.0, egui::Color32::from_white_alpha(60)),
                        egui::StrokeKind::Inside,
                    );
                }
            }
            _ => {
                painter.text(
                    frame_rect.center(),
                    egui::Align2::CENTER_CENTER,
                    "Preview",
                    egui::FontId::proportional(18.0),
                    egui::Color32::GRAY,
                );
            }
        }
        if let Some((index, window)) = crop {
            crop_drag_ui(app, ui, available, frame_rect, index, window);
        }
        if let Some(error) = &app.preview.error {
            painter.text(
                frame_rect.left_bottom() + egui::vec2(8.0, -8.0),
                egui::Align2::LEFT_BOTTOM,
                error,
                egui::FontId::proportional(12.0),
                egui::Color32::from_rgb(230, 120, 60),
            );
        }
    });
}

/// Dragging the picture places the crop by hand: the frame shows the new framing while the
/// pointer moves, and the release makes it the segment's framing (one undo step).
fn crop_drag_ui(
    app: &mut BeatcutApp,
    ui: &mut egui::Ui,
    area: egui::Rect,
    frame_rect: egui::Rect,
    index: usize,
    window: crate::editor::CropWindow,
) {
    let response = ui
        .interact(
            area,
            egui::Id::unique("preview_crop_drag"),
            egui::Sense::drag(),
        )
        .on_hover_text("Drag the picture to place the crop for this segment");
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, "Preview picture"));
    let full = egui::vec2(
        frame_rect.width() / window.size.0,
        frame_rect.height() / window.size.1,
    );
    if response.dragged() {
        let (mut x, mut y) = app
            .preview
            .crop_drag
            .filter(|(i, _)| *i == index)
            .map_or(window.centre, |(_, c)| c);
        let delta = response.drag_delta();
        x -= delta.x / full.x.max(1.0);
        y -= delta.y / full.y.max(1.0);
        app.preview.crop_drag = Some((index, crate::reframe::clamp_centre((x, y), window.size)));
    }
    if response.drag_stopped()
        && let Some((dragged, (x, y))) = app.preview.crop_drag.take()
    {
        app.session
            .set_framing(dragged, crate::reframe::Framing::Fixed { x, y });
    }
}

/// While the playhead is dragged (not playing), plays a short snippet of the music there.
fn scrub_audio(app: &mut BeatcutApp, ctx: &egui::Context) {
    let moved = app.playhead != app.preview.last_playhead;
    app.preview.last_playhead = app.playhead;
    if moved && app.playing.is_none() && ctx.input(|i| i.pointer.primary_down()) {
        app.playback.scrub(app.playhead);
    }
}

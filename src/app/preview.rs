//! The preview viewer: the frame under the playhead, served on a background thread by a
//! [`FrameServer`] (a newer request supersedes an older one; recent frames cached; a few
//! frames decoded ahead while idle) and shown aspect-correct. Each clip shown gets a seek
//! proxy made in the background ([`super::proxy::ProxyWorker`]); once it exists a seek shows
//! the exact frame from the proxy at once, and the full-resolution frame replaces it when
//! the playhead has rested for [`REFINE_AFTER`] (a newer request cancels that decode). With a wgpu render state the
//! 4:2:0 planes go to the GPU and `shaders/yuv_to_rgb.wgsl` converts them; without one (the
//! headless tests, or a pipeline that failed to build) the CPU reference conversion feeds an
//! egui texture.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::BeatcutApp;
use super::frame_server::{FrameServer, FrameServerOptions, ServedFrame};
use super::preview_gpu::PreviewCallback;
use super::proxy::{ProxyWorker, ReadyProxies};
use super::yuv::{YuvMatrix, yuv420p_to_rgba};
use crate::jobs::CancelToken;
use crate::media::{MediaError, VideoFrame};
use crate::time::Ticks;

/// Frames decoded ahead of the last request while no newer request waits, during playback
/// (paused, the decoder stays idle so analysis and planning get the cores).
const LOOK_AHEAD_FRAMES: usize = 8;

/// A frame shown from a seek proxy is replaced by the full-resolution one once no newer
/// request came for this long (decoding that costs up to a GOP; not worth starting while
/// the playhead still moves).
const REFINE_AFTER: Duration = Duration::from_millis(150);

#[derive(Debug, Clone, PartialEq)]
struct Request {
    path: PathBuf,
    time: Ticks,
    /// Also convert to RGBA on the decode thread (no GPU path).
    rgba: bool,
    /// Frames to decode ahead afterwards while idle.
    look_ahead: usize,
}

enum Command {
    Show(Request),
    Stop,
}

/// A decoded preview frame for a request.
struct Shown {
    request: Request,
    frame: Option<ServedFrame>,
    rgba: Option<Vec<u8>>,
    error: Option<String>,
}

/// The frame on screen in GPU mode.
struct Current {
    frame: Arc<VideoFrame>,
    matrix: YuvMatrix,
    generation: u64,
}

/// What the UI hands the decode thread.
#[derive(Default)]
struct Pending {
    /// The newest command not yet taken.
    command: Option<Command>,
    /// Token of the full-resolution refine under way; a new command cancels it.
    refine: CancelToken,
}

type Slot = Arc<(Mutex<Pending>, Condvar)>;

/// Preview decoding and display state owned by the UI.
pub struct Preview {
    slot: Slot,
    rx: Receiver<Shown>,
    last_request: Option<Request>,
    texture: Option<egui::TextureHandle>,
    gpu: bool,
    current: Option<Current>,
    generation: u64,
    shown: Option<Request>,
    error: Option<String>,
    /// Time from request to display of the last frame, for the performance readout.
    pub last_latency_ms: f32,
    requested_at: Option<Instant>,
    /// Loop playback over the selected segment.
    pub loop_segment: bool,
    last_playhead: Ticks,
    /// True when the frame on screen came from a seek proxy (lower resolution).
    pub showing_proxy: bool,
    proxies: ProxyWorker,
}

impl Preview {
    /// Starts the preview decoding thread.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let slot: Slot = Arc::new((Mutex::new(Pending::default()), Condvar::new()));
        let (tx, rx) = bounded(2);
        let thread_slot = slot.clone();
        let busy = Arc::new(AtomicBool::new(false));
        let proxies = ProxyWorker::new(busy.clone());
        let ready = proxies.ready();
        let spawned = std::thread::Builder::new()
            .name("preview-decode".into())
            .spawn(move || decode_loop(&thread_slot, &tx, &*waker, &ready, &busy));
        if let Err(e) = spawned {
            tracing::error!("cannot start the preview thread: {e}");
        }
        Self {
            slot,
            rx,
            last_request: None,
            texture: None,
            gpu: false,
            current: None,
            generation: 0,
            shown: None,
            error: None,
            last_latency_ms: 0.0,
            requested_at: None,
            loop_segment: false,
            last_playhead: 0,
            showing_proxy: false,
            proxies,
        }
    }

    fn send(&self, command: Command) {
        let (lock, cvar) = &*self.slot;
        if let Ok(mut pending) = lock.lock() {
            pending.command = Some(command);
            pending.refine.cancel();
            cvar.notify_one();
        }
    }

    /// True when the last frame asked for has been answered (shown, or its error).
    pub fn is_settled(&self) -> bool {
        self.shown == self.last_request
    }

    fn request(&mut self, path: PathBuf, time: Ticks, playing: bool) {
        let request = Request {
            path,
            time,
            rgba: !self.gpu,
            look_ahead: if playing { LOOK_AHEAD_FRAMES } else { 0 },
        };
        if self.last_request.as_ref() == Some(&request) {
            return;
        }
        self.last_request = Some(request.clone());
        self.requested_at = Some(Instant::now());
        self.send(Command::Show(request));
    }

    fn receive(&mut self, ctx: &egui::Context) {
        while let Ok(shown) = self.rx.try_recv() {
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
            self.shown = Some(shown.request);
        }
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        self.send(Command::Stop);
    }
}

/// What the decode thread does next.
enum Work {
    Command(Command),
    /// Decode one frame ahead (playback, no newer request).
    Prefetch,
    /// Replace the proxy frame of this request by the full-resolution one.
    Refine(Request, CancelToken),
}

/// Waits for the next piece of work: a new command first, then look-ahead, then a due
/// refine. `None` when the UI side is gone.
fn next_work(slot: &Slot, prefetch: bool, refine: &mut Option<(Request, Instant)>) -> Option<Work> {
    let (lock, cvar) = &**slot;
    let mut pending = lock.lock().ok()?;
    loop {
        if let Some(command) = pending.command.take() {
            return Some(Work::Command(command));
        }
        if prefetch {
            return Some(Work::Prefetch);
        }
        match refine.as_ref().map(|(_, due)| *due) {
            Some(due) => {
                let now = Instant::now();
                if now >= due {
                    let (request, _) = refine.take()?;
                    // Installed under the lock: a command sent from now on cancels it.
                    let token = CancelToken::new();
                    pending.refine = token.clone();
                    return Some(Work::Refine(request, token));
                }
                pending = cvar.wait_timeout(pending, due - now).ok()?.0;
            }
            None => pending = cvar.wait(pending).ok()?,
        }
    }
}

fn decode_loop(
    slot: &Slot,
    tx: &Sender<Shown>,
    waker: &(dyn Fn() + Send + Sync),
    ready: &ReadyProxies,
    busy: &AtomicBool,
) {
    let mut server = FrameServer::new(FrameServerOptions::default());
    let mut ahead: Option<(PathBuf, usize)> = None;
    let mut refine: Option<(Request, Instant)> = None;
    loop {
        let prefetch = ahead.as_ref().is_some_and(|(_, left)| *left > 0);
        let Some(work) = next_work(slot, prefetch, &mut refine) else {
            return;
        };
        let request = match work {
            Work::Command(Command::Stop) => return,
            Work::Command(Command::Show(request)) => request,
            Work::Prefetch => {
                // Idle: decode one frame ahead, then look for a newer request again.
                if let Some((path, left)) = &mut ahead {
                    busy.store(true, Ordering::Relaxed);
                    *left = match server.prefetch(path) {
                        Ok(true) => left.saturating_sub(1),
                        _ => 0,
                    };
                    busy.store(false, Ordering::Relaxed);
                }
                continue;
            }
            Work::Refine(request, token) => {
                busy.store(true, Ordering::Relaxed);
                let result = server.frame_at_cancellable(&request.path, request.time, &token);
                busy.store(false, Ordering::Relaxed);
                let (frame, error) = match result {
                    Ok(frame) => (frame, None),
                    // Superseded: the newer request is already waiting.
                    Err(MediaError::Cancelled) => continue,
                    Err(e) => (None, Some(e.to_string())),
                };
                if !show(tx, request, frame, error) {
                    return;
                }
                waker();
                continue;
            }
        };
        if let Ok(mut list) = ready.lock() {
            for (path, proxy) in list.drain(..) {
                server.set_proxy(&path, proxy);
            }
        }
        busy.store(true, Ordering::Relaxed);
        let result = server.quick_frame_at(&request.path, request.time);
        busy.store(false, Ordering::Relaxed);
        let (frame, error) = match result {
            Ok(frame) => (frame, None),
            Err(e) => (None, Some(e.to_string())),
        };
        let proxied = frame.as_ref().is_some_and(|f| f.proxy);
        // Look-ahead extends the full-resolution decoder's position, which a proxy frame
        // did not move: nothing useful to decode ahead then.
        ahead = (!proxied).then(|| (request.path.clone(), request.look_ahead));
        refine = proxied.then(|| (request.clone(), Instant::now() + REFINE_AFTER));
        if !show(tx, request, frame, error) {
            return;
        }
        waker();
    }
}

/// Hands a frame (converted to RGBA when the request wants it) to the UI; false when the
/// UI is gone.
fn show(
    tx: &Sender<Shown>,
    request: Request,
    frame: Option<ServedFrame>,
    error: Option<String>,
) -> bool {
    let rgba = frame
        .as_ref()
        .filter(|_| request.rgba)
        .and_then(|f| yuv420p_to_rgba(&f.frame.data, f.frame.width, f.frame.height, f.matrix));
    tx.send(Shown {
        request,
        frame,
        rgba,
        error,
    })
    .is_ok()
}

impl BeatcutApp {
    /// Draws preview frames on the GPU from now on (called with eframe's wgpu render state).
    /// Returns false, keeping the CPU path, when the pipeline cannot be built.
    pub fn use_wgpu_preview(&mut self, render_state: &egui_wgpu::RenderState) -> bool {
        match super::preview_gpu::install(render_state) {
            Ok(()) => {
                self.preview.gpu = true;
                self.preview.last_request = None;
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
    if let Some(timeline) = app.session.timeline()
        && let Some(index) = timeline.segment_at(at)
        && let Some(seg) = timeline.segments.get(index)
        && let Some(clip) = app.session.project().clip_by_key(seg.clip)
    {
        let path = clip.path.clone();
        let source_time = seg.src_in + (at - seg.start);
        let playing = app.playing.is_some();
        app.preview.proxies.want(&path, app.session.cache());
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
        match size {
            Some(size) if size.x > 0.0 && size.y > 0.0 => {
                let s = (frame_rect.width() / size.x).min(frame_rect.height() / size.y);
                let image_rect = egui::Rect::from_center_size(frame_rect.center(), size * s);
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

/// While the playhead is dragged (not playing), plays a short snippet of the music there.
fn scrub_audio(app: &mut BeatcutApp, ctx: &egui::Context) {
    let moved = app.playhead != app.preview.last_playhead;
    app.preview.last_playhead = app.playhead;
    if moved && app.playing.is_none() && ctx.input(|i| i.pointer.primary_down()) {
        app.playback.scrub(app.playhead);
    }
}

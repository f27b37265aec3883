//! The preview viewer: the frame under the playhead, decoded on a background thread
//! (a newer request supersedes an older one) and shown aspect-correct.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::BeatcutApp;
use crate::media::{PixelLayout, VideoDecodeOptions, VideoDecoder, VideoFrame};
use crate::time::{TICKS_PER_SECOND, Ticks};

/// Decoders kept open for recently shown clips.
const OPEN_DECODERS: usize = 6;
/// Requests at most this far ahead of the last frame decode forward instead of seeking.
const DECODE_FORWARD_LIMIT: Ticks = TICKS_PER_SECOND;
/// Size of the box preview frames are scaled into.
const PREVIEW_BOX: (u32, u32) = (960, 540);

#[derive(Debug, Clone, PartialEq)]
struct Request {
    path: PathBuf,
    time: Ticks,
}

/// A decoded preview frame for a request.
struct Shown {
    request: Request,
    frame: Option<VideoFrame>,
    error: Option<String>,
}

type Slot = Arc<(Mutex<Option<Request>>, Condvar)>;

/// Preview decoding state owned by the UI.
pub struct Preview {
    slot: Slot,
    rx: Receiver<Shown>,
    last_request: Option<Request>,
    texture: Option<egui::TextureHandle>,
    shown: Option<Request>,
    error: Option<String>,
    /// Time from request to display of the last frame, for the performance readout.
    pub last_latency_ms: f32,
    requested_at: Option<std::time::Instant>,
}

impl Preview {
    /// Starts the preview decoding thread.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let slot: Slot = Arc::new((Mutex::new(None), Condvar::new()));
        let (tx, rx) = bounded(2);
        let thread_slot = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("preview-decode".into())
            .spawn(move || decode_loop(&thread_slot, &tx, &*waker));
        if let Err(e) = spawned {
            tracing::error!("cannot start the preview thread: {e}");
        }
        Self {
            slot,
            rx,
            last_request: None,
            texture: None,
            shown: None,
            error: None,
            last_latency_ms: 0.0,
            requested_at: None,
        }
    }

    fn request(&mut self, request: Request) {
        if self.last_request.as_ref() == Some(&request) {
            return;
        }
        self.last_request = Some(request.clone());
        self.requested_at = Some(std::time::Instant::now());
        let (lock, cvar) = &*self.slot;
        if let Ok(mut pending) = lock.lock() {
            *pending = Some(request);
            cvar.notify_one();
        }
    }

    fn receive(&mut self, ctx: &egui::Context) {
        while let Ok(shown) = self.rx.try_recv() {
            self.error = shown.error;
            if let Some(frame) = shown.frame {
                let image = egui::ColorImage::from_rgb(
                    [frame.width as usize, frame.height as usize],
                    &frame.data,
                );
                match &mut self.texture {
                    Some(texture) => texture.set(image, egui::TextureOptions::LINEAR),
                    None => {
                        self.texture =
                            Some(ctx.load_texture("preview", image, egui::TextureOptions::LINEAR))
                    }
                }
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
        // An empty path asks the thread to exit.
        let (lock, cvar) = &*self.slot;
        if let Ok(mut pending) = lock.lock() {
            *pending = Some(Request {
                path: PathBuf::new(),
                time: -1,
            });
            cvar.notify_one();
        }
    }
}

struct OpenClip {
    decoder: VideoDecoder,
    last: Option<VideoFrame>,
    upcoming: Option<VideoFrame>,
}

fn decode_loop(slot: &Slot, tx: &Sender<Shown>, waker: &(dyn Fn() + Send + Sync)) {
    let capacity = NonZeroUsize::new(OPEN_DECODERS).unwrap_or(NonZeroUsize::MIN);
    let mut open: lru::LruCache<PathBuf, OpenClip> = lru::LruCache::new(capacity);
    loop {
        let request = {
            let (lock, cvar) = &**slot;
            let Ok(mut pending) = lock.lock() else {
                return;
            };
            while pending.is_none() {
                pending = match cvar.wait(pending) {
                    Ok(p) => p,
                    Err(_) => return,
                };
            }
            pending.take()
        };
        let Some(request) = request else {
            continue;
        };
        if request.time < 0 && request.path.as_os_str().is_empty() {
            return;
        }
        let (frame, error) = match frame_for(&mut open, &request) {
            Ok(frame) => (frame, None),
            Err(e) => (None, Some(e)),
        };
        if tx
            .send(Shown {
                request,
                frame,
                error,
            })
            .is_err()
        {
            return;
        }
        waker();
    }
}

fn frame_for(
    open: &mut lru::LruCache<PathBuf, OpenClip>,
    request: &Request,
) -> Result<Option<VideoFrame>, String> {
    if !open.contains(&request.path) {
        let decoder = VideoDecoder::open(
            &request.path,
            VideoDecodeOptions {
                width: PREVIEW_BOX.0,
                height: PREVIEW_BOX.1,
                layout: PixelLayout::Rgb24,
                threads: 2,
                ..Default::default()
            },
        )
        .map_err(|e| e.to_string())?;
        open.put(
            request.path.clone(),
            OpenClip {
                decoder,
                last: None,
                upcoming: None,
            },
        );
    }
    let Some(clip) = open.get_mut(&request.path) else {
        return Ok(None);
    };
    let t = request.time;
    let sequential = clip
        .last
        .as_ref()
        .is_some_and(|l| t >= l.time && t - l.time <= DECODE_FORWARD_LIMIT);
    if !sequential {
        clip.upcoming = None;
        clip.last = clip.decoder.seek_exact(t).map_err(|e| e.to_string())?;
        return Ok(clip.last.clone());
    }
    loop {
        if clip.upcoming.is_none() {
            clip.upcoming = clip.decoder.next_frame().map_err(|e| e.to_string())?;
        }
        match &clip.upcoming {
            Some(next) if next.time <= t => clip.last = clip.upcoming.take(),
            _ => break,
        }
    }
    Ok(clip.last.clone())
}

/// The central preview area.
pub fn preview_panel_ui(app: &mut BeatcutApp, ui: &mut egui::Ui) {
    app.preview.receive(ui.ctx());
    if let Some(timeline) = &app.timeline
        && let Some(index) = timeline.segment_at(app.playhead)
        && let Some(seg) = timeline.segments.get(index)
        && let Some(path) = app.project.clips.get(seg.clip)
    {
        let request = Request {
            path: path.clone(),
            time: seg.src_in + (app.playhead - seg.start),
        };
        app.preview.request(request);
    }
    egui::CentralPanel::default().show(ui, |ui| {
        let available = ui.available_rect_before_wrap();
        let painter = ui.painter_at(available);
        painter.rect_filled(available, 0.0, egui::Color32::BLACK);
        let (out_w, out_h) = match app.project.export.aspect {
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
        match (&app.preview.texture, &app.timeline) {
            (Some(texture), Some(_)) => {
                let size = texture.size_vec2();
                let s = (frame_rect.width() / size.x).min(frame_rect.height() / size.y);
                let image_rect = egui::Rect::from_center_size(frame_rect.center(), size * s);
                painter.image(
                    texture.id(),
                    image_rect,
                    egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    egui::Color32::WHITE,
                );
                // Safe-area guide (90 %) for social formats.
                if app.project.export.aspect != crate::render::Aspect::Landscape {
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

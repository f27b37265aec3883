//! Serving preview frames (GUI-free, so benchmarks drive it directly): the frame shown at a
//! time in a clip, from a cache of recent frames when possible, else by decoding forward
//! from an open decoder (small steps) or seeking (large ones). Frames come out as planar
//! 4:2:0 for the GPU, with the colour matrix their source resolution calls for.
//!
//! Seeks into long-GOP sources are the slow case (every frame from the keyframe before the
//! target must be decoded). Two things make them cheaper:
//! - once a clip has a seek proxy ([`crate::media::ProxyStore`]), [`FrameServer::quick_frame_at`]
//!   answers a seek with the exact frame from the all-intra proxy (one small picture
//!   decoded) and the caller refines with [`FrameServer::frame_at_cancellable`] once the
//!   playhead rests;
//! - without one, the decode forward from the keyframe drops the frames nothing refers to
//!   (non-reference B-frames) while far from the target and only converts (scales) the
//!   frames it keeps.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::jobs::CancelToken;
use crate::media::{MediaError, PixelLayout, Proxy, VideoDecodeOptions, VideoDecoder, VideoFrame};
use crate::time::{TICKS_PER_SECOND, Ticks};

use super::yuv::YuvMatrix;

/// Requests at most this far ahead of the decoder's position decode forward instead of seeking.
const DECODE_FORWARD_LIMIT: Ticks = TICKS_PER_SECOND;

/// How far past the target a frame may start and still count as "at" it (as the decoder's
/// own exact seek: absorbs rounding between time bases).
const SEEK_TOLERANCE: Ticks = TICKS_PER_SECOND / 10_000;

/// With a proxy, [`FrameServer::quick_frame_at`] decodes forward at full resolution only
/// this many nominal frames (playback steps); farther it answers from the proxy.
const QUICK_FORWARD_FRAMES: i64 = 4;

/// A seek decodes fully (non-reference frames included) from this many nominal frames
/// before the window it keeps: covers the decoder's reorder and frame-threading delay, so
/// no frame it converts was dropped while skipping non-reference frames.
const NONREF_MARGIN_FRAMES: i64 = 16;

/// Proxy requests at most this many frames after the proxy decoder's position decode
/// forward instead of seeking (every proxy frame is a keyframe: both are cheap).
const PROXY_FORWARD_FRAMES: usize = 3;

/// Limits of a [`FrameServer`].
#[derive(Debug, Clone)]
pub struct FrameServerOptions {
    /// Box the frames are scaled to fit (aspect kept).
    pub box_size: (u32, u32),
    /// Decoders kept open for recently shown clips.
    pub open_decoders: usize,
    /// Decoded frames kept per clip.
    pub frames_per_clip: usize,
    /// Bytes of decoded frames kept over all clips.
    pub cache_bytes: usize,
    /// Decoder threads per clip (0: FFmpeg chooses).
    pub threads: usize,
}

impl Default for FrameServerOptions {
    fn default() -> Self {
        Self {
            box_size: (960, 540),
            open_decoders: 6,
            frames_per_clip: 64,
            // 64 frames (2.5 s at 25 fps) of 960×540 4:2:0 for three clips.
            cache_bytes: 160 * 1024 * 1024,
            threads: 2,
        }
    }
}

/// A frame handed out by the server.
#[derive(Debug, Clone)]
pub struct ServedFrame {
    /// The picture (planar 4:2:0, tightly packed).
    pub frame: Arc<VideoFrame>,
    /// The matrix to convert it to RGB with.
    pub matrix: YuvMatrix,
    /// True when it came from the cache without decoding.
    pub cached: bool,
    /// True when it came from the clip's seek proxy: the exact frame at proxy resolution,
    /// to be replaced by the full-resolution one when the playhead rests.
    pub proxy: bool,
}

/// Counters for the performance readout and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameServerStats {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests that decoded forward from the open decoder.
    pub forward: u64,
    /// Requests that needed a seek.
    pub seeks: u64,
    /// Frames decoded ahead while idle.
    pub prefetched: u64,
    /// Requests answered from a seek proxy.
    pub proxied: u64,
    /// Bytes of frames in the cache.
    pub cached_bytes: usize,
}

struct CachedFrame {
    frame: Arc<VideoFrame>,
    /// Start of the next frame (exact once it was decoded, else one nominal frame later).
    end: Ticks,
}

struct OpenClip {
    decoder: VideoDecoder,
    /// The last frame the decoder produced (its position).
    frontier: Option<Arc<VideoFrame>>,
    /// True when the decoder reached the end of the stream after `frontier`.
    ended: bool,
    matrix: YuvMatrix,
    nominal: Ticks,
}

/// A clip's seek proxy and, once used, a decoder on it.
struct OpenProxy {
    proxy: Proxy,
    decoder: Option<VideoDecoder>,
    /// Proxy frame index the decoder produced last.
    position: Option<usize>,
}

/// Serves the frame shown at a time in a clip. Not thread-safe by itself: the preview runs
/// one on its decode thread.
pub struct FrameServer {
    options: FrameServerOptions,
    open: lru::LruCache<PathBuf, OpenClip>,
    cache: lru::LruCache<(PathBuf, Ticks), CachedFrame>,
    cached_bytes: usize,
    stats: FrameServerStats,
    proxies: HashMap<PathBuf, OpenProxy>,
}

impl FrameServer {
    /// An empty server.
    pub fn new(options: FrameServerOptions) -> Self {
        crate::media::init();
        let decoders = NonZeroUsize::new(options.open_decoders).unwrap_or(NonZeroUsize::MIN);
        Self {
            options,
            open: lru::LruCache::new(decoders),
            cache: lru::LruCache::unbounded(),
            cached_bytes: 0,
            stats: FrameServerStats::default(),
            proxies: HashMap::new(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> FrameServerStats {
        FrameServerStats {
            cached_bytes: self.cached_bytes,
            ..self.stats
        }
    }

    /// Drops every cached frame and open decoder (proxies stay known, their decoders close).
    pub fn purge(&mut self) {
        self.open.clear();
        for proxy in self.proxies.values_mut() {
            proxy.decoder = None;
            proxy.position = None;
        }
        self.cache.clear();
        self.cached_bytes = 0;
    }

    /// Uses `proxy` (a finished seek proxy of the clip at `path`) for
    /// [`Self::quick_frame_at`] from now on, replacing any earlier one.
    pub fn set_proxy(&mut self, path: &Path, proxy: Proxy) {
        self.proxies.insert(
            path.to_path_buf(),
            OpenProxy {
                proxy,
                decoder: None,
                position: None,
            },
        );
    }

    /// True when a seek proxy is known for `path`.
    pub fn has_proxy(&self, path: &Path) -> bool {
        self.proxies.contains_key(path)
    }

    /// The frame shown at `time` in `path` as fast as it can be had: from the cache, by a
    /// short decode forward, or, where a full-resolution decode would have to seek and the
    /// clip has a proxy, the exact frame from the proxy (`proxy` set in the answer; ask
    /// [`Self::frame_at_cancellable`] for the sharp one when there is time). Without a
    /// proxy, as [`Self::frame_at`].
    pub fn quick_frame_at(
        &mut self,
        path: &Path,
        time: Ticks,
    ) -> Result<Option<ServedFrame>, MediaError> {
        let time = time.max(0);
        if let Some(served) = self.hit(path, time) {
            return Ok(Some(served));
        }
        if self.proxies.contains_key(path) {
            self.ensure_open(path)?;
            let short_step = self.open.peek(path).is_some_and(|clip| {
                clip.frontier.as_ref().is_some_and(|f| {
                    time >= f.time && time - f.time <= clip.nominal * QUICK_FORWARD_FRAMES
                })
            });
            if !short_step && let Some(served) = self.proxy_frame(path, time) {
                return Ok(Some(served));
            }
        }
        self.frame_at(path, time)
    }

    /// The frame shown at `time` in `path` (the last frame starting at or before it), at
    /// full resolution; `None` when the clip has no frame there.
    pub fn frame_at(
        &mut self,
        path: &Path,
        time: Ticks,
    ) -> Result<Option<ServedFrame>, MediaError> {
        self.decode_at(path, time, None)
    }

    /// [`Self::frame_at`] that gives up with [`MediaError::Cancelled`] once `token` is
    /// cancelled (checked per decoded frame): a newer request supersedes a long seek.
    pub fn frame_at_cancellable(
        &mut self,
        path: &Path,
        time: Ticks,
        token: &CancelToken,
    ) -> Result<Option<ServedFrame>, MediaError> {
        self.decode_at(path, time, Some(token))
    }

    fn hit(&mut self, path: &Path, time: Ticks) -> Option<ServedFrame> {
        let frame = self.cached(path, time)?;
        self.stats.hits += 1;
        let matrix = self.matrix_of(path, &frame);
        Some(ServedFrame {
            frame,
            matrix,
            cached: true,
            proxy: false,
        })
    }

    fn decode_at(
        &mut self,
        path: &Path,
        time: Ticks,
        token: Option<&CancelToken>,
    ) -> Result<Option<ServedFrame>, MediaError> {
        let time = time.max(0);
        if let Some(served) = self.hit(path, time) {
            return Ok(Some(served));
        }
        self.ensure_open(path)?;
        let Some(clip) = self.open.get_mut(path) else {
            return Ok(None);
        };
        let matrix = clip.matrix;
        let sequential = clip
            .frontier
            .as_ref()
            .is_some_and(|f| time >= f.time && time - f.time <= DECODE_FORWARD_LIMIT);
        let before = clip.frontier.as_ref().map(|f| f.time);
        let mut decoded: Vec<Arc<VideoFrame>> = Vec::new();
        let mut cancelled = false;
        let found = if sequential {
            self.stats.forward += 1;
            let mut best = clip.frontier.clone();
            while !clip.ended {
                if token.is_some_and(CancelToken::is_cancelled) {
                    cancelled = true;
                    break;
                }
                let Some(next) = clip.decoder.next_frame()? else {
                    clip.ended = true;
                    break;
                };
                let next = Arc::new(next);
                decoded.push(next.clone());
                clip.frontier = Some(next.clone());
                if next.time <= time {
                    best = Some(next);
                } else {
                    break;
                }
            }
            best
        } else {
            self.stats.seeks += 1;
            let window = clip.nominal * (self.options.frames_per_clip / 2) as Ticks;
            clip.ended = false;
            let result = seek_keeping_window(clip, time, window, token);
            // Whatever happened, the next packets decode fully again.
            clip.decoder.set_skip_nonref(false);
            let outcome = match result {
                Ok(outcome) => outcome,
                Err(e) => {
                    // Cancelled or failed half-way: the decoder's position is unknown.
                    clip.frontier = None;
                    return Err(e);
                }
            };
            match outcome {
                Some((found, run)) => {
                    decoded = run;
                    clip.frontier = decoded.last().cloned();
                    found
                }
                None => {
                    // An unusual stream layout: the decoder's careful seek handles it.
                    let found = clip.decoder.seek_exact(time)?.map(Arc::new);
                    clip.ended = false;
                    clip.frontier = found.clone();
                    decoded.extend(found.clone());
                    found
                }
            }
        };
        self.keep_run(path, before, &decoded, sequential);
        if cancelled {
            // The frames decoded so far stay cached and the decoder where they left it.
            return Err(MediaError::Cancelled);
        }
        Ok(found.map(|frame| ServedFrame {
            frame,
            matrix,
            cached: false,
            proxy: false,
        }))
    }

    /// Caches a contiguous run of decoded frames of `path`.
    fn keep_run(
        &mut self,
        path: &Path,
        before: Option<Ticks>,
        decoded: &[Arc<VideoFrame>],
        sequential: bool,
    ) {
        let Some(nominal) = self.open.peek(path).map(|c| c.nominal) else {
            return;
        };
        // In a forward run each frame ends where the next begins, the first one where the
        // decoder's previous position ends.
        let mut previous = if sequential { before } else { None };
        for frame in decoded {
            if let Some(start) = previous {
                self.close_previous_at(path, start, frame.time);
            }
            previous = Some(frame.time);
            self.insert(path, frame.clone(), nominal);
        }
    }

    /// The exact frame at `time` from the proxy of `path`, or `None` when the proxy has no
    /// frame there or cannot be read (it is then forgotten, with a warning).
    fn proxy_frame(&mut self, path: &Path, time: Ticks) -> Option<ServedFrame> {
        let open = self.proxies.get_mut(path)?;
        let wanted = open.proxy.index.frame_for(time)?;
        match read_proxy_frame(open, wanted) {
            Ok(Some(frame)) => {
                self.stats.proxied += 1;
                let matrix = self.matrix_of(path, &frame);
                Some(ServedFrame {
                    frame: Arc::new(frame),
                    matrix,
                    cached: false,
                    proxy: true,
                })
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("seek proxy unusable, decoding the source instead: {e}");
                self.proxies.remove(path);
                None
            }
        }
    }

    /// Decodes one more frame after the decoder's position into the cache (look-ahead while
    /// idle). Returns false when there is nothing more to decode for `path`.
    pub fn prefetch(&mut self, path: &Path) -> Result<bool, MediaError> {
        let Some(clip) = self.open.get_mut(path) else {
            return Ok(false);
        };
        if clip.ended {
            return Ok(false);
        }
        let Some(next) = clip.decoder.next_frame()? else {
            clip.ended = true;
            return Ok(false);
        };
        let next = Arc::new(next);
        let previous = clip.frontier.replace(next.clone());
        let nominal = clip.nominal;
        if let Some(previous) = previous {
            self.close_previous_at(path, previous.time, next.time);
        }
        self.insert(path, next, nominal);
        self.stats.prefetched += 1;
        Ok(true)
    }

    fn matrix_of(&self, path: &Path, frame: &VideoFrame) -> YuvMatrix {
        self.open
            .peek(path)
            .map(|c| c.matrix)
            .unwrap_or_else(|| YuvMatrix::for_resolution(frame.width, frame.height))
    }

    fn ensure_open(&mut self, path: &Path) -> Result<(), MediaError> {
        if self.open.contains(path) {
            return Ok(());
        }
        let video = crate::media::probe(path)
            .ok()
            .and_then(|info| info.video().cloned());
        // The matrix follows the coded (source) resolution, not the preview size.
        let matrix = video.as_ref().map_or(YuvMatrix::Bt709, |v| {
            YuvMatrix::for_resolution(v.width, v.height)
        });
        // Never scale up: the display scales anyway, and small frames decode, convert and
        // cache cheaper.
        let (mut box_w, mut box_h) = self.options.box_size;
        if let Some(v) = &video
            && v.display_width > 0
            && v.display_height > 0
            && v.display_width <= box_w
            && v.display_height <= box_h
        {
            (box_w, box_h) = (v.display_width, v.display_height);
        }
        let decoder = VideoDecoder::open(
            path,
            VideoDecodeOptions {
                width: box_w,
                height: box_h,
                layout: PixelLayout::Yuv420p,
                threads: self.options.threads,
                ..Default::default()
            },
        )?;
        let nominal = decoder.frame_rate().frame_ticks().max(1);
        self.open.put(
            path.to_path_buf(),
            OpenClip {
                decoder,
                frontier: None,
                ended: false,
                matrix,
                nominal,
            },
        );
        Ok(())
    }

    /// The cached frame shown at `time`: the latest cached start at or before it whose
    /// frame still covers it.
    fn cached(&mut self, path: &Path, time: Ticks) -> Option<Arc<VideoFrame>> {
        let key = self
            .cache
            .iter()
            .filter(|((p, start), entry)| p == path && *start <= time && time < entry.end)
            .map(|((_, start), _)| *start)
            .max()?;
        self.cache
            .get(&(path.to_path_buf(), key))
            .map(|entry| entry.frame.clone())
    }

    fn close_previous_at(&mut self, path: &Path, start: Ticks, next_start: Ticks) {
        if let Some(entry) = self.cache.peek_mut(&(path.to_path_buf(), start))
            && next_start > start
        {
            entry.end = next_start;
        }
    }

    fn insert(&mut self, path: &Path, frame: Arc<VideoFrame>, nominal: Ticks) {
        let key = (path.to_path_buf(), frame.time);
        let bytes = frame.data.len();
        let end = frame.time + nominal;
        if let Some(old) = self.cache.put(key, CachedFrame { frame, end }) {
            self.cached_bytes = self.cached_bytes.saturating_sub(old.frame.data.len());
        }
        self.cached_bytes += bytes;
        // Per-clip limit: drop this clip's least recently used frames.
        let mut of_clip: Vec<Ticks> = self
            .cache
            .iter()
            .rev()
            .filter(|((p, _), _)| p == path)
            .map(|((_, start), _)| *start)
            .collect();
        let excess = of_clip.len().saturating_sub(self.options.frames_per_clip);
        of_clip.truncate(excess);
        for start in of_clip {
            if let Some(old) = self.cache.pop(&(path.to_path_buf(), start)) {
                self.cached_bytes = self.cached_bytes.saturating_sub(old.frame.data.len());
            }
        }
        // Global limit: drop the least recently used frames of any clip.
        while self.cached_bytes > self.options.cache_bytes {
            let Some((_, old)) = self.cache.pop_lru() else {
                break;
            };
            self.cached_bytes = self.cached_bytes.saturating_sub(old.frame.data.len());
        }
    }
}

/// A seek that also keeps the frames of the `window` before `time`: seeks to the keyframe
/// before, skips (decodes without converting) up to the window, converts from there and
/// stops at the first frame after `time`. Scrubbing backwards after a seek then finds those
/// frames in the cache. Returns the frame at `time` and every converted frame in order, or
/// `None` when the stream does not look simple enough (the keyframe lands after the target,
/// a skipped frame turns out to be the answer, or a gap hints at reordered frames); the
/// caller then uses `VideoDecoder::seek_exact`, which handles those cases.
#[allow(clippy::type_complexity)]
///
/// Far from the target (before the window, less a margin for the decoder's delay) the
/// decoder drops non-reference frames: nothing after them needs them, and they are not
/// shown. The caller switches that off again afterwards, whatever the outcome.
fn seek_keeping_window(
    clip: &mut OpenClip,
    time: Ticks,
    window: Ticks,
    token: Option<&CancelToken>,
) -> Result<Option<(Option<Arc<VideoFrame>>, Vec<Arc<VideoFrame>>)>, MediaError> {
    let nominal = clip.nominal;
    let suspicious_gap = nominal + nominal / 2;
    let full_from = time - window - NONREF_MARGIN_FRAMES * nominal;
    clip.decoder.seek_to_keyframe_before(time)?;
    let mut run: Vec<Arc<VideoFrame>> = Vec::new();
    let mut best: Option<Arc<VideoFrame>> = None;
    let mut last: Option<Ticks> = None;
    let mut skipping_nonref = false;
    loop {
        if token.is_some_and(CancelToken::is_cancelled) {
            return Err(MediaError::Cancelled);
        }
        // Only once the first frame (the keyframe) shows where decoding starts: were it
        // already near the target, dropped frames could be the ones to keep.
        let far = last.is_some_and(|t| t < full_from);
        if far != skipping_nonref {
            clip.decoder.set_skip_nonref(far);
            skipping_nonref = far;
        }
        let convert = last.is_none_or(|t| t + nominal >= time - window);
        if !convert {
            match clip.decoder.skip_frame()? {
                Some(t) if t > time + SEEK_TOLERANCE => return Ok(None),
                Some(t) => {
                    // Gaps are expected while non-reference frames are dropped; frames
                    // near the target are checked in the converting part below.
                    // The run must be contiguous (each frame ends where the next starts).
                    run.clear();
                    best = None;
                    last = Some(t);
                }
                None => return Ok(None),
            }
            continue;
        }
        let Some(frame) = clip.decoder.next_frame()? else {
            clip.ended = true;
            return Ok(best.map(|b| (Some(b), run)));
        };
        let frame = Arc::new(frame);
        if last.is_some_and(|l| frame.time - l >= suspicious_gap) {
            return Ok(None);
        }
        last = Some(frame.time);
        run.push(frame.clone());
        if frame.time > time + SEEK_TOLERANCE {
            // The first frame after the target: the answer is the one before it.
            return Ok(best.map(|b| (Some(b), run)));
        }
        best = Some(frame);
    }
}

/// Decodes proxy frame `wanted` from `open` (opening its decoder when needed): forward from
/// the decoder's position when just ahead, else after a seek to it (every proxy frame is a
/// keyframe). The frame comes back stamped with its source time. `None` when the proxy
/// does not hold that frame.
fn read_proxy_frame(open: &mut OpenProxy, wanted: usize) -> Result<Option<VideoFrame>, MediaError> {
    let index = open.proxy.index.clone();
    let decoder = match &mut open.decoder {
        Some(decoder) => decoder,
        None => {
            open.position = None;
            open.decoder.insert(VideoDecoder::open(
                &open.proxy.video,
                VideoDecodeOptions {
                    layout: PixelLayout::Yuv420p,
                    threads: 1,
                    ..Default::default()
                },
            )?)
        }
    };
    let forward = open
        .position
        .is_some_and(|p| p < wanted && wanted - p <= PROXY_FORWARD_FRAMES);
    if !forward {
        open.position = None;
        decoder.seek_to_keyframe_before(index.proxy_time_of(wanted))?;
    }
    // A seek can land one frame early (time base rounding): step to the one wanted.
    for _ in 0..=PROXY_FORWARD_FRAMES + 1 {
        let Some(mut frame) = decoder.next_frame()? else {
            open.position = None;
            return Ok(None);
        };
        let Some(at) = index.frame_of_proxy_time(frame.time) else {
            open.position = None;
            return Ok(None);
        };
        open.position = Some(at);
        if at == wanted {
            let Some(source_time) = index.source_time_of(at) else {
                return Ok(None);
            };
            frame.time = source_time;
            return Ok(Some(frame));
        }
        if at > wanted {
            return Ok(None);
        }
    }
    Ok(None)
}

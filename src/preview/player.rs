//! The preview's decode thread, without a GUI: the frame under the playhead, served by a
//! [`FrameServer`] (a newer request supersedes an older one; recent frames cached; a few
//! frames decoded ahead while playing). Each clip shown gets a seek proxy made in the
//! background ([`ProxyWorker`]); once it exists a seek shows the exact frame from the proxy
//! at once, and the full-resolution frame replaces it when the playhead has rested for
//! [`REFINE_AFTER`] (a newer request cancels that decode). The app draws what it returns.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::frame_server::{FrameServer, FrameServerOptions, ServedFrame};
use super::proxy::{ProxyWorker, ReadyProxies};
use super::yuv::yuv420p_to_rgba;
use crate::cache::Cache;
use crate::jobs::{BackgroundThread, CancelToken, ThreadContext};
use crate::media::MediaError;
use crate::time::Ticks;

/// Frames decoded ahead of the last request while no newer request waits, during playback
/// (paused, the decoder stays idle so analysis and planning get the cores).
const LOOK_AHEAD_FRAMES: usize = 8;

/// A frame shown from a seek proxy is replaced by the full-resolution one once no newer
/// request came for this long (decoding that costs up to a GOP; not worth starting while
/// the playhead still moves).
const REFINE_AFTER: Duration = Duration::from_millis(150);

/// A frame asked of the decode thread.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewRequest {
    /// The clip.
    pub path: PathBuf,
    /// Source time in the clip.
    pub time: Ticks,
    /// Also convert to RGBA on the decode thread (no GPU path).
    pub rgba: bool,
    /// Frames to decode ahead afterwards while idle.
    pub look_ahead: usize,
}

/// The answer to a request: the frame (as 4:2:0 planes, and RGBA when asked) or why not.
pub struct PreviewFrame {
    /// What was asked.
    pub request: PreviewRequest,
    /// The frame, with its colour matrix and whether it came from a seek proxy.
    pub frame: Option<ServedFrame>,
    /// The frame converted to RGBA (requests with `rgba`).
    pub rgba: Option<Vec<u8>>,
    /// Why there is no frame (the reason names the file).
    pub error: Option<String>,
}

/// The token of the full-resolution refine under way: the UI cancels it with every new
/// request, so a refine never holds up the frame the user now wants.
type RefineToken = Arc<Mutex<CancelToken>>;

/// Requests queued for the decode thread at most (it only ever takes the newest).
const REQUEST_QUEUE: usize = 256;

/// The preview decode thread and its seek-proxy worker. Dropping it stops both without
/// waiting for them.
pub struct PreviewPlayer {
    thread: Option<BackgroundThread<PreviewRequest, PreviewFrame>>,
    refine: RefineToken,
    last_request: Option<PreviewRequest>,
    shown: Option<PreviewRequest>,
    proxies: ProxyWorker,
    proxies_enabled: bool,
}

impl PreviewPlayer {
    /// Starts the decode thread; `waker` is called when a frame is ready.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let refine: RefineToken = Arc::default();
        let busy = Arc::new(AtomicBool::new(false));
        let proxies = ProxyWorker::new(busy.clone());
        let ready = proxies.ready();
        let thread_refine = refine.clone();
        let thread = BackgroundThread::spawn(
            "preview-decode",
            REQUEST_QUEUE,
            waker,
            move |requests: Receiver<PreviewRequest>, ctx: ThreadContext<PreviewFrame>| {
                decode_loop(&requests, &ctx, &thread_refine, &ready, &busy)
            },
        )
        .map_err(|e| tracing::error!("cannot start the preview thread: {e}"))
        .ok();
        Self {
            thread,
            refine,
            last_request: None,
            shown: None,
            proxies,
            proxies_enabled: true,
        }
    }

    fn send(&self, request: PreviewRequest) {
        if let Ok(refine) = self.refine.lock() {
            refine.cancel();
        }
        if let Some(thread) = &self.thread {
            thread.send(request);
        }
    }

    /// Asks for the frame of `path` at `time` (RGBA too when `rgba`; decoding ahead when
    /// `playing`). Returns false when it is the request already made.
    pub fn request(&mut self, path: PathBuf, time: Ticks, rgba: bool, playing: bool) -> bool {
        let request = PreviewRequest {
            path,
            time,
            rgba,
            look_ahead: if playing { LOOK_AHEAD_FRAMES } else { 0 },
        };
        if self.last_request.as_ref() == Some(&request) {
            return false;
        }
        self.last_request = Some(request.clone());
        self.send(request);
        true
    }

    /// Forgets the last request, so the next one is decoded even if it is the same (the
    /// display path changed).
    pub fn forget_request(&mut self) {
        self.last_request = None;
    }

    /// Frames that arrived since the last call, oldest first.
    pub fn drain(&mut self) -> Vec<PreviewFrame> {
        let frames: Vec<PreviewFrame> = self
            .thread
            .as_ref()
            .map(BackgroundThread::drain)
            .unwrap_or_default();
        if let Some(last) = frames.last() {
            self.shown = Some(last.request.clone());
        }
        frames
    }

    /// True when the last frame asked for has been answered (shown, or its error).
    pub fn is_settled(&self) -> bool {
        self.shown == self.last_request
    }

    /// Asks for a seek proxy of `path` (made in the background in `cache`'s directory).
    pub fn want_proxy(&mut self, path: &Path, cache: &Arc<Cache>) {
        if self.proxies_enabled {
            self.proxies.want(path, cache);
        }
    }

    /// Never makes seek proxies: every frame is decoded from the source (a window whose
    /// picture must not depend on when a proxy happens to finish, as in snapshot tests).
    pub fn disable_proxies(&mut self) {
        self.proxies_enabled = false;
    }
}

impl Drop for PreviewPlayer {
    fn drop(&mut self) {
        // The thread's own drop cancels it and closes its queue; the refine stops too.
        if let Ok(refine) = self.refine.lock() {
            refine.cancel();
        }
    }
}

/// What the decode thread does next.
enum Work {
    Show(PreviewRequest),
    /// Decode one frame ahead (playback, no newer request).
    Prefetch,
    /// Replace the proxy frame of this request by the full-resolution one.
    Refine(PreviewRequest, CancelToken),
}

/// Waits for the next piece of work: the newest request first (older ones are dropped),
/// then look-ahead, then a due refine. `None` when the UI side is gone.
fn next_work(
    requests: &Receiver<PreviewRequest>,
    refine_token: &RefineToken,
    prefetch: bool,
    refine: &mut Option<(PreviewRequest, Instant)>,
) -> Option<Work> {
    let newest = |first: PreviewRequest| requests.try_iter().last().unwrap_or(first);
    loop {
        match requests.try_recv() {
            Ok(first) => return Some(Work::Show(newest(first))),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
            Err(crossbeam_channel::TryRecvError::Empty) => {}
        }
        if prefetch {
            return Some(Work::Prefetch);
        }
        match refine.as_ref().map(|(_, due)| *due) {
            Some(due) => {
                let now = Instant::now();
                if now >= due {
                    let token = CancelToken::new();
                    if let Ok(mut shared) = refine_token.lock() {
                        *shared = token.clone();
                    }
                    // A request that came in meanwhile goes first (and the refine waits).
                    if !requests.is_empty() {
                        continue;
                    }
                    let (request, _) = refine.take()?;
                    return Some(Work::Refine(request, token));
                }
                match requests.recv_timeout(due - now) {
                    Ok(first) => return Some(Work::Show(newest(first))),
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return None,
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                }
            }
            None => return requests.recv().ok().map(|first| Work::Show(newest(first))),
        }
    }
}

fn decode_loop(
    requests: &Receiver<PreviewRequest>,
    ctx: &ThreadContext<PreviewFrame>,
    refine_token: &RefineToken,
    ready: &ReadyProxies,
    busy: &AtomicBool,
) {
    let mut server = FrameServer::new(FrameServerOptions::default());
    let mut ahead: Option<(PathBuf, usize)> = None;
    let mut refine: Option<(PreviewRequest, Instant)> = None;
    loop {
        let prefetch = ahead.as_ref().is_some_and(|(_, left)| *left > 0);
        let Some(work) = next_work(requests, refine_token, prefetch, &mut refine) else {
            return;
        };
        if ctx.token().is_cancelled() {
            return;
        }
        let request = match work {
            Work::Show(request) => request,
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
                if !show(ctx, request, frame, error) {
                    return;
                }
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
        if !show(ctx, request, frame, error) {
            return;
        }
    }
}

/// Hands a frame (converted to RGBA when the request wants it) to the UI; false when the
/// UI is gone.
fn show(
    ctx: &ThreadContext<PreviewFrame>,
    request: PreviewRequest,
    frame: Option<ServedFrame>,
    error: Option<String>,
) -> bool {
    let rgba = frame
        .as_ref()
        .filter(|_| request.rgba)
        .and_then(|f| yuv420p_to_rgba(&f.frame.data, f.frame.width, f.frame.height, f.matrix));
    ctx.emit(PreviewFrame {
        request,
        frame,
        rgba,
        error,
    })
}

//! Background work for the editing session: probing dropped files, analysing music and
//! clips (with the cache) through the job scheduler, results streamed back as typed events
//! over a bounded channel. Dropping the worker cancels everything it started.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::analysis::music::{MusicAnalysis, MusicParams, WaveformPyramid};
use crate::analysis::video::{ClipAnalysis, ClipParams};
use crate::cache::Cache;
use crate::jobs::{CancelToken, JobScheduler, Priority};
use crate::media::{self, MediaInfo};

/// Capacity of the event channel; progress events are dropped when it is full, results wait.
const EVENT_CAPACITY: usize = 512;

/// What a dropped file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// Has a video stream.
    Clip,
    /// Audio only.
    Music,
    /// A Beatcut project.
    Project,
}

/// Why background work produced no result: the session cancelled it (a removed clip, a
/// replaced song: not worth telling the user), or it failed (the reason names the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkFailure {
    /// Cancelled on purpose; not an error.
    Cancelled,
    /// Failed; the reason names the file.
    Failed(String),
}

impl WorkFailure {
    fn from_montage(error: crate::montage::MontageError) -> Self {
        match error {
            crate::montage::MontageError::Cancelled => Self::Cancelled,
            other => Self::Failed(other.to_string()),
        }
    }
}

impl std::fmt::Display for WorkFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cancelled => f.write_str("cancelled"),
            Self::Failed(reason) => f.write_str(reason),
        }
    }
}

/// Something that happened in the background.
#[derive(Debug)]
pub enum WorkerEvent {
    /// A dropped or added file was probed.
    Probed {
        /// The file.
        path: PathBuf,
        /// What it is, or why it cannot be used.
        result: Result<(MediaKind, Option<MediaInfo>), String>,
        /// True when the user asked for it to be the music.
        as_music: bool,
    },
    /// More of the song's waveform is known.
    Waveform(PathBuf, WaveformPyramid),
    /// Music analysis finished (with whether it came from the cache).
    MusicDone(PathBuf, Result<Arc<MusicAnalysis>, WorkFailure>, bool),
    /// A clip's analysis advanced.
    ClipProgress(PathBuf, f32),
    /// A clip's analysis finished (with whether it came from the cache).
    ClipDone(PathBuf, Result<Arc<ClipAnalysis>, WorkFailure>, bool),
}

/// Clips near the top of the bin (visible without scrolling) are analysed first.
const VISIBLE_CLIPS: usize = 8;

/// Runs analysis jobs off the UI thread: probes on a small pool, analyses through the
/// prioritised, de-duplicating job scheduler (music first, then visible clips).
pub struct Worker {
    tx: Sender<WorkerEvent>,
    rx: Receiver<WorkerEvent>,
    pool: Option<rayon::ThreadPool>,
    scheduler: Option<JobScheduler<()>>,
    clips_submitted: usize,
    cancel: CancelToken,
    waker: Arc<dyn Fn() + Send + Sync>,
    /// Probes submitted and not finished.
    probing: Arc<std::sync::atomic::AtomicUsize>,
}

impl Worker {
    /// A worker whose events wake the UI through `waker`.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let (tx, rx) = bounded(EVENT_CAPACITY);
        let pool = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("analysis-{i}"))
            .build()
            .ok();
        let scheduler = JobScheduler::new(0)
            .map_err(|e| {
                tracing::error!("job scheduler unavailable ({e}); analysing on a plain pool")
            })
            .ok();
        if let Some(scheduler) = &scheduler {
            let waker = waker.clone();
            scheduler.set_waker(move || waker());
        }
        Self {
            tx,
            rx,
            pool,
            scheduler,
            clips_submitted: 0,
            cancel: CancelToken::new(),
            waker,
            probing: Arc::default(),
        }
    }

    /// True while jobs run or their results wait to be drained.
    pub fn is_busy(&self) -> bool {
        self.probes_running() > 0
            || self.scheduler.as_ref().is_some_and(|s| s.active() > 0)
            || !self.rx.is_empty()
    }

    /// Files being probed.
    pub fn probes_running(&self) -> usize {
        self.probing.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops the analyses of `path` (a clip removed from the project): dropped if queued,
    /// asked to stop if running. Their results, if any still land, are ignored.
    pub fn cancel_clip(&self, path: &Path) {
        if let Some(scheduler) = &self.scheduler {
            scheduler.cancel(&format!("clip:{}", path.display()));
            scheduler.cancel(&format!("clip-first-look:{}", path.display()));
        }
    }

    /// Stops the analysis of the song at `path` (replaced or removed).
    pub fn cancel_music(&self, path: &Path) {
        if let Some(scheduler) = &self.scheduler {
            scheduler.cancel(&format!("music:{}", path.display()));
        }
    }

    /// Runs an analysis job through the scheduler (keyed, so the same file is never
    /// analysed twice at once), falling back to the plain pool.
    fn submit(
        &self,
        key: String,
        priority: Priority,
        job: impl FnOnce(&Sender<WorkerEvent>, &CancelToken) + Send + 'static,
    ) {
        let Some(scheduler) = &self.scheduler else {
            self.spawn(job);
            return;
        };
        let tx = self.tx.clone();
        let waker = self.waker.clone();
        let _handle = scheduler.submit(key, priority, move |ctx| {
            job(&tx, ctx.token());
            waker();
            Ok::<(), String>(())
        });
    }

    /// Events that arrived since the last call.
    pub fn drain(&self) -> Vec<WorkerEvent> {
        self.rx.try_iter().collect()
    }

    fn spawn(&self, job: impl FnOnce(&Sender<WorkerEvent>, &CancelToken) + Send + 'static) {
        let tx = self.tx.clone();
        let cancel = self.cancel.clone();
        let waker = self.waker.clone();
        let running = self.probing.clone();
        running.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let run = move || {
            job(&tx, &cancel);
            running.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            waker();
        };
        match &self.pool {
            Some(pool) => pool.spawn_fifo(run),
            None => {
                std::thread::spawn(run);
            }
        }
    }

    /// Probes `path` (in the background) to decide whether it is a clip, music or a project.
    pub fn probe(&self, path: PathBuf, as_music: bool) {
        let waker = self.waker.clone();
        self.spawn(move |tx, _| {
            let result = classify(&path);
            let _ = tx.send(WorkerEvent::Probed {
                path,
                result,
                as_music,
            });
            waker();
        });
    }

    /// Analyses the song, streaming its waveform.
    pub fn analyze_music(&self, path: PathBuf, params: MusicParams, cache: Arc<Cache>) {
        let waker = self.waker.clone();
        let key = format!("music:{}", path.display());
        self.submit(key, Priority::FOCUS, move |tx, cancel| {
            let mut on_waveform = |w: &WaveformPyramid| {
                let _ = tx.try_send(WorkerEvent::Waveform(path.clone(), w.clone()));
                waker();
            };
            let result =
                crate::montage::analyze_music(&path, &params, &cache, cancel, &mut on_waveform);
            let (result, cached) = match result {
                Ok((analysis, cached)) => (Ok(analysis), cached),
                Err(e) => (Err(WorkFailure::from_montage(e)), false),
            };
            let _ = tx.send(WorkerEvent::MusicDone(path, result, cached));
        });
    }

    /// A keyframes-only first look at a clip (seconds for a minute of 1080p), ahead of every
    /// full analysis, so a plan can be shown while the exact cuts are still being found.
    /// Its result arrives as a [`WorkerEvent::ClipDone`] whose analysis is a first look; it
    /// sends no progress (the full pass owns the clip's progress bar).
    pub fn first_look_clip(&mut self, path: PathBuf, params: ClipParams, cache: Arc<Cache>) {
        let key = format!("clip-first-look:{}", path.display());
        let first_look = ClipParams {
            mode: crate::analysis::video::DetectMode::Keyframes,
            ..params.clone()
        };
        // Above every full clip analysis, below the music (which the plan needs first).
        let priority = Priority(Priority::VISIBLE.0 + 50);
        self.submit(key, priority, move |tx, cancel| {
            // The full analysis is cached: nothing to look at first.
            if params.mode.is_first_look() || crate::montage::clip_is_cached(&path, &params, &cache)
            {
                return;
            }
            let result =
                crate::montage::analyze_clip(&path, &first_look, &cache, cancel, &mut |_| {});
            // A failure is reported by the full pass, which reads the same file.
            if let Ok((analysis, cached)) = result {
                let _ = tx.send(WorkerEvent::ClipDone(path, Ok(analysis), cached));
            }
        });
    }

    /// Analyses a clip's scenes.
    pub fn analyze_clip(&mut self, path: PathBuf, params: ClipParams, cache: Arc<Cache>) {
        let waker = self.waker.clone();
        let key = format!("clip:{}", path.display());
        let priority = if self.clips_submitted < VISIBLE_CLIPS {
            Priority::VISIBLE
        } else {
            Priority::BACKGROUND
        };
        self.clips_submitted += 1;
        self.submit(key, priority, move |tx, cancel| {
            let mut on_progress = |fraction: f32| {
                let _ = tx.try_send(WorkerEvent::ClipProgress(path.clone(), fraction));
                waker();
            };
            let result =
                crate::montage::analyze_clip(&path, &params, &cache, cancel, &mut on_progress);
            let (result, cached) = match result {
                Ok((analysis, cached)) => (Ok(analysis), cached),
                Err(e) => (Err(WorkFailure::from_montage(e)), false),
            };
            let _ = tx.send(WorkerEvent::ClipDone(path, result, cached));
        });
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Stop every job at its next packet or frame; never wait for them here.
        self.cancel.cancel();
        if let Some(scheduler) = &self.scheduler {
            scheduler.cancel_all();
        }
    }
}

/// Decides what a file is by probing its content (not its name).
fn classify(path: &Path) -> Result<(MediaKind, Option<MediaInfo>), String> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(crate::project::PROJECT_EXTENSION))
    {
        return Ok((MediaKind::Project, None));
    }
    let info = media::probe(path).map_err(|e| e.to_string())?;
    if info.is_footage() {
        Ok((MediaKind::Clip, Some(info)))
    } else if info.audio().is_some() {
        Ok((MediaKind::Music, Some(info)))
    } else {
        Err(format!("no video or audio stream: {}", path.display()))
    }
}

/// Expands dropped folders into the media files inside them (one level of recursion deep
/// enough for a typical "footage" folder), sorted by name.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            entries.sort();
            for entry in entries {
                if entry.is_dir() {
                    out.extend(expand_paths(&[entry]));
                } else if !entry
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    out.push(entry);
                }
            }
        } else {
            out.push(path.clone());
        }
    }
    out
}

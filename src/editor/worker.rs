//! Background work for the editing session: probing dropped files, analysing music and
//! clips (with the cache) as jobs of the job scheduler, whose own events (progress, partial
//! waveforms, results, failures, cancels) come back as typed [`WorkerEvent`]s. Dropping the
//! worker cancels everything it started.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::collections::HashMap;

use crossbeam_channel::Receiver;

use crate::analysis::music::{MusicAnalysis, MusicParams, WaveformPyramid};
use crate::analysis::video::{ClipAnalysis, ClipParams};
use crate::cache::Cache;
use crate::jobs::{JobContext, JobEvent, JobEventKind, JobScheduler, Priority};
use crate::media::{self, MediaInfo};

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
/// Probes go before everything: they decide what a dropped file is, and take milliseconds.
const PROBE_PRIORITY: Priority = Priority(Priority::FOCUS.0 + 100);

/// What one analysis job gives back: its final result, or a partial one on the way.
#[derive(Debug, Clone)]
pub enum Analysis {
    /// What a file is (or why it cannot be used).
    Probed(Result<(MediaKind, Option<MediaInfo>), String>),
    /// More of the song's waveform (partial, while decoding).
    Waveform(WaveformPyramid),
    /// The song's analysis, and whether it came from the cache.
    Music(Arc<MusicAnalysis>, bool),
    /// A clip's analysis (a first look or the full one), and whether it came from the cache.
    Clip(Arc<ClipAnalysis>, bool),
    /// Nothing to do (a first look when the full analysis is cached).
    Nothing,
}

/// A job submitted and not ended: what it is about (found again from its key when its
/// events arrive), the key it was asked for by, and whether it was cancelled.
#[derive(Debug)]
struct Job {
    subject: Subject,
    base_key: String,
    cancelled: bool,
}

/// What a job is about.
#[derive(Debug, Clone)]
enum Subject {
    Probe { path: PathBuf, as_music: bool },
    Music(PathBuf),
    Clip { path: PathBuf, first_look: bool },
}

/// Runs probes and analyses off the UI thread as jobs of one prioritised, de-duplicating
/// [`JobScheduler`] (probes first, then the song, then visible clips), and turns the
/// scheduler's own events (progress, partial waveforms, results, failures, cancels) into
/// [`WorkerEvent`]s. Dropping it cancels every job without waiting.
pub struct Worker {
    scheduler: Option<JobScheduler<Analysis>>,
    events: Option<Receiver<JobEvent<Analysis>>>,
    /// Jobs submitted and not ended, by their scheduler key (`base key#n`: each submission
    /// is a job of its own, so a cancelled run's end is never taken for its successor's).
    jobs: HashMap<String, Job>,
    submitted: u64,
    clips_submitted: usize,
    /// Events for a session without a scheduler (the pool could not start).
    unavailable: Vec<WorkerEvent>,
}

impl Worker {
    /// A worker whose events wake the UI through `waker`.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let scheduler = JobScheduler::new(0)
            .map_err(|e| tracing::error!("job scheduler unavailable ({e}); nothing is analysed"))
            .ok();
        let events = scheduler.as_ref().map(|s| {
            s.set_waker(move || waker());
            s.events()
        });
        Self {
            scheduler,
            events,
            jobs: HashMap::new(),
            submitted: 0,
            clips_submitted: 0,
            unavailable: Vec::new(),
        }
    }

    /// True while jobs run or their events wait to be drained.
    pub fn is_busy(&self) -> bool {
        !self.jobs.is_empty() || self.events.as_ref().is_some_and(|e| !e.is_empty())
    }

    /// Files being probed.
    pub fn probes_running(&self) -> usize {
        self.jobs
            .values()
            .filter(|j| matches!(j.subject, Subject::Probe { .. }))
            .count()
    }

    /// Submits `job` unless the same work (`base_key`) is already queued or running and
    /// not cancelled: the same file is never analysed twice at once.
    fn submit(
        &mut self,
        base_key: String,
        subject: Subject,
        priority: Priority,
        job: impl FnOnce(&JobContext) -> Result<Analysis, String> + Send + 'static,
    ) {
        let Some(scheduler) = &self.scheduler else {
            let reason = "background analysis is unavailable (no worker threads)".to_string();
            self.unavailable
                .push(failure_event(&subject, WorkFailure::Failed(reason)));
            return;
        };
        if let Some((key, _)) = self
            .jobs
            .iter()
            .find(|(_, j)| j.base_key == base_key && !j.cancelled)
        {
            scheduler.reprioritise(key, priority);
            return;
        }
        self.submitted += 1;
        let key = format!("{base_key}#{}", self.submitted);
        let _handle = scheduler.submit(key.clone(), priority, job);
        self.jobs.insert(
            key,
            Job {
                subject,
                base_key,
                cancelled: false,
            },
        );
    }

    /// Stops the analyses of `path` (a clip removed from the project): dropped if queued,
    /// asked to stop if running. Their end still arrives, as a cancel.
    pub fn cancel_clip(&mut self, path: &Path) {
        self.cancel_where(|s| matches!(s, Subject::Clip { path: p, .. } if p == path));
    }

    /// Stops the analysis of the song at `path` (replaced or removed).
    pub fn cancel_music(&mut self, path: &Path) {
        self.cancel_where(|s| matches!(s, Subject::Music(p) if p == path));
    }

    fn cancel_where(&mut self, matches: impl Fn(&Subject) -> bool) {
        let Some(scheduler) = &self.scheduler else {
            return;
        };
        for (key, job) in self.jobs.iter_mut().filter(|(_, j)| matches(&j.subject)) {
            job.cancelled = true;
            scheduler.cancel(key);
        }
    }

    /// What happened since the last call, from the scheduler's events.
    pub fn drain(&mut self) -> Vec<WorkerEvent> {
        let mut out = std::mem::take(&mut self.unavailable);
        let Some(events) = &self.events else {
            return out;
        };
        let events: Vec<JobEvent<Analysis>> = events.try_iter().collect();
        for event in events {
            let terminal = event.kind.is_terminal();
            let Some(subject) = (if terminal {
                self.jobs.remove(&event.key).map(|j| j.subject)
            } else {
                self.jobs.get(&event.key).map(|j| j.subject.clone())
            }) else {
                continue;
            };
            if let Some(mapped) = map_event(subject, event.kind) {
                out.push(mapped);
            }
        }
        out
    }

    /// Probes `path` (in the background) to decide whether it is a clip, music or a project.
    pub fn probe(&mut self, path: PathBuf, as_music: bool) {
        let key = format!("probe:{}:{}", as_music, path.display());
        let subject = Subject::Probe {
            path: path.clone(),
            as_music,
        };
        self.submit(key, subject, PROBE_PRIORITY, move |_| {
            Ok(Analysis::Probed(classify(&path)))
        });
    }

    /// Analyses the song, streaming its waveform as partial results.
    pub fn analyze_music(&mut self, path: PathBuf, params: MusicParams, cache: Arc<Cache>) {
        let key = format!("music:{}", path.display());
        let subject = Subject::Music(path.clone());
        self.submit(key, subject, Priority::FOCUS, move |ctx| {
            let mut on_waveform = |w: &WaveformPyramid| ctx.partial(Analysis::Waveform(w.clone()));
            crate::montage::analyze_music(&path, &params, &cache, ctx.token(), &mut on_waveform)
                .map(|(analysis, cached)| Analysis::Music(analysis, cached))
                .map_err(|e| e.to_string())
        });
    }

    /// A keyframes-only first look at a clip (seconds for a minute of 1080p), ahead of every
    /// full analysis, so a plan can be shown while the exact cuts are still being found.
    /// Its result arrives as a [`WorkerEvent::ClipDone`] whose analysis is a first look; it
    /// sends no progress (the full pass owns the clip's progress bar) and no failure (the
    /// full pass, reading the same file, reports it).
    pub fn first_look_clip(&mut self, path: PathBuf, params: ClipParams, cache: Arc<Cache>) {
        let key = format!("clip-first-look:{}", path.display());
        let first_look = ClipParams {
            mode: crate::analysis::video::DetectMode::Keyframes,
            ..params.clone()
        };
        // Above every full clip analysis, below the music (which the plan needs first).
        let priority = Priority(Priority::VISIBLE.0 + 50);
        let subject = Subject::Clip {
            path: path.clone(),
            first_look: true,
        };
        self.submit(key, subject, priority, move |ctx| {
            // The full analysis is cached: nothing to look at first.
            if params.mode.is_first_look() || crate::montage::clip_is_cached(&path, &params, &cache)
            {
                return Ok(Analysis::Nothing);
            }
            crate::montage::analyze_clip(&path, &first_look, &cache, ctx.token(), &mut |_| {})
                .map(|(analysis, cached)| Analysis::Clip(analysis, cached))
                .map_err(|e| e.to_string())
        });
    }

    /// Analyses a clip's scenes with `params` (keyed by the scan mode too, so a rescan in
    /// another mode is a job of its own rather than joining the old one).
    pub fn analyze_clip(&mut self, path: PathBuf, params: ClipParams, cache: Arc<Cache>) {
        let key = format!("clip:{}:{}", params.mode.as_str(), path.display());
        let priority = if self.clips_submitted < VISIBLE_CLIPS {
            Priority::VISIBLE
        } else {
            Priority::BACKGROUND
        };
        self.clips_submitted += 1;
        let subject = Subject::Clip {
            path: path.clone(),
            first_look: false,
        };
        self.submit(key, subject, priority, move |ctx| {
            let mut on_progress = |fraction: f32| {
                ctx.progress((fraction * 1000.0) as u64, 1000, "analysing");
            };
            crate::montage::analyze_clip(&path, &params, &cache, ctx.token(), &mut on_progress)
                .map(|(analysis, cached)| Analysis::Clip(analysis, cached))
                .map_err(|e| e.to_string())
        });
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Stop every job at its next packet or frame; never wait for them here.
        if let Some(scheduler) = &self.scheduler {
            scheduler.cancel_all();
        }
    }
}

/// The worker event for a job that produced nothing, for `failure`.
fn failure_event(subject: &Subject, failure: WorkFailure) -> WorkerEvent {
    match subject.clone() {
        Subject::Probe { path, as_music } => WorkerEvent::Probed {
            path,
            result: Err(failure.to_string()),
            as_music,
        },
        Subject::Music(path) => WorkerEvent::MusicDone(path, Err(failure), false),
        Subject::Clip { path, .. } => WorkerEvent::ClipDone(path, Err(failure), false),
    }
}

/// One scheduler event of a job about `subject`, as the session sees it (`None`: nothing
/// to tell).
fn map_event(subject: Subject, kind: JobEventKind<Analysis>) -> Option<WorkerEvent> {
    match (subject, kind) {
        (_, JobEventKind::Started) => None,
        (
            Subject::Clip {
                path,
                first_look: false,
            },
            JobEventKind::Progress(p),
        ) => Some(WorkerEvent::ClipProgress(path, p.fraction())),
        (_, JobEventKind::Progress(_)) => None,
        (Subject::Music(path), JobEventKind::Partial(Analysis::Waveform(w))) => {
            Some(WorkerEvent::Waveform(path, w))
        }
        (_, JobEventKind::Partial(_)) => None,
        (Subject::Probe { path, as_music }, JobEventKind::Finished(Analysis::Probed(result))) => {
            Some(WorkerEvent::Probed {
                path,
                result,
                as_music,
            })
        }
        (Subject::Music(path), JobEventKind::Finished(Analysis::Music(a, cached))) => {
            Some(WorkerEvent::MusicDone(path, Ok(a), cached))
        }
        (Subject::Clip { path, .. }, JobEventKind::Finished(Analysis::Clip(a, cached))) => {
            Some(WorkerEvent::ClipDone(path, Ok(a), cached))
        }
        (_, JobEventKind::Finished(_)) => None,
        // A first look's failure is the full pass's to report.
        (
            Subject::Clip {
                first_look: true, ..
            },
            JobEventKind::Failed(_),
        ) => None,
        (subject, JobEventKind::Failed(reason)) => {
            Some(failure_event(&subject, WorkFailure::Failed(reason)))
        }
        (subject, JobEventKind::Cancelled) => Some(failure_event(&subject, WorkFailure::Cancelled)),
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

//! What a running job sees: its key, its cancellation token, a progress reporter.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::cancel::{CancelToken, Cancelled, Progress};

/// Progress reports closer together than this are dropped (unless the stage changes or the
/// job is done), so a job may report every frame without flooding the channel.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(15);

/// Sends one progress report on.
pub(crate) type Reporter = Arc<dyn Fn(Progress) + Send + Sync>;
/// Sends one partial result on (the scheduler checks it is of the job's result type).
pub(crate) type PartialSink = Arc<dyn Fn(Box<dyn std::any::Any + Send>) + Send + Sync>;

/// Handed to a running job: check [`JobContext::is_cancelled`] (or `check()?`) once per packet
/// or frame and call [`JobContext::progress`] as work gets done.
pub struct JobContext {
    key: String,
    token: CancelToken,
    reporter: Reporter,
    partial: Option<PartialSink>,
    last: Mutex<Option<(Instant, &'static str)>>,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext")
            .field("key", &self.key)
            .field("cancelled", &self.token.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl JobContext {
    pub(crate) fn new(key: String, token: CancelToken, reporter: Reporter) -> Self {
        Self {
            key,
            token,
            reporter,
            partial: None,
            last: Mutex::new(None),
        }
    }

    /// The same context also forwarding partial results to `sink`.
    pub(crate) fn with_partial(mut self, sink: PartialSink) -> Self {
        self.partial = Some(sink);
        self
    }

    /// Hands over a partial result ahead of the final one; it reaches the scheduler's
    /// subscribers as [`super::JobEventKind::Partial`] when `value` is of the job's result
    /// type (and is dropped otherwise, or outside a scheduler).
    pub fn partial<V: std::any::Any + Send>(&self, value: V) {
        if let Some(sink) = &self.partial {
            sink(Box::new(value));
        }
    }

    /// A context for running a job body outside a scheduler (the CLI, tests): progress goes
    /// to `on_progress`.
    pub fn detached(
        key: impl Into<String>,
        token: CancelToken,
        on_progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Self {
        Self::new(key.into(), token, Arc::new(on_progress))
    }

    /// The job's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The job's cancellation token, to pass down into decoders.
    pub fn token(&self) -> &CancelToken {
        &self.token
    }

    /// True once the job was cancelled; the job should return promptly.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<(), Cancelled> {
        self.token.check()
    }

    /// Reports `done` of `total` units in `stage`. Cheap to call per frame: reports are
    /// thinned to one per 15 ms, keeping every stage change and the final one.
    pub fn progress(&self, done: u64, total: u64, stage: &'static str) {
        let now = Instant::now();
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            let due = match *last {
                None => true,
                Some((at, last_stage)) => {
                    last_stage != stage
                        || (total > 0 && done >= total)
                        || now.duration_since(at) >= PROGRESS_INTERVAL
                }
            };
            if !due {
                return;
            }
            *last = Some((now, stage));
        }
        (self.reporter)(Progress { done, total, stage });
    }
}

//! Cancellation tokens and progress events shared by every background job.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cheap, clonable flag a job checks once per packet or frame; setting it asks the job to stop.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every holder of this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once `cancel` was called on any clone.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// How far a job has got: `done` of `total` units in the named stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Units finished so far.
    pub done: u64,
    /// Units expected in all (0 when unknown).
    pub total: u64,
    /// What the job is doing now, for display.
    pub stage: &'static str,
}

impl Progress {
    /// Fraction complete in `0..=1` (0 when the total is unknown).
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f32 / self.total as f32).min(1.0)
        }
    }
}

/// Returned by [`CancelToken::check`] once the token is cancelled; jobs propagate it with `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

impl CancelToken {
    /// `Err(Cancelled)` once cancelled, for `token.check()?` once per packet or frame.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

//! The submitter's end of a job.

use std::sync::Weak;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::cancel::CancelToken;
use super::event::JobOutcome;
use super::scheduler::Shared;

/// A submitted job: cancel it, or wait for or poll its outcome. Dropping the handle does not
/// cancel the job (the GUI may follow it through events instead).
pub struct JobHandle<T> {
    pub(crate) key: String,
    pub(crate) id: u64,
    pub(crate) token: CancelToken,
    pub(crate) outcome: Receiver<JobOutcome<T>>,
    pub(crate) shared: Weak<Shared<T>>,
}

impl<T> std::fmt::Debug for JobHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobHandle")
            .field("key", &self.key)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + 'static> JobHandle<T> {
    /// The job's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Asks the job to stop. A queued job is dropped at once and reports `Cancelled`; a
    /// running one sees its token set. Every handle attached to the job (by deduplication)
    /// shares this cancellation.
    pub fn cancel(&self) {
        self.token.cancel();
        if let Some(shared) = self.shared.upgrade() {
            shared.drop_if_queued(self.id);
        }
    }

    /// True once the job was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// The outcome if the job has ended, without blocking.
    pub fn try_outcome(&self) -> Option<JobOutcome<T>> {
        match self.outcome.try_recv() {
            Ok(outcome) => Some(outcome),
            Err(TryRecvError::Empty) => None,
            // The scheduler went away without an outcome for us.
            Err(TryRecvError::Disconnected) => Some(JobOutcome::Cancelled),
        }
    }

    /// Blocks until the job ends.
    pub fn wait(self) -> JobOutcome<T> {
        self.outcome.recv().unwrap_or(JobOutcome::Cancelled)
    }

    /// Blocks until the job ends or `timeout` passes (`None`).
    pub fn wait_timeout(&self, timeout: Duration) -> Option<JobOutcome<T>> {
        match self.outcome.recv_timeout(timeout) {
            Ok(outcome) => Some(outcome),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(JobOutcome::Cancelled),
        }
    }

    /// The channel the outcome arrives on (capacity 1), for `select!`.
    pub fn receiver(&self) -> &Receiver<JobOutcome<T>> {
        &self.outcome
    }
}

//! What the scheduler reports about a job.

use super::cancel::Progress;

/// How a job ended, as received by a [`super::JobHandle`].
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome<T> {
    /// The job returned a value.
    Finished(T),
    /// The job returned an error or panicked; the message says why.
    Failed(String),
    /// The job was cancelled before it started, or stopped with an error after cancellation.
    Cancelled,
}

/// A change in one job, sent to the GUI (or any subscriber) over a bounded channel.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent<T> {
    /// The job's key, as given to `submit`.
    pub key: String,
    /// What happened.
    pub kind: JobEventKind<T>,
}

/// What happened to a job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEventKind<T> {
    /// A worker started running it.
    Started,
    /// It reported progress (may be dropped when the channel is full; the next one will come).
    Progress(Progress),
    /// It handed over a partial result ahead of the final one (a waveform growing while a
    /// song decodes); may be dropped when the channel is full, like progress.
    Partial(T),
    /// It returned a value (never dropped while a subscriber is listening).
    Finished(T),
    /// It failed; the message says why.
    Failed(String),
    /// It was cancelled.
    Cancelled,
}

impl<T> JobEventKind<T> {
    /// True for the last event a job sends: finished, failed or cancelled.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Finished(_) | Self::Failed(_) | Self::Cancelled)
    }
}

impl<T> From<JobOutcome<T>> for JobEventKind<T> {
    fn from(outcome: JobOutcome<T>) -> Self {
        match outcome {
            JobOutcome::Finished(v) => Self::Finished(v),
            JobOutcome::Failed(m) => Self::Failed(m),
            JobOutcome::Cancelled => Self::Cancelled,
        }
    }
}

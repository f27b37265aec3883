//! Background work: cancellation, progress, the job scheduler and background threads.
//!
//! Two shapes, both cancelled by a [`CancelToken`] and never waited for on drop: many
//! short keyed jobs (analyses) go to the [`JobScheduler`]'s pool (their own events carry progress,
//! partial results and ends); a long-lived worker with a queue of its own (the planner, the
//! export, the preview's decode thread, the seek-proxy maker) is a [`BackgroundThread`]
//! taking typed commands and sending typed events.
//!
//! A job is a closure `FnOnce(&JobContext) -> Result<T, E>` submitted under a key with a
//! [`Priority`]; it checks its [`CancelToken`] once per packet or frame and reports
//! [`Progress`]. The GUI drains [`JobScheduler::events`] each frame; the CLI waits on
//! [`JobHandle`]s.

mod cancel;
mod context;
mod event;
mod handle;
mod scheduler;
mod thread;

pub use cancel::{CancelToken, Cancelled, Progress};
pub use context::JobContext;
pub use event::{JobEvent, JobEventKind, JobOutcome};
pub use handle::JobHandle;
pub use scheduler::{EVENT_CAPACITY, JobError, JobScheduler, JobStatus, Priority};
pub use thread::{BackgroundThread, ThreadContext};

#[cfg(test)]
mod tests;

//! Background work: cancellation, progress and the job scheduler.
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

pub use cancel::{CancelToken, Cancelled, Progress};
pub use context::JobContext;
pub use event::{JobEvent, JobEventKind, JobOutcome};
pub use handle::JobHandle;
pub use scheduler::{EVENT_CAPACITY, JobError, JobScheduler, JobStatus, Priority};

#[cfg(test)]
mod tests;

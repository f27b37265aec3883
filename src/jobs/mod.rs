//! Background work: cancellation, progress and the job scheduler.

mod cancel;

pub use cancel::{CancelToken, Progress};

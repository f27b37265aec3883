//! Export: the render pipeline (decode, fit, encode) and timeline interchange files.

pub mod interchange;
mod pipeline;
mod settings;
mod verify;

pub use pipeline::{
    AudioSource, RenderError, RenderJob, RenderProgress, RenderReport, RenderSegment,
    mix_soundtrack, render,
};
pub use settings::{Aspect, Fit, Preset, RenderSettings};
pub use verify::{
    CutCheck, CutKind, PlannedCut, SyncReport, VerifyError, VerifyPlan, verify_export,
};

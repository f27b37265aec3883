//! Export: the render pipeline (decode, fit, encode) and timeline interchange files.

pub mod interchange;
mod pipeline;
mod settings;
mod verify;

pub use pipeline::{RenderError, RenderJob, RenderProgress, RenderReport, RenderSegment, render};
pub use settings::{Aspect, Fit, Preset, RenderSettings};
pub use verify::{
    CutCheck, CutKind, PlannedCut, SyncReport, VerifyError, VerifyPlan, verify_export,
};

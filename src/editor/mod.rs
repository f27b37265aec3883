//! Editing without a GUI: the session (project, history, media bin, plan, background work)
//! and the commands the editor sends it, so the CLI, the tests and the app drive the same
//! logic (`src/app` only draws and sends commands).

pub mod beat_grid;
mod bin;
mod export;
mod inputs;
mod planner;
mod recent;
mod session;
mod soundtrack;
mod view;
mod worker;

pub use beat_grid::{GridCommand, TapTempo};
pub use bin::{ClipEntry, ClipStatus, MusicEntry};
pub use export::{ExportEvent, ExportJob, ExportPhase, ExportRequest};
pub use inputs::PlanClips;
pub use planner::{PlanOutcome, PlanRequest, Planner};
pub use session::{
    Activity, CropWindow, CutStep, ExportChoice, GridView, Notice, Session, SessionEvent,
};
pub use soundtrack::Soundtrack;
pub use view::{MIN_SPAN, TimelineView};
pub use worker::{MediaKind, WorkFailure, Worker, WorkerEvent, expand_paths};

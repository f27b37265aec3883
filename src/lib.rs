//! Beatcut: a beat-synchronised montage editor.
//!
//! The engine (everything but `app`) knows nothing of the GUI, so the CLI, the tests and
//! the editor all drive the same library. Data flows
//! `media` (probe, decode) → `analysis` (music, video) → `cache` → `plan` → `render`,
//! with `jobs` running the heavy parts in the background and `project` holding user intent.

pub mod analysis;
pub mod cache;
pub mod demo;
pub mod editor;
pub mod jobs;
pub mod media;
pub mod montage;
pub mod plan;
pub mod preview;
pub mod project;
pub mod reframe;
pub mod render;
pub mod time;

#[cfg(feature = "gui")]
pub mod app;

//! Editing without a GUI: the commands the editor sends, applied to the project, so the
//! CLI, the tests and the app drive the same logic (`src/app` only draws and sends them).

pub mod beat_grid;

pub use beat_grid::{GridCommand, TapTempo};

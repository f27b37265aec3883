//! Projects: the user's intent (media, music, settings, seed, locks) in a versioned,
//! human-readable file; atomic save, autosave/recovery and undo/redo history.

mod file;
mod history;

pub use file::{
    ClipId, ExportOptions, PROJECT_EXTENSION, PROJECT_VERSION, Project, ProjectClip, ProjectError,
    recovery_path, user_data_dir, write_atomically,
};
pub use history::History;

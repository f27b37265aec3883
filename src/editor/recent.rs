//! Recently opened projects, kept in a small file in the editor's data directory (the user's,
//! or a test's own).

use std::path::{Path, PathBuf};

/// How many recent projects are remembered.
const MAX_RECENT: usize = 8;

fn store(data_dir: &Path) -> PathBuf {
    data_dir.join("recent.json")
}

/// Recent projects, most recent first, that still exist.
pub fn list(data_dir: &Path) -> Vec<PathBuf> {
    let path = store(data_dir);
    let list: Vec<PathBuf> = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    list.into_iter().filter(|p| p.exists()).collect()
}

/// Puts `project` at the top of the list.
pub fn remember(data_dir: &Path, project: &Path) {
    let path = store(data_dir);
    let project = std::fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
    let mut list = list(data_dir);
    list.retain(|p| *p != project);
    list.insert(0, project);
    list.truncate(MAX_RECENT);
    if let Ok(text) = serde_json::to_string_pretty(&list)
        && let Err(e) = crate::project::write_atomically(&path, text.as_bytes())
    {
        tracing::warn!("cannot remember recent projects: {e}");
    }
}
